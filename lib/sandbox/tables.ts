/**
 * The sandbox's system tables, as data: columns (with storage and output types), uniqueness,
 * and the relationships DreamFactory exposes on them. `store.ts` builds the SQLite schema from
 * these definitions and `records.ts` reads, writes and relates rows with them.
 *
 * @module
 */

/**
 * How a column is stored and serialised:
 * `id` auto-increment key; `int`/`ref` integers (`ref` is a foreign key); `string`/`text`;
 * `bool` 0/1 read back as JSON booleans; `date` stored `YYYY-MM-DD HH:MM:SS`, read back as
 * Laravel's ISO form; `rawdate` read back as stored; `json` stored as text, read back parsed.
 */
export type ColumnKind =
  | "id"
  | "int"
  | "ref"
  | "string"
  | "text"
  | "bool"
  | "date"
  | "rawdate"
  | "json";

/** One column of a system table. */
export interface ColumnDef {
  name: string;
  kind: ColumnKind;
  /** SQL default (literal SQL). */
  default?: string;
  notNull?: boolean;
  unique?: boolean;
  /** An `int` column that stores a non-numeric string as is, as SQLite's affinity does. */
  loose?: boolean;
  /** Never returned by the API (password hashes, confirm codes...). */
  hidden?: boolean;
  /** Target table of a `ref` column. */
  ref?: string;
  /** ON DELETE action of a `ref` column. */
  onDelete?: "CASCADE" | "SET NULL";
}

/** A relationship as DreamFactory names and serves it (§7). */
export interface RelationDef {
  name: string;
  type: "belongs_to" | "has_one" | "has_many" | "many_many";
  /** Target table. */
  table: string;
  /** Column on this table (the FK for belongs_to, the key otherwise). */
  field: string;
  /** Column on the target table (its key for belongs_to, its FK for has_*). */
  refField: string;
  /** For many_many: the junction table and its columns pointing at this and at the target. */
  junction?: { table: string; field: string; refField: string };
}

/** A system table. */
export interface TableDef {
  name: string;
  /** Primary key column (`id` for most, `name` for keyed-by-name tables). */
  pk: string;
  columns: ColumnDef[];
  relations: RelationDef[];
  /** Extra SQL constraints (multi-column uniques). */
  constraints?: string[];
}

const stamps = (): ColumnDef[] => [
  { name: "created_date", kind: "date" },
  { name: "last_modified_date", kind: "date" },
  { name: "created_by_id", kind: "ref", ref: "user", onDelete: "SET NULL" },
  { name: "last_modified_by_id", kind: "ref", ref: "user", onDelete: "SET NULL" },
];

const audit = (): RelationDef[] => [
  {
    name: "user_by_created_by_id",
    type: "belongs_to",
    table: "user",
    field: "created_by_id",
    refField: "id",
  },
  {
    name: "user_by_last_modified_by_id",
    type: "belongs_to",
    table: "user",
    field: "last_modified_by_id",
    refField: "id",
  },
];

const hasMany = (table: string, fk: string, field = "id"): RelationDef => ({
  name: `${table}_by_${fk}`,
  type: "has_many",
  table,
  field,
  refField: fk,
});
const belongsTo = (table: string, fk: string): RelationDef => ({
  name: `${table}_by_${fk}`,
  type: "belongs_to",
  table,
  field: fk,
  refField: "id",
});
const manyMany = (
  table: string,
  junction: string,
  field: string,
  refField: string,
): RelationDef => ({
  name: `${table}_by_${junction}`,
  type: "many_many",
  table,
  field: "id",
  refField: "id",
  junction: { table: junction, field, refField },
});

