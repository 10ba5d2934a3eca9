/**
 * Writing related records inside a parent's create/update, the way DreamFactory's SQL tables do:
 * belongs_to parents created/updated and linked, has_many children created, updated, linked,
 * unlinked (FK null) or deleted (`allow_related_delete`), many_many links through the junction
 * table. (There is no has_one on SQLite tables, see `RelationInfo` in `catalog.ts`.)
 *
 * @module
 */
import { DfError } from "../http.ts";
import type { RelationInfo, TableInfo } from "./catalog.ts";
import type { DbEnv } from "./records.ts";
import { insertStatement, parseRecord, setList } from "./records.ts";
import { all, q, run, scalar } from "./sql.ts";
import { type SqlValue, toSqlValue } from "./types.ts";

/** Options of related writes. */
export interface RelatedWriteOptions {
  allowRelatedDelete: boolean;
  userId: number | null;
}

function lowerGet(rec: Record<string, unknown>, name: string): unknown {
  if (name in rec) return rec[name];
  const l = name.toLowerCase();
  for (const [k, v] of Object.entries(rec)) if (k.toLowerCase() === l) return v;
  return undefined;
}

function asObject(v: unknown, rel: string): Record<string, unknown> {
  if (!v || typeof v !== "object" || Array.isArray(v)) {
    throw new DfError(400, `Relationship '${rel}' expects record objects.`);
  }
  return v as Record<string, unknown>;
}

function insertRow(
  env: DbEnv,
  table: TableInfo,
  rec: Record<string, unknown>,
  userId: number | null,
): number {
  const { sql, params } = insertStatement(table, parseRecord(table, rec, false, userId));
  return run(env.db, sql, params).lastInsertRowid;
}

function updateRow(
  env: DbEnv,
  table: TableInfo,
  rowid: number,
  rec: Record<string, unknown>,
  userId: number | null,
): void {
  const onlyKeys = Object.keys(rec).every((k) =>
    table.primaryKey.some((p) => p.toLowerCase() === k.toLowerCase())
  );
  if (onlyKeys) return;
  const parsed = parseRecord(table, rec, true, userId, table.primaryKey);
  if (parsed.values.size === 0) return;
  const set = setList(parsed);
  run(env.db, `update ${q(table.name)} set ${set.sql} where rowid = ?`, [...set.params, rowid]);
}

/** Rowid of the row of `table` whose primary key is given in `rec`, or null. */
function findByPk(env: DbEnv, table: TableInfo, rec: Record<string, unknown>): number | null {
  if (table.primaryKey.length === 0) return null;
  const vals = table.primaryKey.map((p) => lowerGet(rec, p));
  if (vals.some((v) => v === undefined || v === null)) return null;
  const params: SqlValue[] = [];
  const where = table.primaryKey.map((p, i) => {
    const f = table.byName.get(p.toLowerCase())!;
    params.push(toSqlValue(f.type, f.name, vals[i]));
    return `${q(f.name)} = ?`;
  }).join(" AND ");
  const r = scalar(env.db, `SELECT rowid FROM ${q(table.name)} WHERE ${where}`, params);
  return r === undefined ? null : Number(r);
}

function columnValue(env: DbEnv, table: TableInfo, rowid: number, column: string): SqlValue {
  const rows = all(env.db, `SELECT ${q(column)} AS v FROM ${q(table.name)} WHERE rowid = ?`, [
    rowid,
  ]);
  return (rows[0]?.v ?? null) as SqlValue;
}

/** Applies every related payload of one parent record (already written, at `rowid`). */
export function writeRelated(
  env: DbEnv,
  table: TableInfo,
  rowid: number,
  related: { name: string; value: unknown }[],
  opts: RelatedWriteOptions,
): void {
  for (const { name, value } of related) {
    const rel = table.related.find((r) => r.name === name)!;
    const target = env.catalog.describe(rel.refTable);
    if (!target) continue;
    if (rel.type === "belongs_to") continue; // written first, by writeParents
    if (rel.type === "many_many") writeManyMany(env, table, rowid, rel, target, value, opts);
    else writeChildren(env, table, rowid, rel, target, value, opts);
  }
}

