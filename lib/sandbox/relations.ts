/**
 * Writing relationships of system records in the same request as their parent (§7.3 of the
 * reference): has_many children created, updated, moved or deleted (foreign key null), has_one
 * replaced or removed, and the rules of the child tables (user-to-app-to-role uniqueness,
 * role access defaults).
 *
 * @module
 */
import type { SQLInputValue } from "node:sqlite";
import { DfError, phpEmpty, sqlDateTime } from "./http.ts";
import { hasColumn, type Rec, type Row, writeValue } from "./columns.ts";
import type { CallContext } from "./records.ts";
import { run as runSql } from "./db/sql.ts";
import type { SqlValue } from "./db/types.ts";
import { type RelationDef, table as tableDef, type TableDef } from "./tables.ts";
import { stmt } from "./statements.ts";
import { MASK } from "../secrets.ts";

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Writes the value of a relationship key of a parent record (§7.3): has_many children with an
 * id are updated (or deleted when their foreign key is null), without an id created; has_one
 * null deletes the child; many_many is not writable at create.
 */
export function writeRelation(
  ctx: CallContext,
  rel: RelationDef,
  parent: Row,
  value: unknown,
  creating: boolean,
  parentTable: string,
) {
  const target = tableDef(rel.table);
  const parentKey = parent[rel.field] as SQLInputValue;
  if (rel.type === "belongs_to" || rel.type === "many_many") {
    // BaseModel::create refuses any such key, whatever its value; BaseModel::update skips them.
    if (creating) {
      throw new DfError(
        501,
        `Creating related record of relation type "${rel.type}" is not supported.`,
      );
    }
    return;
  }
  const now = sqlDateTime();
  const childCols = (child: Rec) => {
    const out: Record<string, SQLInputValue> = {};
    for (const c of target.columns) {
      if (c.kind === "id" || !(c.name in child)) continue;
      if (
        ["created_date", "last_modified_date", "created_by_id", "last_modified_by_id"].includes(
          c.name,
        )
      ) continue;
      out[c.name] = writeValue(c, child[c.name]);
    }
    return out;
  };
  const insertChild = (child: Rec) => {
    const cols = { ...childCols(child), [rel.refField]: parentKey };
    validateChild(ctx, target, cols, null);
    if (hasColumn(target, "created_date")) cols.created_date = now;
    if (hasColumn(target, "last_modified_date")) cols.last_modified_date = now;
    const keys = Object.keys(cols);
    // Written as Laravel's query builder writes it, so an SQL error reads as DreamFactory's.
    run(
      `insert into ${q(target.name)} (${keys.map(q).join(", ")}) values (${
        keys.map(() => "?").join(", ")
      })`,
      keys.map((k) => cols[k]),
    );
  };
  const run = (sql: string, values: SQLInputValue[]) => runSql(ctx.db, sql, values as SqlValue[]);
  const updateChild = (cols: Record<string, SQLInputValue>, id: SQLInputValue) => {
    if (hasColumn(target, "last_modified_date")) cols.last_modified_date = now;
    const keys = Object.keys(cols);
    if (!keys.length) return;
    run(
      `update ${q(target.name)} set ${keys.map((k) => `${q(k)} = ?`).join(", ")} where ${
        q(target.pk)
      } = ?`,
      [...keys.map((k) => cols[k]), id],
    );
  };
  if (rel.type === "has_one") {
    const existing = stmt(ctx.db, `SELECT * FROM ${q(target.name)} WHERE ${q(rel.refField)} = ?`)
      .get(parentKey) as Row | undefined;
    if (
      value === null ||
      (typeof value === "object" && !Array.isArray(value) && !Object.keys(value as Rec).length)
    ) {
      if (existing) {
        stmt(ctx.db, `DELETE FROM ${q(target.name)} WHERE ${q(target.pk)} = ?`).run(
          existing[target.pk] as SQLInputValue,
        );
      }
      return;
    }
    if (typeof value !== "object" || Array.isArray(value)) {
      throw new DfError(400, `Relationship '${rel.name}' expects an object.`);
    }
    if (existing) {
      const cols = childCols(value as Rec);
      delete cols[rel.refField];
      updateChild(cols, existing[target.pk] as SQLInputValue);
    } else insertChild(value as Rec);
    return;
  }
  if (creating) {
    // BaseModel::create: an empty value is skipped, anything else must be an array, and each
    // record is a new model (`id` is not fillable: a new row whatever the record carries).
    if (phpEmpty(value)) return;
    if (!Array.isArray(value)) {
      throw new DfError(
        400,
        `Bad data supplied for ${rel.name}. Related data must be supplied as array.`,
      );
    }
    for (const child of value as Rec[]) {
      if (!child || typeof child !== "object") continue;
      checkLookupName(ctx, target.name, rel.refField, child, null);
      insertChild(child);
    }
    return;
  }
  if (value === null || value === undefined) return;
  if (!Array.isArray(value)) {
    throw new DfError(400, `Relationship '${rel.name}' expects an array of records.`);
  }
  // BaseModel::saveHasManyData: a record with an id is that row wherever it belongs (find() is
  // not limited to this parent), one without is matched by findCompositeForeignKeyModel (lookups:
  // same owner and name); a row found is deleted (foreign key null), adopted by the other parent
  // its foreign key names if that parent exists, else filled and saved under this parent; a
  // record matching no row is created.
  for (const child of value as Rec[]) {
    if (!child || typeof child !== "object") continue;
    const childId = child[target.pk];
    let existing: Row | undefined;
    if (!phpEmpty(childId)) {
      existing = stmt(ctx.db, `SELECT * FROM ${q(target.name)} WHERE ${q(target.pk)} = ?`)
        .get(childId as SQLInputValue) as Row | undefined;
    } else if (target.name === "lookup" && !phpEmpty(child.name)) {
      const owner = phpEmpty(child[rel.refField]) ? parentKey : child[rel.refField];
      existing = stmt(ctx.db, `SELECT * FROM lookup WHERE ${q(rel.refField)} = ? AND name = ?`)
        .get(owner as SQLInputValue, String(child.name)) as Row | undefined;
    }
    if (!existing) {
      checkLookupName(ctx, target.name, rel.refField, child, null);
      insertChild(child);
      continue;
    }
    const id = existing[target.pk] as SQLInputValue;
    if (rel.refField in child && child[rel.refField] === null) {
      stmt(ctx.db, `DELETE FROM ${q(target.name)} WHERE ${q(target.pk)} = ?`).run(id);
      continue;
    }
    const fk = child[rel.refField];
    const adopter = !phpEmpty(fk) && fk !== parentKey &&
      stmt(ctx.db, `SELECT ${q(rel.field)} AS k FROM ${q(parentTable)} WHERE ${q(rel.field)} = ?`)
        .get(fk as SQLInputValue) as Row | undefined;
    checkLookupName(ctx, target.name, rel.refField, child, existing);
    const cols = childCols(child);
    // BaseSystemLookup::setAttribute: writing the mask back keeps the stored value.
    if (target.name === "lookup" && cols.value === MASK) delete cols.value;
    cols[rel.refField] = adopter ? adopter.k as SQLInputValue : parentKey;
    validateChild(
      ctx,
      target,
      { ...existing, ...cols } as Record<string, SQLInputValue>,
      existing,
    );
    updateChild(cols, id);
  }
}

