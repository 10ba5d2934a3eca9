/**
 * DreamFactory's simple field-type vocabulary mapped onto SQLite: the column declaration written
 * for each DF type, the DF type read back from a declaration, and the conversion of values on the
 * way in (request JSON -> bound SQLite value) and out (SQLite value -> typed JSON).
 *
 * @module
 */
import { DfError } from "../http.ts";
import { CAST_INTEGER_TYPES } from "../../stored.ts";
import { NATIVE_DATE_KINDS, nativeDateTime } from "../../filter/phpdate.ts";
import { filterBool, floatval, isIntegerText, isNumeric } from "../../php.ts";

/** Types stored as SQLite integers and answered as JSON numbers. */
const INTEGER_TYPES = new Set([
  "id",
  "reference",
  "user_id",
  "user_id_on_create",
  "user_id_on_update",
  "tinyint",
  "smallint",
  "mediumint",
  "integer",
  "bigint",
  "smallid",
  "mediumid",
  "bigid",
]);
/** Types answered as JSON numbers with a fraction. */
const FLOAT_TYPES = new Set(["decimal", "double", "float", "money"]);

/** Write aliases DreamFactory accepts for `type`. */
const TYPE_ALIASES: Record<string, string> = { pk: "id", fk: "reference" };

/** Every DF simple type the sandbox accepts when creating or altering a field. */
export const DF_TYPES = new Set([
  ...INTEGER_TYPES,
  ...FLOAT_TYPES,
  "boolean",
  "string",
  "text",
  "mediumtext",
  "longtext",
  "binary",
  "date",
  "time",
  "timetz",
  "datetime",
  "datetimetz",
  "timestamp",
  "timestamptz",
  "timestamp_on_create",
  "timestamp_on_update",
  "json",
  "jsonb",
  "uuid",
  "timeuuid",
  "array",
  "object",
]);

/** A type name SQLite can take as a declared type (an identifier, no size or clause). */
const TYPE_NAME_RE = /^[a-z_][a-z0-9_]*$/;

/**
 * Normalises a requested type (`pk` -> `id`). DreamFactory has no whitelist on SQLite: a name
 * that is not a DF simple type is passed through as the column's declared type (df-database
 * Schema::getColumnType -> SqliteSchema::translateSimpleColumnTypes/validateColumnSettings leave
 * it alone). Only a name SQLite could not take as a plain type name is refused here.
 */
export function normaliseType(type: unknown, field: string): string {
  const t = String(type ?? "").trim().toLowerCase();
  const resolved = TYPE_ALIASES[t] ?? t;
  if (!DF_TYPES.has(resolved) && !TYPE_NAME_RE.test(resolved)) {
    throw new DfError(
      400,
      `Invalid schema type '${String(type)}' for field '${field}'. Use one of: ${
        [...DF_TYPES].sort().join(", ")
      }, or a SQLite type name.`,
    );
  }
  return resolved;
}

/**
 * The size suffix SqliteSchema::validateColumnSettings gives a type name that is not a DF simple
 * type: varchar/nvarchar/varbinary take the length or 255, char/nchar the length when given, int
 * the length or precision, numeric/real "(length|precision[,scale])".
 */
function sqlTypeExtras(
  type: string,
  opts: { length?: number | null; precision?: number | null; scale?: number | null },
): string {
  const len = opts.length ?? null;
  switch (type) {
    case "varchar":
    case "nvarchar":
    case "varbinary":
      return `(${len ?? 255})`;
    case "char":
    case "nchar":
      return len !== null ? `(${len})` : "";
    case "int": {
      const p = len ?? opts.precision ?? null;
      return p ? `(${p})` : "";
    }
    case "numeric":
    case "real": {
      const p = len ?? opts.precision ?? null;
      if (!p) return "";
      return opts.scale ? `(${p},${opts.scale})` : `(${p})`;
    }
  }
  return "";
}

/**
 * DF types SQLite's declared type cannot carry; kept in the side table (`_dfkit_meta`) and
 * answered instead of the read-back type. Older sandboxes kept more there (money, mediumtext,
 * longtext, *tz); such entries are ignored on read, as DF reads those back from the declared type.
 */
export const META_TYPES = new Set([
  "timestamp_on_create",
  "timestamp_on_update",
  "user_id",
  "user_id_on_create",
  "user_id_on_update",
  "json",
  "jsonb",
  "uuid",
  "timeuuid",
  "array",
  "object",
]);

