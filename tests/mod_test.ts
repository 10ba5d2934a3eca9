/**
 * The main entry point stays cheap to import: the sandbox server and `node:crypto` (together
 * ~100 ms of import time) are loaded only when a sandbox is started or data is copied.
 */
import assert from "node:assert/strict";

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
}

Deno.test("importing mod.ts loads neither the sandbox server nor node:crypto", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../mod.ts", import.meta.url).href],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(out.success, "deno info failed");
  const info: { roots: string[]; modules: InfoModule[] } = JSON.parse(
    new TextDecoder().decode(out.stdout),
  );
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  // Every module a plain `import "mod.ts"` evaluates: static imports only.
  const loaded = new Set<string>();
  const visit = (specifier: string) => {
    if (loaded.has(specifier)) return;
    loaded.add(specifier);
    for (const dep of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (dep.code && !dep.isDynamic) visit(dep.code.specifier);
    }
  };
  visit(info.roots[0]);
  const heavy = [...loaded].filter((s) =>
    s === "node:crypto" || (/\/lib\/sandbox\//.test(s) && !s.endsWith("/lib/sandbox/start.ts"))
  );
  assert.deepEqual(heavy, []);
  assert.ok(loaded.size > 20, "the walk found the client modules"); // the walk itself works
  // ...and both are still reachable on demand.
  const all = info.modules.map((m) => m.specifier);
  assert.ok(all.some((s) => s.endsWith("/lib/sandbox/mod.ts")));
});
