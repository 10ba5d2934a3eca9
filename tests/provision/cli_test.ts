import assert from "node:assert/strict";
import { connect } from "../../lib/client.ts";
import { getCustomer } from "../../lib/provision/mod.ts";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { childEnv, runDeno, tokenWorks } from "../scripts/helpers.ts";
import { adminLogin } from "../sandbox/_helpers.ts";
import { writeProfiles } from "../client/helpers.ts";

const script = new URL("../../scripts/provision.ts", import.meta.url).pathname;

let admin = { email: "", password: "" };

async function cli(url: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    // Only these settings: a DF_PROFILE or DFKIT_PROFILES of the shell must not reach it.
    env: childEnv({ DF_URL: url, DF_EMAIL: admin.email, DF_PASSWORD: admin.password }),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A first provisioning: name, access and a daily limit. */
const PROVISION_ACME = [
  "provision",
  "acme-42",
  "--name",
  "Acme Inc.",
  "--access",
  "db:_table/*:GET",
  "--limit",
  "1000/day",
];

Deno.test("provision script: --json provision prints the key once; later commands mask it", async () => {
  const sb = await startSandbox({ port: 0 });
  admin = sb.admin;
  try {
    const made = await cli(sb.url, "--json", ...PROVISION_ACME);
    assert.equal(made.code, 0, made.stderr);
    const result = JSON.parse(made.stdout);
    assert.equal(result.keyCreated, true);
    const key: string = result.apiKey;
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.equal(made.stdout.split(key).length - 1, 1);

    const again = await cli(
      sb.url,
      "provision",
      "acme-42",
      "--access",
      "db:_table/*:GET",
      "--limit",
      "1000/day",
      "--name",
      "Acme Inc.",
    );
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /customer acme-42: unchanged/);
    assert.match(again.stdout, new RegExp(`API key: \\*\\*\\*\\*${key.slice(-4)}`));

    const suspended = await cli(sb.url, "suspend", "acme-42");
    assert.match(suspended.stdout, /suspend done/);
    const status = await cli(sb.url, "--json", "status", "acme-42");
    assert.equal(JSON.parse(status.stdout).active, false);
    const resumed = await cli(sb.url, "resume", "acme-42");
    assert.match(resumed.stdout, /resume done/);

    const rotated = await cli(sb.url, "--json", "rotate-key", "acme-42");
    const newKey = JSON.parse(rotated.stdout).apiKey;
    assert.notEqual(newKey, key);

    const bad = await cli(sb.url, "provision", "acme-42", "--access", "db:_table/*:FETCH");
    assert.equal(bad.code, 2);
    // Commander's usage errors too, as in the dfkit CLI.
    const unknown = await cli(sb.url, "provision", "acme-42", "--bogus");
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /unknown option '--bogus'/);
    const noName = await cli(sb.url, "suspend");
    assert.equal(noName.code, 2, noName.stderr);
    assert.equal((await cli(sb.url, "--help")).code, 0);
    assert.match(bad.stderr, /access\[0\]\.verbs\[0\]: "FETCH" is not a verb/);

    for (const limit of ["0/day", "2147483648/day", "99999999999999999999999/day"]) {
      const huge = await cli(sb.url, "provision", "acme-42", "--limit", limit);
      assert.notEqual(huge.code, 0, huge.stderr);
      assert.match(huge.stderr, /RATE must be from 1 to 2147483647/);
    }

    // A hand-made role under a customer's name is refused until --adopt takes it over.
    const df = await connect({ url: sb.url, ...sb.admin });
    await df.system.role.create([{ name: "customer-support", description: "hand-made" }]);
    await df.logout();
    const refused = await cli(sb.url, "provision", "support");
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /role "customer-support" .* not made by dfkit .*--adopt/);
    const adopted = await cli(sb.url, "provision", "support", "--adopt");
    assert.equal(adopted.code, 0, adopted.stderr);

    const gone = await cli(sb.url, "deprovision", "acme-42");
    assert.equal(gone.code, 0, gone.stderr);
    assert.match(gone.stdout, /deprovision done/);
    for (const out of [again, suspended, status, resumed, bad, gone]) {
      assert.ok(!(out.stdout + out.stderr).includes(key));
      assert.ok(!(out.stdout + out.stderr).includes(newKey));
    }
  } finally {
    await sb.close();
  }
});

