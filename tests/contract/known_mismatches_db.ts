export const KNOWN_DB_MISMATCHES: Record<string, string> = {};