/** Declared SQLite type (DreamFactory's `db_type`) for a DF type. */
export function declaredType(
  type: string,
  opts: {
    length?: number | null;
    precision?: number | null;
    scale?: number | null;
    fixed?: boolean;
    multibyte?: boolean;
  },
): string {
  switch (type) {
    case "id":
    case "reference":
    case "user_id":
    case "user_id_on_create":
    case "user_id_on_update":
    case "integer":
    case "smallid":
    case "mediumid":
    case "bigid":
      return "integer";
    case "tinyint":
    case "smallint":
    case "mediumint":
    case "bigint": {
      // validateColumnSettings: "(length|precision)" when one is given (tinyint(1) reads back as
      // boolean, the others as integer/bigint).
      const p = opts.length ?? opts.precision ?? null;
      return p ? `${type}(${Math.trunc(Number(p))})` : type;
    }
    case "boolean":
      return "tinyint(1)";
    case "string": {
      // SqliteSchema::translateSimpleColumnTypes: char/nchar when fixed_length, else
      // nvarchar/varchar (supports_multibyte); validateColumnSettings then gives varchar/nvarchar
      // the length or 255, char/nchar the length only when one is given.
      const len = opts.length !== null && opts.length !== undefined
        ? `(${Math.trunc(opts.length)})`
        : "";
      if (opts.fixed) return `${opts.multibyte ? "nchar" : "char"}${len}`;
      return `${opts.multibyte ? "nvarchar" : "varchar"}${len || "(255)"}`;
    }
    case "uuid":
    case "timeuuid":
      return "varchar(36)";
    case "mediumtext":
    case "longtext":
      // Not translated by SqliteSchema: declared as named, read back as text.
      return type;
    case "text":
    case "json":
    case "jsonb":
    case "array":
    case "object":
      return "text";
    case "binary":
      return "blob";
    case "money":
      // SqliteSchema::translateSimpleColumnTypes fixes money as decimal(19,4).
      return "decimal(19,4)";
    case "decimal": {
      // SqliteSchema::validateColumnSettings: "(length|precision[,scale])" only when a length or
      // precision is given, the scale only when non-empty; otherwise plain "decimal".
      const p = opts.length || opts.precision;
      if (!p) return "decimal";
      const s = opts.scale ? Math.trunc(Number(opts.scale)) : 0;
      return s ? `decimal(${Math.trunc(Number(p))},${s})` : `decimal(${Math.trunc(Number(p))})`;
    }
    case "float":
    case "double": {
      // validateColumnSettings: "(length|precision[,scale])" when a length or precision is given.
      const p = opts.length ?? opts.precision ?? null;
      if (!p) return type;
      const s = opts.scale ? Math.trunc(Number(opts.scale)) : 0;
      return s ? `${type}(${Math.trunc(Number(p))},${s})` : `${type}(${Math.trunc(Number(p))})`;
    }
    case "date":
      return "date";
    case "timetz":
    case "datetimetz":
    case "timestamptz":
      // Not translated by SqliteSchema: declared as named (read back as time/datetime/timestamp).
      return type;
    case "time":
    case "datetime":
    case "timestamp":
    case "timestamp_on_create":
    case "timestamp_on_update": {
      // translateSimpleColumnTypes makes timestamp_on_* a timestamp; validateColumnSettings
      // adds "(length)" to time/timestamp/datetime when one is given.
      const base = type.startsWith("timestamp") ? "timestamp" : type;
      return opts.length !== null && opts.length !== undefined
        ? `${base}(${Math.trunc(Number(opts.length))})`
        : base;
    }
  }
  // Not a DF simple type: declared as named (plus validateColumnSettings' size, if any).
  return type + sqlTypeExtras(type, opts);
}

/** Size details parsed from a declared type: `varchar(64)` -> length 64. */
export interface DeclaredInfo {
  type: string;
  length: number | null;
  precision: number | null;
  scale: number | null;
}

/**
 * The DF type read back from a SQLite declared type (metadata may refine it afterwards):
 * df-database Schema::extractType (the name before "(") -> extractSimpleType, with the sizes of
 * Schema::extractLimit (length is the first number; precision and scale only with two).
 */
