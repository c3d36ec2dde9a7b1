// `npm run bench:growth -- [options]`: how far one D1 database carries passhook (issue 16). Takes the
// storage and write cost per listener update that the bench's `cost` scenario measured (bench/results/
// latest.json, else last-run.json) and projects them: D1's steady-state size against its 10 GB cap and
// the months until the cap, D1's write load against a single-writer budget, the pass objects' storage
// and R2's. Pure arithmetic (`model`); `--self-check` asserts it on a worked example.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

const RESULTS = path.join(import.meta.dirname, "results");
const DAY = 86_400;
const MONTH = 30.44 * DAY;
const GB = 1e9;

// How long each D1 table keeps what an update adds (docs/storage.md, "Cron"). "retention" follows
// --retention-days; "pass": one row per pass, sized by --passes; unknown growing tables are assumed
// kept forever (and flagged), so a new table never makes the projection look better than it is.
const KEEP = {
  inbound_events: "retention", // 30 days by id/received_at
  deliveries: "retention", // 30 days after completion
  delivery_attempts: "retention", // cascade with their delivery
  idempotency_keys: 1, // 24 h
  google_callback_nonces: 7,
  outbox: 0, // deleted once every wallet subscriber took it
  passes: "pass",
  google_objects: "pass",
  apple_personalizations: "pass",
  wallet_jobs: "pass", // one `p:<passId>` row per wallet
};

const USAGE = `usage: npm run bench:growth -- [options]

  --updates-per-second N[,N…]  listener updates per second, sustained (default 50; a list prints each)
  --passes N                   live passes (default 1000000)
  --retention-days N           inbound events, deliveries and R2 event details kept (default 30)
  --cap-gb N                   D1's size cap, GB of 10^9 bytes (default 10, Workers Paid)
  --d1-tx-budget N             write transactions/s one D1 database takes (default 1000, see below)
  --from FILE                  results JSON (default bench/results/latest.json, else last-run.json)
  --table NAME=BYTES[,ROWS]    override a D1 table's logical bytes (and rows) per update, both profiles
  --overhead X                 D1 file bytes per logical byte (default: as measured, size_after / logical)
  --self-check                 assert the model on a worked example and exit
  --help

D1 runs one query at a time per database: Cloudflare's D1 limits page (FAQ, developers.cloudflare.com/
d1/platform/limits/) puts it at about 1,000 queries/s for 1 ms queries; shared/reference/cloudflare-
stack.md gives the 10 GB cap (§2) but no throughput figure. Every D1 round trip (a batch is one
transaction) counts against the budget, reads included.`;

/** Size over time of the pieces of a store: base + Σ g·min(t, keep) + forever·t. Seconds until `cap`, or null. */
export function secondsUntil(cap, base, retained, forever) {
  if (base >= cap) return 0;
  const ends = [...new Set(retained.filter((r) => r.perSecond > 0).map((r) => r.seconds))].sort((a, b) => a - b);
  let t = 0;
  let size = base;
  for (const end of [...ends, Infinity]) {
    // Until `end`, every piece kept longer than `t` still grows.
    const slope = forever + retained.filter((r) => r.seconds > t).reduce((a, r) => a + r.perSecond, 0);
    if (slope <= 0) return null;
    if (size + slope * (end - t) >= cap) return t + (cap - size) / slope;
    size += slope * (end - t);
    t = end;
  }
  return null;
}

/**
 * One profile (updates without or with an idempotency key) at one rate. `m`: measured per update
 * ({tables, overhead, counts: {tx, rowsWritten}, do, r2}); `p`: rate, passes, retentionDays, capGb,
 * txBudget and an optional overhead override.
 */
