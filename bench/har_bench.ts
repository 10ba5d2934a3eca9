/**
 * HAR recorder benchmarks: what recording costs per exchange as the secrets it has seen pile up
 * (every exchange brings a new password), and scrubbing a large body of many known secrets.
 * Run: deno bench -A bench/har_bench.ts
 */
import type { HttpExchange } from "../lib/transport.ts";
import { recordHar } from "../lib/har/record.ts";
import { Scrubber } from "../lib/secrets.ts";

const RESPONSE = JSON.stringify({
  resource: Array.from(
    { length: 20 },
    (_, i) => ({ id: i, email: `u${i}@x.test`, name: `U ${i}` }),
  ),
});

function exchange(i: number): HttpExchange {
  return {
    method: "POST",
    url: `http://h/api/v2/system/user?fields=id,email&i=${i}`,
    requestHeaders: { "content-type": "application/json" },
    requestBody: JSON.stringify({
      resource: [{ email: `u${i}@x.test`, password: `pw-${i}-xxxxxx` }],
    }),
    status: 200,
    statusText: "OK",
    responseHeaders: {},
    responseBody: RESPONSE,
    startedAt: new Date(0).toISOString(),
    timings: { wait: 1, receive: 0, total: 1 },
    attempt: 1,
  };
}

for (const n of [1000, 4000]) {
  Deno.bench(`recordHar: ${n} exchanges, a new password in each`, { group: "record" }, () => {
    let listener: (ex: HttpExchange) => void = () => {};
    const recorder = recordHar({
      onExchange: (l: (ex: HttpExchange) => void) => {
        listener = l;
        return () => {};
      },
    });
    for (let i = 0; i < n; i++) listener(exchange(i));
    recorder.stop();
  });
}

const SECRETS = Array.from({ length: 40 }, (_, i) => `secret-${i}-${"z".repeat(i % 9)}`);
const BIG = Array.from(
  { length: 100_000 },
  (_, i) => `line ${i}: ${i % 997 ? "nothing" : SECRETS[i % 40]}`,
)
  .join("\n");
Deno.bench("scrub a 2 MB text of 40 known secrets", { group: "scrub" }, () => {
  new Scrubber(SECRETS).scrub(BIG);
});