export function typeFromDeclared(declared: string): DeclaredInfo {
  const d = declared.trim().toLowerCase();
  const m = /\((.*)\)/.exec(d);
  let length: number | null = null;
  let precision: number | null = null;
  let scale: number | null = null;
  if (d.indexOf("(") > 0 && m) {
    const parts = m[1].split(",");
    length = Math.trunc(Number.parseInt(parts[0].trim(), 10)) || 0;
    if (parts.length > 1) {
      precision = length;
      scale = Math.trunc(Number.parseInt(parts[1].trim(), 10)) || 0;
    }
  }
  const paren = d.indexOf("(");
  const simple = paren >= 0 ? d.slice(0, paren) : d;
  // SQLite columns without a declared type: kept as string (not checked against a server).
  const type = simple === "" ? "string" : extractSimpleType(simple, length, scale);
  return { type, length, precision, scale };
}

/** Schema::extractSimpleType: the DF type of a database type name, in its case order. */
function extractSimpleType(t: string, size: number | null, scale: number | null): string {
  const has = (x: string) => t.includes(x);
  if (t === "bit" || has("bool")) return "boolean";
  if (t === "number") return size === 1 ? "boolean" : !scale ? "integer" : "decimal";
  if (["decimal", "numeric", "percent"].includes(t)) return "decimal";
  if (has("double")) return "double";
  if (t === "real" || has("float")) return size === 53 ? "double" : "float";
  if (has("money")) return "money";
  if (
    ["binary_integer", "tinyint", "smallint", "mediumint", "int", "integer", "serial"].includes(t)
  ) {
    return size === 1 ? "boolean" : "integer";
  }
  if (["varint", "bigint", "bigserial", "serial8"].includes(t)) return "bigint";
  if (has("timestamp") || t === "datetimeoffset") return "timestamp";
  if (has("datetime")) return "datetime";
  if (t === "date") return "date";
  if (t === "timeuuid") return "timeuuid";
  if (has("time")) return "time";
  if (has("binary") || has("blob")) return "binary";
  if (has("clob") || has("text") || t === "lvarchar") return "text";
  if (t === "varchar") return size === -1 ? "text" : "string";
  if (t === "uuid") return "uuid";
  if (t === "ref cursor") return "ref_cursor";
  if (t === "table") return "table";
  if (["array", "map", "set", "list", "tuple"].includes(t)) return "array";
  if (t === "column") return "column";
  if (t === "row") return "row";
  return "string";
}

/** Schema::extractMultiByteSupport: a declared type naming national, nchar or nvarchar. */
export function multibyteOf(declared: string): boolean {
  return /national|nchar|nvarchar/.test(declared.toLowerCase());
}

/** Schema::extractFixedLength: a char type that is not var..., or exactly binary. */
export function fixedLengthOf(declared: string): boolean {
  const d = declared.toLowerCase();
  return (d.includes("char") && !d.includes("var")) || d === "binary";
}

/** True for DF types that hold integers. */
export function isIntegerType(type: string): boolean {
  return INTEGER_TYPES.has(type);
}

/** A value SQLite can bind. */
export type SqlValue = string | number | bigint | null | Uint8Array;

/**
 * Converts one request value for a column of DF type `type` into a bound value (or a 400),
 * following df-database's Schema::typecastToNative where it converts rather than refuses.
 */
