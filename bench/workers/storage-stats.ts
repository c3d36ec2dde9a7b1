/**
 * @module bench/workers/storage-stats
 * Bench-only: how much a SQLite database holds, table by table, for the `cost` scenario's "storage
 * per update". Works on D1 and on a Durable Object's own SQLite through one query function, since
 * neither offers `dbstat` (local D1 does not have it).
 *
 * "Logical bytes" approximate SQLite's record format: each value counts what a record stores for it
 * (text and blobs their byte length, integers 0-8 bytes by magnitude, reals 8, null 0) plus one header
 * byte per column and one for the header size. Index entries count their columns plus the rowid, and
 * a partial index only the rows its WHERE clause admits. Page headers, free space and b-tree interior
 * pages are not in it: D1's `size_after` (the file) is, which is why the bench reports both.
 *
 * Also the bench routes that use it: D1 tables, Durable Object storage (by object name) and R2 objects.
 */
type Row = Record<string, unknown>;
type Query = (sql: string) => Promise<Row[]>;

export interface TableSize {
  table: string;
  rows: number;
  /** Logical bytes of the rows themselves. */
  rowBytes: number;
  indexes: number;
  /** Logical bytes of the table's index entries (unique constraints' automatic indexes included). */
  indexBytes: number;
}

// SQLite's own tables, D1's and Cloudflare's bookkeeping, and migration journals (wrangler's d1_migrations,
// drizzle's __drizzle_migrations) are not the application's data.
const INTERNAL = /^(_cf_|d1_|sqlite_)|^__drizzle_migrations$/i;

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The bytes SQLite's record format spends on one value (serial types: sqlite.org/fileformat2.html §2.1). */
function valueBytes(column: string): string {
  const c = column === "rowid" ? "rowid" : ident(column);
  return `(CASE typeof(${c}) WHEN 'null' THEN 0 WHEN 'real' THEN 8 WHEN 'integer' THEN (CASE
    WHEN ${c} BETWEEN 0 AND 1 THEN 0 WHEN ${c} BETWEEN -128 AND 127 THEN 1 WHEN ${c} BETWEEN -32768 AND 32767 THEN 2
    WHEN ${c} BETWEEN -8388608 AND 8388607 THEN 3 WHEN ${c} BETWEEN -2147483648 AND 2147483647 THEN 4
    WHEN ${c} BETWEEN -140737488355328 AND 140737488355327 THEN 6 ELSE 8 END)
    ELSE length(CAST(${c} AS BLOB)) END)`;
}

/** One record: a header (size byte plus one type byte per value) and the values. */
const recordBytes = (columns: string[]) => `${1 + columns.length} + ${columns.map(valueBytes).join(" + ")}`;

/** The WHERE clause of a partial index's CREATE INDEX statement. */
function partialWhere(sql: unknown): string | null {
  const m = /\)\s*WHERE\s+([\s\S]+)$/i.exec(String(sql ?? ""));
  return m ? m[1] : null;
}

const num = (v: unknown) => Number(v ?? 0);

/** Every application table of the database behind `query`, with its rows and logical bytes. */
export async function tableSizes(query: Query): Promise<TableSize[]> {
  const master = await query("SELECT type, name, sql FROM sqlite_master");
  const out: TableSize[] = [];
  for (const t of master.filter((r) => r.type === "table" && !INTERNAL.test(String(r.name)))) {
    const table = String(t.name);
    const withoutRowid = /WITHOUT\s+ROWID/i.test(String(t.sql ?? ""));
    const columns = (await query(`PRAGMA table_info(${ident(table)})`)).map((c) => String(c.name));
    const [size] = await query(`SELECT count(*) AS n, coalesce(sum(${recordBytes(columns)}), 0) AS b FROM ${ident(table)}`);
    let indexes = 0;
    let indexBytes = 0;
    for (const ix of await query(`PRAGMA index_list(${ident(table)})`)) {
      const name = String(ix.name);
      // A WITHOUT ROWID table's primary key is the table itself, not a second b-tree.
      if (withoutRowid && ix.origin === "pk") continue;
      // Expression columns have no name; their values are not counted.
      const keyColumns = (await query(`PRAGMA index_info(${ident(name)})`)).filter((c) => c.name !== null).map((c) => String(c.name));
      const where = num(ix.partial) ? partialWhere(master.find((m) => m.name === name)?.sql) : null;
      const entry = withoutRowid ? keyColumns : [...keyColumns, "rowid"];
      const [s] = await query(`SELECT coalesce(sum(${recordBytes(entry)}), 0) AS b FROM ${ident(table)}${where ? ` WHERE ${where}` : ""}`);
      indexes++;
      indexBytes += num(s.b);
    }
    out.push({ table, rows: num(size.n), rowBytes: num(size.b), indexes, indexBytes });
  }
  return out;
}

