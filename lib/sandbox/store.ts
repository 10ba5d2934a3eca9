/**
 * The sandbox's system database on `node:sqlite`: schema (built from `tables.ts`), the seed of a
 * fresh DreamFactory 7 instance, and the small key/value and token tables sessions need. A file
 * keeps everything across restarts; `:memory:` is the default.
 *
 * @module
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { randomBytes } from "node:crypto";
import { type ColumnDef, TABLES } from "./tables.ts";
import { hashPassword } from "./auth.ts";
import { sqlDateTime } from "./http.ts";

/** The fixed public API keys of DreamFactory's default apps. */
export const DEFAULT_APP_KEYS = {
  admin: "6498a8ad1beb9d84d63035c5d1120c007fad6de706734db9689f8996707e0f7d",
  api_docs: "36fda24fe5588fa4285ac6c6c2fdfbdb6b6bc9834699774c9bf777f706d05a88",
  file_manager: "b5cb82af7b5d4130f36149f90aa2746782e59a872ac70454ac188743cb55b0ba",
} as const;

const SCHEMA_VERSION = "1";

function columnSql(c: ColumnDef): string {
  if (c.kind === "id") return `"${c.name}" INTEGER PRIMARY KEY AUTOINCREMENT`;
  const type = c.kind === "int" || c.kind === "ref" || c.kind === "bool" ? "INTEGER" : "TEXT";
  let sql = `"${c.name}" ${type}`;
  if (c.notNull) sql += " NOT NULL";
  if (c.default !== undefined) sql += ` DEFAULT ${c.default}`;
  if (c.unique) sql += " UNIQUE";
  if (c.ref) sql += ` REFERENCES "${c.ref}"(id) ON DELETE ${c.onDelete ?? "SET NULL"}`;
  return sql;
}

function createTable(db: DatabaseSync, t: (typeof TABLES)[number]) {
  const cols = t.columns.map(columnSql);
  if (t.pk !== "id") cols.push(`PRIMARY KEY ("${t.pk}")`);
  cols.push(...(t.constraints ?? []));
  db.exec(`CREATE TABLE "${t.name}" (${cols.join(", ")})`);
}

function createTables(db: DatabaseSync) {
  for (const t of TABLES) createTable(db, t);
  db.exec(`CREATE TABLE token_map (jti TEXT PRIMARY KEY, user_id INTEGER, exp INTEGER)`);
  db.exec(`CREATE TABLE token_blacklist (jti TEXT PRIMARY KEY, until INTEGER)`);
}

/**
 * Brings a data file written by an older sandbox up to the current table definitions: missing
 * tables are created and missing columns added (SQLite cannot add unique or key columns in
 * place; new columns of that sort need a versioned step here).
 */
function upgrade(db: DatabaseSync) {
  for (const t of TABLES) {
    const have = db.prepare(`PRAGMA table_info("${t.name}")`).all() as { name: string }[];
    if (!have.length) {
      createTable(db, t);
      continue;
    }
    const names = new Set(have.map((c) => c.name));
    for (const c of t.columns) {
      if (names.has(c.name)) continue;
      db.exec(
        `ALTER TABLE "${t.name}" ADD COLUMN ${
          columnSql({ ...c, unique: false, notNull: c.notNull && c.default !== undefined })
        }`,
      );
    }
  }
}

/** Opens (and on first use creates and seeds) the system database, upgrading older files. */
export function openStore(
  path: string,
  admin: { email: string; password: string },
): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA foreign_keys = ON");
  if (path !== ":memory:") db.exec("PRAGMA journal_mode = WAL");
  db.exec(`CREATE TABLE IF NOT EXISTS sandbox_meta (key TEXT PRIMARY KEY, value TEXT)`);
  const version = db.prepare(`SELECT value FROM sandbox_meta WHERE key = 'schema'`).get() as
    | { value: string }
    | undefined;
  db.exec("BEGIN");
  try {
    if (!version) {
      createTables(db);
      seed(db, admin);
      setMeta(db, "jwt_secret", randomBytes(32).toString("base64url"));
    } else {
      upgrade(db);
    }
    setMeta(db, "schema", SCHEMA_VERSION);
    db.exec("COMMIT");
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
  return db;
}

