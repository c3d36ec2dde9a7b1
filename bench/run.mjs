// `npm run bench [-- scenario ...] [--quick] [--note "text"]`: passhook's benchmark suite (issue 12).
// Runs each Worker on Miniflare with a direct workerd socket (no wrangler dev proxy), drives it from
// this process with wrk (closed loop) or a Node open-loop generator, and writes a Markdown table and
// a JSON record. The full suite writes bench/results/latest.{md,json}; a subset or --quick writes
// bench/results/last-run.{md,json} (not committed). bench/README.md explains every figure.
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { build } from "./lib/build.mjs";
import { machine, startContentionSampler } from "./lib/machine.mjs";
import { RESULTS, ROOT } from "./lib/paths.mjs";
import { render, write } from "./lib/report.mjs";
import { startRuntime } from "./lib/runtime.mjs";
import { ensureWrk } from "./lib/wrk.mjs";
import { adminAndCold } from "./scenarios/admin.mjs";
import { callbacks } from "./scenarios/callbacks.mjs";
import { ceilings } from "./scenarios/ceilings.mjs";
import { cost } from "./scenarios/cost.mjs";
import { ceilingsAndListener } from "./scenarios/listener-distinct.mjs";
import { listenerHot } from "./scenarios/listener-hot.mjs";
import { profile } from "./scenarios/profile.mjs";
import { restart } from "./scenarios/restart.mjs";
import { tenants } from "./scenarios/tenants.mjs";

const SCENARIOS = {
  ceilings,
  // Runs with the ceilings, interleaved (see below).
  "listener-distinct": ceilingsAndListener,
  "listener-hot": listenerHot,
  admin: adminAndCold,
  cost,
  callbacks,
  tenants,
  restart,
  profile,
};

const FULL = {
  warmS: 5, measureS: 8, runs: 3, passes: 500, openS: 15, hotS: 10, coldN: 200, costN: 200, storageN: 1000, callbacksN: 1000,
  tenants: { quiet: 8, passes: 25, rate: 5, seconds: 15 },
  restart: { passes: 100, seconds: 10 },
};
const QUICK = {
  warmS: 1, measureS: 2, runs: 1, passes: 100, openS: 3, hotS: 3, coldN: 30, costN: 30, storageN: 100, callbacksN: 100,
  tenants: { quiet: 8, passes: 10, rate: 5, seconds: 4 },
  restart: { passes: 30, seconds: 4 },
};

function parseArgs(argv) {
  const names = [];
  let quick = false;
  let note = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") quick = true;
    else if (a === "--note") note = argv[++i];
    else if (a === "--help" || a === "-h") {
      console.log(`usage: npm run bench [-- [--quick] [--note text] [scenario ...]]\nscenarios: ${Object.keys(SCENARIOS).join(", ")} (default: all; ceilings always run first)`);
      process.exit(0);
    } else if (SCENARIOS[a]) names.push(a);
    else {
      console.error(`unknown scenario or option: ${a}\nscenarios: ${Object.keys(SCENARIOS).join(", ")}`);
      process.exit(2);
    }
  }
  const all = names.length === 0;
  // Every figure is a ratio to the ceilings of the same run, so they always run.
  const chosen = all ? Object.keys(SCENARIOS) : ["ceilings", ...names.filter((n) => n !== "ceilings")];
  return { scenarios: chosen, quick, note, full: all && !quick };
}

const log = (msg) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