export function model(m, p) {
  const overhead = p.overhead ?? m.overhead ?? 1;
  const tables = [];
  let perPass = 0;
  let forever = 0;
  const retained = [];
  for (const t of m.tables) {
    const keep = KEEP[t.table] === "retention" ? p.retentionDays : KEEP[t.table];
    if (keep === "pass") {
      if (!t.rows) continue; // not exercised by the bench (listed apart)
      const bytes = (t.bytesPerRow ?? 0) * overhead * p.passes;
      perPass += bytes;
      tables.push({ table: t.table, keep: "per pass", rows: p.passes, bytes });
      continue;
    }
    if (t.bytesPerUpdate <= 0 && t.rowsPerUpdate <= 0) continue;
    const perSecond = t.bytesPerUpdate * overhead * p.rate;
    if (keep === undefined) {
      forever += perSecond;
      tables.push({ table: t.table, keep: "forever (unknown table)", rows: null, bytes: null, perSecond });
    } else {
      const seconds = keep * DAY;
      retained.push({ perSecond, seconds });
      tables.push({ table: t.table, keep: `${keep} d`, rows: t.rowsPerUpdate * p.rate * seconds, bytes: perSecond * seconds });
    }
  }
  const cap = p.capGb * GB;
  const steady = perPass + retained.reduce((a, r) => a + r.perSecond * r.seconds, 0);
  const until = secondsUntil(cap, perPass, retained, forever);
  const r2 = Object.values(m.r2 ?? {}).reduce((a, x) => ({ bytes: a.bytes + x.bytesPerUpdate, objects: a.objects + x.objectsPerUpdate }), { bytes: 0, objects: 0 });
  const r2Seconds = p.retentionDays * DAY;
  return {
    overhead,
    tables,
    d1: { steady, forever, levelsOff: forever === 0, monthsUntilCap: until === null ? null : until / MONTH },
    writes: { txPerSecond: m.counts.tx * p.rate, rowsPerSecond: m.counts.rowsWritten * p.rate, budgetShare: (m.counts.tx * p.rate) / p.txBudget, maxRate: p.txBudget / m.counts.tx },
    objects: {
      base: m.do.minBytesPerObject * p.passes,
      perMonth: m.do.logicalBytesPerUpdate * p.rate * MONTH,
      perPassPerYear: (m.do.logicalBytesPerUpdate * p.rate * 12 * MONTH) / p.passes,
    },
    r2: { steady: r2.bytes * p.rate * r2Seconds, objects: r2.objects * p.rate * r2Seconds },
  };
}

// --- inputs --------------------------------------------------------------------------------------

function measured(file) {
  const json = JSON.parse(readFileSync(file, "utf8"));
  const c = json.details?.cost;
  const st = c?.storage;
  if (!st?.unkeyed?.d1 || !st?.keyed?.d1) return null;
  const counts = (pu) => ({ tx: pu.requestPath.d1RoundTrips + pu.consumers.d1RoundTrips, rowsWritten: pu.requestPath.d1RowsWritten + pu.consumers.d1RowsWritten });
  // D1 file bytes per logical byte (pages, b-tree overhead), as measured, before any --table override.
  // One factor for the database, over both rounds (2 × `updates` updates).
  const logical = st.unkeyed.d1LogicalBytesPerUpdate + st.keyed.d1LogicalBytesPerUpdate;
  const overhead = logical > 0 ? Math.max(1, (st.unkeyed.sizeAfterPerUpdate + st.keyed.sizeAfterPerUpdate) / logical) : 1;
  const profile = (s, pu) => ({ ...s, tables: s.d1.map((t) => ({ ...t })), overhead, counts: counts(pu) });
  return { file, date: json.date, quick: json.options?.quick, updates: st.updates, passes: st.passes, profiles: { unkeyed: profile(st.unkeyed, c.perUpdate.warm), keyed: profile(st.keyed, st.keyed.perUpdate) } };
}

function load(from) {
  const candidates = from ? [from] : [path.join(RESULTS, "latest.json"), path.join(RESULTS, "last-run.json")];
  for (const f of candidates) if (existsSync(f)) {
    const m = measured(f);
    if (m) return m;
  }
  throw new Error(`no per-table storage figures in ${candidates.join(" or ")}: run \`npm run bench -- cost\` first`);
}

