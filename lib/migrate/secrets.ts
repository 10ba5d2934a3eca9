/**
 * Secrets in snapshots: API keys, passwords, private lookup values and secret service settings are
 * never written in clear. They become `env:NAME` references whose variable name is derived from
 * the object (`DF_APP_MOBILE_API_KEY`, `DF_SERVICE_MAILER_PASSWORD`, ...); `apply` reads them from
 * the environment. A trailing `?` (`env:NAME?`) marks an optional secret, skipped when unset.
 *
 * @module
 */

import { isSecretConfig, MASK } from "../secrets.ts";

export { MASK };

/**
 * A service config value with every secret inside it, at any depth, replaced by an `env:`
 * reference named after its path: nested settings (`options.password`), and `{name, value}`
 * lists such as a remote service's headers and parameters (`Authorization: Bearer ...`).
 */
export function secretsToRefs(key: string, value: unknown, path: string[]): unknown {
  if (isSecretConfig(key, value)) return envRef(path);
  if (Array.isArray(value)) {
    return value.map((item, i) => {
      const entry = item as Record<string, unknown> | null;
      if (
        entry && typeof entry === "object" && typeof entry.name === "string" &&
        "value" in entry && isSecretConfig(entry.name, entry.value)
      ) {
        return { ...entry, value: envRef([...path, entry.name]) };
      }
      return secretsToRefs(String(i), item, [...path, String(i)]);
    });
  }
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = secretsToRefs(k, v, [...path, k]);
    return out;
  }
  return value;
}

/** Resolves every `env:` reference inside a value (see {@linkcode secretsToRefs}); `resolve`
 * gives undefined for an unset optional secret, which leaves that entry out. */
export function refsToSecrets(
  value: unknown,
  resolve: (ref: string, where: string) => unknown,
  where: string,
): unknown {
  if (isEnvRef(value)) return resolve(value, where);
  if (Array.isArray(value)) {
    return value.map((v, i) => refsToSecrets(v, resolve, `${where}.${i}`))
      .filter((v) => v !== undefined);
  }
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = refsToSecrets(v, resolve, `${where}.${k}`);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return value;
}

/** Turns words into an environment variable fragment: `my-db.prod` -> `MY_DB_PROD`. */
export function envFragment(text: string): string {
  return text.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "") || "X";
}

/** Builds `env:DF_<PARTS>` from the given name parts. */
export function envRef(parts: string[], optional = false): string {
  return `env:DF_${parts.map(envFragment).join("_")}${optional ? "?" : ""}`;
}

/** True for an `env:NAME` reference. */
export function isEnvRef(value: unknown): value is string {
  return typeof value === "string" && /^env:[A-Za-z_][A-Za-z0-9_]*\??$/.test(value);
}

/** The variable name of a reference (`env:DF_X?` -> `DF_X`). */
export function envName(ref: string): string {
  return ref.slice(4).replace(/\?$/, "");
}

/** Where secrets are read from: a plain record (tests) or the process environment. */
export type SecretSource =
  | Record<string, string | undefined>
  | ((name: string) => string | undefined);

/** Reads one variable from a source (the process environment by default). */
export function readEnv(source: SecretSource | undefined, name: string): string | undefined {
  if (typeof source === "function") return source(name);
  if (source) return source[name];
  return Deno.env.get(name);
}

/** Raised before any write when `env:` references cannot be resolved. */
export class MissingSecretError extends Error {
  /** The unset variables with the objects that need them (`roles/reader: DF_..`). */
  readonly missing: { variable: string; usedBy: string }[];
  /** Builds the error from the unset variables. */
  constructor(missing: { variable: string; usedBy: string }[]) {
    const lines = missing.map((m) => `  ${m.variable} (for ${m.usedBy})`).join("\n");
    super(
      `Missing ${missing.length} secret(s) referenced by the snapshot; set these environment ` +
        `variables and run again:\n${lines}`,
    );
    this.name = "MissingSecretError";
    this.missing = missing;
  }
}

/**
 * Collects secret values while a write body is built, so every missing variable is reported at
 * once before anything is written.
 */
export class SecretResolver {
  readonly missing: { variable: string; usedBy: string }[] = [];
  constructor(private source?: SecretSource) {}

  /**
   * Resolves a value: non-references pass through; a set variable gives its value; an unset
   * optional one gives undefined (leave the field out); an unset required one is recorded.
   */
  resolve(value: unknown, usedBy: string): unknown {
    if (!isEnvRef(value)) return value;
    const name = envName(value);
    const found = readEnv(this.source, name);
    if (found !== undefined && found !== "") return found;
    if (!value.endsWith("?")) this.missing.push({ variable: name, usedBy });
    return undefined;
  }

  /** Throws {@linkcode MissingSecretError} when anything was missing. */
  check(): void {
    if (this.missing.length) throw new MissingSecretError(this.missing);
  }
}

/**
 * Makes derived variable names unique within a document: when two objects derive the same name
 * (`my-app` and `my_app` both give `DF_APP_MY_APP_API_KEY`), the later ones in sorted order get
 * `_2`, `_3`, ... so that no two secrets share a variable. Changes the document in place.
 */
export function uniqueEnvRefs(objects: Record<string, Record<string, unknown> | undefined>): void {
  const uses = new Map<string, { owner: string; set: (v: string) => void; optional: boolean }[]>();
  const walk = (value: unknown, owner: string, set: (v: string) => void) => {
    if (isEnvRef(value)) {
      const name = envName(value);
      const list = uses.get(name) ?? [];
      list.push({ owner, set, optional: value.endsWith("?") });
      uses.set(name, list);
    } else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        walk(v, `${owner}/${k}`, (nv) => ((value as Record<string, unknown>)[k] = nv));
      }
    }
  };
  for (const [section, items] of Object.entries(objects)) {
    for (const [name, obj] of Object.entries(items ?? {})) {
      walk(obj, `${section}/${name}`, () => {});
    }
  }
  for (const [name, list] of uses) {
    if (list.length < 2) continue;
    list.sort((a, b) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0));
    list.forEach((u, i) => {
      if (i > 0) u.set(`env:${name}_${i + 1}${u.optional ? "?" : ""}`);
    });
  }
}
