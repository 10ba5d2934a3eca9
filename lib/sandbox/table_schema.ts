/**
 * A system table described the way DreamFactory's `_schema` describes tables (the
 * `include_schema` option of system resources).
 *
 * @module
 */
import { dfType, type Rec } from "./columns.ts";
import type { TableDef } from "./tables.ts";

/** A system table described as DreamFactory's `_schema` does (for `include_schema`). */
export function tableSchema(t: TableDef): Rec {
  const label = (s: string) => s.split("_").map((w) => w[0].toUpperCase() + w.slice(1)).join(" ");
  return {
    alias: null,
    name: t.name,
    label: label(t.name),
    description: null,
    native: [],
    plural: label(t.name) + "s",
    is_view: false,
    primary_key: [t.pk],
    name_field: null,
    field: t.columns.map((c) => ({
      alias: null,
      name: c.name,
      label: label(c.name),
      description: null,
      native: [],
      type: dfType(c),
      db_type: c.kind === "bool"
        ? "tinyint(1)"
        : c.kind === "id" || c.kind === "int" || c.kind === "ref"
        ? "integer"
        : c.kind === "string"
        ? "varchar"
        : c.kind === "date" || c.kind === "rawdate"
        ? "datetime"
        : "text",
      length: c.kind === "bool" ? 1 : null,
      precision: null,
      scale: null,
      default: c.default === undefined
        ? null
        : c.kind === "bool"
        ? c.default === "1"
        : c.default.replace(/^'|'$/g, ""),
      required: !!c.notNull && c.default === undefined && c.kind !== "id",
      allow_null: !c.notNull && c.kind !== "id",
      fixed_length: false,
      supports_multibyte: false,
      auto_increment: c.kind === "id",
      is_primary_key: c.name === t.pk,
      is_unique: false,
      is_index: false,
      is_foreign_key: c.kind === "ref",
      ref_table: c.ref ?? null,
      ref_field: c.ref ? "id" : null,
      ref_on_update: null,
      ref_on_delete: null,
      picklist: null,
      validation: null,
      db_function: null,
      is_virtual: false,
      is_aggregate: false,
    })),
    related: t.relations.map((r) => ({
      alias: null,
      name: r.name,
      label: label(r.name),
      description: null,
      native: [],
      type: r.type,
      field: r.field,
      is_virtual: false,
      ref_service_id: 1,
      ref_table: r.table,
      ref_field: r.junction ? r.refField : r.refField,
      ref_on_update: "NO ACTION",
      ref_on_delete: "SET NULL",
      junction_service_id: r.junction ? 1 : null,
      junction_table: r.junction?.table ?? null,
      junction_field: r.junction?.field ?? null,
      junction_ref_field: r.junction?.refField ?? null,
      always_fetch: false,
      flatten: false,
      flatten_drop_prefix: false,
    })),
    constraints: [],
    access: 31,
  };
}