/** Reads a value of the sandbox's own key/value table. */
export function getMeta(db: DatabaseSync, key: string): string | undefined {
  const row = db.prepare(`SELECT value FROM sandbox_meta WHERE key = ?`).get(key) as
    | { value: string }
    | undefined;
  return row?.value;
}

/** Writes a value of the sandbox's own key/value table. */
export function setMeta(db: DatabaseSync, key: string, value: string): void {
  db.prepare(`INSERT OR REPLACE INTO sandbox_meta (key, value) VALUES (?, ?)`).run(key, value);
}

function insert(db: DatabaseSync, table: string, row: Record<string, SQLInputValue>) {
  const keys = Object.keys(row);
  db.prepare(
    `INSERT INTO "${table}" (${keys.map((k) => `"${k}"`).join(",")}) VALUES (${
      keys.map(() => "?").join(",")
    })`,
  ).run(...keys.map((k) => row[k]));
}

function seed(db: DatabaseSync, admin: { email: string; password: string }) {
  const now = sqlDateTime();
  const stamp = { created_date: now, last_modified_date: now };
  insert(db, "user", {
    name: "Admin User",
    first_name: "Admin",
    last_name: "User",
    email: admin.email,
    username: admin.email,
    password: hashPassword(admin.password),
    is_sys_admin: 1,
    is_active: 1,
    ...stamp,
  });
  const services: Record<string, SQLInputValue>[] = [
    {
      name: "system",
      label: "System Management",
      description: "Service for managing system resources.",
      type: "system",
      mutable: 0,
      deletable: 0,
      config: "{}",
    },
    {
      name: "db",
      label: "Local SQL Database",
      description: "Service for accessing local SQLite database.",
      type: "sqlite",
      mutable: 1,
      deletable: 1,
      config: JSON.stringify({ database: "db.sqlite" }),
    },
    {
      name: "user",
      label: "User Management",
      description: "Service for managing system users.",
      type: "user",
      mutable: 1,
      deletable: 0,
      config: JSON.stringify({ allow_open_registration: false }),
    },
  ];
  for (const s of services) insert(db, "service", { ...s, is_active: 1, ...stamp });
  const apps = [
    ["admin", "An application for administering this instance.", "dreamfactory/dist/index.html"],
    [
      "api_docs",
      "An OpenAPI-based application allowing documentation viewing and testing of the API.",
      "df-api-docs-ui/dist/index.html",
    ],
    ["file_manager", "An application for managing file services.", "filemanager/index.html"],
  ] as const;
  for (const [name, description, path] of apps) {
    insert(db, "app", {
      name,
      api_key: DEFAULT_APP_KEYS[name],
      description,
      is_active: 1,
      type: 3,
      path,
      ...stamp,
    });
  }
  const templates = [
    [
      "User Invite Default",
      "Email sent to invite new users to your DreamFactory instance.",
      "[DF] New User Invitation",
      "Hi {first_name},\n\nYou have been invited to the DreamFactory Instance of {instance_name}. Go to the following url, enter the code below, and set your password to confirm your account.\n\n{link}\n\nConfirmation Code: {confirm_code}\n\nThanks,\n{from_name}",
    ],
    [
      "User Registration Default",
      "Email sent to new users to complete registration.",
      "[DF] Registration Confirmation",
      "Hi {first_name},\n\nYou have registered a user account on the DreamFactory Instance of {instance_name}. Go to the following url, enter the code below, and set your password to confirm your account.\n\n{link}\n\nConfirmation Code: {confirm_code}\n\nThanks,\n{from_name}",
    ],
    [
      "Password Reset Default",
      "Email sent to users following a request to reset their password.",
      "[DF] Password Reset",
      "Hi {first_name},\n\nYou have requested to reset your password. Go to the following url, enter the code below, and set your new password.\n\n{link}\n\nConfirmation Code: {confirm_code}\n\nThanks,\n{from_name}",
    ],
  ];
  for (const [name, description, subject, body] of templates) {
    insert(db, "email_template", {
      name,
      description,
      subject,
      body_text: body,
      body_html: body.replace(/\n/g, "<br/>"),
      from_name: "DO NOT REPLY",
      from_email: "no-reply@dreamfactory.com",
      defaults: null,
      ...stamp,
    });
  }
}
