/**
 * Transcripts the sandbox does not reproduce yet, each with the reason. The contract test fails
 * when a file listed here starts to match (remove it) or a file not listed here stops matching.
 */
export const KNOWN_MISMATCHES: Record<string, string> = {};