Deno.test("provision script: a flag not given keeps what the customer has (access, limit, name, per)", async () => {
  const sb = await startSandbox({ port: 0 });
  admin = sb.admin;
  const df = await connect({ url: sb.url, ...sb.admin });
  try {
    const made = await cli(sb.url, ...PROVISION_ACME);
    assert.equal(made.code, 0, made.stderr);
    const plan = await cli(sb.url, "provision", "acme-42", "--limit", "5000/day");
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /- update limit customer-acme-42 \(1000\/day -> 5000\/day\)\n$/);
    let s = await getCustomer(df, "acme-42");
    assert.deepEqual(
      s.role?.role_service_access_by_role_id?.map((r) => [r.component, r.verb_mask]),
      [["_table/*", 1]],
    );
    assert.equal(s.role?.description, "dfkit customer acme-42: Acme Inc.");

    const access = await cli(sb.url, "provision", "acme-42", "--access", "db:_table/*:GET,POST");
    assert.equal(access.code, 0, access.stderr);
    assert.match(access.stdout, /- update role customer-acme-42 \(access\)\n$/);
    s = await getCustomer(df, "acme-42");
    assert.deepEqual([s.limit?.rate, s.limit?.period], [5000, "day"]);

    // Per-user limits stay per user (for the users the customer has) when only the rate changes.
    const perUser = await cli(
      sb.url,
      "provision",
      "acme-42",
      "--member",
      "bob@acme.test",
      "--limit-per",
      "user",
    );
    assert.equal(perUser.code, 0, perUser.stderr);
    const rate = await cli(sb.url, "provision", "acme-42", "--limit", "10/minute");
    assert.equal(rate.code, 0, rate.stderr);
    assert.match(
      rate.stdout,
      /- update limit customer-acme-42:bob@acme.test \(5000\/day -> 10\/minute\)\n$/,
    );

    const none = await cli(sb.url, "provision", "acme-42", "--no-limit");
    assert.equal(none.code, 0, none.stderr);
    s = await getCustomer(df, "acme-42");
    assert.deepEqual([s.limits.length, s.role?.role_service_access_by_role_id?.length], [0, 1]);
  } finally {
    await df.logout();
    await sb.close();
  }
});

Deno.test("provision script: a rerun that finds a key never handed over prints it", async () => {
  const sb = await startSandbox({ port: 0 });
  admin = sb.admin;
  const df = await connect({ url: sb.url, ...sb.admin });
  try {
    assert.equal((await cli(sb.url, ...PROVISION_ACME)).code, 0);
    // As a call leaves it that created the app and failed before returning its key.
    const app = await df.system.app.filter("name = 'customer-acme-42'").first();
    await df.system.app.ids(app!.id).update({
      description: "dfkit customer acme-42 (key not handed over): Acme Inc.",
    });
    const status = await cli(sb.url, "status", "acme-42");
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /never handed over: `dfkit customer provision acme-42` returns it/);
    const rerun = await cli(sb.url, "provision", "acme-42");
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stdout, /^customer acme-42: updated\n/);
    assert.ok(rerun.stdout.includes(`API key: ${app!.api_key}  (shown only now`), rerun.stdout);
    assert.match(rerun.stdout, /note: app customer-acme-42 had a key no call had handed over/);
    const after = await cli(sb.url, "provision", "acme-42");
    assert.match(after.stdout, /customer acme-42: unchanged\n {2}API key: \*\*\*\*/);
  } finally {
    await df.logout();
    await sb.close();
  }
});

