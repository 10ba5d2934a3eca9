import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { fromHar } from "../../lib/har/mod.ts";
import { entry, harOf } from "./har_helpers.ts";
import { adminLogin } from "../sandbox/_helpers.ts";

const B = "http://df.local/api/v2";
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const MOD = new URL("../../mod.ts", import.meta.url).href;
/** Prints the marker only if it runs as code (the marker itself never appears in the text). */
const RUN = `console.log("PWN" + "ED");`;
/** Each way out of a `//` comment or a string literal, followed by code. */
const PAYLOADS = ["\n", "\r", "\u2028", "\u2029", `"\n`, "`${0}\n", "*/\n"].map((b) =>
  `x${b}${RUN}//`
);

/** Runs a generated script; the `connect` it imports is `importFrom`'s. */
async function runScript(script: string, env: Record<string, string> = {}) {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/replay.ts`, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        CONFIG,
        "--check",
        "--no-prompt",
        "--allow-net=127.0.0.1",
        "--allow-env",
        "--allow-read",
        `${dir}/replay.ts`,
      ],
      env,
      clearEnv: true,
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("hostile text in a HAR never runs as code in the generated script", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A stand-in client that accepts every call, so that every step runs to the end.
    const fake = `${dir}/fake.ts`;
    await Deno.writeTextFile(
      fake,
      `// deno-lint-ignore-file no-explicit-any
const node = (): any => new Proxy(function () {}, {
  get: (_t, p) => p === "then" ? undefined : p === Symbol.iterator
    ? function* () { yield node(); yield node(); }
    : typeof p === "symbol" ? undefined : p === "id" ? 1 : node(),
  apply: () => node(),
});
export function connect(_o?: unknown): Promise<any> { return Promise.resolve(node()); }
`,
    );
    const enc = encodeURIComponent;
    const entries = PAYLOADS.flatMap((p, i) => [
      entry("POST", `${B}/system/role?note=${enc(p)}&${enc(p)}=1`, {
        headers: { [`X-${i}${p}`]: p },
        body: { resource: [{ name: p, description: p, [p]: p, nested: { [p]: [p] } }] },
        response: { resource: [{ id: 10 + i }] },
      }),
      entry("PATCH", `${B}/system/role/${10 + i}?filter=${enc(p)}`, { body: { name: p } }),
      entry("POST", `${B}/db/_table/${enc(p)}?fields=${enc(p)}`, {
        body: { resource: [{ [p]: p }] },
        response: { resource: [{ id: 1 }] },
      }),
      entry("DELETE", `${B}/db/_table/${enc(p)}/1?related=${enc(p)}`),
      entry("POST", `${B}/db/_schema/${enc(p)}`, { body: { resource: [{ name: p }] } }),
      entry("POST", `${B}/${enc(p)}/_proc/${enc(p)}?${enc(p)}=${enc(p)}`, {
        headers: { "X-HTTP-Method": `PATCH${p}` },
        body: { [p]: p },
      }),
      entry("PUT", `${B}/files/${enc(p)}`, { body: p }),
    ]);
    for (const notebook of [false, true]) {
      let script = fromHar(harOf(...entries), { importFrom: fake, notebook, profile: PAYLOADS[0] });
      if (notebook) {
        // The code cells, in order, are what a kernel runs.
        script = JSON.parse(script).cells.filter((c: { cell_type: string }) =>
          c.cell_type === "code"
        ).map((c: { source: string[] }) => c.source.join("")).join("\n\n");
      }
      const { code, output } = await runScript(script);
      assert(!output.includes("PWNED"), `injected code ran:\n${output}\n${script}`);
      assertEquals(code, 0, `${output}\n${script}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hostile text in recorded values reaches DreamFactory unchanged", async () => {
  const sb = await startSandbox({ port: 0 });
  try {
    const name = `r${PAYLOADS.join("|")}\\`;
    const script = fromHar(
      harOf(
        entry("POST", `${B}/system/role?note=${encodeURIComponent(PAYLOADS[0])}`, {
          body: { resource: [{ name, description: PAYLOADS[1], is_active: true }] },
          response: { resource: [{ id: 1 }] },
        }),
        entry("PATCH", `${B}/system/role/1`, { body: { description: PAYLOADS[2] } }),
      ),
      { importFrom: MOD },
    );
    const { code, output } = await runScript(script, {
      DF_URL: sb.url,
      DF_EMAIL: sb.admin.email,
      DF_PASSWORD: sb.admin.password,
    });
    assert(!output.includes("PWNED"), `injected code ran:\n${output}\n${script}`);
    assertEquals(code, 0, `${output}\n${script}`);
    const roles = await fetch(`${sb.url}/api/v2/system/role`, {
      headers: { "X-DreamFactory-Session-Token": await adminLogin(sb) },
    }).then((r) => r.json());
    assertEquals(
      roles.resource.map((r: Record<string, unknown>) => [r.name, r.description]),
      [[name, PAYLOADS[2]]],
    );
  } finally {
    await sb.close();
  }
});
