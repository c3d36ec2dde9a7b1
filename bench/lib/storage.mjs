// Storage per listener update, for the `cost` scenario: snapshots of every D1 table, the pass objects'
// own SQLite storage and the R2 buckets, taken through the instrumented Worker's read-only bench routes
// (bench/workers/storage-stats.ts), and the difference between two snapshots per update.
import { round } from "./stats.mjs";

// The class whose objects hold per-pass storage, and how they are named (src/passes/actions.ts passObject).
export const PASS_OBJECT_CLASS = "PassObject";
export const passObjectName = (templateId, externalId) => `${templateId}:${externalId}`;

async function get(rt, path, init) {
  const res = await fetch(rt.url + path, init);
  if (!res.ok) throw new Error(`${path}: ${res.status} ${(await res.text()).slice(0, 300)}`);
  return res.json();
}

/** D1 tables (all databases; table names get a `BINDING.` prefix when there are several), objects, R2. */
export async function snapshot(rt, objectNames) {
  const d1 = await get(rt, "/__bench/storage/d1");
  const many = Object.keys(d1).length > 1;
  const tables = Object.entries(d1).flatMap(([binding, ts]) => ts.map((t) => ({ ...t, table: many ? `${binding}.${t.table}` : t.table })));
  const objects = await get(rt, "/__bench/storage/do", { method: "POST", body: JSON.stringify({ className: PASS_OBJECT_CLASS, names: objectNames }) });
  const r2 = await get(rt, "/__bench/storage/r2");
  return { tables, objects, r2 };
}

const bytes = (t) => t.rowBytes + t.indexBytes;

function tableDelta(before, after, m) {
  const prev = new Map(before.map((t) => [t.table, t]));
  return after.map((t) => {
    const b = prev.get(t.table) ?? { rows: 0, rowBytes: 0, indexBytes: 0 };
    return {
      table: t.table,
      rows: t.rows,
      bytes: bytes(t),
      indexes: t.indexes,
      bytesPerRow: t.rows ? bytes(t) / t.rows : null,
      rowsPerUpdate: (t.rows - b.rows) / m,
      bytesPerUpdate: (bytes(t) - bytes(b)) / m,
      rowBytesPerUpdate: (t.rowBytes - b.rowBytes) / m,
      indexBytesPerUpdate: (t.indexBytes - b.indexBytes) / m,
    };
  });
}

/** What `m` updates between two snapshots added, per update. */
export function growth(s0, s1, m) {
  const d1 = tableDelta(s0.tables, s1.tables, m);
  const o0 = s0.objects;
  const o1 = s1.objects;
  const doTables = tableDelta(o0.tables, o1.tables, m);
  const r2 = Object.fromEntries(
    Object.entries(s1.r2).map(([b, x]) => {
      const p = s0.r2[b] ?? { objects: 0, bytes: 0 };
      return [b, { objects: x.objects, bytes: x.bytes, objectsPerUpdate: (x.objects - p.objects) / m, bytesPerUpdate: (x.bytes - p.bytes) / m }];
    }),
  );
  return {
    d1,
    d1LogicalBytesPerUpdate: d1.reduce((a, t) => a + t.bytesPerUpdate, 0),
    do: {
      className: PASS_OBJECT_CLASS,
      objects: o1.objects,
      databaseSize: o1.databaseSize,
      bytesPerObject: o1.databaseSize / o1.objects,
      bytesPerObjectBefore: o0.databaseSize / o0.objects,
      minBytesPerObject: o1.minDatabaseSize,
      maxBytesPerObject: o1.maxDatabaseSize,
      databaseSizePerUpdate: (o1.databaseSize - o0.databaseSize) / m,
      logicalBytesPerUpdate: doTables.reduce((a, t) => a + t.bytesPerUpdate, 0),
      rowsPerUpdate: doTables.reduce((a, t) => a + t.rowsPerUpdate, 0),
      tables: doTables,
    },
    r2,
  };
}

