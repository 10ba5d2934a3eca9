/**
 * Values of system-table columns by their kind: stored SQLite value <-> JSON, DreamFactory's
 * type names, and formatting a row for output.
 *
 * @module
 */
import type { SQLInputValue } from "node:sqlite";
import { invalidData, isoMicro, toBool } from "./http.ts";
import type { ColumnDef, TableDef } from "./tables.ts";

/** A stored row, as `node:sqlite` returns it. */
export type Row = Record<string, unknown>;
/** A JSON record. */
export type Rec = Record<string, unknown>;

/** DreamFactory's type names for the filter compiler and schema output. */
export function dfType(c: ColumnDef): string {
  switch (c.kind) {
    case "id":
      return "id";
    case "int":
      return "integer";
    case "ref":
      return "reference";
    case "bool":
      return "boolean";
    case "date":
    case "rawdate":
      return "datetime";
    case "string":
      return "string";
    default:
      return "text";
  }
}

/** A stored value as JSON, by column kind. */
export function readValue(c: ColumnDef, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (c.kind) {
    case "id":
    case "int":
    case "ref":
      return Number(v);
    case "bool":
      return !!Number(v);
    case "date":
      return isoMicro(new Date(String(v).replace(" ", "T") + "Z"));
    case "json":
      try {
        return JSON.parse(String(v));
      } catch {
        return v;
      }
    default:
      return v;
  }
}

/** A JSON value as stored, by column kind. */
export function writeValue(c: ColumnDef, v: unknown): SQLInputValue {
  if (v === null || v === undefined) return null;
  switch (c.kind) {
    case "id":
    case "int":
    case "ref": {
      if (c.loose && typeof v === "string") return v;
      if (v === "") return null;
      if (typeof v === "boolean") return v ? 1 : 0;
      const n = Number(v);
      if (!Number.isFinite(n)) {
        throw invalidData({ [c.name]: [`The ${c.name} must be an integer.`] });
      }
      return Math.trunc(n);
    }
    case "bool":
      return toBool(v) ? 1 : 0;
    case "json":
      return JSON.stringify(v);
    default:
      return typeof v === "object" ? JSON.stringify(v) : String(v);
  }
}

/** Formats a stored row of a table: visible columns in table order (optionally restricted). */
export function formatRow(
  t: TableDef,
  row: Row,
  fields?: Set<string> | null,
  hidden?: string[],
): Rec {
  const out: Rec = {};
  for (const c of t.columns) {
    if (c.hidden || hidden?.includes(c.name)) continue;
    if (fields && !fields.has(c.name)) continue;
    out[c.name] = readValue(c, row[c.name]);
  }
  return out;
}

/** A column of a table by name. */
export function columnOf(t: TableDef, name: string): ColumnDef | undefined {
  return t.columns.find((c) => c.name === name);
}

/** True when the table has the column. */
export function hasColumn(t: TableDef, name: string) {
  return t.columns.some((c) => c.name === name);
}
