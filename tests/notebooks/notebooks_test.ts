/**
 * Every notebook, checked without Jupyter: committed with cleared outputs on the Deno kernel, and
 * its code cells run in order as one module under plain Deno (in a subprocess, from the
 * notebook's folder as Jupyter does), so a broken notebook fails `deno task test`.
 * `.ci/run` also executes each one under real Jupyter and inspects the outputs.
 */
import assert from "node:assert/strict";
import { assertNoSecrets, ROOT, runDeno } from "../scripts/helpers.ts";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { connect } from "../../lib/client.ts";

interface Cell {
  cell_type: "code" | "markdown" | "raw";
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
}
interface Notebook {
  cells: Cell[];
  metadata: { kernelspec?: { name?: string } };
}

/**
 * Stand-in for `Deno.jupyter` (which only exists inside `deno jupyter` and cannot be redefined):
 * `display` prints the text/plain rendering, so progress updates and displays still show up.
 */
const JUPYTER_SHIM = `const __dfkitJupyter = {
  async display(obj, options = {}) {
    const $display = Symbol.for("Jupyter.display");
    const bundle = options.raw ? obj : obj?.[$display] ? await obj[$display]() : undefined;
    console.log(bundle ? (bundle["text/plain"] ?? "") : Deno.inspect(obj));
  },
  md: (s, ...v) => String.raw(s, ...v),
  html: (s, ...v) => String.raw(s, ...v),
  async broadcast() {},
};
`;

/** The notebook's code cells as one module: magics and shell escapes removed, the shim used. */
export function notebookModule(nb: Notebook): string {
  const cells = nb.cells.filter((c) => c.cell_type === "code").map((c, i) => {
    const text = Array.isArray(c.source) ? c.source.join("") : c.source;
    const code = text.split("\n")
      .filter((line) => !/^\s*[%!]/.test(line)) // %magics and !shell lines are Jupyter-only
      .join("\n")
      .replaceAll("Deno.jupyter", "__dfkitJupyter");
    return `// ---- cell ${i + 1}\n${code}\n;`;
  });
  return JUPYTER_SHIM + cells.join("\n");
}

const dir = `${ROOT}/notebooks`;
const names = [...Deno.readDirSync(dir)]
  .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
  .map((e) => e.name)
  .sort();

Deno.test("notebooks: the five walkthroughs exist", () => {
  for (const n of ["01-auth", "02-crud", "03-migration", "04-provisioning", "05-data-copy"]) {
    assert.ok(names.includes(`${n}.ipynb`), `notebooks/${n}.ipynb is missing`);
  }
});

for (const name of names) {
  const nb: Notebook = JSON.parse(Deno.readTextFileSync(`${dir}/${name}`));

  Deno.test(`notebook ${name}: Deno kernel, outputs cleared, no secret in the source`, () => {
    assert.equal(nb.metadata.kernelspec?.name, "deno");
    nb.cells.forEach((c, i) => {
      if (c.cell_type !== "code") return;
      assert.deepEqual(c.outputs, [], `cell ${i} has committed outputs`);
      assert.equal(c.execution_count ?? null, null, `cell ${i} has an execution count`);
    });
    assertNoSecrets(JSON.stringify(nb), ["Passw0rd123"], name);
  });

  Deno.test(`notebook ${name}: every code cell runs in order under plain Deno`, async () => {
    const run = await runDeno(["run", "-A", "-"], { cwd: dir, stdin: notebookModule(nb) });
    assert.equal(run.code, 0, `${name} failed:\n${run.stdout.slice(-3000)}\n${run.stderr}`);
    assert.match(
      run.stdout,
      /closed \d+ sandbox\(es\)|done/,
      `${name} did not reach its last cell`,
    );
    assertNoSecrets(run.stdout + run.stderr, ["Passw0rd123"], `${name} output`);
  });
}

/** What a notebook could leave behind on an instance it was pointed at. */
async function leftovers(url: string, admin: { email: string; password: string }) {
  const df = await connect({ url, ...admin });
  try {
    return {
      roles: await df.system.role.count(),
      apps: (await df.system.app.fields("name")).map((a) => a.name).sort(),
      users: await df.system.user.count(),
      lookups: await df.system.lookup.count(),
      limits: await df.system.limit.count(),
      tables: await df.db("db").schema.list(),
    };
  } finally {
    await df.logout();
  }
}

for (const name of names) {
  const nb: Notebook = JSON.parse(Deno.readTextFileSync(`${dir}/${name}`));
  Deno.test(`notebook ${name}: with DF_URL it uses that instance and leaves it as it was`, async () => {
    const main = await startSandbox({ port: 0 });
    const second = await startSandbox({ port: 0 });
    try {
      const before = await leftovers(main.url, main.admin);
      const run = await runDeno(["run", "-A", "-"], {
        cwd: dir,
        stdin: notebookModule(nb),
        env: {
          DF_URL: main.url,
          DF_EMAIL: main.admin.email,
          DF_PASSWORD: main.admin.password,
          DF_TARGET_URL: second.url,
        },
      });
      assert.equal(run.code, 0, `${name} failed:\n${run.stdout.slice(-3000)}\n${run.stderr}`);
      assert.match(
        run.stdout,
        /done: closed 0 sandbox\(es\)/,
        "the notebook started its own sandbox",
      );
      assert.deepEqual(await leftovers(main.url, main.admin), before, "objects left behind");
      assert.deepEqual(
        await leftovers(second.url, second.admin),
        before,
        "objects left on the target",
      );
      assertNoSecrets(run.stdout + run.stderr, [main.admin.password], `${name} output`);
    } finally {
      await main.close();
      await second.close();
    }
  });
}

Deno.test("notebookModule: strips %magics and !shell lines, routes Deno.jupyter to the shim", async () => {
  const nb: Notebook = {
    metadata: { kernelspec: { name: "deno" } },
    cells: [
      { cell_type: "markdown", source: "# title" },
      { cell_type: "code", source: ["%load_ext x\n", "!ls\n", "const a = 1;"] },
      {
        cell_type: "code",
        source: "await Deno.jupyter.display({ 'text/plain': `a=${a}` }, { raw: true });",
      },
    ],
  };
  const module = notebookModule(nb);
  assert.doesNotMatch(module, /%load_ext|!ls|Deno\.jupyter/);
  const run = await runDeno(["run", "-"], { stdin: module });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), "a=1");
  // A failing cell fails the run.
  nb.cells.push({ cell_type: "code", source: "throw new Error('cell 3 broke');" });
  const broken = await runDeno(["run", "-"], { stdin: notebookModule(nb) });
  assert.notEqual(broken.code, 0);
  assert.match(broken.stderr, /cell 3 broke/);
});
