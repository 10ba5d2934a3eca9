/**
 * Copying rows between tables of two database services: pages are read in primary-key order
 * (keyset pagination, so every page costs the same), written as batches with bounded
 * concurrency (all-or-nothing each), checkpointed after every committed batch so a run can
 * resume, and verified at the end by row count and a checksum of the copied columns. Values are
 * compared as DreamFactory 7 stores what it is sent: strings trimmed and `""` as null (Laravel's
 * input cleaning, see `lib/stored.ts`), which also means a `""` bound for a NOT NULL column is
 * refused by such a target.
 *
 * A target whose primary key is auto-increment assigns its own keys: the copy leaves the key out
 * of the rows it writes (explicit ids would not advance every database's sequence, e.g.
 * PostgreSQL's) and out of the checksum, can report the source -> target key map (`keyMap`), and
 * can translate foreign keys of a later table copy with it (`remap`), so related tables stay
 * consistent. With a checkpoint, the pairs of every committed batch are appended to
 * `<checkpoint>.keys.jsonl` (one line per batch), so a copy resumed in a new process still knows
 * the whole map; {@linkcode writeKeyMap} and {@linkcode readKeyMap} keep a map in a file for a
 * later copy (the CLI's `copy-data --key-map` and `--remap`).
 *
 * @module
 */
import { errorMessage, type MigrateClient, records } from "./client.ts";
import { fileError, readJsonFile, writeTextFileNamed } from "../files.ts";
import { laravelClean } from "../stored.ts";

/** One side of a copy: a table of a database service. */
export interface TableRef {
  /** A connected client of the instance. */
  df: MigrateClient;
  /** Database service name. */
  db: string;
  /** Table name. */
  table: string;
}

/** Progress of {@linkcode copyData}. */
export interface CopyProgress {
  /** Rows committed to the target (including rows of a resumed earlier run). */
  rows: number;
  /** Rows the source has in total. */
  total: number;
  /** Batches committed in this run. */
  batches: number;
}

/** A primary-key value. */
export type RowKey = string | number;

/** Options of {@linkcode copyData}. */
export interface CopyDataOptions {
  /** Rows per page and per write request (default 1000). */
  batchSize?: number;
  /** Write requests in flight at once (default 4). */
  concurrency?: number;
  /** Columns to copy (default: every non-virtual column of the source). */
  fields?: string[];
  /**
   * A checkpoint file: written after every committed batch, read at start to resume after the
   * last committed batch, removed when the copy completes. Beside it, `<checkpoint>.keys.jsonl`
   * records the source -> target key pairs of committed batches (removed with it), so that a
   * resumed copy's `keyMap` is complete.
   */
  checkpoint?: string;
  /** Verify row counts and the checksum at the end (default true). */
  verify?: boolean;
  /** Called after every committed batch. */
  onProgress?: (p: CopyProgress) => void;
  /** Stops the copy: no further batch is sent, the batches in flight are waited for and
   * recorded, and the checkpoint keeps what was committed. */
  signal?: AbortSignal;
  /** Filled with source key -> target key of every copied row (the same key when the target
   * keeps the source's keys). A copy resumed from its checkpoint adds the pairs of the batches
   * earlier runs committed (from `<checkpoint>.keys.jsonl`), so the map covers the whole table;
   * {@linkcode writeKeyMap} saves it for a copy in another process. */
  keyMap?: Map<RowKey, RowKey>;
  /** Column -> key map of a table copied before: foreign key values are translated with it. */
  remap?: Record<string, Map<RowKey, RowKey>>;
}

/** Row counts and checksums of both sides. */
export interface Verification {
  /** True when counts and checksums match. */
  ok: boolean;
  /** Rows in the source. */
  sourceCount: number;
  /** Rows in the target. */
  targetCount: number;
  /** Checksum of the source rows (hex). */
  sourceChecksum: string;
  /** Checksum of the target rows (hex). */
  targetChecksum: string;
}

