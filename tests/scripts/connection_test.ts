import assert from "node:assert/strict";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { openClient } from "../../scripts/connection.ts";
import { tokenWorks } from "./helpers.ts";
import { adminLogin } from "../sandbox/_helpers.ts";

Deno.test("openClient: close() ends the session the command opened, never a token the user gave", async () => {
  const sb = await startSandbox({ port: 0 });
  try {
    const given = await adminLogin(sb);
    const ask = () => Promise.reject(new Error("nothing should be asked"));
    const logouts = async (env: Record<string, string>) => {
      const opened = await openClient({}, { env: { DF_URL: sb.url, ...env }, ask });
      const seen: string[] = [];
      opened.df.onExchange((x) => seen.push(`${x.method} ${new URL(x.url).pathname}`));
      await opened.close();
      return seen.filter((s) => s.startsWith("DELETE /api/v2/system/admin/session")).length;
    };
    // A token alone: used, and kept.
    assert.equal(await logouts({ DF_SESSION_TOKEN: given }), 0);
    assert.equal(await tokenWorks(sb.url, given), true);
    // A token with an email and a password: connect() logs in; that session is the command's
    // own and is ended, the user's token is left alone.
    const both = { DF_EMAIL: sb.admin.email, DF_PASSWORD: sb.admin.password };
    assert.equal(await logouts({ DF_SESSION_TOKEN: given, ...both }), 1);
    assert.equal(await tokenWorks(sb.url, given), true);
    // An email and a password alone: logged in, then out.
    assert.equal(await logouts(both), 1);
    // A token with an email but no password: the token is the login (no password asked for).
    assert.equal(await logouts({ DF_SESSION_TOKEN: given, DF_EMAIL: sb.admin.email }), 0);
    assert.equal(await tokenWorks(sb.url, given), true);
  } finally {
    await sb.close();
  }
});
