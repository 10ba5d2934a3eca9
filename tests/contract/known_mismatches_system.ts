export const KNOWN_SYSTEM_MISMATCHES: Record<string, string> = {};