/**
 * Writes the belongs_to parents named in a record before the record itself (DreamFactory writes
 * them first): each parent is created, or updated when its key is given, and the record's foreign
 * key is filled in. Returns the record to write.
 */
export function writeParents(
  env: DbEnv,
  table: TableInfo,
  record: Record<string, unknown>,
  opts: RelatedWriteOptions,
): Record<string, unknown> {
  let out = record;
  for (const rel of table.related) {
    if (rel.type !== "belongs_to") continue;
    const key = Object.keys(record).find((k) => k.toLowerCase() === rel.name.toLowerCase());
    if (key === undefined) continue;
    const value = record[key];
    out = { ...out };
    delete out[key];
    if (value === null || value === undefined) continue;
    const target = env.catalog.describe(rel.refTable);
    if (!target) continue;
    const rec = asObject(value, rel.name);
    let parentRowid = findByPk(env, target, rec);
    if (parentRowid === null) parentRowid = insertRow(env, target, rec, opts.userId);
    else updateRow(env, target, parentRowid, rec, opts.userId);
    out[rel.field] = columnValue(env, target, parentRowid, rel.refField);
  }
  return out;
}

function writeChildren(
  env: DbEnv,
  table: TableInfo,
  rowid: number,
  rel: RelationInfo,
  target: TableInfo,
  value: unknown,
  opts: RelatedWriteOptions,
): void {
  const parentKey = columnValue(env, table, rowid, rel.field);
  if (!Array.isArray(value)) {
    throw new DfError(400, `Relationship '${rel.name}' expects an array of records.`);
  }
  const fk = target.byName.get(rel.refField.toLowerCase());
  if (!fk) return;
  for (const item of value) {
    const rec = asObject(item, rel.name);
    const childRowid = findByPk(env, target, rec);
    const fkGiven = Object.keys(rec).some((k) => k.toLowerCase() === fk.name.toLowerCase());
    const fkValue = fkGiven ? lowerGet(rec, fk.name) : undefined;
    if (childRowid === null) {
      insertRow(env, target, { ...rec, [fk.name]: parentKey }, opts.userId);
      continue;
    }
    if (fkGiven && fkValue === null) {
      if (!fk.allowNull) {
        if (!opts.allowRelatedDelete) {
          throw new DfError(
            400,
            `Field '${fk.name}' can not be NULL. Pass allow_related_delete=true to delete the related record.`,
          );
        }
        run(env.db, `delete from ${q(target.name)} where rowid = ?`, [childRowid]);
      } else {
        updateRow(env, target, childRowid, rec, opts.userId);
        run(env.db, `update ${q(target.name)} set ${q(fk.name)} = NULL where rowid = ?`, [
          childRowid,
        ]);
      }
      continue;
    }
    // Unless the record says otherwise, the child is (re)linked to this parent.
    updateRow(
      env,
      target,
      childRowid,
      fkGiven ? rec : { ...rec, [fk.name]: parentKey },
      opts.userId,
    );
  }
}

function writeManyMany(
  env: DbEnv,
  table: TableInfo,
  rowid: number,
  rel: RelationInfo,
  target: TableInfo,
  value: unknown,
  opts: RelatedWriteOptions,
): void {
  if (!Array.isArray(value)) {
    throw new DfError(400, `Relationship '${rel.name}' expects an array of records.`);
  }
  const junction = env.catalog.describe(rel.junctionTable!);
  if (!junction) return;
  const parentKey = columnValue(env, table, rowid, rel.field);
  for (const item of value) {
    const rec = asObject(item, rel.name);
    let otherRowid = findByPk(env, target, rec);
    if (otherRowid === null) otherRowid = insertRow(env, target, rec, opts.userId);
    else updateRow(env, target, otherRowid, rec, opts.userId);
    const otherKey = columnValue(env, target, otherRowid, rel.refField);
    const exists = scalar(
      env.db,
      `SELECT COUNT(*) FROM ${q(junction.name)} WHERE ${q(rel.junctionField!)} = ? AND ${
        q(rel.junctionRefField!)
      } = ?`,
      [parentKey, otherKey],
    );
    if (Number(exists) === 0) {
      insertRow(env, junction, {
        [rel.junctionField!]: parentKey,
        [rel.junctionRefField!]: otherKey,
      }, opts.userId);
    }
  }
}
