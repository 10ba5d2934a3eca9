/**
 * The real DreamFactory 7 exchanges in tests/fixtures/df-observed (the shapes the admin console sends),
 * stitched into one HAR in recording order, must convert to a script that type-checks against
 * dfkit and carries none of the recording's tokens, keys or passwords.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { fromHar, type HarEntry } from "../../lib/har/mod.ts";
import { entry, harOf } from "./har_helpers.ts";
import { OBSERVED_DIR } from "../fixtures/observed.ts";

const DIR = OBSERVED_DIR;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const MOD = new URL("../../mod.ts", import.meta.url).href;

/** Parses one transcript (`### REQUEST` / `### RESPONSE` blocks) into a HAR entry. */
function transcriptEntry(text: string): HarEntry {
  const [, req, res] = text.split(/^### (?:REQUEST|RESPONSE)\s*$/m);
  const [head, ...bodyParts] = req.trim().split(/\r?\n\r?\n/);
  const [requestLine, ...headerLines] = head.split(/\r?\n/);
  const [method, target] = requestLine.split(" ");
  const headers = Object.fromEntries(headerLines.map((l) => {
    const i = l.indexOf(":");
    return [l.slice(0, i).trim(), l.slice(i + 1).trim()];
  }));
  const body = bodyParts.join("\n\n").trim();
  const status = Number(res.trim().split(" ")[1]);
  const jsonStart = res.search(/^[[{]/m);
  let response: unknown;
  try {
    response = jsonStart >= 0 ? JSON.parse(res.slice(jsonStart).trim()) : undefined;
  } catch {
    response = undefined;
  }
  return entry(method, `http://127.0.0.1:8080${target}`, {
    headers,
    body: body || undefined,
    status,
    response,
  });
}

async function transcriptsHar() {
  const names: string[] = [];
  for await (const f of Deno.readDir(DIR)) if (f.name.endsWith(".txt")) names.push(f.name);
  names.sort();
  const entries: HarEntry[] = [];
  const raw: string[] = [];
  for (const n of names) {
    const text = await Deno.readTextFile(new URL(n, DIR));
    raw.push(text);
    entries.push(transcriptEntry(text));
  }
  return { har: harOf(...entries), raw: raw.join("\n") };
}

/** Every credential in the transcripts: tokens, API keys, passwords sent in requests. */
function credentials(raw: string): string[] {
  const found = new Set<string>();
  for (const m of raw.matchAll(/X-DreamFactory-(?:Session-Token|API-Key): (\S+)/gi)) {
    found.add(m[1]);
  }
  for (const m of raw.matchAll(/"(?:session_token|session_id|api_key)":"([^"]{8,})"/g)) {
    found.add(m[1]);
  }
  for (const m of raw.matchAll(/"(?:password|old_password|new_password)":"([^"]+)"/g)) {
    if (m[1] !== "string") found.add(m[1]); // "string" is the environment's field description
  }
  return [...found];
}

Deno.test("the real DreamFactory transcripts convert to a type-checked script without secrets", async () => {
  const { har, raw } = await transcriptsHar();
  const secrets = credentials(raw);
  assert(secrets.length >= 5, `found only ${secrets.length} credentials to look for`);
  for (const all of [false, true]) {
    const script = fromHar(har, { all, importFrom: MOD });
    for (const s of secrets) assert(!script.includes(s), `credential ${s.slice(0, 8)}... leaked`);
    const file = await Deno.makeTempFile({ suffix: ".ts" });
    try {
      await Deno.writeTextFile(file, script);
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["check", "--config", CONFIG, file],
      })
        .output();
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr) + "\n" + script);
    } finally {
      await Deno.remove(file);
    }
    if (!all) {
      // 10 creates role "readers" (id 1); 12 creates an app with it; 63 assigns it to user 2.
      assert(script.includes(`const [role] = await df.system.role.create(`), script);
      assert(/role_id: role\.id/.test(script), script);
      assert(script.includes(`password: secret("PASSWORD_JANE_EXAMPLE_COM")`), script);
      assert(script.includes(`df.db("mydb").schema.create(`), script);
      assert(!script.includes("console.log("), "reads are left out without all");
    }
  }
});