/** Outcome of {@linkcode copyData}. */
export interface CopyDataReport {
  /** Rows copied by this run. */
  rows: number;
  /** Rows committed in total (earlier runs included). */
  totalRows: number;
  /** Batches committed by this run. */
  batches: number;
  /** True when the target kept the source's primary keys (false: it assigned its own). */
  keysPreserved: boolean;
  /** Primary key value the run resumed after, if it resumed. */
  /** Primary key value the run resumed after, if it resumed. */
  resumedAfter?: RowKey;
  /** HTTP requests made (reads, writes and verification). */
  requests: number;
  /** Duration in seconds, verification included. */
  seconds: number;
  /** Seconds spent copying (until the last batch was committed). */
  copySeconds: number;
  /** Rows copied per second of copying (verification excluded). */
  rowsPerSecond: number;
  /** Counts and checksums, unless `verify: false`. */
  verification?: Verification;
}

/** A committed batch beyond the contiguous prefix (recorded when a run stops). */
interface AheadBatch {
  after: RowKey | null;
  last: RowKey;
  rows: number;
  hash: string;
}

interface Checkpoint {
  format: "dfkit.copy-checkpoint/v1";
  source: string;
  target: string;
  key: string;
  /** Last primary key value of the last committed batch (all earlier batches committed). */
  lastKey: RowKey | null;
  rows: number;
  /** Sum of row hashes of committed rows (mod 2^64), hex. */
  checksum: string;
  /** Batches after `lastKey` known to be committed (a graceful stop waits for them). */
  ahead: AheadBatch[];
  /** Highest key of any batch sent, written before it is sent: after a hard kill, rows up to
   * it may have landed past `lastKey`. */
  sent?: RowKey | null;
  /** Target row count before the copy began (when the target assigns its own keys). */
  targetBase?: number;
}

/** One line of `<checkpoint>.keys.jsonl`: the key pairs of a committed batch. */
interface KeyLine {
  after: RowKey | null;
  last: RowKey;
  pairs: [RowKey, RowKey][];
}

/** The key-pairs file kept beside a checkpoint. */
function keysFile(checkpoint: string): string {
  return `${checkpoint}.keys.jsonl`;
}

/**
 * The key pairs of the batches a checkpoint counts as committed (its contiguous prefix up to
 * `lastKey` and its `ahead` batches), or null when the file does not hold them all (a
 * checkpoint of an older version, or a file removed). Lines of batches the checkpoint does not
 * count (written by a run killed before its checkpoint caught up) are left out; when a batch was
 * copied again, its later line wins. A last line cut short by a kill is ignored.
 */
async function readKeyLines(
  checkpoint: string,
  saved: Checkpoint,
): Promise<Map<RowKey, RowKey> | null> {
  const path = keysFile(checkpoint);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) text = "";
    else throw fileError(e, path, "read", "key pairs file");
  }
  const lines = text.split("\n");
  lines.pop(); // "" after the last newline, or a line a kill cut short
  const byAfter = new Map<string, KeyLine>();
  lines.forEach((l, i) => {
    let line: KeyLine;
    try {
      line = JSON.parse(l);
    } catch {
      throw new Error(`copyData: key pairs file ${path} is broken at line ${i + 1}`);
    }
    byAfter.set(JSON.stringify(line.after), line);
  });
  const map = new Map<RowKey, RowKey>();
  const add = (l: KeyLine) => l.pairs.forEach(([s, t]) => map.set(s, t));
  const goal = JSON.stringify(saved.lastKey);
  let at = JSON.stringify(null);
  for (let steps = 0; at !== goal; steps++) {
    const l = byAfter.get(at);
    if (!l || steps > lines.length) return null;
    add(l);
    at = JSON.stringify(l.last);
  }
  for (const a of saved.ahead ?? []) {
    const l = byAfter.get(JSON.stringify(a.after));
    if (!l || JSON.stringify(l.last) !== JSON.stringify(a.last)) return null;
    add(l);
  }
  return map;
}