function applyOverrides(m, overrides) {
  for (const [name, bytes, rows] of overrides) {
    for (const prof of Object.values(m.profiles)) {
      const t = prof.tables.find((x) => x.table === name) ?? prof.tables[prof.tables.push({ table: name, rows: 0, bytesPerRow: null, rowsPerUpdate: 0, bytesPerUpdate: 0 }) - 1];
      t.bytesPerUpdate = bytes;
      if (rows !== undefined) t.rowsPerUpdate = rows;
    }
  }
}

// --- output --------------------------------------------------------------------------------------

const size = (b) => (b === null ? "—" : b >= 1e12 ? `${(b / 1e12).toFixed(2)} TB` : b >= GB ? `${(b / GB).toFixed(2)} GB` : b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(1)} kB`);
const count = (n) => (n === null ? "—" : n >= 1e9 ? `${(n / 1e9).toFixed(2)} G` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0));
const months = (x) => (x === null ? "never (levels off below the cap)" : x < 1 ? `${(x * 30.44).toFixed(1)} days` : `${x.toFixed(1)} months`);

function print(m, p) {
  const [u, k] = [model(m.profiles.unkeyed, p), model(m.profiles.keyed, p)];
  const line = (label, a, b) => console.log(`  ${label.padEnd(34)} ${String(a).padEnd(34)} ${b}`);
  console.log(`\n${p.rate} updates/s · ${count(p.passes)} passes · ${p.retentionDays}-day retention · D1 cap ${p.capGb} GB · budget ${p.txBudget} D1 transactions/s`);
  line("D1", "no idempotency key", "every update with a webhook-id");
  const names = [...new Set([...u.tables, ...k.tables].map((t) => t.table))];
  for (const name of names) {
    const cell = (r) => {
      const t = r.tables.find((x) => x.table === name);
      if (!t) return "0";
      if (t.bytes === null) return `+${size(t.perSecond * MONTH)}/month`;
      return `${size(t.bytes)} (${count(t.rows)} rows)`;
    };
    const keep = (u.tables.find((x) => x.table === name) ?? k.tables.find((x) => x.table === name)).keep;
    line(`  ${name} (${keep})`, cell(u), cell(k));
  }
  line("  steady state", `${size(u.d1.steady)}${u.d1.levelsOff ? "" : " + forever growth"}`, `${size(k.d1.steady)}${k.d1.levelsOff ? "" : " + forever growth"}`);
  line(`  until ${p.capGb} GB`, months(u.d1.monthsUntilCap), months(k.d1.monthsUntilCap));
  line("  file bytes per logical byte", u.overhead.toFixed(2), k.overhead.toFixed(2));
  const w = (x) => `${x.txPerSecond.toFixed(0)} tx/s (${(x.budgetShare * 100).toFixed(0)} %), ${x.rowsPerSecond.toFixed(0)} rows/s`;
  line("  write load (of the budget)", w(u.writes), w(k.writes));
  line("  updates/s the budget allows", u.writes.maxRate.toFixed(0), k.writes.maxRate.toFixed(0));
  console.log(`  Durable Objects (pass history, never purged): ${size(u.objects.base)} for ${count(p.passes)} objects at the measured ${size(m.profiles.unkeyed.do.minBytesPerObject)} each, then +${size(u.objects.perMonth)}/month of history (logical), ${size(u.objects.perPassPerYear)} per pass per year`);
  console.log(`  R2 (event details, ${p.retentionDays}-day lifecycle): ${size(u.r2.steady)} in ${count(u.r2.objects)} objects at steady state`);
}

// --- self-check ----------------------------------------------------------------------------------

function selfCheck() {
  const near = (a, b, what) => {
    if (Math.abs(a - b) > 1e-6 * Math.max(1, Math.abs(b))) throw new Error(`self-check: ${what} = ${a}, expected ${b}`);
  };
  // 10 updates/s, 30 days of a 100-byte row: 10 · 86400 · 30 · 100 = 2.592 GB, levels off under 10 GB.
  const m = {
    tables: [
      { table: "inbound_events", rows: 1, bytesPerRow: 100, rowsPerUpdate: 1, bytesPerUpdate: 100 },
      { table: "passes", rows: 10, bytesPerRow: 200, rowsPerUpdate: 0, bytesPerUpdate: 0 },
    ],
    counts: { tx: 1, rowsWritten: 4 },
    do: { minBytesPerObject: 16384, logicalBytesPerUpdate: 100 },
    r2: { EVENT_LOG: { bytesPerUpdate: 400, objectsPerUpdate: 1 } },
  };
  const p = { rate: 10, passes: 1e6, retentionDays: 30, capGb: 10, txBudget: 1000 };
  const a = model(m, p);
  near(a.d1.steady, 2.592e9 + 2e8, "steady state");
  if (a.d1.monthsUntilCap !== null) throw new Error("self-check: a table kept 30 days must level off");
  near(a.writes.txPerSecond, 10, "tx/s");
  near(a.writes.budgetShare, 0.01, "budget share");
  near(a.r2.steady, 400 * 10 * 30 * DAY, "R2");
  // The same row kept forever: 2e8 base + 1000 B/s reaches 10 GB after 9.8e6 s.
  m.tables[0].table = "something_new";
  near(model(m, p).d1.monthsUntilCap, 9.8e6 / MONTH, "months until the cap");
  // Kept 30 days at 50/s: 12.96 GB steady, so the cap falls inside the ramp: (10e9 - 2e8) / 5000 s.
  m.tables[0].table = "inbound_events";
  near(model(m, { ...p, rate: 50 }).d1.monthsUntilCap, 1.96e6 / MONTH, "cap inside the ramp");
  console.log("self-check passed");
}

// --- main ----------------------------------------------------------------------------------------

function main() {
  const { values } = parseArgs({
    options: {
      "updates-per-second": { type: "string", default: "50" },
      passes: { type: "string", default: "1000000" },
      "retention-days": { type: "string", default: "30" },
      "cap-gb": { type: "string", default: "10" },
      "d1-tx-budget": { type: "string", default: "1000" },
      from: { type: "string" },
      table: { type: "string", multiple: true, default: [] },
      overhead: { type: "string" },
      "self-check": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
  } else if (values["self-check"]) {
    selfCheck();
  } else {
    const positive = (name, v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} wants a positive number, got ${v}`);
      return n;
    };
    const m = load(values.from);
    applyOverrides(
      m,
      values.table.map((s) => {
        const [name, nums] = s.split("=");
        const [bytes, rows] = (nums ?? "").split(",").map(Number);
        if (!name || !Number.isFinite(bytes)) throw new Error(`--table wants NAME=BYTES[,ROWS], got ${s}`);
        return [name, bytes, Number.isFinite(rows) ? rows : undefined];
      }),
    );
    console.log(`passhook growth model, from ${path.relative(process.cwd(), m.file)} (${m.date}${m.quick ? ", a --quick run" : ""}: ${m.updates} updates over ${m.passes} passes per profile)`);
    const base = {
      passes: positive("passes", values.passes),
      retentionDays: positive("retention-days", values["retention-days"]),
      capGb: positive("cap-gb", values["cap-gb"]),
      txBudget: positive("d1-tx-budget", values["d1-tx-budget"]),
      overhead: values.overhead === undefined ? undefined : positive("overhead", values.overhead),
    };
    for (const r of values["updates-per-second"].split(",")) print(m, { ...base, rate: positive("updates-per-second", r) });
    const unexercised = m.profiles.keyed.tables.filter((t) => KEEP[t.table] === "pass" && !t.rows).map((t) => t.table);
    console.log(
      [
        "",
        "D1 sizes are logical bytes × the measured file overhead (size_after growth / logical growth over both rounds).",
        "Left out: config tables (projects, templates, integrations, …), and per-pass tables the bench leaves empty",
        `(no wallet credentials there): ${unexercised.join(", ") || "none"}.`,
        "Durable Object and R2 storage have no per-database cap; they are listed for cost.",
      ].join("\n"),
    );
  }
}

try {
  main();
} catch (e) {
  console.error(`bench:growth: ${e.message}\n(npm run bench:growth -- --help)`);
  process.exitCode = 2;
}