/** Adds `b` into `a` table by table (for many Durable Objects' storage). */
export function addSizes(a: TableSize[], b: TableSize[]): TableSize[] {
  const byName = new Map(a.map((t) => [t.table, { ...t }]));
  for (const t of b) {
    const cur = byName.get(t.table);
    if (!cur) byName.set(t.table, { ...t });
    else {
      cur.rows += t.rows;
      cur.rowBytes += t.rowBytes;
      cur.indexBytes += t.indexBytes;
      cur.indexes = Math.max(cur.indexes, t.indexes);
    }
  }
  return [...byName.values()];
}

/** A Durable Object's own storage: its SQLite file's size (`databaseSize`) and its tables. */
export async function objectStorage(sql: SqlStorage): Promise<{ databaseSize: number; tables: TableSize[] }> {
  const tables = await tableSizes(async (q) => sql.exec(q).toArray() as Row[]);
  return { databaseSize: sql.databaseSize, tables };
}

// --- bench routes --------------------------------------------------------------------------------

interface Names {
  d1: string[];
  durableObjects: Record<string, string>;
  r2?: string[];
}

type StorageStub = { benchStorage(): Promise<{ databaseSize: number; tables: TableSize[] }> };

async function pool<T, R>(items: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (i < items.length) {
        const j = i++;
        out[j] = await fn(items[j]);
      }
    }),
  );
  return out;
}

/**
 * GET /__bench/storage/d1: every D1 database's tables. POST /__bench/storage/do with
 * `{className, names}`: the storage of those objects, summed (each must have a `benchStorage` method,
 * as the instrumented entry adds). GET /__bench/storage/r2: objects and bytes per bucket. Read-only.
 */
export async function storageRoute(req: Request, url: URL, env: Record<string, unknown>): Promise<Response | null> {
  const names = JSON.parse(String(env.BENCH_BINDINGS ?? "null")) as Names | null;
  if (!names) return Response.json({ error: "BENCH_BINDINGS missing" }, { status: 500 });
  if (url.pathname === "/__bench/storage/d1") {
    const out: Record<string, TableSize[]> = {};
    for (const n of names.d1) {
      const db = env[n] as D1Database;
      out[n] = await tableSizes(async (q) => (await db.prepare(q).all<Row>()).results);
    }
    return Response.json(out);
  }
  if (url.pathname === "/__bench/storage/do" && req.method === "POST") {
    const { className, names: objects } = (await req.json()) as { className: string; names: string[] };
    const binding = Object.entries(names.durableObjects).find(([, c]) => c === className)?.[0];
    if (!binding) return Response.json({ error: `no Durable Object binding for class ${className}` }, { status: 404 });
    const ns = env[binding] as DurableObjectNamespace;
    const each = await pool(objects, 16, (name) => (ns.getByName(name) as unknown as StorageStub).benchStorage());
    const sizes = each.map((e) => e.databaseSize);
    return Response.json({
      objects: each.length,
      databaseSize: sizes.reduce((a, b) => a + b, 0),
      minDatabaseSize: Math.min(...sizes),
      maxDatabaseSize: Math.max(...sizes),
      tables: each.reduce((acc, e) => addSizes(acc, e.tables), [] as TableSize[]),
    });
  }
  if (url.pathname === "/__bench/storage/r2") {
    const out: Record<string, { objects: number; bytes: number }> = {};
    for (const n of names.r2 ?? []) {
      const bucket = env[n] as R2Bucket;
      let objects = 0;
      let bytes = 0;
      let cursor: string | undefined;
      do {
        const page = await bucket.list({ cursor, limit: 1000 });
        for (const o of page.objects) {
          objects++;
          bytes += o.size;
        }
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
      out[n] = { objects, bytes };
    }
    return Response.json(out);
  }
  return null;
}
