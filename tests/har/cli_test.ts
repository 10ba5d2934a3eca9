import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Command, Option } from "commander";
import { harCommand } from "../../scripts/har.ts";
import { entry, harOf } from "./har_helpers.ts";

const SCRIPT = new URL("../../scripts/har.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const TOKEN = "eyJhbGciOiJIUzI1NiJ9.cli-token.sig";

async function run(args: string[], perms: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", CONFIG, "--no-prompt", ...perms, SCRIPT, ...args],
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("har CLI converts a file with read-only access to it, and writes -o outputs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/console.har`;
    await Deno.writeTextFile(
      file,
      JSON.stringify(harOf(
        entry("POST", "http://df.local/api/v2/system/role", {
          headers: { "X-DreamFactory-Session-Token": TOKEN },
          body: { resource: [{ name: "r" }] },
          status: 201,
          response: { resource: [{ id: 3 }] },
        }),
        entry("POST", "http://df.local/api/v2/db/_table/todo", {
          body: { resource: [{ title: "x" }] },
        }),
      )),
    );
    const printed = await run([file, "--system-only", "--import", "@dfkit/dfkit"], [
      `--allow-read=${file}`,
    ]);
    assertEquals(printed.code, 0, printed.stderr);
    assert(printed.stdout.includes(`await df.system.role.create({ name: "r" });`), printed.stdout);
    assert(!printed.stdout.includes("todo"), "--system-only keeps only system calls");
    assert(!printed.stdout.includes(TOKEN));

    const out = `${dir}/replay.ipynb`;
    const written = await run([file, "--notebook", "-o", out], [
      `--allow-read=${file}`,
      `--allow-write=${out}`,
    ]);
    assertEquals(written.code, 0, written.stderr);
    const nb = JSON.parse(await Deno.readTextFile(out));
    assertEquals(nb.metadata.kernelspec.name, "deno");
    assertEquals(nb.cells.length, 5); // intro, setup, 2 calls, logout
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("har CLI reports a malformed entry by index with exit code 1, a missing file with 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/bad.har`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ log: { entries: [entry("GET", "http://df.local/api/v2/system"), {}] } }),
    );
    const r = await run([file], [`--allow-read=${file}`]);
    assertEquals(r.code, 1);
    assert(r.stderr.includes(`HAR entry #1: "request" is missing or not an object`), r.stderr);
    const missing = await run([`${dir}/nope.har`], [`--allow-read=${dir}`]);
    assertEquals(missing.code, 2, missing.stderr); // the input named is wrong: a usage mistake
    assertEquals(missing.stderr, `error: HAR file ${dir}/nope.har does not exist\n`);
    const usage = await run([], []);
    assertEquals(usage.code, 2, usage.stderr);
    // Exit codes of commander's own answers, as scripts/usage.ts maps them for every script.
    const help = await run(["--help"], []);
    assertEquals(help.code, 0, help.stderr);
    assert(help.stdout.startsWith("Usage: har"), help.stdout);
    const unknown = await run([file, "--bogus"], [`--allow-read=${file}`]);
    assertEquals(unknown.code, 2, unknown.stderr);
    assert(unknown.stderr.includes("unknown option '--bogus'"), unknown.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("harCommand mounts under another commander program", () => {
  const program = new Command("dfkit").addCommand(harCommand());
  const har = program.commands.find((c) => c.name() === "har");
  assert(har);
  assertEquals(
    har.options.map((o) => o.long).sort(),
    ["--all", "--import", "--notebook", "--out", "--profile", "--system-only"],
  );
});

Deno.test("har --profile is honoured when a parent program also has --profile", async () => {
  const dir = await Deno.makeTempDir();
  const before = Deno.env.get("DF_PROFILE");
  try {
    const file = `${dir}/console.har`;
    await Deno.writeTextFile(
      file,
      JSON.stringify(harOf(entry("DELETE", "http://df.local/api/v2/system/role/3"))),
    );
    const convert = async (args: string[]) => {
      const out = `${dir}/out.ts`;
      const program = new Command("dfkit")
        .addOption(new Option("--profile <name>", "global").env("DF_PROFILE"))
        .addCommand(harCommand());
      await program.parseAsync(["har", file, "-o", out, ...args], { from: "user" });
      return await Deno.readTextFile(out);
    };
    assert((await convert(["--profile", "prod"])).includes(`connect({ profile: "prod" })`));
    Deno.env.set("DF_PROFILE", "from-env"); // a connection setting: not baked into the script
    assert((await convert([])).includes("const df = await connect();"));
  } finally {
    if (before === undefined) Deno.env.delete("DF_PROFILE");
    else Deno.env.set("DF_PROFILE", before);
    await Deno.remove(dir, { recursive: true });
  }
});