/** Every system table, in creation order. */
export const TABLES: TableDef[] = [
  {
    name: "user",
    pk: "id",
    columns: [
      { name: "id", kind: "id" },
      { name: "name", kind: "string", notNull: true },
      { name: "first_name", kind: "string" },
      { name: "last_name", kind: "string" },
      { name: "last_login_date", kind: "rawdate" },
      { name: "email", kind: "string", notNull: true, unique: true },
      { name: "password", kind: "text", hidden: true },
      { name: "is_sys_admin", kind: "bool", default: "0", notNull: true, hidden: true },
      { name: "is_active", kind: "bool", default: "1", notNull: true },
      { name: "phone", kind: "string" },
      { name: "security_question", kind: "string" },
      { name: "security_answer", kind: "text", hidden: true },
      { name: "confirm_code", kind: "string", hidden: true },
      { name: "default_app_id", kind: "int" },
      { name: "remember_token", kind: "string", hidden: true },
      ...stamps(),
      { name: "username", kind: "string", unique: true },
    ],
    relations: [
      hasMany("user_to_app_to_role", "user_id"),
      hasMany("lookup", "user_id"),
      manyMany("app", "user_to_app_to_role", "user_id", "app_id"),
      manyMany("role", "user_to_app_to_role", "user_id", "role_id"),
      hasMany("user", "created_by_id"),
      hasMany("user", "last_modified_by_id"),
    ],
  },
  {
    name: "role",
    pk: "id",
    columns: [
      { name: "id", kind: "id" },
      { name: "name", kind: "string", notNull: true, unique: true },
      { name: "description", kind: "string" },
      { name: "is_active", kind: "bool", default: "0", notNull: true },
      ...stamps(),
    ],
    relations: [
      hasMany("role_service_access", "role_id"),
      hasMany("lookup", "role_id"),
      hasMany("user_to_app_to_role", "role_id"),
      manyMany("service", "role_service_access", "role_id", "service_id"),
      hasMany("app", "role_id"),
      manyMany("user", "user_to_app_to_role", "role_id", "user_id"),
      manyMany("app", "user_to_app_to_role", "role_id", "app_id"),
      ...audit(),
    ],
  },
  {
    name: "service",
    pk: "id",
    columns: [
      { name: "id", kind: "id" },
      { name: "name", kind: "string", notNull: true, unique: true },
      { name: "label", kind: "string" },
      { name: "description", kind: "string" },
      { name: "is_active", kind: "bool", default: "0", notNull: true },
      { name: "type", kind: "string", notNull: true },
      { name: "mutable", kind: "bool", default: "1", notNull: true },
      { name: "deletable", kind: "bool", default: "1", notNull: true },
      ...stamps(),
      { name: "config", kind: "json", hidden: true },
    ],
    relations: [
      {
        name: "service_doc_by_service_id",
        type: "has_one",
        table: "service_doc",
        field: "id",
        refField: "service_id",
      },
      hasMany("role_service_access", "service_id"),
      hasMany("app", "storage_service_id"),
      manyMany("role", "role_service_access", "service_id", "role_id"),
      ...audit(),
    ],
  },
  {
    name: "service_doc",
    pk: "id",
    columns: [
      { name: "id", kind: "id" },
      {
        name: "service_id",
        kind: "ref",
        ref: "service",
        onDelete: "CASCADE",
        notNull: true,
        unique: true,
      },
      { name: "format", kind: "int", default: "0", notNull: true },
      { name: "content", kind: "text" },
      { name: "created_date", kind: "date" },
      { name: "last_modified_date", kind: "date" },
    ],
    relations: [belongsTo("service", "service_id")],
  },
  {
    name: "role_service_access",
    pk: "id",
    columns: [
      { name: "id", kind: "id" },
      { name: "role_id", kind: "ref", ref: "role", onDelete: "CASCADE", notNull: true },
      { name: "service_id", kind: "ref", ref: "service", onDelete: "CASCADE" },
      { name: "component", kind: "string" },
      { name: "verb_mask", kind: "int", default: "0", notNull: true },
      { name: "requestor_mask", kind: "int", default: "0", notNull: true },
      { name: "filters", kind: "json" },
      { name: "filter_op", kind: "string", default: "'and'", notNull: true },
      ...stamps(),
    ],
    relations: [belongsTo("role", "role_id"), belongsTo("service", "service_id"), ...audit()],
  },
  {
    name: "app",
    pk: "id",
    columns: [
      { name: "id", kind: "id" },
      { name: "name", kind: "string", notNull: true, unique: true },
      // DreamFactory's app.api_key has no unique index: only App::createInternal avoids taken keys.
      { name: "api_key", kind: "string" },
      { name: "description", kind: "string" },
      { name: "is_active", kind: "bool", default: "0", notNull: true },
      { name: "type", kind: "int", default: "0", notNull: true },
      { name: "path", kind: "text" },
      { name: "url", kind: "text" },
      { name: "storage_service_id", kind: "ref", ref: "service", onDelete: "SET NULL" },
      { name: "storage_container", kind: "string" },
      { name: "requires_fullscreen", kind: "bool", default: "0", notNull: true },
      { name: "allow_fullscreen_toggle", kind: "bool", default: "1", notNull: true },
      { name: "toggle_location", kind: "string", default: "'top'", notNull: true },
      { name: "role_id", kind: "ref", ref: "role", onDelete: "SET NULL" },
      ...stamps(),
    ],
    relations: [
      belongsTo("role", "role_id"),
      belongsTo("service", "storage_service_id"),
      hasMany("user_to_app_to_role", "app_id"),
      hasMany("lookup", "app_id"),
      ...audit(),
    ],
  },
  {
    name: "user_to_app_to_role",
    pk: "id",
    columns: [
      { name: "id", kind: "id" },
      { name: "user_id", kind: "ref", ref: "user", onDelete: "CASCADE", notNull: true },
      { name: "app_id", kind: "ref", ref: "app", onDelete: "CASCADE", notNull: true },
      { name: "role_id", kind: "ref", ref: "role", onDelete: "CASCADE", notNull: true },
    ],
    relations: [
      belongsTo("user", "user_id"),
      belongsTo("app", "app_id"),
      belongsTo("role", "role_id"),
    ],
  },
  {
    name: "lookup",
    pk: "id",
    columns: [
      { name: "id", kind: "id" },
      { name: "app_id", kind: "ref", ref: "app", onDelete: "CASCADE" },
      { name: "role_id", kind: "ref", ref: "role", onDelete: "CASCADE" },
      { name: "user_id", kind: "ref", ref: "user", onDelete: "CASCADE" },
      { name: "name", kind: "string", notNull: true },
      { name: "value", kind: "text" },
      { name: "private", kind: "bool", default: "0", notNull: true },
      { name: "description", kind: "string" },
      ...stamps(),
    ],
    relations: [
      belongsTo("app", "app_id"),
      belongsTo("role", "role_id"),
      belongsTo("user", "user_id"),
      ...audit(),
    ],
  },
  {
    name: "cors_config",
    pk: "id",
    columns: [
      { name: "id", kind: "id" },
      { name: "path", kind: "string", notNull: true, unique: true },
      { name: "description", kind: "string" },
      { name: "origin", kind: "string", notNull: true },
      { name: "header", kind: "text" },
      { name: "exposed_header", kind: "text" },
      { name: "max_age", kind: "int", default: "3600", notNull: true },
      // CorsConfig::setMethodAttribute stores a non-array as given (SQLite keeps text as text).
      { name: "method", kind: "int", default: "0", notNull: true, loose: true },
      { name: "supports_credentials", kind: "bool", default: "0", notNull: true },
      { name: "enabled", kind: "bool", default: "1", notNull: true },
      ...stamps(),
    ],
    relations: audit(),
  },
  {
    name: "email_template",
    pk: "id",
    columns: [
      { name: "id", kind: "id" },
      { name: "name", kind: "string", notNull: true, unique: true },
      { name: "description", kind: "string" },
      { name: "to", kind: "json" },
      { name: "cc", kind: "json" },
      { name: "bcc", kind: "json" },
      { name: "subject", kind: "string" },
      { name: "attachment", kind: "json" },
      { name: "body_text", kind: "text" },
      { name: "body_html", kind: "text" },
      { name: "from_name", kind: "string" },
      { name: "from_email", kind: "string" },
      { name: "reply_to_name", kind: "string" },
      { name: "reply_to_email", kind: "string" },
      { name: "defaults", kind: "json" },
      ...stamps(),
    ],
    relations: audit(),
  },
  {
    name: "limits",
    pk: "id",
    columns: [
      { name: "id", kind: "id" },
      { name: "type", kind: "string", notNull: true },
      { name: "key_text", kind: "string", notNull: true, unique: true },
      { name: "rate", kind: "int", notNull: true },
      { name: "period", kind: "int", notNull: true },
      { name: "user_id", kind: "ref", ref: "user", onDelete: "CASCADE" },
      { name: "role_id", kind: "ref", ref: "role", onDelete: "CASCADE" },
      { name: "service_id", kind: "ref", ref: "service", onDelete: "CASCADE" },
      { name: "name", kind: "string", notNull: true },
      { name: "description", kind: "string" },
      { name: "is_active", kind: "bool", default: "1", notNull: true },
      { name: "created_date", kind: "date" },
      { name: "last_modified_date", kind: "date" },
      { name: "endpoint", kind: "string" },
      { name: "verb", kind: "string" },
    ],
    relations: [
      belongsTo("user", "user_id"),
      belongsTo("role", "role_id"),
      belongsTo("service", "service_id"),
    ],
  },
  {
    name: "event_script",
    pk: "name",
    columns: [
      { name: "name", kind: "string", notNull: true },
      { name: "type", kind: "string", notNull: true },
      { name: "content", kind: "text" },
      { name: "config", kind: "text" },
      { name: "is_active", kind: "bool", default: "0", notNull: true },
      { name: "allow_event_modification", kind: "bool", default: "0", notNull: true },
      { name: "storage_service_id", kind: "ref", ref: "service", onDelete: "SET NULL" },
      { name: "storage_path", kind: "string" },
      { name: "scm_reference", kind: "string" },
      { name: "scm_repository", kind: "string" },
      ...stamps(),
    ],
    relations: audit(),
  },
  {
    name: "system_custom",
    pk: "name",
    columns: [
      { name: "name", kind: "string", notNull: true },
      { name: "value", kind: "json" },
      ...stamps(),
    ],
    relations: audit(),
  },
];

/** Looks a table up by name. */
export function table(name: string): TableDef {
  const t = TABLES.find((x) => x.name === name);
  if (!t) throw new Error(`unknown system table ${name}`);
  return t;
}
