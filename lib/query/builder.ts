/**
 * The one query builder: immutable (every method returns a new builder), awaitable (awaiting
 * reads every matching record, page by page, never stopping silently at the server's cap), and
 * able to show the exact request it makes. Resources differ only by their descriptor.
 *
 * @module
 */
import { asRecords, displayReady, isDisplayReady, type Records } from "../display.ts";
import { type BatchSuccess, DreamFactoryBatchError, QueryArgumentError } from "../errors.ts";
import type { ResourceDescriptor } from "../resources.ts";
import {
  type QueryValue,
  renderCurl,
  type RequestDescription,
  type RequestOptions,
  type TransportResponse,
} from "../transport.ts";
import { andFilters, type FilterInput, toFilterString, whereFilter } from "./filter.ts";
import { hasNextOf, type Page, recordsOf, totalOf } from "./response.ts";

/** What a builder needs from the client: sending and describing calls. */
export interface QueryContext {
  /** Sends a call (auth, retries, errors handled). */
  send(method: string, path: string, options: RequestOptions): Promise<TransportResponse>;
  /** Describes a call exactly, with credential placeholders. */
  describe(method: string, path: string, options: RequestOptions): RequestDescription;
  /** Relationship names of a database table, when they can be read (cached by the client). */
  tableRelationships?(service: string, table: string): Promise<string[] | undefined>;
  /** The single-column primary key of a database table, when it can be read (cached). */
  tableKey?(service: string, table: string): Promise<string | undefined>;
  /** The field names of a resource (a table's `_schema`, a system resource's
   * `include_schema`), when they can be read (cached). */
  fieldsOf?(res: ResourceDescriptor): Promise<string[] | undefined>;
  /** Drops a resource's cached schema (it changed since: the next check reads it again). */
  forgetSchema?(res: ResourceDescriptor): void;
}

/** A record id. */
export type Id = string | number;

/** Options of write calls. */
export interface WriteOptions {
  /** Fields to return for each written record (`"*"` for all; default: the id only). */
  fields?: string | readonly string[];
  /** Relationships to return with each record. */
  related?: string | readonly string[];
  /** Process every record even when some fail (failures still throw, listing each). */
  continue?: boolean;
  /** All or nothing: on any failure the server undoes the whole batch. */
  rollback?: boolean;
  /** Extra query parameters (e.g. `{ allow_related_delete: true }`). */
  params?: Record<string, QueryValue>;
  /** Aborts the call. */
  signal?: AbortSignal;
  /** Per-attempt timeout in ms. */
  timeout?: number;
}

/** Options of `delete()`. */
export interface DeleteOptions extends Omit<WriteOptions, "continue" | "rollback"> {
  /** Delete EVERY record of the resource (DreamFactory's `force=true`); required when the
   * builder has neither `.ids()` nor `.filter()`. */
  force?: boolean;
  /** Process every record even when some fail. */
  continue?: boolean;
  /** All or nothing. */
  rollback?: boolean;
}

interface State {
  readonly filter?: string;
  readonly ids?: readonly Id[];
  readonly fields?: readonly string[];
  readonly related?: readonly string[];
  readonly order?: readonly string[];
  readonly limit?: number;
  readonly offset?: number;
  readonly pageSize?: number;
  readonly params?: Readonly<Record<string, QueryValue>>;
  readonly signal?: AbortSignal;
  readonly timeout?: number;
}

/** Where a narrowed write goes. */
interface Target {
  query: Record<string, QueryValue>;
  count?: number;
  /** The ids, when the write is by ids. */
  ids?: Id[];
}

function byIds(ids: Id[]): Target {
  return { query: { ids: ids.map(String) }, count: ids.length, ids };
}

const ORDER_RE = /^[A-Za-z_][\w.]*(\s+(asc|desc))?(\s+nulls\s+(first|last))?$/i;
// Longer id lists go in the body (writes) or in several requests (reads): URLs stay short.
const MAX_IDS_PER_REQUEST = 100;
const MAX_PAGES = 100_000;

function list(value: string | readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items: string[] = [];
  for (const v of typeof value === "string" ? [value] : value) {
    const text = String(v);
    // Plain names (the usual case) go in as they are; "a, b" lists are split and trimmed.
    if (isPlainName(text)) items.push(text);
    else {
      for (const part of text.split(",")) {
        const name = part.trim();
        if (name) items.push(name);
      }
    }
  }
  return items;
}

/** Whether `text` is one name: not empty, no comma, no white space (`/^[^,\s]+$/`). A loop, not
 * the regex: it runs for every name of every `.fields()` call, and in place (between network
 * waits) the regex engine costs more than the scan. */
function isPlainName(text: string): boolean {
  if (!text.length) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // "," and the white space \s matches: ASCII here, the Unicode spaces by the regex.
    if (c === 44 || c === 32 || (c >= 9 && c <= 13) || (c >= 128 && /\s/.test(text[i]))) {
      return false;
    }
  }
  return true;
}

