/**
 * Transcripts the sandbox does not reproduce yet, each with the reason. The contract test fails
 * when a file listed here starts to match (remove it) or a file not listed here stops matching.
 * System/auth transcripts and database transcripts are listed in separate files.
 */
import { KNOWN_SYSTEM_MISMATCHES } from "./known_mismatches_system.ts";
import { KNOWN_DB_MISMATCHES } from "./known_mismatches_db.ts";

/** File name -> why the sandbox's answer differs from the recorded one. */
export const KNOWN_MISMATCHES: Record<string, string> = {
  ...KNOWN_SYSTEM_MISMATCHES,
  ...KNOWN_DB_MISMATCHES,
};
