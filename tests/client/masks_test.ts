import { assertEquals, assertThrows } from "./assert.ts";
import { maskToRequestor, maskToVerbs, requestorToMask, verbsToMask } from "./dfkit.ts";

Deno.test("verb masks convert to and from names", () => {
  assertEquals(verbsToMask(["GET", "POST"]), 3);
  assertEquals(verbsToMask(["get", "delete"]), 17);
  assertEquals(verbsToMask([]), 0);
  assertEquals(maskToVerbs(3), ["GET", "POST"]);
  assertEquals(maskToVerbs(31), ["GET", "POST", "PUT", "PATCH", "DELETE"]);
  for (let m = 0; m < 1024; m += 37) assertEquals(verbsToMask(maskToVerbs(m)), m);
  assertThrows(() => verbsToMask(["FETCH" as "GET"]), TypeError, "GET, POST");
  assertThrows(() => maskToVerbs(1024), TypeError, "unknown bits");
  assertThrows(() => maskToVerbs(-1), TypeError);
});

Deno.test("requestor masks convert to and from names", () => {
  assertEquals(requestorToMask(["API"]), 1);
  assertEquals(requestorToMask(["API", "SCRIPT"]), 3);
  assertEquals(maskToRequestor(2), ["SCRIPT"]);
  assertEquals(maskToRequestor(0), []);
  assertThrows(() => maskToRequestor(4), TypeError);
});