/** Query parameters `.params()` refuses, with the builder method to use instead. */
const MANAGED_PARAMS: Record<string, string> = {
  limit: ".limit(n)",
  top: ".limit(n)",
  offset: ".offset(n)",
  skip: ".offset(n)",
  ids: ".ids(...)",
  filter: ".filter(...) or .where(...)",
  where: ".filter(...) or .where(...)",
  count_only: ".count()",
};

/**
 * Records read by ids, in the order of those ids: DreamFactory answers in its own order (by key,
 * or `order=`) when it finds every id. Left as they came when they cannot be matched one to one
 * (the key not among `fields`, an id given twice).
 */
function inIdOrder<T>(records: T[], ids: readonly Id[], idField: string): T[] {
  if (records.length !== ids.length) return records;
  const byId = new Map<string, T>();
  for (const record of records) {
    const id = (record as Record<string, unknown> | null)?.[idField];
    if (id === undefined || id === null) return records;
    byId.set(String(id), record);
  }
  const ordered: T[] = [];
  for (const id of ids) {
    const record = byId.get(String(id));
    if (record === undefined) return records;
    ordered.push(record);
  }
  return byId.size === ordered.length ? ordered : records;
}

function checkCount(method: string, n: number, min: number): number {
  if (!Number.isInteger(n) || n < min) {
    throw new QueryArgumentError(`.${method}(${n}): expected an integer >= ${min}`);
  }
  return n;
}

/**
 * An immutable, awaitable query on one DreamFactory resource: a system resource
 * (`df.system.user`) or a database table (`df.db("db").table("contact")`).
 *
 * @example
 * ```ts
 * import { connect, f } from "@dfkit/dfkit";
 * const df = await connect({ url: "http://127.0.0.1:8080", email: "a@b.c", password: "pw" });
 * const q = df.system.user.filter(f`email like ${"%@example.com"}`).fields("id", "email");
 * const users = await q;              // every matching record
 * const { records, count, more } = await q.limit(10).page();
 * console.log(q.toCurl());
 * ```
 */
