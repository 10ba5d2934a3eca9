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
      // The endpoint types check the verb (validateLimitPayload).
      [
        { type: "instance.service.endpoint", service_id: 2, endpoint: "_table", verb: "FETCH" },
        "Verb is invalid or not allowed.",
      ],
      [{ type: "instance", rate: "ten" }, "Limit rate must be an integer. Limit not saved."],
      // !filter_var(0, FILTER_VALIDATE_INT): a rate of 0 is refused too.
      [{ type: "instance", rate: 0 }, "Limit rate must be an integer. Limit not saved."],
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

Deno.test("limits: df-limits after 0.3.0: PHP's missing keys, the model's rules, any endpoint depth", async () => {
  await withSandbox(async (sb, token) => {
    const post = (rec: Record<string, unknown>) =>
      call(sb, "POST", "system/limit?fields=*", { token, body: { resource: [rec] } });
    // enrichAndValidateRecordData reads $record['period'], then $record['type'], unchecked.
    const noPeriod = await post({ name: "L", type: "instance", rate: 5 });
    deepStrictEqual([noPeriod.status, messageOf(noPeriod)], [
      500,
      "Undefined array key &quot;period&quot;",
    ]);
    const noType = await post({ name: "L", rate: 5, period: "hour" });
    deepStrictEqual([noType.status, messageOf(noType)], [
      500,
      "Undefined array key &quot;type&quot;",
    ]);
    // Messages naming the limit read $record['name'].
    const noName = await post({ type: "instance.user", rate: 5, period: "hour" });
    deepStrictEqual([noName.status, messageOf(noName)], [
      500,
      "Undefined array key &quot;name&quot;",
    ]);
    // An unknown type passes the switch; resolveCheckKey's arguments read the scope keys...
    const unknown = await post({ name: "L", type: "instance.app", rate: 5, period: "hour" });
    deepStrictEqual([unknown.status, messageOf(unknown)], [
      500,
      "Undefined array key &quot;user_id&quot;",
    ]);
    // ...and with them present, the model's in: rules refuse it (and an unknown period).
    const scoped = { user_id: null, role_id: null, service_id: null, endpoint: null };
    const badType = await post({
      name: "L",
      type: "instance.app",
      rate: 5,
      period: "week",
      ...scoped,
    });
    equal(badType.status, 400);
    equal(
      badType.body.error.context?.resource?.[0]?.message ?? messageOf(badType),
      "Invalid data supplied. The selected type is invalid. The selected period is invalid.",
    );
    const badPeriod = await post({ name: "L", type: "instance", rate: 5, period: "week" });
    equal(
      badPeriod.body.error.context?.resource?.[0]?.message ?? messageOf(badPeriod),
      "Invalid data supplied. The selected period is invalid.",
    );
    // A missing rate is only the model's required rule.
    const noRate = await post({ name: "L", type: "instance", period: "hour" });
    equal(
      noRate.body.error.context?.resource?.[0]?.message ?? messageOf(noRate),
      "Invalid data supplied. The rate field is required.",
    );
    // Since 0.3.0 the service endpoint types take a null endpoint, and any depth.
    const top = await post({
      name: "T",
      type: "instance.service.endpoint",
      service_id: 2,
      rate: 5,
      period: "hour",
    });
    equal(top.status, 201);
    equal(top.body.resource[0].key_text, "instance.service:2.endpoint:.hour");
    const deep = await post({
      name: "D",
      type: "instance.each_user.service.endpoint",
      service_id: 2,
      endpoint: "/_table/a/b/",
      verb: "get",
      rate: 5,
      period: 1,
    });
    equal(deep.status, 201);
    equal(deep.body.resource[0].endpoint, "_table/a/b");
    // resolveCheckKey adds the verb as stored.
    equal(
      deep.body.resource[0].key_text,
      "instance.each_user:.service:2.endpoint:_table/a/b.verb:get.hour",
    );
    // An update's model errors are wrapped as df-core's BaseModel::updateInternal does.
    const id = top.body.resource[0].id;
    const upd = await call(sb, "PATCH", `system/limit/${id}`, { token, body: { period: "week" } });
    deepStrictEqual(
      [upd.status, messageOf(upd)],
      [500, "Failed to update resource: Invalid data supplied. The selected period is invalid."],
    );
  });
});
