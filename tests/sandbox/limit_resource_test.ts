/** `system/limit` as df-limits validates it, and its computed `limit_cache_by_limit_id` relation. */
import { deepStrictEqual, equal } from "node:assert/strict";
import { call, messageOf, withSandbox } from "./_helpers.ts";

Deno.test("limits: df-limits' scope checks and messages, nulled scope fields, key_text", async () => {
  await withSandbox(async (sb, token) => {
    const post = (rec: Record<string, unknown>) =>
      call(sb, "POST", "system/limit?fields=*", { token, body: { resource: [rec] } });
    const base = { name: "L", rate: 10, period: "hour" };
    const cases: [Record<string, unknown>, string][] = [
      [{ type: "instance.user" }, "user_id must be specified with this limit type. Limit: L"],
      [{ type: "instance.user", user_id: 99 }, "user_id does not exist for L limit."],
      [{ type: "instance.role" }, "role_id must be specified with this limit type. Limit: L"],
      [{ type: "instance.role", role_id: 99 }, "No role_id exists for L limit."],
      [{ type: "instance.service" }, "service_id must be specified with this limit type."],
      [{ type: "instance.service", service_id: 99 }, "No service exists for L limit."],
      [
        { type: "instance.user.service.endpoint", user_id: 1, service_id: 2 },
        "endpoint must be specified with this limit type.",
      ],
      // Every endpoint type needs an endpoint and checks the verb (validateLimitPayload).
      [
        { type: "instance.service.endpoint", service_id: 2 },
        "endpoint must be specified with this limit type.",
      ],
      [
        { type: "instance.service.endpoint", service_id: 2, endpoint: "_table", verb: "FETCH" },
        "Verb is invalid or not allowed.",
      ],
      [
        { type: "instance.service.endpoint", service_id: 2, endpoint: "/_table/a/b/" },
        "Endpoint cannot have extra depth. ie, _schema/contact NOT _schema/contact/name",
      ],
      [{ type: "instance", rate: "ten" }, "Limit rate must be an integer. Limit not saved."],
    ];
    for (const [rec, message] of cases) {
      const res = await post({ ...base, ...rec });
      equal(res.status, 400, JSON.stringify(rec));
      const inner = res.body.error.context?.resource?.[0]?.message ?? messageOf(res);
      equal(inner, message, JSON.stringify(rec));
    }
    const ok = await post({
      ...base,
      type: "instance.service.endpoint",
      service_id: 2,
      endpoint: "/_table/contact/",
      user_id: 1, // not part of this type: nulled
      verb: "GET",
    });
    equal(ok.status, 201);
    const limit = ok.body.resource[0];
    equal(limit.endpoint, "_table/contact");
    equal(limit.user_id, null);
    equal(limit.verb, "GET");
    equal(limit.key_text, "instance.service:2.endpoint:_table/contact.verb:GET.hour");
    // Other types store the verb as sent, unchecked.
    const other = await post({ ...base, type: "instance", verb: "fetch" });
    equal(other.status, 201);
    equal(other.body.resource[0].verb, "fetch");
    const dup = await post({
      ...base,
      type: "instance.service.endpoint",
      service_id: 2,
      endpoint: "_table/contact",
      verb: "GET",
    });
    equal(messageOf(dup), "A limit already exists with those parameters. No records added.");
  });
});

Deno.test("limits: related=limit_cache_by_limit_id attaches the live counters", async () => {
  await withSandbox(async (sb, token) => {
    const made = await call(sb, "POST", "system/limit", {
      token,
      body: { resource: [{ name: "all", type: "instance", rate: 1000, period: "day" }] },
    });
    const id = made.body.resource[0].id;
    for (let i = 0; i < 3; i++) await call(sb, "GET", "db/_table", { token });
    const res = await call(
      sb,
      "GET",
      "system/limit?fields=id,name&related=limit_cache_by_limit_id,role_by_role_id",
      { token },
    );
    equal(res.status, 200);
    const [row] = res.body.resource;
    equal(row.role_by_role_id, null);
    const [counter] = row.limit_cache_by_limit_id;
    deepStrictEqual(Object.keys(counter), ["id", "key", "max", "attempts", "remaining"]);
    equal(counter.id, id);
    equal(counter.max, 1000);
    equal(counter.attempts + counter.remaining, 1000);
    const cache = await call(sb, "GET", "system/limit_cache", { token });
    deepStrictEqual(cache.body.resource, row.limit_cache_by_limit_id);
    const plain = await call(sb, "GET", "system/limit?fields=id", { token });
    deepStrictEqual(plain.body.resource, [{ id }], "no counters unless asked for");
    const unknown = await call(sb, "GET", "system/limit?related=nosuch_rel", { token });
    equal(messageOf(unknown), "Unknown relationship: nosuch_rel");
  });
});
