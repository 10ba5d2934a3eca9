import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { adminLogin, call, messageOf, withSandbox } from "./_helpers.ts";

Deno.test("database services: created, reached after the role check, deactivated, deleted", async () => {
  await withSandbox(async (sb, token) => {
    const svc = (await call(sb, "POST", "system/service", {
      token,
      body: [{
        name: "notes",
        type: "sqlite",
        is_active: true,
        config: { database: "notes.sqlite" },
      }],
    })).body.resource[0];
    const schema = await call(sb, "POST", "notes/_schema", {
      token,
      body: [
        { name: "note", field: [{ name: "id", type: "id" }, { name: "body", type: "string" }] },
        { name: "secret", field: [{ name: "id", type: "id" }, { name: "body", type: "string" }] },
      ],
    });
    equal(schema.status, 200, JSON.stringify(schema.body) + JSON.stringify(svc));
    await call(sb, "POST", "notes/_table/note", { token, body: [{ body: "hi" }] });
    const role = (await call(sb, "POST", "system/role", {
      token,
      body: [{
        name: "note-readers",
        is_active: true,
        role_service_access_by_role_id: [
          { service_id: svc.id, component: "_table/note", verb_mask: 1, requestor_mask: 1 },
        ],
      }],
    })).body.resource[0];
    const app = (await call(sb, "POST", "system/app?fields=api_key", {
      token,
      body: [{ name: "notes-app", type: 0, is_active: true, role_id: role.id }],
    })).body.resource[0];
    const apiKey = app.api_key;
    const notes = await call(sb, "GET", "notes/_table/note?fields=body", { apiKey });
    deepStrictEqual(notes.body, { resource: [{ body: "hi" }] });
    equal((await call(sb, "GET", "notes/_table/secret", { apiKey })).status, 401);
    const root = await call(sb, "GET", "", { apiKey });
    deepStrictEqual(root.body.services.map((s: { name: string }) => s.name), ["notes"]);

    await call(sb, "PATCH", `system/service/${svc.id}`, { token, body: { is_active: false } });
    const off = await call(sb, "GET", "notes/_table/note", { token });
    equal(off.status, 403);
    equal(messageOf(off), "Service notes is deactivated.");
    await call(sb, "PATCH", `system/service/${svc.id}`, { token, body: { is_active: true } });
    equal((await call(sb, "GET", "notes/_table/note", { token })).status, 200);

    // A rename keeps the (in-memory) database.
    await call(sb, "PATCH", `system/service/${svc.id}`, { token, body: { name: "memo" } });
    const renamed = await call(sb, "GET", "memo/_table/note?fields=body", { token });
    deepStrictEqual(renamed.body, { resource: [{ body: "hi" }] });
    await call(sb, "PATCH", `system/service/${svc.id}`, { token, body: { name: "notes" } });
    const traversal = await call(sb, "POST", "system/service", {
      token,
      body: [{ name: "evil", type: "sqlite", config: { database: "../evil.sqlite" } }],
    });
    equal(traversal.status, 400);

    deepStrictEqual((await call(sb, "DELETE", `system/service/${svc.id}`, { token })).body, {
      id: svc.id,
    });
    const gone = await call(sb, "GET", "notes/_table/note", { token });
    equal(gone.status, 404);
    equal(messageOf(gone), "Could not find a service for notes");
    // `deletable` is a flag only: DreamFactory deletes even the system service.
    const system = await call(sb, "DELETE", "system/service/1", { token });
    equal(system.status, 200);
  });
});

Deno.test("a file-backed sandbox keeps database services' files beside the data file", async () => {
  const dir = await Deno.makeTempDir();
  const data = `${dir}/sb.sqlite`;
  try {
    for (const round of [1, 2]) {
      const sb = await startSandbox({ port: 0, data });
      try {
        const token = await adminLogin(sb);
        if (round === 1) {
          await call(sb, "POST", "db/_schema", {
            token,
            body: [{
              name: "todo",
              field: [{ name: "id", type: "id" }, { name: "title", type: "string" }],
            }],
          });
          await call(sb, "POST", "db/_table/todo", { token, body: [{ title: "keep me" }] });
        } else {
          const rows = await call(sb, "GET", "db/_table/todo?fields=title", { token });
          deepStrictEqual(rows.body, { resource: [{ title: "keep me" }] });
        }
      } finally {
        await sb.close();
      }
    }
    const files = [...Deno.readDirSync(`${data}.services`)].map((e) => e.name);
    ok(files.length > 0, "the db service keeps its file in <data>.services/");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a rolled-back service delete keeps the service and its in-memory data", async () => {
  await withSandbox(async (sb, token) => {
    const svc = (await call(sb, "POST", "system/service", {
      token,
      body: [{
        name: "keep",
        type: "sqlite",
        is_active: true,
        config: { database: "keep.sqlite" },
      }],
    })).body.resource[0];
    await call(sb, "POST", "keep/_schema", {
      token,
      body: [{ name: "t", field: [{ name: "id", type: "id" }, { name: "v", type: "string" }] }],
    });
    await call(sb, "POST", "keep/_table/t", { token, body: [{ v: "still here" }] });
    const del = await call(sb, "DELETE", `system/service?ids=${svc.id},999&rollback=true`, {
      token,
    });
    equal(del.status, 400);
    equal(
      del.body.error.message,
      "Batch Error: Not all requested records could be deleted. All changes rolled back.",
    );
    const rows = await call(sb, "GET", "keep/_table/t?fields=v", { token });
    deepStrictEqual(rows.body, { resource: [{ v: "still here" }] });
  });
});

Deno.test("built-in services: mutable/deletable are flags only (df-core Service model checks neither)", async () => {
  await withSandbox(async (sb, token) => {
    const list = await call(sb, "GET", "system/service?fields=id,name,mutable,deletable", {
      token,
    });
    const byName = (n: string) => list.body.resource.find((s: { name: string }) => s.name === n);
    equal(byName("system").mutable, false);
    const relabel = await call(sb, "PATCH", `system/service/${byName("system").id}`, {
      token,
      body: { label: "System (renamed)" },
    });
    equal(relabel.status, 200, JSON.stringify(relabel.body));
    equal(byName("user").deletable, false);
    const del = await call(sb, "DELETE", `system/service/${byName("user").id}`, { token });
    equal(del.status, 200, JSON.stringify(del.body));
    const gone = await call(sb, "GET", "user/session", { token });
    equal(gone.status, 404);
  });
});