/** Raised when a copy stops; the checkpoint (if any) lets a re-run continue. */
export class CopyDataError extends Error {
  /** Builds the error. */
  constructor(message: string, readonly rowsCommitted: number, readonly lastKey: unknown) {
    super(message);
    this.name = "CopyDataError";
  }
}

const MOD = 1n << 64n;

/** Hashes a row's given columns to 64 bits; table checksums are sums of these (mod 2^64). */
type RowHash = (row: Record<string, unknown>, fields: string[]) => bigint;

/** The row hash. node:crypto takes ~35 ms to load, a third of importing mod.ts, and only copies
 * and verifications hash rows: they load it here, on first use. */
async function rowHasher(): Promise<RowHash> {
  const { createHash } = await import("node:crypto");
  return (row, fields) => {
    const h = createHash("sha256");
    // Values as DreamFactory 7 stores what the copy sends (strings trimmed, "" as null): a source
    // written some other way holds values the target can never hold, and they are the same row.
    h.update(JSON.stringify(fields.map((f) => laravelClean(row[f] ?? null))));
    return h.digest().readBigUInt64BE(0);
  };
}

function literal(v: RowKey): string {
  return typeof v === "number" ? String(v) : `'${String(v).replace(/'/g, "''")}'`;
}

function describe(ref: TableRef): string {
  return `${ref.df.url} ${ref.db}/${ref.table}`;
}

function tablePath(ref: TableRef): string {
  return `${ref.db}/_table/${encodeURIComponent(ref.table)}`;
}

/** The checkpoint at `path`, or null when there is none yet (a fresh copy). */
async function readCheckpoint(path: string): Promise<Checkpoint | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw fileError(e, path, "read", "checkpoint");
  }
  try {
    return JSON.parse(text) as Checkpoint;
  } catch (e) {
    throw new Error(`copyData: cannot read checkpoint ${path}: ${errorMessage(e)}`);
  }
}

/** Replaces the checkpoint at once (written beside it, then renamed over it). */
async function writeCheckpoint(path: string, cp: Checkpoint): Promise<void> {
  const tmp = `${path}.tmp`;
  try {
    await Deno.writeTextFile(tmp, JSON.stringify(cp, null, 2) + "\n");
  } catch (e) {
    // The user named `path`; only a folder named like the temporary file is about that file.
    throw fileError(e, e instanceof Deno.errors.IsADirectory ? tmp : path, "write", "checkpoint");
  }
  try {
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw fileError(e, path, "write", "checkpoint");
  }
}

/** Streams a table in primary-key order, page by page (keyset pagination). */
async function* pages(
  ref: TableRef,
  key: string,
  fields: string[],
  after: RowKey | null,
  size: number,
  count: () => void,
  signal?: AbortSignal,
  upTo?: RowKey,
): AsyncGenerator<Record<string, unknown>[]> {
  let last = after;
  while (true) {
    signal?.throwIfAborted();
    count();
    const conditions = [
      ...(last === null ? [] : [`(${key} > ${literal(last)})`]),
      ...(upTo === undefined ? [] : [`(${key} <= ${literal(upTo)})`]),
    ];
    const res = await ref.df.request("GET", tablePath(ref), {
      query: {
        fields: fields.join(","),
        order: `${key} ASC`,
        limit: size,
        ...(conditions.length ? { filter: conditions.join(" and ") } : {}),
      },
      signal,
    });
    const rows = records(res);
    // Only an empty page ends the table: a server may cap pages below `size`
    // (a service's max_records), so a short page says nothing.
    if (!rows.length) return;
    yield rows;
    last = rows[rows.length - 1][key] as RowKey;
  }
}

/** Deletes the target rows whose keys the source has in (`after`, `upTo`]: the rows a killed
 * run may have written past its checkpoint, and no other row of the target. */
