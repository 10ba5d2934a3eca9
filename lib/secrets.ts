/**
 * What counts as a secret in DreamFactory data, and how it is redacted: one classifier for the
 * client's displays (`hideSecrets`, record tables) and errors (which blank the secrets of the
 * failed request wherever the server echoes them), the HAR converter (which turns secrets into
 * environment lookups) and recorder (which blanks them), and snapshots (`env:` references).
 *
 * @module
 */

/** The value DreamFactory answers in place of a stored secret. */
export const MASK = "**********";

const SECRET_KEY =
  /(^|_)(password|passwd|pwd|secret|token|api_?key|private_?key|access_?key|credentials?|client_secret)$/i;

/** True when a service config key holds a secret (by name, or because DF masked its value). */
export function isSecretConfig(key: string, value: unknown): boolean {
  if (value === MASK) return true;
  return typeof value === "string" && value !== "" && isSecretName(key);
}

/** Names of settings or headers that hold secrets (`password`, `X-Api-Key`, `Authorization`). */
function isSecretName(name: string): boolean {
  const n = name.replace(/[-\s]+/g, "_");
  return SECRET_KEY.test(n) || /^(proxy_)?authorization$|^(set_)?cookie$/i.test(n);
}

/**
 * The key as it may be shown: only its last four characters.
 *
 * @example
 * ```ts
 * import { maskApiKey } from "@dfkit/dfkit";
 * maskApiKey("6498a8ad1beb9d84d63035c5d1120c00"); // "****0c00"
 * ```
 */
export function maskApiKey(key: string | null | undefined): string {
  if (!key) return "";
  return `****${key.slice(-4)}`;
}

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
export const SECRET_QUERY_PARAMS: ReadonlySet<string> = new Set([
  "session_token",
  "api_key",
  "password",
]);

/** Body fields (anywhere in a JSON document) holding secrets. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set([
  "password",
  "old_password",
  "new_password",
  "verify_password",
  "password_confirmation",
  "session_token",
  "session_id",
  "api_key",
  "token",
  "access_token",
  "refresh_token",
  "client_secret",
  "secret",
  "security_answer",
]);

/**
 * Credentials a service `config` holds under names that are harmless elsewhere: S3's `key`,
 * Azure's `account_key`, an upstream API's `appid` parameter.
 */
const CONFIG_SECRETS = /^(key|account_?key|app_?id|app_?key|secret_?key|passphrase)$/i;

/** A URL with a password (`mongodb://app:pw@host`) or a connection string with one (`Pwd=...;`). */
const EMBEDDED_CREDENTIAL =
  /^[a-z][a-z0-9+.-]*:\/\/[^/?#@\s:]*:[^/?#@\s]+@|(^|;)\s*(password|pwd|account_?key|shared_?access_?key)\s*=\s*[^;\s]/i;

/** True when a header with this name carries a credential. */
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADERS.has(name.toLowerCase());
}

/**
 * True when a JSON field with this name holds a secret: {@linkcode SECRET_FIELDS}, and the names
 * `dfkit migrate` keeps out of snapshots (`*_password`, `*_token`, `private_key`, ...).
 */
export function isSecretField(name: string): boolean {
  return SECRET_FIELDS.has(name.toLowerCase()) || isSecretConfig(name, "?");
}

/** True when something named so (a field, a header, a query parameter) carries a credential. */
export function isCredentialName(name: string): boolean {
  return isSecretField(name) || CONFIG_SECRETS.test(name);
}

const truthy = (v: unknown) => v === true || v === 1 || v === "1" || v === "true";

/**
 * True when `obj[key]`, a non-empty string, is a secret: by its name (see
 * {@linkcode isSecretField}, and inside a service `config` also S3 `key`, Azure `account_key`);
 * as the `value` of a private lookup or of a `{name, value}` pair named like a credential (a remote
 * service's `Authorization` header or `appid` parameter); or when it has a password inside.
 * `inConfig`: `obj` is (inside) a `config` object.
 */
export function isSecretMember(obj: Record<string, unknown>, key: string, inConfig: boolean) {
  const value = obj[key];
  // DreamFactory's mask stands for a stored secret: it is not one itself.
  if (typeof value !== "string" || value === "" || value === MASK) return false;
  if (isSecretField(key) || inConfig && CONFIG_SECRETS.test(key)) return true;
  if (
    key === "value" &&
    (truthy(obj.private) || typeof obj.name === "string" && isCredentialName(obj.name))
  ) return true;
  return EMBEDDED_CREDENTIAL.test(value);
}

