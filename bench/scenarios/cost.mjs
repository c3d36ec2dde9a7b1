// 5. Cost per listener update, counted by the instrumented Worker (bench/workers/instrumented.ts):
// D1 round trips, statements, rows read / written (D1's own meta), Durable Object calls, queue sends,
// rate-limit calls, split into the request path and the queue consumers; and storage per update:
// D1 (the file, and table by table), the pass objects' own SQLite, R2 (lib/storage.mjs).
import { Api } from "../lib/api.mjs";
import { pool } from "../lib/load.mjs";
import { round } from "../lib/stats.mjs";
import { growth, passObjectName, snapshot, storageRows } from "../lib/storage.mjs";

const METRICS = ["d1RoundTrips", "d1Statements", "d1RowsRead", "d1RowsWritten", "d1DurationMs", "doCalls", "queueSends", "rateLimitCalls"];
const sum = (rec) => Object.values(rec ?? {}).reduce((a, b) => a + b, 0);

/**
 * Folds buckets into their roots. `fetch`, `queue:*` and `scheduled` are roots; `do:Class.method` work
 * belongs to whoever called Class.method, in proportion to their calls (recursively).
 */
export function attribute(buckets) {
  const callers = {};
  for (const [origin, b] of Object.entries(buckets)) {
    for (const [m, n] of Object.entries(b.doCalls)) (callers[m] ??= {})[origin] = ((callers[m] ??= {})[origin] ?? 0) + n;
  }
  const shares = (origin, seen = new Set()) => {
    if (!origin.startsWith("do:")) return { [origin]: 1 };
    const by = callers[origin.slice(3)];
    if (!by || seen.has(origin)) return { unattributed: 1 };
    seen.add(origin);
    const total = sum(by);
    const out = {};
    for (const [caller, n] of Object.entries(by)) for (const [root, f] of Object.entries(shares(caller, seen))) out[root] = (out[root] ?? 0) + (f * n) / total;
    return out;
  };
  const roots = {};
  for (const [origin, b] of Object.entries(buckets)) {
    for (const [root, f] of Object.entries(shares(origin))) {
      const r = (roots[root] ??= Object.fromEntries(METRICS.map((k) => [k, 0])));
      r.d1RoundTrips += f * b.d1RoundTrips;
      r.d1Statements += f * b.d1Statements;
      r.d1RowsRead += f * b.d1RowsRead;
      r.d1RowsWritten += f * b.d1RowsWritten;
      r.d1DurationMs += f * b.d1DurationMs;
      r.doCalls += f * sum(b.doCalls);
      r.queueSends += f * sum(b.queueSends);
      r.rateLimitCalls += f * b.rateLimitCalls;
    }
  }
  const group = (pred) => {
    const g = Object.fromEntries(METRICS.map((k) => [k, 0]));
    for (const [root, r] of Object.entries(roots)) if (pred(root)) for (const k of METRICS) g[k] += r[k];
    return g;
  };
  return { roots, requestPath: group((r) => r === "fetch"), consumers: group((r) => r.startsWith("queue:")), other: group((r) => r !== "fetch" && !r.startsWith("queue:")) };
}

/** D1 round trips beyond one per Durable Object call: today, a cold object loading its pass first. */
function objectLoads(buckets) {
  let extra = 0;
  for (const [origin, b] of Object.entries(buckets)) if (origin.startsWith("do:")) extra += b.d1RoundTrips - b.invocations;
  return Math.max(0, extra);
}

const per = (g, n) => Object.fromEntries(Object.entries(g).map(([k, v]) => [k, v / n]));

async function counters(rt) {
  return (await fetch(`${rt.url}/__bench/counters`)).json();
}