async function removeUncommitted(
  source: TableRef,
  target: TableRef,
  key: string,
  after: RowKey | null,
  upTo: RowKey,
  count: () => void,
): Promise<void> {
  for await (const rows of pages(source, key, [key], after, 1000, count, undefined, upTo)) {
    for (let i = 0; i < rows.length; i += 100) {
      const keys = rows.slice(i, i + 100).map((r) => literal(r[key] as RowKey));
      count();
      await target.df.request("DELETE", tablePath(target), {
        query: { filter: `${key} in (${keys.join(", ")})` },
      });
    }
  }
}

async function countRows(ref: TableRef, count: () => void): Promise<number> {
  count();
  const res = await ref.df.request("GET", tablePath(ref), { query: { count_only: true } });
  const n = typeof res === "number"
    ? res
    : Number((res as { meta?: { count?: number } })?.meta?.count);
  if (!Number.isFinite(n)) throw new Error(`copyData: cannot count rows of ${describe(ref)}`);
  return n;
}

type FieldInfo = {
  name: string;
  is_virtual?: boolean;
  is_aggregate?: boolean;
  is_primary_key?: boolean;
  auto_increment?: boolean;
};

/** The primary key, the copied columns and whether the key is auto-increment. */
async function tableLayout(
  ref: TableRef,
  wanted: string[] | undefined,
  count: () => void,
): Promise<{ key: string; fields: string[]; autoKey: boolean }> {
  count();
  const schema = await ref.df.request(
    "GET",
    `${ref.db}/_schema/${encodeURIComponent(ref.table)}`,
  ) as { primary_key?: string | string[]; field?: FieldInfo[] };
  const all = schema.field ?? [];
  const pk = Array.isArray(schema.primary_key)
    ? schema.primary_key
    : schema.primary_key
    ? [schema.primary_key]
    : all.filter((f) => f.is_primary_key).map((f) => f.name);
  if (pk.length !== 1) {
    throw new Error(
      `copyData: ${describe(ref)} needs a single-column primary key to copy in order (found ${
        pk.length ? pk.join(", ") : "none"
      })`,
    );
  }
  const key = pk[0];
  const fields = [
    ...(wanted ?? all.filter((f) => !f.is_virtual && !f.is_aggregate).map((f) => f.name)),
  ];
  if (!fields.includes(key)) fields.unshift(key);
  const keyField = all.find((f) => f.name.toLowerCase() === key.toLowerCase());
  return { key, fields, autoKey: Boolean(keyField?.auto_increment) };
}

/** Row count and checksum of a table's columns. */
async function tableChecksum(
  ref: TableRef,
  key: string,
  fields: string[],
  hashed: string[],
  batchSize: number,
  count: () => void,
  signal?: AbortSignal,
): Promise<{ count: number; checksum: string }> {
  const rowHash = await rowHasher();
  let hash = 0n;
  let n = 0;
  for await (const rows of pages(ref, key, fields, null, batchSize, count, signal)) {
    n += rows.length;
    for (const r of rows) hash += rowHash(r, hashed);
  }
  return { count: n, checksum: (hash % MOD).toString(16) };
}

/**
 * Compares two tables by row count and a checksum of the given columns (default: the source's
 * non-virtual columns; the key is left out when the target assigns its own keys).
 *
 * @example
 * ```ts
 * import { connect, verifyCopy } from "@dfkit/dfkit";
 *
 * const a = await connect({ profile: "staging" });
 * const b = await connect({ profile: "prod" });
 * const v = await verifyCopy(
 *   { df: a, db: "db", table: "contact" },
 *   { df: b, db: "db", table: "contact" },
 * );
 * console.log(v.ok, v.sourceCount, v.targetCount);
 * ```
 */
export async function verifyCopy(
  source: TableRef,
  target: TableRef,
  options: { fields?: string[]; batchSize?: number; signal?: AbortSignal } = {},
): Promise<Verification> {
  const count = () => {};
  const { key, fields } = await tableLayout(source, options.fields, count);
  const { autoKey } = await tableLayout(target, fields, count);
  const hashed = autoKey ? fields.filter((f) => f !== key) : fields;
  const size = options.batchSize ?? 1000;
  const [a, b] = await Promise.all([
    tableChecksum(source, key, fields, hashed, size, count, options.signal),
    tableChecksum(target, key, fields, hashed, size, count, options.signal),
  ]);
  return {
    ok: a.count === b.count && a.checksum === b.checksum,
    sourceCount: a.count,
    targetCount: b.count,
    sourceChecksum: a.checksum,
    targetChecksum: b.checksum,
  };
}

