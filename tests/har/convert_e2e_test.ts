import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { fromHar } from "../../lib/har/mod.ts";
import { connect } from "../../lib/client.ts";
import { ConsoleRecorder } from "./har_helpers.ts";

const MOD = new URL("../../mod.ts", import.meta.url).href;
const USER_PASSWORD = "Us3r-Secret-Pw!";

/** The state a replay must reproduce, keyed by names (ids may differ between instances). */
async function endState(url: string, admin: { email: string; password: string }) {
  const rec = new ConsoleRecorder(url);
  await rec.login(admin.email, admin.password);
  const get = async (
    path: string,
  ) => ((await rec.call("GET", path)).json.resource as Record<string, unknown>[]);
  const roles = await get("system/role?related=role_service_access_by_role_id");
  const roleName = new Map(roles.map((r) => [r.id, r.name]));
  const users = await get("system/user?related=user_to_app_to_role_by_user_id");
  const apps = await get("system/app");
  const appName = new Map(apps.map((a) => [a.id, a.name]));
  const userEmail = new Map(users.map((u) => [u.id, u.email]));
  const limits = await get("system/limit");
  return {
    roles: roles.map((r) => ({
      name: r.name,
      description: r.description,
      access: (r.role_service_access_by_role_id as Record<string, unknown>[]).map((a) => ({
        service_id: a.service_id,
        component: a.component,
        verb_mask: a.verb_mask,
        requestor_mask: a.requestor_mask,
      })),
    })),
    users: users.map((u) => ({
      email: u.email,
      name: u.name,
      is_active: u.is_active,
      apps: (u.user_to_app_to_role_by_user_id as Record<string, unknown>[]).map((x) => ({
        app: appName.get(x.app_id),
        role: roleName.get(x.role_id),
      })),
    })),
    apps: apps.map((a) => ({ name: a.name, role: roleName.get(a.role_id) ?? null })),
    limits: limits.map((l) => ({
      name: l.name,
      type: l.type,
      rate: l.rate,
      period: l.period,
      role: roleName.get(l.role_id) ?? null,
      user: userEmail.get(l.user_id) ?? null,
    })),
    userCanLogin: await fetch(`${url}/api/v2/user/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: "jane@example.com", password: USER_PASSWORD }),
    }).then(async (r) => (await r.body?.cancel(), r.status)),
  };
}

/** Drives the sandbox like the admin console: list, create, list again, tunnelled PATCH. */
async function recordConsoleSession(url: string, admin: { email: string; password: string }) {
  const rec = new ConsoleRecorder(url);
  await rec.login(admin.email, admin.password);
  await rec.call("GET", "system/user?include_count=true&limit=25&offset=0&order=id");
  const user = await rec.call("POST", "system/user?fields=*", {
    resource: [{
      name: "Jane Doe",
      first_name: "Jane",
      email: "jane@example.com",
      password: USER_PASSWORD,
      is_active: true,
    }],
  });
  assertEquals(user.status, 201, JSON.stringify(user.json));
  await rec.call("GET", "system/user?include_count=true&limit=25&offset=0&order=id");
  const role = await rec.call(
    "POST",
    "system/role?fields=*&related=role_service_access_by_role_id",
    {
      resource: [{
        name: "readers",
        description: "read-only db",
        is_active: true,
        role_service_access_by_role_id: [{
          service_id: 2,
          component: "_table/*",
          verb_mask: 1,
          requestor_mask: 1,
          filters: [],
          filter_op: "AND",
        }],
      }],
    },
  );
  assertEquals(role.status, 201, JSON.stringify(role.json));
  const roleId = (role.json.resource as { id: number }[])[0].id;
  const app = await rec.call("POST", "system/app?fields=*&related=role_by_role_id", {
    resource: [{ name: "reader-app", type: 0, is_active: true, role_id: roleId }],
  });
  assertEquals(app.status, 201, JSON.stringify(app.json));
  const appId = (app.json.resource as { id: number }[])[0].id;
  const userId = (user.json.resource as { id: number }[])[0].id;
  const lim = await rec.call("POST", "system/limit", {
    resource: [{
      name: "readers-hourly",
      type: "instance.role",
      rate: 100,
      period: "hour",
      role_id: roleId,
    }],
  });
  assertEquals(lim.status, 201, JSON.stringify(lim.json));
  // Tunnelled PATCH (POST + X-HTTP-Method), as some proxies force.
  const patched = await rec.call(
    "POST",
    `system/role/${roleId}`,
    { description: "read-only access to db" },
    { "X-HTTP-Method": "PATCH" },
  );
  assertEquals(patched.status, 200, JSON.stringify(patched.json));
  const assign = await rec.call(
    "PATCH",
    `system/user/${userId}?related=user_to_app_to_role_by_user_id`,
    {
      user_to_app_to_role_by_user_id: [{ app_id: appId, role_id: roleId, user_id: userId }],
    },
  );
  assertEquals(assign.status, 200, JSON.stringify(assign.json));
  // A failed call the console also made: must not be replayed.
  await rec.call("POST", "system/role", { resource: [{ name: "readers" }] });
  await rec.call("DELETE", "system/admin/session");
  return rec;
}

Deno.test("a recorded console session replays as a dfkit script to the same end state", async () => {
  const original = await startSandbox({ port: 0 });
  const fresh = await startSandbox({ port: 0 });
  const dir = await Deno.makeTempDir();
  try {
    const rec = await recordConsoleSession(original.url, original.admin);
    const script = fromHar(rec.har(), { importFrom: MOD });
    assert(script.includes("df.system.user.create("), script);
    assert(script.includes("df.system.role.ids(role.id).update("), script);
    assert(script.includes("role_id: role.id"), script);
    assert(!script.includes(USER_PASSWORD), "the user's password was copied");
    assert(!script.includes(rec.token), "the session token was copied");
    assert(!script.includes(original.admin.password), "the admin password was copied");
    const file = `${dir}/replay.ts`;
    await Deno.writeTextFile(file, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        new URL("../../deno.json", import.meta.url).pathname,
        "--check",
        "--no-prompt",
        "--allow-net=127.0.0.1",
        "--allow-env",
        "--allow-read",
        file,
      ],
      env: {
        DF_URL: fresh.url,
        DF_EMAIL: fresh.admin.email,
        DF_PASSWORD: fresh.admin.password,
        PASSWORD_JANE_EXAMPLE_COM: USER_PASSWORD,
      },
      clearEnv: true,
      cwd: new URL("../..", import.meta.url).pathname,
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, `replay failed:\n${stderr}\n--- script ---\n${script}`);
    const expected = await endState(original.url, original.admin);
    assertEquals(expected.userCanLogin, 200);
    assertEquals(expected.roles.length, 1);
    assertEquals(await endState(fresh.url, fresh.admin), expected);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await original.close();
    await fresh.close();
  }
});

Deno.test("notebook output is Deno-kernel ipynb with one cell per kept call", async () => {
  const sb = await startSandbox({ port: 0 });
  try {
    const rec = await recordConsoleSession(sb.url, sb.admin);
    const nb = JSON.parse(fromHar(rec.har(), { notebook: true, importFrom: MOD }));
    assertEquals(nb.metadata.kernelspec.name, "deno");
    assertEquals(nb.nbformat, 4);
    const code = nb.cells.filter((c: { cell_type: string }) => c.cell_type === "code")
      .map((c: { source: string[] }) => c.source.join(""));
    assert(code[0].includes("await connect()"));
    // setup + user, role, app, limit, tunnelled patch, assignment + logout
    assertEquals(code.length, 8, code.join("\n----\n"));
    assert(!JSON.stringify(nb).includes(rec.token));
  } finally {
    await sb.close();
  }
});

Deno.test("a script written outside the checkout runs with the command its header gives", async () => {
  const sb = await startSandbox({ port: 0 });
  const dir = await Deno.makeTempDir(); // outside the checkout: no deno.json maps dfkit's imports
  try {
    const script = fromHar({
      log: {
        entries: [{
          request: {
            method: "POST",
            url: "http://df.local/api/v2/system/role",
            postData: { mimeType: "application/json", text: '{"resource":[{"name":"ops"}]}' },
          },
          response: { status: 201, content: { text: '{"resource":[{"id":1}]}' } },
        }],
      },
    });
    const line = /^\/\/ Run it with: deno (.*)$/m.exec(script)?.[1];
    assert(line, script);
    await Deno.writeTextFile(`${dir}/setup.ts`, script);
    const args = line.replace("<this file>", "setup.ts").match(/'[^']*'|\S+/g)!
      .map((w) => w.replace(/^'|'$/g, ""));
    const out = await new Deno.Command(Deno.execPath(), {
      args: [...args.slice(0, 1), "--no-prompt", ...args.slice(1)],
      cwd: dir,
      env: { DF_URL: sb.url, DF_EMAIL: sb.admin.email, DF_PASSWORD: sb.admin.password },
      clearEnv: true,
    }).output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    const df = await connect({ url: sb.url, ...sb.admin });
    assertEquals((await df.system.role.fields("name")).map((r) => r.name), ["ops"]);
    await df.logout();
  } finally {
    await Deno.remove(dir, { recursive: true });
    await sb.close();
  }
});

Deno.test("a script missing secrets names them all and stops before its first request", async () => {
  const sb = await startSandbox({ port: 0 });
  const dir = await Deno.makeTempDir();
  const post = (path: string, body: unknown, id: number) => ({
    request: {
      method: "POST",
      url: `http://df.local/api/v2/${path}`,
      postData: { mimeType: "application/json", text: JSON.stringify({ resource: [body] }) },
    },
    response: { status: 201, content: { text: JSON.stringify({ resource: [{ id }] }) } },
  });
  try {
    const script = fromHar({
      log: {
        entries: [
          post("system/role", { name: "ops" }, 1),
          post("system/user", { email: "a@x.com", name: "a", password: "Aa-secret-1" }, 2),
          post("system/user", { email: "b@x.com", name: "b", password: "Bb-secret-2" }, 3),
        ],
      },
    }, { importFrom: MOD });
    await Deno.writeTextFile(`${dir}/setup.ts`, script);
    const run = (env: Record<string, string>) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--config", new URL("../../deno.json", import.meta.url).pathname]
          .concat(["--no-prompt", "--allow-net=127.0.0.1", "--allow-env", `${dir}/setup.ts`]),
        env: { DF_URL: sb.url, DF_EMAIL: sb.admin.email, DF_PASSWORD: sb.admin.password, ...env },
        clearEnv: true,
      }).output();
    const df = await connect({ url: sb.url, ...sb.admin });
    const roles = async () => (await df.system.role.fields("name")).map((r) => r.name);
    const first = await run({ PASSWORD_A_X_COM: "Aa-secret-1" });
    const stderr = new TextDecoder().decode(first.stderr);
    assertEquals(first.code, 1, stderr);
    assertEquals(
      stderr.trim(),
      "Set the environment variable(s) PASSWORD_B_X_COM before running this script " +
        "(nothing was changed).",
    );
    const none = new TextDecoder().decode((await run({})).stderr);
    assert(none.includes("variable(s) PASSWORD_A_X_COM, PASSWORD_B_X_COM before"), none);
    assertEquals(await roles(), []);
    const ok = await run({ PASSWORD_A_X_COM: "Aa-secret-1", PASSWORD_B_X_COM: "Bb-secret-2" });
    assertEquals(ok.code, 0, new TextDecoder().decode(ok.stderr));
    assertEquals(await roles(), ["ops"]);
    await df.logout();
  } finally {
    await Deno.remove(dir, { recursive: true });
    await sb.close();
  }
});
