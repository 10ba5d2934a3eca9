import assert from "node:assert/strict";
import { assertNoSecrets, ROOT, runDeno, taskFlags } from "./helpers.ts";

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