/**
 * Copies the rows of a table to another (typically on another instance). Run
 * {@linkcode copySchema} first so the target table exists. Keys are kept unless the target's key
 * is auto-increment (then the target assigns them, see the module notes): use `keyMap` and
 * `remap` to keep foreign keys of related tables consistent.
 *
 * @example
 * ```ts
 * import { connect, copyData } from "@dfkit/dfkit";
 *
 * const src = await connect({ profile: "staging" });
 * const dst = await connect({ profile: "prod" });
 * const customers = new Map();
 * await copyData(
 *   { df: src, db: "db", table: "customer" },
 *   { df: dst, db: "db", table: "customer" },
 *   { keyMap: customers, checkpoint: "customer.ckpt.json" },
 * );
 * const r = await copyData(
 *   { df: src, db: "db", table: "order" },
 *   { df: dst, db: "db", table: "order" },
 *   { remap: { customer_id: customers }, onProgress: (p) => console.log(`${p.rows}/${p.total}`) },
 * );
 * console.log(r.rowsPerSecond, r.verification?.ok);
 * ```
 */
export async function copyData(
  source: TableRef,
  target: TableRef,
  options: CopyDataOptions = {},
): Promise<CopyDataReport> {
  const rowHash = await rowHasher();
  const started = performance.now();
  const batchSize = options.batchSize ?? 1000;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  let requests = 0;
  const count = () => requests++;

  const { key, fields } = await tableLayout(source, options.fields, count);
  const { autoKey } = await tableLayout(target, fields, count);
  const hashed = autoKey ? fields.filter((f) => f !== key) : fields;
  const remap = Object.entries(options.remap ?? {});

  let cp: Checkpoint = {
    format: "dfkit.copy-checkpoint/v1",
    source: describe(source),
    target: describe(target),
    key,
    lastKey: null,
    rows: 0,
    checksum: "0",
    ahead: [],
  };
  let resumedAfter: RowKey | undefined;
  let ahead: AheadBatch[] = [];
  let resumed = false;
  if (options.checkpoint) {
    const saved = await readCheckpoint(options.checkpoint);
    if (saved) {
      resumed = true;
      if (saved.source !== cp.source || saved.target !== cp.target || saved.key !== key) {
        throw new Error(
          `copyData: checkpoint ${options.checkpoint} belongs to another copy (${saved.source} -> ${saved.target}); remove it or pass another path`,
        );
      }
      cp = { ...saved, ahead: [] };
      if (cp.lastKey !== null) resumedAfter = cp.lastKey;
      if (options.keyMap) {
        const pairs = await readKeyLines(options.checkpoint, saved);
        if (!pairs) {
          throw new Error(
            `copyData: ${
              keysFile(options.checkpoint)
            } lacks the key pairs of batches checkpoint ${options.checkpoint} counts as copied, ` +
              `so the key map would be incomplete: copy without keyMap, or start over without ` +
              `the checkpoint.`,
          );
        }
        for (const [s, t] of pairs) options.keyMap.set(s, t);
      }
      if (autoKey) {
        ahead = saved.ahead ?? [];
        // New keys cannot tell which in-flight batches of a killed run landed: count instead.
        if (saved.targetBase !== undefined) {
          const expected = saved.targetBase + saved.rows +
            ahead.reduce((n, a) => n + a.rows, 0);
          const now = await countRows(target, count);
          if (now > expected) {
            throw new CopyDataError(
              `copyData ${describe(source)} -> ${describe(target)}: the target has ${
                now - expected
              } row(s) more than checkpoint ${options.checkpoint} accounts for (batches in ` +
                `flight when the previous run was stopped, or rows added since). Resuming ` +
                `would copy them twice: remove them (rows after the ${saved.rows} copied) or ` +
                `start over without the checkpoint.`,
              saved.rows,
              saved.lastKey,
            );
          }
        }
      } else if (saved.sent !== undefined && saved.sent !== null && saved.sent !== cp.lastKey) {
        // Kept keys: rows sent after the last committed batch may have landed; remove exactly
        // those (by the source's keys) and copy them again. Other target rows are left alone.
        await removeUncommitted(source, target, key, cp.lastKey, saved.sent, count);
      }
    }
  }
  if (options.checkpoint && autoKey && cp.targetBase === undefined) {
    cp.targetBase = await countRows(target, count);
  }

  const total = await countRows(source, count);
  const rowsBefore = cp.rows;
  let checksum = BigInt("0x" + (cp.checksum || "0"));
  let batches = 0;

  // Batches complete out of order; the checkpoint advances only over a contiguous prefix.
  type Batch = { after: RowKey | null; last: RowKey; rows: number; hash: bigint; done: boolean };
  const window: Batch[] = [];
  const inflight = new Set<Promise<void>>();
  let failure: unknown = null;
  // Checkpoint writes coalesce: a write always takes the latest state, and a save made while
  // one is running is covered by the next (never a queue of stale snapshots to wait through).
  let wanted = 0, written = 0;
  let writer: Promise<void> | null = null;
  let writeError: unknown = null;
  const flush = async () => {
    try {
      while (written < wanted) {
        const version = wanted;
        await writeCheckpoint(options.checkpoint!, { ...cp, ahead: [...cp.ahead] });
        written = version;
      }
    } catch (e) {
      writeError ??= e; // reported by the next saved()
    } finally {
      writer = null;
    }
  };
  const save = () => {
    if (!options.checkpoint) return;
    wanted++;
    writer ??= flush();
  };
  /** Resolves once every save made so far is on disk (throws if a write failed). */
  const saved = async () => {
    const target = wanted;
    while (written < target && writer) await writer;
    if (writeError) throw writeError;
  };
  const advance = () => {
    let moved = false;
    while (window.length && window[0].done) {
      const b = window.shift()!;
      cp.lastKey = b.last;
      cp.rows += b.rows;
      checksum = (checksum + b.hash) % MOD;
      batches++;
      moved = true;
    }
    if (!moved) return;
    cp.checksum = checksum.toString(16);
    save();
    options.onProgress?.({ rows: cp.rows, total, batches });
  };

  if (options.checkpoint && !resumed) {
    // Written once before any row moves: a checkpoint that cannot be written (its folder does
    // not exist) stops the copy before it writes anything, not after the whole copy ran.
    save();
    await saved();
    // A fresh copy: pairs left by an abandoned one are not this copy's.
    await writeTextFileNamed(keysFile(options.checkpoint), "", "key pairs file");
  }
  // Key pairs of committed batches, appended one line per batch before the batch counts as
  // committed (so the checkpoint never counts a batch whose pairs are not on disk). Appends are
  // chained: lines are never interleaved.
  let appending: Promise<void> = Promise.resolve();
  const appendKeys = (line: KeyLine): Promise<void> => {
    const path = keysFile(options.checkpoint!);
    const p = appending.then(() =>
      writeTextFileNamed(path, JSON.stringify(line) + "\n", "key pairs file", { append: true })
    );
    appending = p.catch(() => {});
    return p;
  };

  try {
    let after = cp.lastKey;
    for await (const page of pages(source, key, fields, after, batchSize, count, options.signal)) {
      if (failure) break;
      const last = page[page.length - 1][key] as RowKey;
      const batch: Batch = { after, last, rows: page.length, hash: 0n, done: false };
      after = last;
      window.push(batch);
      const known = ahead.find((a) => a.after === batch.after && a.last === batch.last);
      if (known) {
        // Committed by the previous run after its last contiguous batch.
        batch.hash = BigInt("0x" + known.hash);
        batch.done = true;
        advance();
        continue;
      }
      const rows = page.map((r) => {
        const row = { ...r };
        for (const [column, map] of remap) {
          const v = row[column];
          if (v === null || v === undefined) continue;
          const mapped = map.get(v as RowKey);
          if (mapped === undefined) {
            throw new Error(
              `copyData: ${column} = ${JSON.stringify(v)} (row ${key} ${
                JSON.stringify(r[key])
              }) has no entry in the key map given for it`,
            );
          }
          row[column] = mapped;
        }
        if (autoKey) delete row[key];
        return row;
      });
      let hash = 0n;
      for (const r of rows) hash += rowHash(r, hashed);
      batch.hash = hash % MOD;
      if (options.checkpoint && !autoKey) {
        // On disk before the rows leave: a run killed now knows how far writes may have gone
        // (kept keys are then removed up to there; new keys are checked by count instead).
        cp.sent = last;
        save();
        await saved();
      }
      if (options.signal?.aborted) {
        failure ??= options.signal.reason;
        break;
      }
      count();
      // No abort signal on the write: once sent, the server may commit it whatever happens to
      // this side, so a stop waits for its answer and records it (reads stop at once instead).
      const p: Promise<void> = target.df.request("POST", tablePath(target), {
        body: { resource: rows },
        query: { rollback: true },
      }).then(async (res) => {
        const created = records(res);
        const pairs: [RowKey, RowKey][] = [];
        page.forEach((r, i) => {
          const k = created[i]?.[key];
          if (k !== undefined) pairs.push([r[key] as RowKey, k as RowKey]);
        });
        if (options.checkpoint) await appendKeys({ after: batch.after, last: batch.last, pairs });
        for (const [s, t] of pairs) options.keyMap?.set(s, t);
        batch.done = true;
        advance();
      }).catch((e) => {
        failure ??= e;
      }).finally(() => inflight.delete(p));
      inflight.add(p);
      // Bounded concurrency, which also bounds memory: read on only when a slot is free.
      while (inflight.size >= concurrency) await Promise.race(inflight);
    }
  } catch (e) {
    failure ??= e;
  }
  await Promise.allSettled([...inflight]);
  if (failure) {
    cp.ahead = window.filter((b) => b.done).map((b) => ({
      after: b.after,
      last: b.last,
      rows: b.rows,
      hash: b.hash.toString(16),
    }));
    save();
    await saved();
    throw new CopyDataError(
      `copyData ${describe(source)} -> ${describe(target)} stopped: ${errorMessage(failure)}\n` +
        `${cp.rows} row(s) committed up to ${key} ${JSON.stringify(cp.lastKey)}` +
        (options.checkpoint
          ? `; run again with checkpoint ${options.checkpoint} to resume from there.`
          : "; pass a checkpoint file to be able to resume."),
      cp.rows,
      cp.lastKey,
    );
  }
  await saved();
  const copySeconds = (performance.now() - started) / 1000;

  const report: CopyDataReport = {
    rows: cp.rows - rowsBefore,
    totalRows: cp.rows,
    batches,
    keysPreserved: !autoKey,
    requests: 0,
    seconds: 0,
    copySeconds,
    rowsPerSecond: 0,
    ...(resumedAfter !== undefined ? { resumedAfter } : {}),
  };
  if (options.verify ?? true) {
    const t = await tableChecksum(target, key, fields, hashed, batchSize, count, options.signal);
    const sourceCount = await countRows(source, count);
    const sourceChecksum = checksum.toString(16);
    report.verification = {
      ok: sourceCount === t.count && cp.rows === sourceCount && sourceChecksum === t.checksum,
      sourceCount,
      targetCount: t.count,
      sourceChecksum,
      targetChecksum: t.checksum,
    };
  }
  // A copy that does not verify keeps its checkpoint: what was committed stays on record.
  if (options.checkpoint && report.verification?.ok !== false) {
    await Deno.remove(options.checkpoint).catch(() => {});
    await Deno.remove(keysFile(options.checkpoint)).catch(() => {});
  }
  report.requests = requests;
  report.seconds = (performance.now() - started) / 1000;
  report.rowsPerSecond = report.rows / Math.max(copySeconds, 1e-9);
  return report;
}