/** Calls `found` for every secret string in a JSON value (see {@linkcode isSecretMember}). */
export function forEachSecret(
  value: unknown,
  found: (value: string, key: string, obj: Record<string, unknown>) => void,
  inConfig = false,
): void {
  if (Array.isArray(value)) value.forEach((v) => forEachSecret(v, found, inConfig));
  else if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj)) {
      if (isSecretMember(obj, k, inConfig)) found(v as string, k, obj);
      else forEachSecret(v, found, inConfig || k === "config");
    }
  }
}

/**
 * A form-encoded body (`email=a%40b.c&password=...`) as an object, or undefined when the text
 * is not one.
 */
export function parseForm(text: string, mimeType = ""): Record<string, string> | undefined {
  const looksLikeForm = /^[^=&\s{}[\]"]+=[^&\s]*(&[^=&\s]+=[^&\s]*)*$/.test(text.trim());
  if (!/x-www-form-urlencoded/i.test(mimeType) && !looksLikeForm) return undefined;
  try {
    return Object.fromEntries(new URLSearchParams(text.trim()));
  } catch {
    return undefined;
  }
}

/** A URL with the values of secret query parameters (`session_token`, `api_key`, `password`,
 * and any name the field classifier calls secret, e.g. `access_token`) redacted; the rest of the
 * text is left as it is (no re-encoding). */
export function redactUrl(url: string): string {
  return url.replace(/([?&])([^=&#]+)=([^&#]*)/g, (whole, sep: string, name: string) => {
    let key = name;
    try {
      key = decodeURIComponent(name.replace(/\+/g, " "));
    } catch { /* a malformed name: judged as written */ }
    return SECRET_QUERY_PARAMS.has(key.toLowerCase()) || isSecretField(key)
      ? `${sep}${name}=${REDACTED}`
      : whole;
  });
}

/** How {@linkcode redactJson} treats a secret-named field holding a list or an object. */
export interface RedactJsonOptions {
  /** Redact only scalar values of secret-named fields, walking into lists and objects: an
   * error's `{"password": ["must be 16 characters"]}` (messages keyed by field) stays readable.
   * Default false: the whole value is redacted. */
  scalarsOnly?: boolean;
}

/** A deep copy of a JSON value with secrets (see {@linkcode isSecretMember}) and known secret
 * strings replaced. */
export function redactJson(
  value: unknown,
  knownSecrets: Scrubber = NO_SECRETS,
  options: RedactJsonOptions = {},
): unknown {
  return redactIn(value, knownSecrets, options.scalarsOnly ?? false, false);
}

function redactIn(
  value: unknown,
  known: Scrubber,
  scalarsOnly: boolean,
  inConfig: boolean,
): unknown {
  if (typeof value === "string") return known.scrub(value);
  if (Array.isArray(value)) return value.map((v) => redactIn(v, known, scalarsOnly, inConfig));
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      const named = isSecretField(k) && v !== null && v !== "" &&
        (!scalarsOnly || typeof v === "string" || typeof v === "number");
      out[k] = named || isSecretMember(obj, k, inConfig)
        ? REDACTED
        : redactIn(v, known, scalarsOnly, inConfig || k === "config");
    }
    return out;
  }
  return value;
}

/** Body text with secrets redacted; JSON and forms are parsed and re-serialised, other text
 * scrubbed of known secrets. */
export function redactBodyText(
  text: string,
  knownSecrets: Scrubber = NO_SECRETS,
  mimeType = "",
): string {
  if (!text) return text;
  try {
    return JSON.stringify(redactJson(JSON.parse(text), knownSecrets));
  } catch { /* not JSON */ }
  const form = parseForm(text, mimeType);
  if (form) {
    const redacted = redactJson(form, knownSecrets) as Record<string, string>;
    // Percent-encoding `[REDACTED]` would hide the placeholder from whoever reads the HAR.
    return Object.entries(redacted).map(([k, v]) =>
      `${encodeURIComponent(k)}=${v === REDACTED ? v : encodeURIComponent(v)}`
    ).join("&");
  }
  return knownSecrets.scrub(text);
}

/**
 * Known secrets (at least 6 characters; each also percent-encoded, as URLs carry them) to blank
 * wherever they recur. A recorder adds to one as it goes: past a few dozen secrets, strings are
 * scanned once through an index of the secrets' first characters instead of once per secret,
 * so a long recording does not slow down with every secret it has seen.
 */