export class Query<T = Record<string, unknown>>
  implements PromiseLike<Records<T>>, AsyncIterable<T> {
  readonly #ctx: QueryContext;
  readonly #res: ResourceDescriptor;
  readonly #s: State;

  /** Builders come from the client (`df.system.*`, `df.db(name).table(t)`). */
  constructor(ctx: QueryContext, resource: ResourceDescriptor, state: State = {}) {
    this.#ctx = ctx;
    this.#res = resource;
    this.#s = state;
  }

  /** The resource this builder works on. */
  get resource(): ResourceDescriptor {
    return this.#res;
  }

  #with(patch: Partial<State>): Query<T> {
    return new Query<T>(this.#ctx, this.#res, { ...this.#s, ...patch });
  }

  // ---------------------------------------------------------------- narrowing

  /**
   * Narrows by a filter: a string in DreamFactory's syntax (validated and canonicalised locally,
   * so mistakes throw before any request) or an `` f`...` `` template. Several calls are ANDed.
   */
  filter(filter: FilterInput): Query<T> {
    const text = toFilterString(filter);
    return this.#with({ filter: this.#s.filter ? andFilters(this.#s.filter, text) : text });
  }

  /** Narrows by one comparison; the value is quoted safely (`where("name", "=", "O'Brien")`). */
  where(field: string, op: string, value?: unknown): Query<T> {
    return this.filter(whereFilter(field, op, value));
  }

  /** Narrows to records with these ids, returned in this order (unless `.order()` is given: it
   * sorts each request's records, up to 100 ids). Replaces earlier `.ids()`. `.offset()` and
   * `.limit()` then take a slice of the list, for reads and writes alike. */
  ids(...ids: (Id | readonly Id[])[]): Query<T> {
    const flat = ids.flat() as Id[];
    for (const id of flat) {
      if (
        (typeof id !== "string" && typeof id !== "number") || String(id) === "" ||
        String(id).includes(",")
      ) {
        throw new QueryArgumentError(
          `.ids(): invalid id ${JSON.stringify(id)} (ids may not contain ",")`,
        );
      }
    }
    // DreamFactory answers a repeated id with a batch error that fails nothing; and positions
    // in errors count in this list, so it is refused rather than quietly shortened.
    const seen = new Map<string, number>();
    flat.forEach((id, i) => {
      const first = seen.get(String(id));
      if (first !== undefined) {
        throw new QueryArgumentError(
          `.ids(): id ${JSON.stringify(id)} is given twice (#${first} and #${i}); ` +
            "pass each once (e.g. [...new Set(ids)])",
        );
      }
      seen.set(String(id), i);
    });
    return this.#with({ ids: flat });
  }

  /** Fields to return (`"*"` for all). Replaces earlier `.fields()`. On a system resource a
   * misspelt name is no server error (DreamFactory answers it as a constant string): a read that
   * gets such an answer throws a `QueryArgumentError` naming it and the resource's fields. */
  fields(...names: string[]): Query<T> {
    return this.#with({ fields: list(names) });
  }

  /** Relationships to include (names per DreamFactory's `<table>_by_<field>` rule). */
  related(...names: string[]): Query<T> {
    const rel = list(names) ?? [];
    this.#checkRelated(rel);
    return this.#with({ related: rel });
  }

  /** Sort order: `"name"`, `"name desc"`, several arguments for several keys. */
  order(...specs: string[]): Query<T> {
    // One space between words: DreamFactory splits on single spaces ("name  desc" would sort
    // ascending, "name\tdesc" fails).
    const items = (list(specs) ?? []).map((s) => s.replace(/\s+/g, " "));
    for (const s of items) {
      if (!ORDER_RE.test(s)) {
        throw new QueryArgumentError(
          `.order(${JSON.stringify(s)}): expected "field", "field asc" or "field desc"`,
        );
      }
    }
    // One field goes through Laravel's orderBy(field, direction): NULLS FIRST/LAST is dropped
    // after a direction and refused (a 500) without one. Several fields are sent as written.
    if (items.length === 1 && / nulls /i.test(items[0])) {
      throw new QueryArgumentError(
        `.order(${JSON.stringify(items[0])}): DreamFactory ignores NULLS FIRST/LAST when the ` +
          "order has one field (and answers a 500 without asc/desc); add a second field, e.g. " +
          `.order(${JSON.stringify(items[0])}, "id")`,
      );
    }
    return this.#with({ order: items });
  }

  /** At most `n` records in total (across pages). */
  limit(n: number): Query<T> {
    return this.#with({ limit: checkCount("limit", n, 1) });
  }

  /** Skip the first `n` matching records. */
  offset(n: number): Query<T> {
    return this.#with({ offset: checkCount("offset", n, 0) });
  }

  /** Records per request when reading everything (default: the server's maximum). */
  pageSize(n: number): Query<T> {
    return this.#with({ pageSize: checkCount("pageSize", n, 1) });
  }

  /** Extra query parameters sent with reads (e.g. `{ include_schema: true }`). Parameters the
   * builder manages itself (`limit`, `offset`, `ids`, `filter`, `count_only` and their aliases)
   * are refused: sent as-is they would break paging or skip the filter check. */
  params(params: Record<string, QueryValue>): Query<T> {
    for (const key in params) {
      const method = MANAGED_PARAMS[key.toLowerCase()];
      if (method) {
        throw new QueryArgumentError(
          `.params({ ${key} }): the builder sets "${key}" itself (it pages and checks filters); ` +
            `use ${method} instead`,
        );
      }
    }
    return this.#with({ params: { ...this.#s.params, ...params } });
  }

  /** Aborts this builder's calls with the signal. */
  abortSignal(signal: AbortSignal): Query<T> {
    return this.#with({ signal });
  }

  /** Per-attempt timeout in ms for this builder's calls. */
  timeout(ms: number): Query<T> {
    return this.#with({ timeout: checkCount("timeout", ms, 1) });
  }

  #checkRelated(names: readonly string[], known = this.#res.relationships): void {
    const mistake = known && this.#relatedMistake(names, known);
    if (mistake) throw new QueryArgumentError(mistake);
  }

  /** What is wrong with relationship names, given the known ones (undefined: nothing). */
  #relatedMistake(names: readonly string[], known: readonly string[]): string | undefined {
    for (const name of names) {
      if (!known.includes(name)) {
        const valid = known.length ? known.join(", ") : "(none)";
        return `Unknown relationship "${name}" for ${this.#res.path}. Valid relationships: ${valid}` +
          (this.#res.kind === "system"
            ? `. (If your server has more, e.g. from an add-on, pass .params({ related: "${name}" }).)`
            : "");
      }
    }
    return undefined;
  }

  /** Waits (only when needed) for the table checks and the table renderer. */
  #ready(
    related: readonly string[] | undefined,
    order?: readonly string[],
  ): Promise<void> | void {
    const needCheck = (this.#res.table && related?.length && this.#ctx.tableRelationships) ||
      (order?.length && this.#ctx.fieldsOf);
    if (!needCheck && isDisplayReady()) return;
    return this.#checkSchema(related, order).then(displayReady);
  }

  /** Database tables silently ignore unknown relationship names, and every resource sorts by
   * nothing when an `.order()` field is unknown (DreamFactory quotes the name and SQLite reads
   * it as a string; several fields of a table are a 500), so both are checked against the
   * resource's schema (read once per client) before sending. */
  async #checkSchema(
    names: readonly string[] | undefined,
    order?: readonly string[],
  ): Promise<void> {
    const res = this.#res;
    // The schema is cached per client: a name it does not know may have been added since (by
    // copySchema, another client, the console), so a miss re-reads it once before refusing.
    const check = async (run: () => Promise<string | undefined>) => {
      if ((await run()) === undefined) return;
      this.#ctx.forgetSchema?.(res);
      const still = await run();
      if (still !== undefined) throw new QueryArgumentError(still);
    };
    const t = res.table;
    const rels = names?.filter((n) => n !== "*");
    if (t && rels?.length && this.#ctx.tableRelationships) {
      await check(async () => {
        const known = await this.#ctx.tableRelationships!(t.service, t.name);
        return known && this.#relatedMistake(rels, known);
      });
    }
    if (order?.length && this.#ctx.fieldsOf) {
      await check(async () => {
        const fields = await this.#ctx.fieldsOf!(res);
        if (!fields) return undefined;
        const lower = new Set(fields.map((f) => f.toLowerCase()));
        for (const spec of order) {
          const name = spec.split(" ")[0];
          if (!name.includes(".") && !lower.has(name.toLowerCase())) {
            return `.order(${JSON.stringify(spec)}): "${name}" is not a field of ` +
              `${this.#res.path} (DreamFactory would sort by nothing, or answer a 500). ` +
              `Fields: ${fields.join(", ")}`;
          }
        }
        return undefined;
      });
    }
  }

  /** A key DreamFactory's answer names `"name"`, quotes included: how it answers a misspelt
   * field of a system resource (it selects `fields` unchecked, Laravel quotes each name and SQLite
   * reads a quoted unknown name as the string it spells). Checked on the first record only: every
   * record has the same keys. Undefined (and no await) in the usual case. */
  #unknownField(first: unknown): Promise<never> | undefined {
    if (this.#res.kind !== "system" || !this.#s.fields || !first || typeof first !== "object") {
      return undefined;
    }
    for (const key in first) {
      if (key.length > 1 && key.charCodeAt(0) === 34 && key.charCodeAt(key.length - 1) === 34) {
        return this.#refuseField(key.slice(1, -1));
      }
    }
    return undefined;
  }

  async #refuseField(name: string): Promise<never> {
    const fields = await this.#ctx.fieldsOf?.(this.#res).catch(() => undefined);
    throw new QueryArgumentError(
      `.fields(): ${JSON.stringify(name)} is not a field of ${this.#res.path}: DreamFactory ` +
        `answered it as the constant string ${JSON.stringify(name)} (it selects fields ` +
        "unchecked, and SQLite reads an unknown quoted name as a string)." +
        (fields ? ` Fields: ${fields.join(", ")}` : ""),
    );
  }

  // ---------------------------------------------------------------- reading

  /** The read parameters, in a fixed order; `extra` and then `.params()` override. */
  #readQuery(extra?: Record<string, QueryValue>): Record<string, QueryValue> {
    const s = this.#s;
    const q: Record<string, QueryValue> = {};
    if (s.filter !== undefined) q.filter = s.filter;
    if (s.ids?.length) q.ids = s.ids.map(String);
    if (s.fields?.length) q.fields = s.fields;
    if (s.related?.length) q.related = s.related;
    if (s.order?.length) q.order = s.order;
    if (extra) { for (const k in extra) q[k] = extra[k]; }
    if (s.params) { for (const k in s.params) q[k] = s.params[k]; }
    return q;
  }

  #opts(query: Record<string, QueryValue>, more?: Partial<RequestOptions>): RequestOptions {
    const opts: RequestOptions = { query };
    if (this.#s.signal) opts.signal = this.#s.signal;
    if (this.#s.timeout !== undefined) opts.timeout = this.#s.timeout;
    return more ? Object.assign(opts, more) : opts;
  }

  /** The ids a call by ids covers: `.ids()` narrowed by `.offset()` and `.limit()` (so a
   * write touches exactly what a read returns). */
  #idsInScope(): Id[] | undefined {
    const s = this.#s;
    if (!s.ids?.length) return undefined;
    const from = s.offset ?? 0;
    return s.ids.slice(from, s.limit === undefined ? undefined : from + s.limit);
  }

  /** Whether the server decides the order of records read by ids (`.order()`, or `order` in
   * `.params()`); otherwise the client puts them in the ids' order. */
  #serverOrders(): boolean {
    return Boolean(this.#s.order?.length) || this.#s.params?.order !== undefined;
  }

  /** The `fields` that bring `key` along, when the ones asked for leave it out (it is taken out
   * of the records again): the ids' order needs it. */
  #withKey(key: string): { fields?: string[] } {
    const fields = this.#s.fields;
    return this.#fieldsMayLackKey() && !fields!.includes(key) ? { fields: [...fields!, key] } : {};
  }

  /** Whether `.fields()` names some fields (not `*`) and the client orders the records. */
  #fieldsMayLackKey(): boolean {
    const s = this.#s;
    return Boolean(s.fields?.length) && !s.fields!.includes("*") && !this.#serverOrders() &&
      s.params?.fields === undefined;
  }

  /** {@linkcode #withKey} where the key is known without a request: a system resource's id. */
  #keyForOrder(): { fields?: string[] } {
    return this.#res.kind === "system" ? this.#withKey(this.#res.idField) : {};
  }

  /** The key records read by ids are put in order by, and the `fields` that bring it. On a
   * table it is the schema's primary key (read once per client, only when `.fields()` may leave
   * it out), which `toRequest()` cannot wait for. */
  async #idsKey(): Promise<{ idf: string; withKey: { fields?: string[] } }> {
    const t = this.#res.table;
    if (!t || !this.#fieldsMayLackKey()) {
      return { idf: this.#res.idField, withKey: this.#keyForOrder() };
    }
    const key = (await this.#ctx.tableKey?.(t.service, t.name)) ?? this.#res.idField;
    return { idf: key, withKey: this.#withKey(key) };
  }

  /** A read of these ids. With `.order()` on a table, `continue` too: DreamFactory then reads the
   * ids with one query, which the order sorts (without it, each id is read on its own and the
   * records come back in the ids' order). */
  #idsQuery(chunk: readonly Id[], withKey: { fields?: string[] }): Record<string, QueryValue> {
    const q: Record<string, QueryValue> = {
      ...this.#readQuery(),
      ...withKey,
      ids: chunk.map(String),
    };
    if (this.#res.table && this.#serverOrders() && q.continue === undefined) q.continue = true;
    return q;
  }

  #firstPageQuery(): Record<string, QueryValue> {
    const s = this.#s;
    const ids = this.#idsInScope();
    if (ids) {
      return this.#idsQuery(ids.slice(0, MAX_IDS_PER_REQUEST), this.#keyForOrder());
    }
    const limit = s.pageSize !== undefined ? Math.min(s.pageSize, s.limit ?? Infinity) : s.limit;
    return this.#readQuery({ limit, offset: s.offset, include_count: true });
  }

  /** The exact records request `await builder` sends first (credentials as `$DF_...`
   * placeholders); once per client, a schema read for `.order()`/`.related()` checks may come
   * before it. */
  toRequest(): RequestDescription {
    return this.#ctx.describe("GET", this.#res.path, this.#opts(this.#firstPageQuery()));
  }

  /** The first request as a shell-safe curl command (`$DF_SESSION_TOKEN`, `$DF_API_KEY`). */
  toCurl(): string {
    return renderCurl(this.toRequest());
  }

  /**
   * Reads one page (`limit`, else `pageSize`, else the server's cap; from `offset`), with the
   * total count and whether more remain. For the next page: `.offset(page.next!)`.
   */
  async page(): Promise<Page<T>> {
    const s = this.#s;
    if (s.ids?.length) {
      // By ids: the first request of pages() (at most MAX_IDS_PER_REQUEST ids per URL).
      for await (const page of this.pages()) return page;
      return { records: asRecords([]), more: false };
    }
    const ready = this.#ready(s.related, s.order);
    if (ready) await ready;
    const offset = s.offset ?? 0;
    const res = await this.#ctx.send(
      "GET",
      this.#res.path,
      this.#opts(
        this.#readQuery({ limit: s.limit ?? s.pageSize, offset: s.offset, include_count: true }),
      ),
    );
    let rows = recordsOf<T>(res.body);
    const unknown = this.#unknownField(rows[0]);
    if (unknown) await unknown;
    // A resource that ignores `limit` still must not hand back more than asked for.
    const max = s.limit ?? s.pageSize;
    if (max !== undefined && rows.length > max) rows = rows.slice(0, max);
    const records = asRecords(rows);
    const count = totalOf(res.body);
    const end = offset + records.length;
    const more = count !== undefined ? end < count : false;
    const page: Page<T> = { records, more };
    if (count !== undefined) page.count = count;
    if (more) page.next = end;
    return page;
  }

  /** Walks every page of matching records (stops at `.limit()`). */
  async *pages(): AsyncGenerator<Page<T>> {
    const s = this.#s;
    const ready = this.#ready(s.related, s.order);
    if (ready) await ready;
    const ids = this.#idsInScope();
    if (ids) {
      // Positions count in the `.ids()` list, so errors and `next` line up with what was asked.
      const base = s.offset ?? 0;
      const before: BatchSuccess<T>[] = [];
      const { idf, withKey } = await this.#idsKey();
      for (let i = 0; i < ids.length; i += MAX_IDS_PER_REQUEST) {
        const chunk = ids.slice(i, i + MAX_IDS_PER_REQUEST);
        const last = i + MAX_IDS_PER_REQUEST >= ids.length;
        let res: TransportResponse;
        try {
          res = await this.#ctx.send(
            "GET",
            this.#res.path,
            this.#opts(this.#idsQuery(chunk, withKey), { submitted: chunk.length }),
          );
        } catch (err) {
          // The server only saw this chunk: report positions in the whole list, with the
          // records of earlier chunks as successes and later ids as never attempted.
          if (err instanceof DreamFactoryBatchError && (base + i > 0 || !last)) {
            throw err.rebased(base + i, chunk.length, base + ids.length, before);
          }
          throw err;
        }
        const answered = recordsOf<T>(res.body);
        const unknown = this.#unknownField(answered[0]);
        if (unknown) await unknown;
        const records = this.#serverOrders() ? answered : inIdOrder(answered, chunk, idf);
        if (withKey.fields) {
          for (const r of records) delete (r as Record<string, unknown>)[idf];
        }
        if (last) {
          yield { records: asRecords(records), more: false };
        } else {
          records.forEach((record, k) => before.push({ index: base + i + k, record }));
          yield { records: asRecords(records), more: true, next: base + i + MAX_IDS_PER_REQUEST };
        }
      }
      return;
    }
    let offset = s.offset ?? 0;
    let got = 0;
    for (let n = 0; n < MAX_PAGES; n++) {
      const remaining = s.limit === undefined ? undefined : s.limit - got;
      if (remaining === 0) return;
      const limit = s.pageSize !== undefined
        ? Math.min(s.pageSize, remaining ?? Infinity)
        : remaining;
      const res = await this.#ctx.send(
        "GET",
        this.#res.path,
        // The first request is exactly toRequest()'s (offset as the user set it, even 0).
        this.#opts(this.#readQuery({
          limit,
          offset: n === 0 ? s.offset : offset,
          include_count: true,
        })),
      );
      let records = recordsOf<T>(res.body);
      const unknown = this.#unknownField(records[0]);
      if (unknown) await unknown;
      const count = totalOf(res.body);
      // A resource that ignores `limit` still must not hand back more than asked for.
      if (remaining !== undefined && records.length > remaining) {
        records = records.slice(0, remaining);
      }
      // Advance by what arrived, not by what was asked: the server silently caps page sizes.
      offset += records.length;
      got += records.length;
      // Without a count or `meta.next` the resource does not page (DreamFactory's
      // system/service_type ignores limit, offset and include_count): this was everything.
      const unpaged = count === undefined && !hasNextOf(res.body);
      const done = records.length === 0 || unpaged || (count !== undefined && offset >= count) ||
        (s.limit !== undefined && got >= s.limit);
      const page: Page<T> = { records: asRecords(records), more: !done };
      if (count !== undefined) page.count = count;
      if (!done) page.next = offset;
      if (records.length) yield page;
      if (done) return;
    }
    throw new Error(
      `Stopped after ${MAX_PAGES} pages of ${this.#res.path}: the server keeps ` +
        "returning records past the reported count.",
    );
  }

  /** Every matching record (all pages, up to `.limit()`). Same as `await builder`. */
  async all(): Promise<Records<T>> {
    const out: T[] = [];
    for await (const page of this.pages()) {
      for (const r of page.records) out.push(r);
    }
    return asRecords(out);
  }

  /** Awaiting a builder reads every matching record. */
  then<R1 = Records<T>, R2 = never>(
    onfulfilled?: ((value: Records<T>) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.all().then(onfulfilled, onrejected);
  }

  /** `for await (const record of builder)` walks every page. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for await (const page of this.pages()) yield* page.records;
  }

  /** Number of matching records (`count_only=true`; ignores limit and offset). */
  async count(): Promise<number> {
    if (this.#s.ids?.length) {
      // DreamFactory answers `ids` with the records, whatever `count_only` says.
      const idf = this.#res.idField;
      return (await this.#with({ fields: [idf], related: undefined, order: undefined })).length;
    }
    const q = this.#readQuery({ count_only: true });
    delete q.fields;
    delete q.related;
    delete q.order;
    const res = await this.#ctx.send("GET", this.#res.path, this.#opts(q));
    // A number, or (resources that ignore count_only, like system/service_type) a list.
    const n = typeof res.body === "number" || typeof res.body === "string"
      ? Number(res.body)
      : totalOf(res.body) ??
        (Array.isArray((res.body as { resource?: unknown } | null)?.resource)
          ? recordsOf(res.body).length
          : NaN);
    if (!Number.isFinite(n)) {
      throw new Error(`count(): the server answered ${JSON.stringify(res.body)}, not a number`);
    }
    return n;
  }

  /** The first matching record, or undefined. */
  async first(): Promise<T | undefined> {
    const { records } = await this.#with({ limit: 1 }).page();
    return records[0];
  }

  /** One record by id (fields and related apply); throws a 404 `DreamFactoryError` if absent. */
  async get(id: Id): Promise<T> {
    if ((typeof id !== "string" && typeof id !== "number") || String(id) === "") {
      throw new QueryArgumentError(`.get(): invalid id ${JSON.stringify(id)}`);
    }
    await this.#checkSchema(this.#s.related);
    const q = this.#readQuery();
    delete q.filter;
    delete q.ids;
    delete q.order;
    const res = await this.#ctx.send(
      "GET",
      `${this.#res.path}/${encodeURIComponent(String(id))}`,
      this.#opts(q),
    );
    const unknown = this.#unknownField(res.body);
    if (unknown) await unknown;
    return res.body as T;
  }

  // ---------------------------------------------------------------- writing

  #writeQuery(opts: WriteOptions | DeleteOptions, extra: Record<string, QueryValue> = {}) {
    const related = list(opts.related);
    if (related) this.#checkRelated(related);
    if (opts.continue && opts.rollback && this.#res.kind === "table") {
      throw new QueryArgumentError(
        "continue and rollback cannot be combined on database tables (DreamFactory refuses it): " +
          "choose continue (keep what succeeds) or rollback (all or nothing).",
      );
    }
    return {
      ...extra,
      fields: list(opts.fields),
      related,
      continue: opts.continue || undefined,
      rollback: opts.rollback || undefined,
      ...opts.params,
    };
  }

  async #send(method: string, opts: WriteOptions | DeleteOptions, request: RequestOptions) {
    const ready = this.#ready(list(opts.related));
    if (ready) await ready;
    return await this.#ctx.send(method, this.#res.path, request);
  }

  #writeOpts(
    opts: WriteOptions | DeleteOptions,
    query: Record<string, QueryValue>,
    more: Partial<RequestOptions> = {},
  ): RequestOptions {
    return {
      query,
      signal: opts.signal ?? this.#s.signal,
      timeout: opts.timeout ?? this.#s.timeout,
      rollback: opts.rollback,
      ...more,
    };
  }

  #checkWritable(what: string): void {
    if (this.#res.readOnly) {
      throw new QueryArgumentError(`${this.#res.path} is read-only: cannot ${what}`);
    }
  }

  /**
   * Creates one or more records (sent as `{"resource": [...]}`); returns what the server gives
   * back for each (the id, or the `fields` asked for). A failure throws a
   * `DreamFactoryBatchError` listing each record's outcome.
   *
   * @example
   * ```ts
   * import { connect } from "@dfkit/dfkit";
   * const df = await connect();
   * const [role] = await df.system.role.create({ name: "readers", is_active: true });
   * const users = await df.system.user.create(
   *   [{ name: "A", email: "a@x.com" }, { name: "B", email: "b@x.com" }],
   *   { fields: ["id", "email"], rollback: true },
   * );
   * ```
   */
  async create(
    records: Partial<T> | readonly Partial<T>[],
    options: WriteOptions = {},
  ): Promise<Records<T>> {
    this.#checkWritable("create");
    if (this.#s.ids?.length || this.#s.filter) {
      throw new QueryArgumentError(
        ".create() takes no .ids()/.filter(): call it on the resource itself",
      );
    }
    const items = Array.isArray(records) ? [...records] : [records];
    items.forEach((r, i) => {
      if (!r || typeof r !== "object" || Array.isArray(r)) {
        throw new QueryArgumentError(`.create(): record #${i} is not an object`);
      }
    });
    if (!items.length) return asRecords([]);
    const res = await this.#send(
      "POST",
      options,
      this.#writeOpts(options, this.#writeQuery(options), {
        body: { resource: items },
        submitted: items.length,
      }),
    );
    return asRecords(recordsOf<T>(res.body));
  }

  /**
   * Partially updates records (PATCH). Either pass one patch and narrow the builder with
   * `.ids()` or `.filter()`, or pass an array of records that each carry their id. System
   * resources cannot be written by filter in DreamFactory, so there dfkit reads the matching
   * ids first and updates by ids. Returns what the server gives back (ids, or `fields`).
   *
   * @example
   * ```ts
   * import { connect } from "@dfkit/dfkit";
   * const df = await connect();
   * await df.system.role.ids(4).update({ description: "read only" });
   * await df.system.user.update([{ id: 2, phone: "555" }, { id: 3, phone: "556" }]);
   * await df.db("db").table("todo").where("done", "=", false).update({ done: true });
   * ```
   */
  update(
    patch: Partial<T> | readonly Partial<T>[],
    options: WriteOptions = {},
  ): Promise<Records<T>> {
    return this.#modify("PATCH", patch, options);
  }

  /** Like {@linkcode update} but sent as PUT (DreamFactory treats PUT on records as a merge too). */
  replace(
    record: Partial<T> | readonly Partial<T>[],
    options: WriteOptions = {},
  ): Promise<Records<T>> {
    return this.#modify("PUT", record, options);
  }

  async #modify(
    method: "PATCH" | "PUT",
    input: Partial<T> | readonly Partial<T>[],
    options: WriteOptions,
  ): Promise<Records<T>> {
    this.#checkWritable("update");
    const verb = method === "PATCH" ? "update" : "replace";
    const idf = this.#res.idField;
    if (Array.isArray(input)) {
      if (this.#s.ids?.length || this.#s.filter) {
        throw new QueryArgumentError(
          `.${verb}([...]) with records carrying ids takes no .ids()/.filter(); ` +
            `pass one patch object to apply it to the narrowed records instead.`,
        );
      }
      input.forEach((r, i) => {
        const rec = r as Record<string, unknown> | null;
        if (!rec || typeof rec !== "object" || rec[idf] === undefined || rec[idf] === null) {
          throw new QueryArgumentError(
            `.${verb}(): record #${i} has no "${idf}"; every record needs one`,
          );
        }
      });
      if (!input.length) return asRecords([]);
      return await this.#write(method, options, {}, { resource: [...input] }, input.length);
    }
    if (!input || typeof input !== "object") {
      throw new QueryArgumentError(`.${verb}(): expected a record object or an array of records`);
    }
    const target = await this.#target(verb, options, input as Record<string, unknown>);
    if (target === null) return asRecords([]);
    if (target.ids && target.ids.length > MAX_IDS_PER_REQUEST) {
      // Too many ids for a URL. Tables take `ids` in the body (their key column may not be
      // `id`); system resources get one record per id (same meaning, same order).
      if (this.#res.kind === "table") {
        const body = { resource: [input], ids: target.ids.map(String).join(",") };
        return await this.#write(method, options, {}, body, target.ids.length);
      }
      const records = target.ids.map((id) => ({ ...input, [idf]: id }));
      return await this.#write(method, options, {}, { resource: records }, records.length);
    }
    return await this.#write(method, options, target.query, { resource: [input] }, target.count);
  }

  /**
   * Deletes the narrowed records (`.ids()`, or `.filter()`; on system resources the filter's
   * ids are read first); returns their ids (or `fields`). On tables a filter is sent again until
   * no match is left (DreamFactory deletes at most its record cap per request). Without
   * narrowing it refuses, unless `{ force: true }` asks to empty the whole resource.
   *
   * @example
   * ```ts
   * import { connect } from "@dfkit/dfkit";
   * const df = await connect();
   * await df.system.user.ids(3).delete();
   * await df.db("db").table("todo").where("done", "=", true).delete();
   * ```
   */
  async delete(options: DeleteOptions = {}): Promise<Records<T>> {
    this.#checkWritable("delete");
    const s = this.#s;
    if (!s.ids?.length && !s.filter) {
      if (!options.force) {
        throw new QueryArgumentError(
          `.delete() on ${this.#res.path} without .ids() or .filter() would delete every ` +
            "record; narrow the builder, or pass { force: true } to really empty it.",
        );
      }
      const res = await this.#send(
        "DELETE",
        options,
        this.#writeOpts(options, this.#writeQuery(options, { force: true })),
      );
      return asRecords(recordsOf<T>(res.body));
    }
    const target = await this.#target("delete", options);
    if (target === null) return asRecords([]);
    if (target.ids && target.ids.length > MAX_IDS_PER_REQUEST) {
      // Too many ids for a URL: DreamFactory also takes them in the body (`ids` on tables,
      // whose key column may not be `id`; records on system resources).
      if (this.#res.kind === "table") {
        const body = { ids: target.ids.map(String).join(",") };
        return await this.#write("DELETE", options, {}, body, target.ids.length);
      }
      const idf = this.#res.idField;
      const records = target.ids.map((id) => ({ [idf]: id }));
      return await this.#write("DELETE", options, {}, { resource: records }, records.length);
    }
    if (target.query.filter !== undefined) return await this.#deleteByFilter(options, target.query);
    return await this.#write("DELETE", options, target.query, undefined, target.count);
  }

  /** A table's records by filter. DreamFactory deletes one page of matches per request (its
   * record cap, 1000 by default) and says more matched with `meta.next`: repeat until none do,
   * so a filter never silently leaves matches behind. */
  async #deleteByFilter(
    options: DeleteOptions,
    query: Record<string, QueryValue>,
  ): Promise<Records<T>> {
    const deleted: T[] = [];
    for (let round = 0; round < MAX_PAGES; round++) {
      const res = await this.#send(
        "DELETE",
        options,
        this.#writeOpts(options, this.#writeQuery(options, query)),
      );
      const rows = recordsOf<T>(res.body);
      for (const row of rows) deleted.push(row);
      if (!rows.length || !hasNextOf(res.body)) break;
    }
    return asRecords(deleted);
  }

  /** Where a narrowed write goes: ids, a filter (tables), or ids resolved from the filter. */
  async #target(
    verb: string,
    options: WriteOptions,
    record?: Record<string, unknown>,
  ): Promise<Target | null> {
    const s = this.#s;
    if ((s.limit !== undefined || s.offset !== undefined) && !s.ids?.length) {
      throw new QueryArgumentError(
        `.${verb}() ignores .limit()/.offset() on the server and would touch every match; ` +
          `select the records first (e.g. .ids(...(await q).map((r) => r.id))).`,
      );
    }
    const ids = this.#idsInScope();
    if (ids) {
      if (s.filter) {
        throw new QueryArgumentError(`.${verb}(): use either .ids() or .filter(), not both`);
      }
      return ids.length ? byIds(ids) : null;
    }
    if (s.filter) {
      if (this.#res.kind === "table") return { query: { filter: s.filter } };
      // System resources do not support writes by filter: resolve the ids first.
      const idf = this.#res.idField;
      const rows = await this.#with({
        fields: [idf],
        related: undefined,
        order: undefined,
        signal: options.signal ?? this.#s.signal,
      }).all();
      const ids = rows.map((r) => (r as Record<string, unknown>)[idf] as Id);
      return ids.length ? byIds(ids) : null;
    }
    const id = record?.[this.#res.idField];
    if (id !== undefined && id !== null) return { query: {}, count: 1 };
    throw new QueryArgumentError(
      `.${verb}() needs to know which records: narrow with .ids(...) or .filter(...), ` +
        `or include "${this.#res.idField}" in the record.`,
    );
  }

  async #write(
    method: string,
    options: WriteOptions | DeleteOptions,
    target: Record<string, QueryValue>,
    body: unknown,
    submitted?: number,
  ): Promise<Records<T>> {
    const res = await this.#send(
      method,
      options,
      this.#writeOpts(options, this.#writeQuery(options, target), { body, submitted }),
    );
    return asRecords(recordsOf<T>(res.body));
  }

  // ---------------------------------------------------------------- display

  /** Shows the request, never the client or its credentials. */
  [Symbol.for("Deno.customInspect")](): string {
    const r = this.toRequest();
    return `Query<${this.#res.name}> ${r.method} ${r.url}`;
  }

  /** The request this builder makes (no secrets). */
  toJSON(): RequestDescription {
    return this.toRequest();
  }
}