/** Format tag of a key-map file ({@linkcode writeKeyMap}). */
export const KEY_MAP_FORMAT = "dfkit.key-map/v1";

/** A key map as {@linkcode readKeyMap} returns it. */
export interface KeyMapFile {
  /** The copy's source table, as `<url> <db>/<table>`. */
  source: string;
  /** The copy's target table, as `<url> <db>/<table>`: the table the keys point at. */
  target: string;
  /** Source key -> target key. */
  keys: Map<RowKey, RowKey>;
}

/**
 * Writes a key map filled by {@linkcode copyData} (`keyMap`) to a JSON file
 * (`{"format": "dfkit.key-map/v1", "source", "target", "pairs": [[source key, target key], ...]}`),
 * for a later copy of a table whose foreign keys point at the target table
 * (`remap` with {@linkcode readKeyMap}).
 *
 * @example
 * ```ts
 * import { connect, copyData, readKeyMap, writeKeyMap } from "@dfkit/dfkit";
 *
 * const src = await connect({ profile: "staging" });
 * const dst = await connect({ profile: "prod" });
 * const from = { df: src, db: "db", table: "customer" };
 * const to = { df: dst, db: "db", table: "customer" };
 * const keyMap = new Map();
 * await copyData(from, to, { keyMap });
 * await writeKeyMap("customer.keys.json", from, to, keyMap);
 * // Later, perhaps in another process:
 * const { keys } = await readKeyMap("customer.keys.json");
 * await copyData(
 *   { df: src, db: "db", table: "order" },
 *   { df: dst, db: "db", table: "order" },
 *   { remap: { customer_id: keys } },
 * );
 * ```
 */