const live = new Set();
async function stopAll() {
  for (const rt of live) await rt.stop().catch(() => {});
}
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, async () => {
    await stopAll();
    process.exit(130);
  });
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const opts = options.quick ? QUICK : FULL;
  const started = Date.now();
  ensureWrk(log);
  log(`scenarios: ${options.scenarios.join(", ")}${options.quick ? " (quick)" : ""}`);
  await build(log);
  const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(path.join(ROOT, "wrangler.toml"), "utf8"))[1];
  const probe = startContentionSampler();

  const memory = {};
  const recordMemory = (scenario, m) => {
    const cur = (memory[scenario] ??= { workerdPeakRssKb: 0, hostPeakRssKb: 0 });
    cur.workerdPeakRssKb = Math.max(cur.workerdPeakRssKb, m.workerdPeakRssKb ?? 0);
    cur.hostPeakRssKb = Math.max(cur.hostPeakRssKb, m.hostPeakRssKb ?? 0);
  };
  const ctx = {
    opts,
    ceilings: {},
    log,
    recordMemory,
    async start(worker, stateName, { inspect = false } = {}) {
      const rt = await startRuntime(worker, stateName, { compatibilityDate, inspect });
      live.add(rt);
      const restart = rt.restart;
      rt.restart = async () => {
        live.delete(rt);
        const r = await restart();
        live.add(r.runtime);
        return r;
      };
      return rt;
    },
    async stop(rt, scenario) {
      live.delete(rt);
      recordMemory(scenario, await rt.stop());
    },
    /** Runs a measurement `opts.runs` times; each result notes the CPU share other processes took meanwhile. */
    async repeat(fn, rt) {
      const out = [];
      for (let i = 0; i < opts.runs; i++) out.push(await ctx.measure(fn, rt));
      return out;
    },
    /**
     * Runs one measurement; notes the CPU share other processes took meanwhile and, given the runtime,
     * workerd's own CPU time per request (steadier than req/s on a shared machine).
     */
    async measure(fn, rt) {
      const w = probe.window();
      const cpu0 = rt?.cpu();
      const r = await fn();
      const cpu1 = rt?.cpu();
      const requests = r.requests ?? r.sent ?? r.count;
      const cpuMsPerRequest = rt && cpu0 !== null && requests ? ((cpu1 - cpu0) * 1000) / requests : undefined;
      return { ...r, othersCpuPercent: w.end(), cpuMsPerRequest };
    },
  };

  const rows = [];
  const details = {};
  const failed = [];
  // With listener-distinct, the ceilings are measured inside it, interleaved with the listener's runs.
  const steps = options.scenarios.includes("listener-distinct") ? options.scenarios.filter((n) => n !== "ceilings") : options.scenarios;
  for (const name of steps) {
    const t = Date.now();
    log(`${name} …`);
    let r;
    try {
      r = await SCENARIOS[name](ctx);
    } catch (e) {
      // One broken scenario (say, after an API change) should not hide the others' figures.
      failed.push(name);
      console.error(e);
      r = { rows: [{ metric: "scenario failed", value: String(e?.message ?? e).split("\n")[0].slice(0, 300), unit: "", targets: [{ equals: "ok" }] }], details: { error: String(e?.stack ?? e) } };
    }
    const sections = r.sections ?? { [name]: r };
    for (const [section, s] of Object.entries(sections)) {
      for (const row of s.rows) rows.push({ scenario: section, ...row });
      details[section] = s.details;
    }
    const all = Object.values(sections).flatMap((s) => s.rows);
    log(`${name} done in ${((Date.now() - t) / 1000).toFixed(0)} s: ${all.map((x) => `${x.metric} = ${x.value}${x.unit ? ` ${x.unit}` : ""}`).join("; ")}`);
  }
  // 7. Memory: the workerd process's peak RSS, per scenario.
  const mb = (kb) => Math.round(kb / 1024);
  const peaks = Object.entries(memory);
  const worst = peaks.reduce((a, [, m]) => Math.max(a, m.workerdPeakRssKb), 0);
  rows.push({ scenario: "memory", metric: "workerd peak RSS (max over scenarios)", value: mb(worst), unit: "MiB", note: peaks.map(([s, m]) => `${s} ${mb(m.workerdPeakRssKb)}`).join(", ") + ` MiB (Miniflare's Node host not included: ${mb(Math.max(...peaks.map(([, m]) => m.hostPeakRssKb)))} MiB)` });

  const load = probe.finish();
  const durationS = (Date.now() - started) / 1000;
  const date = new Date().toISOString();
  const md = render({ rows, ceilings: ctx.ceilings, machine: machine(), load, date, options: { ...options, sharedNote: options.note }, durationS });
  mkdirSync(RESULTS, { recursive: true });
  const base = options.full ? "latest" : "last-run";
  write(RESULTS, base, md, { date, durationS, options: { ...options, ...opts }, machine: machine(), load, ceilings: ctx.ceilings, memory, rows, details });
  console.log("\n" + md);
  log(`wrote bench/results/${base}.md and .json in ${durationS.toFixed(0)} s`);
  if (failed.length) {
    log(`failed: ${failed.join(", ")} (logs: bench/.state/<scenario>/runtime.log)`);
    process.exitCode = 1;
  }
}

main().catch(async (e) => {
  console.error(e);
  await stopAll();
  process.exit(1);
});