const r0 = (x) => round(x, 0);
const r2d = (x) => round(x, 2);
const moved = (t) => Math.abs(t.rowsPerUpdate) > 1e-3 || Math.abs(t.bytesPerUpdate) > 0.05;

/** Table rows: D1 as a whole, each D1 table that updates change, the rest, the pass objects, R2. */
export function storageRows(st) {
  const u = st.unkeyed;
  const k = st.keyed;
  const keyedOf = new Map(k.d1.map((t) => [t.table, t]));
  const changed = u.d1.filter((t) => moved(t) || moved(keyedOf.get(t.table)));
  const still = u.d1.filter((t) => !changed.includes(t));
  const overhead = u.d1LogicalBytesPerUpdate > 0 ? u.sizeAfterPerUpdate / u.d1LogicalBytesPerUpdate : null;
  const kc = k.perUpdate;
  const rows = [
    {
      metric: "D1 storage per update",
      value: r0(u.sizeAfterPerUpdate),
      unit: "bytes",
      note: `size_after ${st.before} → ${st.after} over ${st.updates} updates; logical bytes (rows + index entries, by table below) ${r0(u.d1LogicalBytesPerUpdate)}, so the file grows ${r2d(overhead)}× that (pages, b-tree overhead)`,
    },
  ];
  for (const t of changed) {
    const kt = keyedOf.get(t.table);
    rows.push({
      metric: `D1 per update: ${t.table}`,
      value: r0(t.bytesPerUpdate),
      unit: "bytes",
      note: `${r2d(t.rowsPerUpdate)} rows (${r0(t.rowBytesPerUpdate)} B of rows + ${r0(t.indexBytesPerUpdate)} B in ${t.indexes} indexes); with a webhook-id: ${r2d(kt.rowsPerUpdate)} rows, ${r0(kt.bytesPerUpdate)} B; after both rounds ${kt.rows} rows${kt.rows ? `, ${r0(kt.bytesPerRow)} B each` : ""}`,
    });
  }
  rows.push({
    metric: "D1 tables that updates do not grow",
    value: still.length,
    unit: "tables",
    note: still.map((t) => `${t.table} ${t.rows}${t.rows ? ` (${r0(t.bytesPerRow)} B/row)` : ""}`).join(", "),
  });
  rows.push({
    metric: "D1 storage per update with a webhook-id",
    value: r0(k.sizeAfterPerUpdate),
    unit: "bytes",
    note: `logical ${r0(k.d1LogicalBytesPerUpdate)} B; the key costs the request path ${r2d(kc.requestPath.d1RoundTrips)} D1 round trips and ${r2d(kc.requestPath.d1RowsWritten)} rows written per update (consumers ${r2d(kc.consumers.d1RoundTrips)}, ${r2d(kc.consumers.d1RowsWritten)}); the key row is purged after 24 h`,
  });
  const o = u.do;
  const events = o.tables.filter((t) => moved(t)).map((t) => `${t.table} ${r2d(t.rowsPerUpdate)} rows, ${r0(t.bytesPerUpdate)} B`).join("; ");
  rows.push({
    metric: `Durable Object storage per update (${o.className} SQLite, logical)`,
    value: r0(o.logicalBytesPerUpdate),
    unit: "bytes",
    note: `${events || "no table grew"}, read in each object through a bench-only method (workers/instrumented.ts); the objects' ctx.storage.sql.databaseSize grew ${r0(o.databaseSizePerUpdate)} B per update (it moves in 4 KiB pages, and each of the ${o.objects} objects got ~${r2d(st.updates / o.objects)} updates); an object holds ${o.minBytesPerObject}–${o.maxBytesPerObject} B`,
  });
  for (const [b, x] of Object.entries(u.r2)) {
    rows.push({
      metric: `R2 per update (${b})`,
      value: r0(x.bytesPerUpdate),
      unit: "bytes",
      note: `${r2d(x.objectsPerUpdate)} objects per update, listed through the binding; now ${x.objects} objects, ${x.bytes} B`,
    });
  }
  return rows;
}