export async function writeKeyMap(
  path: string,
  source: TableRef,
  target: TableRef,
  keys: Map<RowKey, RowKey>,
): Promise<void> {
  // One pair a line: readable, and no giant single line for a big table.
  const pairs = [...keys].map((p) => `    ${JSON.stringify(p)}`).join(",\n");
  const text = `{\n  "format": ${JSON.stringify(KEY_MAP_FORMAT)},\n` +
    `  "source": ${JSON.stringify(describe(source))},\n` +
    `  "target": ${JSON.stringify(describe(target))},\n` +
    `  "pairs": [${pairs ? `\n${pairs}\n  ` : ""}]\n}\n`;
  await writeTextFileNamed(path, text, "key map");
}

/** Reads a key map written by {@linkcode writeKeyMap}; a file that is missing, not JSON (said by
 * line and column, without quoting it) or not a key map is one sentence naming it. */
export async function readKeyMap(path: string): Promise<KeyMapFile> {
  const doc = await readJsonFile(path, "key map") as {
    format?: unknown;
    source?: unknown;
    target?: unknown;
    pairs?: unknown;
  } | null;
  if (doc?.format !== KEY_MAP_FORMAT) {
    throw new Error(`${path} is not a dfkit key map (format ${KEY_MAP_FORMAT})`);
  }
  const isKey = (v: unknown) => typeof v === "string" || typeof v === "number";
  const pairs = doc.pairs;
  if (
    typeof doc.source !== "string" || typeof doc.target !== "string" || !Array.isArray(pairs) ||
    !pairs.every((p) => Array.isArray(p) && p.length === 2 && isKey(p[0]) && isKey(p[1]))
  ) {
    throw new Error(
      `key map ${path} is damaged: it needs "source", "target" and "pairs" of ` +
        `[source key, target key]`,
    );
  }
  return { source: doc.source, target: doc.target, keys: new Map(pairs as [RowKey, RowKey][]) };
}