/**
 * App/Role/UserLookup::fill: a name given that differs (case-insensitively) from the row's own
 * may not be one the owner (the record's owner column, else the row's) already has.
 */
function checkLookupName(
  ctx: CallContext,
  table: string,
  ownerColumn: string,
  child: Rec,
  existing: Row | null,
) {
  if (table !== "lookup" || !("name" in child)) return;
  const owner = ownerColumn in child ? child[ownerColumn] : existing?.[ownerColumn];
  const name = child.name === null || child.name === undefined ? "" : String(child.name);
  const current = existing?.name === null || existing?.name === undefined
    ? ""
    : String(existing.name);
  if (phpEmpty(owner) || current.toLowerCase() === name.toLowerCase()) return;
  const taken = stmt(ctx.db, `SELECT id FROM lookup WHERE ${q(ownerColumn)} = ? AND name = ?`)
    .get(owner as SQLInputValue, name);
  if (taken) throw new DfError(400, "Lookup name can not be modified to one that already exists.");
}

/** Rules of child rows written through relationships. */
function validateChild(
  ctx: CallContext,
  target: TableDef,
  cols: Record<string, SQLInputValue>,
  existing: Row | null,
) {
  if (target.name === "user_to_app_to_role") {
    // UserAppRole has no $rules: a missing id is the table's NOT NULL error; the one-per-app
    // check of UserAppRole::validate runs only when user and app are both given.
    if (phpEmpty(cols.user_id) || phpEmpty(cols.app_id)) return;
    const dup = stmt(
      ctx.db,
      `SELECT id FROM user_to_app_to_role WHERE user_id = ? AND app_id = ? AND id IS NOT ?`,
    ).get(cols.user_id, cols.app_id, (existing?.id ?? null) as SQLInputValue);
    if (dup) {
      throw new DfError(
        400,
        "Multiple user-to-app-to-role assignment. You can only have a single user-to-app-to-role assignment.",
      );
    }
  }
  // RoleServiceAccess has no mutators or rules: component and filters stay null when not sent
  // (nullable columns) and filter_op is stored as sent (column default 'and').
}
