import assert from "node:assert/strict";
import { assertNoSecrets, childEnv, ROOT, runDeno, taskFlags } from "./helpers.ts";
import { writeProfiles } from "../client/helpers.ts";

const readme = await Deno.readTextFile(`${ROOT}/README.md`);

Deno.test("README: the API tour's code blocks run, in order, against a sandbox", async () => {
  const start = readme.indexOf("## A tour of the API");
  const tour = readme.slice(start, readme.indexOf("\n## ", start));
  const blocks = [...tour.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length >= 4, "the tour has its code blocks");
  // The tour leaves the sandbox open for the reader; the test closes it.
  const module = `${
    blocks.join("\n")
  }\nawait df.logout();\nawait sb.close();\nconsole.log("tour done");\n`;
  const run = await runDeno(["run", "-A", "-"], { stdin: module });
  assert.equal(run.code, 0, `README tour failed:\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /tour done/);
  assertNoSecrets(run.stdout + run.stderr, ["Passw0rd123"], "README tour output");
});

Deno.test("README: quick start shows the two commands, with and without Deno", () => {
  const quick = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("## A tour"));
  for (const cmd of ["npx -y deno@2 task demo", "npx -y deno@2 task test"]) {
    assert.ok(quick.includes(cmd), `quick start lacks "${cmd}"`);
  }
  assert.match(quick, /`deno task demo` and `deno task test`/);
  assert.ok(readme.includes("## Sandbox fidelity") && readme.includes("## Benchmarks"));
});

Deno.test("README: every deno task it mentions exists in deno.json", async () => {
  const tasks = Object.keys(JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks);
  const mentioned = new Set([...readme.matchAll(/deno@?2? task ([a-z][\w-]*)/g)].map((m) => m[1]));
  for (const t of mentioned) assert.ok(tasks.includes(t), `README mentions "deno task ${t}"`);
});

Deno.test("README: the permissions table says exactly what each task passes", async () => {
  for (const task of ["demo", "dfkit", "repl"]) {
    const row = readme.split("\n").find((l) => l.startsWith(`| \`deno task ${task}\``));
    assert.ok(row, `no permissions row for ${task}`);
    const documented = row.split("|")[2].match(/`([^`]+)`/)?.[1].split(" ");
    assert.deepEqual(documented, await taskFlags(task), `README row for ${task}`);
  }
});

Deno.test("README: the CLI block runs line by line, from another folder, on a sandbox", async () => {
  const start = readme.indexOf("## CLI");
  const block = readme.slice(start).match(/```sh\n([\s\S]*?)```/)![1];
  const lines = block.split("\n").filter((l) =>
    l.startsWith("deno task dfkit") || /^export /.test(l)
  );
  const dir = await Deno.makeTempDir();
  const { startSandbox } = await import("../../lib/sandbox/mod.ts");
  const sb = await startSandbox({ port: 0 });
  try {
    // What the reader has at hand: rows for --file, a recording for `har`.
    await Deno.writeTextFile(
      `${dir}/rows.json`,
      JSON.stringify([{ name: "Ada", city: "Paris" }, { name: "Bob", city: "Rome" }]),
    );
    const entry = {
      startedDateTime: "2026-01-01T00:00:00Z",
      time: 1,
      request: {
        method: "GET",
        url: "http://127.0.0.1:8080/api/v2/system/role?fields=id,name",
        httpVersion: "HTTP/1.1",
        headers: [],
        queryString: [{ name: "fields", value: "id,name" }],
        cookies: [],
        headersSize: -1,
        bodySize: 0,
      },
      response: {
        status: 200,
        statusText: "OK",
        httpVersion: "HTTP/1.1",
        headers: [],
        cookies: [],
        content: { size: 15, mimeType: "application/json", text: '{"resource":[]}' },
        redirectURL: "",
        headersSize: -1,
        bodySize: 15,
      },
      cache: {},
      timings: { send: 0, wait: 1, receive: 0 },
    };
    const har = { log: { version: "1.2", creator: { name: "t", version: "1" }, entries: [entry] } };
    await Deno.writeTextFile(`${dir}/console.har`, JSON.stringify(har));
    const port = new URL(sb.url).port;
    // HOME is a fresh folder (login --save writes there); Deno's cache stays where it is.
    const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
    const denoDir: string = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir;
    const env = { HOME: dir, DENO_DIR: denoDir, DF_PASSWORD: sb.admin.password };
    const bin = Deno.execPath().replace(/\/[^/]+$/, "");
    let ran = 0;
    for (const line of lines) {
      // The reader's own sandbox on 8080 is this test's sandbox.
      if (/dfkit sandbox/.test(line)) continue;
      const command = line.replaceAll("8080", port)
        .replace("deno task dfkit", `deno task -q --config ${ROOT}/deno.json dfkit`);
      if (command.startsWith("export ")) {
        for (const [, k, v] of command.matchAll(/(\w+)=(\S+)/g)) {
          (env as Record<string, string>)[k] = v;
        }
        continue;
      }
      const out = await new Deno.Command("bash", {
        args: ["-c", command],
        cwd: dir,
        env: childEnv({ ...env, PATH: `${bin}:${Deno.env.get("PATH")}` }),
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `${line}\n${text}`);
      assertNoSecrets(text, [sb.admin.password], line);
      ran++;
    }
    assert.ok(ran >= 15, `ran ${ran} lines`);
    assert.ok((await Deno.stat(`${dir}/setup.ts`)).isFile, "har -o wrote into the reader's folder");
  } finally {
    await sb.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("README: a project with dfkit as a workspace member runs the sample script", async () => {
  const start = readme.indexOf("## Using dfkit in your own project");
  const section = readme.slice(start, readme.indexOf("\n## ", start));
  const shell = section.match(/```sh\n([\s\S]*?)```/)![1].split("\n");
  const script = section.match(/```ts ignore\n([\s\S]*?)```/)![1];
  const dir = await Deno.makeTempDir();
  const { startSandbox } = await import("../../lib/sandbox/mod.ts");
  const { connect } = await import("../../lib/client.ts");
  const sb = await startSandbox({ port: 0 });
  try {
    const admin = await connect({ url: sb.url, ...sb.admin });
    await admin.system.role.create({ name: "from-the-readme", is_active: true });
    await admin.logout();
    // The checkout, as the reader's clone (a symlink is a folder to Deno's workspace lookup).
    await Deno.symlink(ROOT, `${dir}/dfkit`);
    await Deno.writeTextFile(`${dir}/my-script.ts`, script);
    const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
    const denoDir: string = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir;
    const bin = Deno.execPath().replace(/\/[^/]+$/, "");
    const env = {
      HOME: dir,
      DENO_DIR: denoDir,
      PATH: `${bin}:${Deno.env.get("PATH")}`,
      DF_URL: sb.url,
      DF_EMAIL: sb.admin.email,
      DF_PASSWORD: sb.admin.password,
    };
    const steps = shell.filter((l) => l.startsWith("echo ") || l.startsWith("deno run "));
    assert.equal(steps.length, 2, "the block writes deno.json, then runs the script");
    let text = "";
    for (const step of steps) {
      const out = await new Deno.Command("bash", {
        args: ["-c", step],
        cwd: dir,
        env: childEnv(env),
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `${step}\n${text}`);
    }
    assert.match(text, /from-the-readme/);
    assertNoSecrets(text, [sb.admin.password], "the sample script's output");
    // The same command with a profiles file's default profile instead of DF_* (it reads a file).
    const profiles = await writeProfiles(dir, {
      local: { url: sb.url, email: sb.admin.email, password: "env:LOCAL_PW" },
    }, { default: "local" });
    const byProfile = await new Deno.Command("bash", {
      args: ["-c", steps[1]],
      cwd: dir,
      env: childEnv({
        HOME: dir,
        DENO_DIR: denoDir,
        PATH: env.PATH,
        DFKIT_PROFILES: profiles,
        LOCAL_PW: sb.admin.password,
      }),
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(byProfile.stdout) +
      new TextDecoder().decode(byProfile.stderr);
    assert.equal(byProfile.code, 0, out);
    assert.match(out, /from-the-readme/);
  } finally {
    await sb.close();
    await Deno.remove(dir, { recursive: true });
  }
});