Deno.test("provision script: a broken --spec file says where, never quoting it; one it cannot read is named; both exit 2", async () => {
  const dir = await Deno.makeTempDir();
  const sb = await startSandbox({ port: 0 });
  admin = sb.admin;
  try {
    await Deno.writeTextFile(`${dir}/spec.json`, '{"key":"acme-42","name":Secretive-Name}');
    const r = await cli(sb.url, "provision", "acme-42", "--spec", `${dir}/spec.json`);
    assert.equal(r.code, 2, r.stderr); // bad input, as dfkit --file answers it
    assert.match(r.stderr, /spec\.json: not valid JSON \(line 1, column \d+\)/);
    assert.ok(!r.stderr.includes("Secretive"), r.stderr);
    // One that cannot be read is named in one sentence, not the OS text.
    for (
      const [spec, message] of [
        [`${dir}/nope.json`, `--spec ${dir}/nope.json does not exist`],
        [dir, `cannot read --spec ${dir}: it is a folder`],
      ]
    ) {
      const unread = await cli(sb.url, "provision", "acme-42", "--spec", spec);
      assert.equal(unread.code, 2, unread.stderr);
      assert.equal(unread.stderr, `error: ${message}\n`);
    }
  } finally {
    await sb.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("provision script: a session token it is given stays valid; a session it opens is ended", async () => {
  const sb = await startSandbox({ port: 0 });
  try {
    const token = await adminLogin(sb);
    const run = await runDeno(["run", "-A", script, "status", "acme-1"], {
      env: { DF_URL: sb.url, DF_SESSION_TOKEN: token },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /customer acme-1: not provisioned/);
    // Still the user's: the script did not log it out.
    assert.equal(await tokenWorks(sb.url, token), true);
  } finally {
    await sb.close();
  }
});

Deno.test("provision script: a profile's unset password variable is asked for; with no terminal, named", async () => {
  const sb = await startSandbox({ port: 0 });
  const dir = await Deno.makeTempDir();
  try {
    const entry = { url: sb.url, email: sb.admin.email, password: "env:ACME_PW" };
    const profiles = await writeProfiles(dir, { a: entry });
    // stdin is not a terminal: a usage error (exit 2) naming the variable to set.
    for (const args of [["--profile", "a"], []]) {
      const env: Record<string, string> = { DFKIT_PROFILES: profiles };
      if (!args.length) env.DF_PROFILE = "a";
      const run = await runDeno(["run", "-A", script, ...args, "status", "acme-1"], { env });
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.match(run.stderr, /no terminal to ask on: set ACME_PW/);
    }
    const set = await runDeno(["run", "-A", script, "--profile", "a", "status", "acme-1"], {
      env: { DFKIT_PROFILES: profiles, ACME_PW: sb.admin.password },
    });
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /customer acme-1: not provisioned/);
  } finally {
    await sb.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("provision script: --url/--email as in dfkit; without --allow-env it says DF_URL cannot be read, and --help works", async () => {
  const sb = await startSandbox({ port: 0 });
  try {
    const flagged = await runDeno(
      ["run", "-A", script, "--url", sb.url, "--email", sb.admin.email, "status", "acme-1"],
      { env: { DF_PASSWORD: sb.admin.password } },
    );
    assert.equal(flagged.code, 0, flagged.stderr);
    assert.match(flagged.stdout, /customer acme-1: not provisioned/);
    const narrow = ["run", "--allow-net", "--allow-read", script];
    const denied = await runDeno([...narrow, "status", "acme-1"], { env: { DF_URL: sb.url } });
    assert.equal(denied.code, 2, denied.stderr);
    assert.match(denied.stderr, /DF_URL cannot be read: run with --allow-env/);
    const help = await runDeno([...narrow, "--help"]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--url <url>/);
  } finally {
    await sb.close();
  }
});

Deno.test("provision script: the --spec is read and checked before any password is asked for", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const entry = { url: "http://127.0.0.1:9", email: "a@example.com", password: "env:ACME_PW" };
    const profiles = await writeProfiles(dir, { a: entry });
    await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify({ access: [{ verbs: ["FETCH"] }] }));
    const env = { DFKIT_PROFILES: profiles };
    const run = (spec: string) =>
      runDeno(["run", "-A", script, "--profile", "a", "provision", "acme-1", "--spec", spec], {
        env,
      });
    const missing = await run(`${dir}/nope.json`);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /--spec .*nope\.json does not exist/);
    const invalid = await run(`${dir}/bad.json`);
    assert.equal(invalid.code, 2, invalid.stderr);
    assert.doesNotMatch(invalid.stderr, /ACME_PW/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
