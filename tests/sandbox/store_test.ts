import { deepStrictEqual, equal } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { adminLogin, call } from "./_helpers.ts";

Deno.test("a data file from an older sandbox is upgraded: missing tables and columns appear", async () => {
  const dir = await Deno.makeTempDir();
  const data = `${dir}/old.sqlite`;
  try {
    await (await startSandbox({ port: 0, data })).close();
    // Make it look older: a column and a whole table missing.
    const raw = new DatabaseSync(data);
    raw.exec(`ALTER TABLE app DROP COLUMN storage_container`);
    raw.exec(`DROP TABLE event_script`);
    raw.close();
    const sb = await startSandbox({ port: 0, data });
    try {
      const token = await adminLogin(sb);
      const apps = await call(sb, "GET", "system/app?fields=name,storage_container", { token });
      equal(apps.status, 200);
      deepStrictEqual(apps.body.resource[0], {
        name: "admin",
        storage_container: null,
        launch_url: "",
      });
      const script = await call(sb, "POST", "system/event_script", {
        token,
        body: [{ name: "db._table.x.get.pre_process", type: "nodejs" }],
      });
      equal(script.status, 201);
    } finally {
      await sb.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