export class Scrubber {
  readonly #all: string[] = [];
  readonly #byPrefix = new Map<string, string[]>();
  #compiled?: { size: number; re: RegExp };

  constructor(secrets: Iterable<string> = []) {
    for (const s of secrets) this.add(s);
  }

  /** Remembers a secret (at least 6 characters) and the forms it is echoed in (see
   * {@linkcode echoedForms}). */
  add(secret: string): void {
    if (secret.length < 6 || secret === REDACTED) return;
    for (const form of echoedForms(secret)) {
      const key = form.slice(0, 6);
      const list = this.#byPrefix.get(key) ?? [];
      if (list.includes(form)) continue;
      list.push(form);
      list.sort((a, b) => b.length - a.length); // the longest match first
      this.#byPrefix.set(key, list);
      this.#all.push(form);
    }
  }

  /** The text with every known secret replaced by {@linkcode REDACTED}; secrets that overlap
   * are blanked as one stretch, so no part of either shows. */
  scrub(text: string): string {
    if (!this.#all.length || text.length < 6) return text;
    const spans: [number, number][] = [];
    if (this.#all.length <= 32) {
      for (const form of this.#all) {
        for (let at = text.indexOf(form); at >= 0; at = text.indexOf(form, at + 1)) {
          spans.push([at, at + form.length]);
        }
      }
    } else if (text.length > 512) {
      // A long text: one expression finds, at every position, the longest secret starting there
      // (a lookahead, so overlapping ones are all found). Built again only after an add().
      for (const m of text.matchAll(this.#pattern())) {
        spans.push([m.index, m.index + m[1].length]);
      }
    } else {
      for (let i = 0; i + 6 <= text.length; i++) {
        const hit = this.#byPrefix.get(text.slice(i, i + 6))?.find((s) => text.startsWith(s, i));
        if (hit) spans.push([i, i + hit.length]);
      }
    }
    return blank(text, spans);
  }

  #pattern(): RegExp {
    if (this.#compiled?.size !== this.#all.length) {
      const forms = [...this.#all].sort((a, b) => b.length - a.length); // the longest first
      const source = forms.map((f) => f.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|");
      this.#compiled = { size: this.#all.length, re: new RegExp(`(?=(${source}))`, "g") };
    }
    return this.#compiled.re;
  }
}

/**
 * The forms a secret takes where a server or a log repeats it: as is; percent-encoded (URLs);
 * inside SQL text with `'` doubled or backslash-escaped (DreamFactory's database errors quote the
 * failed statement with its values); inside a JSON string, also as PHP's `json_encode` writes it
 * (`\/`, `\u00e9`); and HTML-encoded (DreamFactory entity-encodes its messages).
 */
function echoedForms(secret: string): Set<string> {
  const json = JSON.stringify(secret).slice(1, -1);
  const php = json.replace(/\//g, "\\/").replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  const html = secret.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#039;");
  return new Set([
    secret,
    encodeURIComponent(secret),
    secret.replace(/'/g, "''"),
    secret.replace(/[\\']/g, "\\$&"),
    json,
    php,
    html,
  ]);
}

/**
 * The secrets a request body carries (see {@linkcode forEachSecret}; a JSON text is parsed first),
 * to blank wherever the server echoes them: a failed insert's error repeats the row's values.
 */
export function bodySecrets(body: unknown): Scrubber {
  const secrets = new Scrubber();
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      return secrets; // not JSON: no fields to tell secrets by
    }
  }
  forEachSecret(body, (v) => secrets.add(v));
  return secrets;
}

/** No known secrets (fields are still redacted by name). */
const NO_SECRETS = new Scrubber();

/** The text with the given spans replaced by {@linkcode REDACTED}, overlapping ones merged. */
function blank(text: string, spans: [number, number][]): string {
  if (!spans.length) return text;
  spans.sort((a, b) => a[0] - b[0]);
  let out = "";
  let from = 0;
  let [start, end] = spans[0];
  for (const [s, e] of spans.slice(1)) {
    if (s <= end) end = Math.max(end, e);
    else {
      out += text.slice(from, start) + REDACTED;
      from = end;
      [start, end] = [s, e];
    }
  }
  return out + text.slice(from, start) + REDACTED + text.slice(end);
}