export function toSqlValue(
  type: string,
  field: string,
  value: unknown,
  allowNull = false,
): SqlValue {
  if (value === null || value === undefined) return null;
  if (type === "boolean") {
    // filter_var(FILTER_VALIDATE_BOOLEAN): only 1/true/on/yes are true ("t", "y", 2 are false).
    if (typeof value === "boolean") return value ? 1 : 0;
    if (typeof value === "number" || typeof value === "string") {
      return filterBool(String(value)) ? 1 : 0;
    }
    // filter_var of an array (a JSON object or list) is false: stored as 0, never refused.
    return 0;
  }
  if (CAST_INTEGER_TYPES.has(type)) {
    if (value === "" && allowNull) return null;
    // PHP's is_numeric(true) is false: a JSON boolean is refused, not stored as 1/0.
    if (typeof value === "boolean") {
      throw new DfError(400, `Field '${field}' must be a valid integer.`);
    }
  }
  if (INTEGER_TYPES.has(type)) {
    // Laravel's prepareBindings binds a boolean as (int) for the uncast integer types.
    if (typeof value === "boolean") return value ? 1 : 0;
    // typecastToNative leaves tinyint, smallint, bigint, ... to the driver: text is bound as
    // text (SQLite's integer affinity keeps what is not a number as text) and read back with
    // PHP's intval.
    if (!CAST_INTEGER_TYPES.has(type) && (typeof value === "string" || typeof value === "number")) {
      return value;
    }
    // is_float: a JSON float is kept as sent ("bigint catch as float"), only text is intval'd.
    if (typeof value === "number" && Number.isFinite(value)) return value;
    if (typeof value === "string" && isNumeric(value)) {
      const n = Math.trunc(Number(value));
      // Digits a number cannot hold exactly (a 64-bit key sent as text) are kept exactly.
      if (!Number.isSafeInteger(n) && isIntegerText(value)) {
        const big = BigInt(value.trim());
        if (big <= 2n ** 63n - 1n && big >= -(2n ** 63n)) return big;
      }
      return n;
    }
    throw new DfError(400, `Field '${field}' must be a valid integer.`);
  }
  if (FLOAT_TYPES.has(type)) {
    if (typeof value === "boolean") return value ? 1 : 0;
    if (typeof value === "number" && Number.isFinite(value)) return value;
    if (typeof value === "string" && isNumeric(value)) return Number(value);
    // floatval: any other text is its leading number or 0 (money is passed through as given).
    if (typeof value === "string" && type !== "money") return floatval(value);
    throw new DfError(400, `Field '${field}' must be a valid number.`);
  }
  if (type === "binary") {
    if (typeof value !== "string") {
      throw new DfError(400, `Field '${field}' must be a base64 string.`);
    }
    try {
      return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
    } catch {
      throw new DfError(400, `Field '${field}' must be a base64 string.`);
    }
  }
  const dateKind = NATIVE_DATE_KINDS[type];
  if (dateKind && typeof value === "string") return nativeDateTime(value, dateKind);
  if (typeof value === "object") {
    if (["json", "jsonb", "array", "object", "text", "mediumtext", "longtext"].includes(type)) {
      return JSON.stringify(value);
    }
    throw new DfError(400, `Field '${field}' can not take an object or array value.`);
  }
  if (typeof value === "boolean") return value ? "1" : "0";
  return String(value);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/** A BigInt read from SQLite as a number when a number holds it exactly (else unchanged). */
export function numberIfSafe(value: unknown): unknown {
  return typeof value === "bigint" && value <= MAX_SAFE && value >= MIN_SAFE
    ? Number(value)
    : value;
}

/** Converts a value read from SQLite into the JSON DreamFactory answers for that DF type. */
export function fromSqlValue(type: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  // Rows are read with BigInts (see sql.ts `iterate`): those a number holds exactly become one.
  value = numberIfSafe(value);
  if (value instanceof Uint8Array && type !== "binary") value = new TextDecoder().decode(value);
  if (type === "boolean") {
    if (typeof value === "number" || typeof value === "bigint") return Number(value) !== 0;
    if (typeof value === "string") return ["1", "true", "t", "yes", "y", "on"].includes(value);
    return Boolean(value);
  }
  if (INTEGER_TYPES.has(type) || FLOAT_TYPES.has(type)) {
    if (typeof value === "bigint") return value.toString(); // beyond what a number holds
    // Schema::typecastToClient -> formatValueToPhpType: intval/floatval of anything that is not
    // already an int/float (text in an integer column reads as its leading number, or 0).
    const isInt = INTEGER_TYPES.has(type);
    if (typeof value === "string") {
      if (isInt && isIntegerText(value) && !Number.isSafeInteger(Number(value))) {
        return value.trim(); // 64-bit digits a number cannot hold exactly
      }
      value = floatval(value);
    }
    if (typeof value === "number" && isInt) return Math.trunc(value) + 0; // no -0
    return value;
  }
  if (value instanceof Uint8Array) {
    let s = "";
    for (let i = 0; i < value.length; i += 0x8000) {
      s += String.fromCharCode(...value.subarray(i, i + 0x8000));
    }
    return btoa(s);
  }
  if (typeof value === "bigint") return value.toString();
  // typecastToClient -> formatValueToPhpType(strval): a number stored in a column DreamFactory
  // reads as string or text (a declared type with numeric affinity, e.g. an unknown type name)
  // is answered as text.
  if ((type === "string" || type === "text") && typeof value === "number") return String(value);
  return value;
}

/** Title-cases a name the way DreamFactory builds labels: `first_name` -> `First Name`. */
export function labelize(name: string): string {
  return name.split(/[_\s]+/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join(
    " ",
  );
}

/** A plural label the way DreamFactory's inflector does for simple English nouns. */
export function pluralize(label: string): string {
  if (/[^aeiou]y$/i.test(label)) return label.slice(0, -1) + "ies";
  if (/(s|x|z|ch|sh)$/i.test(label)) return label + "es";
  return label + "s";
}
