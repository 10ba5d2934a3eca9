/** The client on system/lookup, whose model lists global lookups only (Lookup::selectByRequest)
 * but counts, reads by id and writes every lookup (role, user and app ones too). */
import { assertEquals } from "./assert.ts";
import { setup } from "./helpers.ts";

Deno.test("system/lookup: reading all stops at the global ones; by id any lookup", async () => {
  await using fx = await setup();
  const { df } = fx;
  await df.system.lookup.create([{ name: "g1", value: "1" }, { name: "g2", value: "2" }]);
  const made = await df.request<{ resource: { lookup_by_role_id: { id: number }[] }[] }>(
    "POST",
    "system/role",
    {
      query: { fields: "id", related: "lookup_by_role_id" },
      body: {
        resource: [{ name: "r", lookup_by_role_id: [{ name: "k", value: "s", private: true }] }],
      },
    },
  );
  const roleLookup = made.resource[0].lookup_by_role_id[0].id;

  // The count (countByRequest) includes the role's lookup; the records do not.
  const page = await df.system.lookup.pageSize(10).page();
  assertEquals([page.records.map((r) => r.name), page.count], [["g1", "g2"], 3]);
  assertEquals((await df.system.lookup.all()).map((r) => r.name), ["g1", "g2"]);
  assertEquals(await df.system.lookup.count(), 3);

  const one = await df.system.lookup.get(roleLookup);
  assertEquals([one.name, one.value, one.private], ["k", "**********", true]);
  await df.system.lookup.ids(roleLookup).update({ description: "d" });
  assertEquals((await df.system.lookup.get(roleLookup)).description, "d");
  const gone = await df.system.lookup.ids(roleLookup).delete();
  assertEquals(gone.map((r) => r.id), [roleLookup]);
  assertEquals(await df.system.lookup.count(), 2);
});
