/**
 * What counts as a secret in a DreamFactory exchange, and how it is redacted. Shared by the HAR
 * converter (which turns secrets into environment lookups) and the recorder (which blanks them).
 *
 * @module
 */

/** The placeholder written in place of a secret. */
export const REDACTED = "[REDACTED]";

/** Header names (lower case) whose values are credentials. */
export const SECRET_HEADERS: ReadonlySet<string> = new Set([
  "x-dreamfactory-session-token",
  "x-dreamfactory-api-key",
  "authorization",
  "cookie",
  "set-cookie",
]);

/** Query parameters carrying credentials. */
export const SECRET_QUERY_PARAMS: ReadonlySet<string> = new Set(["session_token", "api_key"]);

/** Body fields (anywhere in a JSON document) holding secrets. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set([
  "password",
  "old_password",
  "new_password",
  "verify_password",
  "session_token",
  "session_id",
  "api_key",
  "token",
  "access_token",
  "refresh_token",
  "client_secret",
  "secret",
]);

/** True when a header with this name carries a credential. */
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADERS.has(name.toLowerCase());
}

/** True when a JSON field with this name holds a secret. */
export function isSecretField(name: string): boolean {
  return SECRET_FIELDS.has(name.toLowerCase());
}

/** A URL with secret query parameters replaced by {@linkcode REDACTED}. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  let changed = false;
  for (const key of [...parsed.searchParams.keys()]) {
    if (SECRET_QUERY_PARAMS.has(key.toLowerCase())) {
      parsed.searchParams.set(key, REDACTED);
      changed = true;
    }
  }
  return changed ? parsed.href : url;
}

/** A deep copy of a JSON value with secret fields and known secret strings replaced. */
export function redactJson(value: unknown, knownSecrets: readonly string[] = []): unknown {
  if (typeof value === "string") return scrubString(value, knownSecrets);
  if (Array.isArray(value)) return value.map((v) => redactJson(v, knownSecrets));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretField(k) && v !== null && v !== "" ? REDACTED : redactJson(v, knownSecrets);
    }
    return out;
  }
  return value;
}

/** Body text with secrets redacted; JSON is parsed and re-serialised, other text scrubbed. */
export function redactBodyText(text: string, knownSecrets: readonly string[] = []): string {
  if (!text) return text;
  try {
    return JSON.stringify(redactJson(JSON.parse(text), knownSecrets));
  } catch {
    return scrubString(text, knownSecrets);
  }
}

/** Replaces every occurrence of a known secret (at least 6 characters) in a string. */
export function scrubString(text: string, knownSecrets: readonly string[]): string {
  let out = text;
  for (const s of knownSecrets) {
    if (s.length >= 6 && out.includes(s)) out = out.split(s).join(REDACTED);
  }
  return out;
}
