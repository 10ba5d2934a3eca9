/**
 * WHERE clauses of record requests: the client's `filter` (through the shared DreamFactory filter
 * module, values always bound) ANDed with the role's row filters, plus id lists.
 *
 * @module
 */
import {
  compileDreamFactoryFilter,
  FilterError,
  replaceLookups,
  roleFilterString,
} from "../../filter/mod.ts";
import { rethrowFilterError } from "../http.ts";
import type { AccessGrant } from "../types.ts";
import type { TableInfo } from "./catalog.ts";
import { q, QueryFailure } from "./sql.ts";
import { type SqlValue, toSqlValue } from "./types.ts";

/** A SQL condition with its bound values. */
export interface Where {
  sql: string;
  params: SqlValue[];
}

/** The condition that matches everything. */
export const TRUE_WHERE: Where = { sql: "1", params: [] };

/** ANDs conditions (skipping always-true ones). */
export function and(...parts: (Where | null | undefined)[]): Where {
  const real = parts.filter((p): p is Where => !!p && p.sql !== "1");
  if (real.length === 0) return TRUE_WHERE;
  if (real.length === 1) return real[0];
  return {
    sql: real.map((p) => `(${p.sql})`).join(" AND "),
    params: real.flatMap((p) => p.params),
  };
}

function columnsOf(table: TableInfo): { name: string; type: string; allowNull: boolean }[] {
  return table.fields.map((f) => ({ name: f.name, type: f.type, allowNull: f.allowNull }));
}

/**
 * Compiles a DreamFactory filter string (lookups substituted first, as DF does). With
 * `asQuery`, a filter the database would refuse fails as the QueryException DreamFactory's
 * query raises (a {@link QueryFailure}, which the by-filter operations wrap), else as
 * rethrowFilterError answers it.
 */
function compile(
  table: TableInfo,
  filter: string,
  params: Record<string, unknown>,
  lookups: Record<string, string>,
  asQuery = false,
): Where {
  try {
    const out = compileDreamFactoryFilter(replaceLookups(filter, lookups), columnsOf(table), {
      mode: "table",
      params,
      lookups,
    });
    return out ? { sql: out.sql, params: out.params as SqlValue[] } : TRUE_WHERE;
  } catch (e) {
    if (asQuery && e instanceof FilterError && e.sqlError) throw new QueryFailure(e.message);
    rethrowFilterError(e);
  }
}

/**
 * Compiles a client filter string for `table` (400 on bad syntax or unknown fields). A filter
 * that gets past df-sqldb's parser but not past SQLite (unbalanced parentheses, `XOR`, ...) is
 * the {@link QueryFailure} of the query it goes into: df-sqldb's retrieveRecordsByFilter,
 * updateRecordsByFilter and deleteRecordsByFilter wrap it in their 500 naming the table.
 */
export function clientFilter(
  table: TableInfo,
  filter: string | undefined,
  params: Record<string, unknown>,
  lookups: Record<string, string>,
): Where {
  // Only an absent or empty filter means "no filter": DreamFactory fails on one of only spaces.
  if (filter === undefined || filter === "") return TRUE_WHERE;
  return compile(table, filter, params, lookups, true);
}

/** Compiles a role's row filters (a grant without filters matches everything). */
export function roleFilter(
  table: TableInfo,
  grant: AccessGrant | null,
  lookups: Record<string, string>,
): Where {
  if (!grant || grant.filters.length === 0) return TRUE_WHERE;
  let text: string | null;
  try {
    text = roleFilterString(grant.filters, grant.filterOp);
  } catch (e) {
    rethrowFilterError(e);
  }
  return text === null ? TRUE_WHERE : compile(table, text, {}, lookups);
}

/** `field = ?` for each identifying field (values typed by the column). */
export function idWhere(table: TableInfo, idFields: string[], values: unknown[]): Where {
  const params: SqlValue[] = [];
  const sql = idFields.map((f, i) => {
    const info = table.byName.get(f.toLowerCase())!;
    params.push(toSqlValue(info.type, info.name, values[i]));
    return `${q(info.name)} = ?`;
  }).join(" AND ");
  return { sql, params };
}
