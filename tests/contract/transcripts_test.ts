import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { loadTranscripts, replayAll } from "./transcripts.ts";
import { KNOWN_MISMATCHES } from "./known_mismatches.ts";

Deno.test("the sandbox answers the real DreamFactory 7.0.0 transcripts as recorded", async () => {
  const transcripts = await loadTranscripts();
  const sb = await startSandbox({
    port: 0,
    admin: { email: "admin@example.com", password: "Passw0rd123" },
  });
  try {
    const results = await replayAll(sb.url, transcripts);
    const unexpected = results.filter((r) => !r.ok && !(r.file in KNOWN_MISMATCHES));
    const nowMatching = results.filter((r) => r.ok && r.file in KNOWN_MISMATCHES).map((r) =>
      r.file
    );
    const matched = results.filter((r) => r.ok).length;
    console.log(`contract: ${matched}/${results.length} transcripts match`);
    if (Deno.env.get("DFKIT_CONTRACT_REPORT")) {
      await Deno.writeTextFile(
        Deno.env.get("DFKIT_CONTRACT_REPORT")!,
        JSON.stringify(results, null, 2),
      );
    }
    assertEquals(unexpected.map((r) => ({ ...r })), [], "transcripts that stopped matching");
    assertEquals(nowMatching, [], "files listed as mismatches that now match: remove them");
  } finally {
    await sb.close();
  }
});
