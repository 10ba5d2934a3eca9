import assert from "node:assert/strict";
import { assertNoSecrets, runDeno, taskFlags } from "./helpers.ts";

Deno.test("demo: runs every step with its task's permissions, exits 0, prints no secret", async () => {
  const run = await runDeno(["run", ...await taskFlags("demo"), "scripts/demo.ts"]);
  assert.equal(run.code, 0, `demo failed:\n${run.stdout}\n${run.stderr}`);
  const steps = [
    "Two environments",
    "Sessions",
    "CRUD with the query builder",
    "Batch errors",
    "Tables",
    "Migration: staging → production",
    "Provisioning a customer",
    "Data copy",
    "Done",
  ];
  for (const s of steps) {
    assert.match(run.stdout, new RegExp(`── \\d+\\. ${s}`), `missing step "${s}"`);
  }
  // Each step shows its result, not just its heading.
  assert.match(run.stdout, /401 Invalid credentials supplied\./);
  assert.match(run.stdout, /│ 1\s+│ failed\s+│/, "the batch error table names the failed index");
  assert.match(run.stdout, /rolled back: true/);
  assert.match(run.stdout, /\+ roles\/support/, "the plan lists the roles to create");
  assert.match(run.stdout, /drift right after apply: none/);
  assert.match(run.stdout, /drift detected/);
  assert.match(run.stdout, /create app customer-acme-42/);
  assert.match(run.stdout, /API key: \*{4}[0-9a-f]{4} /);
  assert.match(run.stdout, /copying contact: 250\/250/);
  assert.match(run.stdout, /│ contact │ 250\s+│/);
  assert.match(run.stdout, /X-DreamFactory-Session-Token: \$DF_SESSION_TOKEN/);
  assertNoSecrets(run.stdout + run.stderr, ["Passw0rd123"], "demo output");
  // Only Deno's own notices (first-run npm downloads) may reach stderr: the demo writes none.
  const stderr = run.stderr.split("\n").filter((l) => l && !/^(Download|Warning|Task) /.test(l));
  assert.deepEqual(stderr, [], "demo wrote to stderr");
});