/** Waits until the queue consumers have taken every message sent since the last reset. */
async function settle(rt, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let lastKey = "";
  let stableSince = Date.now();
  for (;;) {
    const c = await counters(rt);
    const sent = Object.values(c.buckets).reduce((a, b) => a + sum(b.queueSends), 0);
    const taken = Object.entries(c.buckets).filter(([o]) => o.startsWith("queue:")).reduce((a, [, b]) => a + b.messages, 0);
    const key = JSON.stringify(c.buckets);
    if (key !== lastKey) {
      lastKey = key;
      stableSince = Date.now();
    }
    // Everything taken and nothing moving for a moment (a consumer may still be finishing a batch).
    if (taken >= sent && Date.now() - stableSince > 1500) return c;
    if (Date.now() > deadline) return { ...c, unsettled: { sent, taken } };
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** `n` listener updates over `passes` passes; `keyed`: each with its own `webhook-id` (an idempotency key). */
async function updates(rt, hook, n, passes, offset, { keyed = false } = {}) {
  await pool(Array.from({ length: n }, (_, k) => k), 4, async (k) => {
    const headers = { "content-type": "application/json", ...(keyed ? { "webhook-id": `msg_bench_${offset + k}` } : {}) };
    const res = await fetch(rt.url + hook, { method: "POST", headers, body: JSON.stringify({ member_id: `p-${k % passes}`, points: offset + k }) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`listener update answered ${res.status}`);
  });
}

export async function cost(ctx) {
  const { opts } = ctx;
  let rt = await ctx.start("instrumented", "cost");
  const details = {};
  try {
    const api = await new Api(rt.url).seedProject({ actions: ["update"] });
    const N = opts.costN;
    await api.seedPasses(N);
    const hook = api.hooks.update;
    await settle(rt);
    const reset = () => fetch(`${rt.url}/__bench/reset`, { method: "POST" }).then((r) => r.arrayBuffer());

    // Warm: one round of updates loads every object (the runtime evicts idle objects after a few
    // seconds, so the seeding is not enough), then the measured round.
    await updates(rt, hook, N, N, 5e5);
    await reset();
    await updates(rt, hook, N, N, 1e6);
    const warm = await settle(rt);
    details.warm = { ...attribute(warm.buckets), buckets: warm.buckets, d1Counting: warm.d1Counting, instrumentedClasses: warm.instrumentedClasses, unsettled: warm.unsettled, objectLoads: objectLoads(warm.buckets) };

    // Storage: D1's size_after and every table, the pass objects' storage and R2, before and after M
    // more updates (consumers included); then M more that each carry a webhook-id (an idempotency key,
    // as Standard Webhooks senders send), which the listener keeps for a day.
    const M = opts.storageN;
    const objects = Array.from({ length: N }, (_, i) => passObjectName(api.templateId, `p-${i}`));
    const before = warm.sizeAfter;
    const s0 = await snapshot(rt, objects);
    await updates(rt, hook, M, N, 2e6);
    const after = (await settle(rt)).sizeAfter;
    const s1 = await snapshot(rt, objects);
    await reset();
    await updates(rt, hook, M, N, 4e6, { keyed: true });
    const keyedCounts = await settle(rt);
    const afterKeyed = keyedCounts.sizeAfter;
    const s2 = await snapshot(rt, objects);
    const k = attribute(keyedCounts.buckets);
    details.storage = {
      before,
      after,
      updates: M,
      passes: N,
      bytesPerUpdate: (after - before) / M,
      unkeyed: { sizeAfterPerUpdate: (after - before) / M, ...growth(s0, s1, M) },
      keyed: { sizeAfterPerUpdate: (afterKeyed - after) / M, ...growth(s1, s2, M), perUpdate: { requestPath: per(k.requestPath, M), consumers: per(k.consumers, M) }, unsettled: keyedCounts.unsettled },
    };

    // Cold: restart; each pass's first update after it loads the pass row.
    const restarted = await rt.restart();
    ctx.recordMemory("cost", restarted.memory);
    rt = restarted.runtime;
    await fetch(`${rt.url}/health`).then((r) => r.arrayBuffer());
    await reset();
    await updates(rt, hook, N, N, 3e6);
    const cold = await settle(rt);
    details.cold = { ...attribute(cold.buckets), buckets: cold.buckets, unsettled: cold.unsettled, objectLoads: objectLoads(cold.buckets) };

    // Sanity: every update was seen by the counters, and every Durable Object class is counted.
    const problems = [];
    if (warm.buckets.fetch?.invocations !== N) problems.push(`counted ${warm.buckets.fetch?.invocations ?? 0} of ${N} requests`);
    const missing = Object.values(rt.bindings.durableObjects).filter((c) => !warm.instrumentedClasses.includes(c));
    if (missing.length) problems.push(`Durable Object classes not instrumented (add them to bench/workers/instrumented.ts): ${missing.join(", ")}`);
    if (!details.storage.unkeyed.do.tables.some((t) => t.rows > 0)) problems.push(`the pass objects named "<templateId>:<externalId>" hold nothing: has their naming changed (src/passes/actions.ts)?`);
    if (warm.unsettled || cold.unsettled || keyedCounts.unsettled) problems.push("queue consumers had not taken every message when counted");
    details.problems = problems;
    const w = per(details.warm.requestPath, N);
    const wc = per(details.warm.consumers, N);
    const c = per(details.cold.requestPath, N);
    const cc = per(details.cold.consumers, N);
    details.perUpdate = { warm: { requestPath: w, consumers: wc }, cold: { requestPath: c, consumers: cc } };
    const r2 = (x) => round(x, 2);
    const note = (details.warm.d1Counting === "wire" ? "" : " (rows from run/all/batch only: the D1 binding's internals changed)") + (problems.length ? `; ⚠ ${problems.join("; ")}` : "");
    return {
      details,
      rows: [
        { metric: "request path: D1 round trips per update", value: r2(w.d1RoundTrips), unit: "", targets: [{ max: 2 }], note: `cold object ${r2(c.d1RoundTrips)}; consumers ${r2(wc.d1RoundTrips)} (cold ${r2(cc.d1RoundTrips)}); in the warm round, objects made ${details.warm.objectLoads} extra round trips (loading their pass) over ${N} calls` },
        { metric: "request path: D1 statements per update", value: r2(w.d1Statements), unit: "", note: `cold ${r2(c.d1Statements)}; consumers ${r2(wc.d1Statements)}` },
        { metric: "request path: D1 rows written per update", value: r2(w.d1RowsWritten), unit: "rows", targets: [{ max: 6, moonshot: 4 }], note: `cold ${r2(c.d1RowsWritten)}; consumers ${r2(wc.d1RowsWritten)}${note}` },
        { metric: "request path: D1 rows read per update", value: r2(w.d1RowsRead), unit: "rows", note: `cold ${r2(c.d1RowsRead)}; consumers ${r2(wc.d1RowsRead)}` },
        { metric: "request path: D1 time (meta.duration) per update", value: r2(w.d1DurationMs), unit: "ms", note: `consumers ${r2(wc.d1DurationMs)}` },
        { metric: "DO calls / queue sends per update", value: `${r2(w.doCalls)} / ${r2(w.queueSends)}`, unit: "", note: `consumers: ${r2(wc.doCalls)} DO calls, ${r2(wc.queueSends)} sends; rate-limit calls ${r2(w.rateLimitCalls)} (local emulation: a SQLite-backed DO)` },
        ...storageRows(details.storage),
      ],
    };
  } finally {
    await ctx.stop(rt, "cost");
  }
}
