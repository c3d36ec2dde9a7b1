// 2. Listener `update` over distinct passes (a CRM bulk sync): closed-loop maximum with wrk, its runs
// interleaved with the ceilings' (scenario 1), then the latency at half that rate from an open-loop
// generator (closed-loop p99 hides queueing).
import { Api } from "../lib/api.mjs";
import { ceilingRig, ceilingRows } from "./ceilings.mjs";
import { openLoop } from "../lib/load.mjs";
import { median, medianRun, round } from "../lib/stats.mjs";
import { wrk } from "../lib/wrk.mjs";

/** Scenarios 1 and 2 together: hello, floor, listener, hello, floor, listener … */
export async function ceilingsAndListener(ctx) {
  const rig = await ceilingRig(ctx);
  try {
    const listener = await listenerDistinct(ctx, rig);
    return { sections: { ceilings: { rows: ceilingRows(ctx, rig.details), details: rig.details }, "listener-distinct": listener } };
  } finally {
    await rig.stop();
  }
}

async function listenerDistinct(ctx, rig) {
  const { opts } = ctx;
  const rt = await ctx.start("main", "listener-distinct");
  const details = {};
  try {
    const api = await new Api(rt.url).seedProject({ actions: ["update"] });
    await api.seedPasses(opts.passes);
    const hook = api.hooks.update;
    const req = { method: "POST", path: hook, body: '{"member_id":"p-{i}","points":{u}}', n: opts.passes, headers: { "Content-Type": "application/json" } };
    // Warm-up: every pass's Durable Object is loaded before anything is measured.
    await rig.warm();
    details.closed = [];
    for (let i = 0; i < opts.runs; i++) {
      await rig.round();
      // Warm-up: every pass's object is loaded again (they went idle during the ceilings' runs).
      await wrk(rt.url, { seconds: opts.warmS, request: req });
      details.closed.push(await ctx.measure(() => wrk(rt.url, { seconds: opts.measureS, request: req }), rt));
    }
    // The open loop needs the machine to itself (as far as this bench goes).
    await rig.stop();
    const m = medianRun(details.closed);
    details.cpuMsPerRequest = median(details.closed.map((r) => r.cpuMsPerRequest));

    const rate = Math.max(1, Math.round(m.rps / 2));
    let k = 0;
    details.open = await ctx.measure(() => openLoop(rt.url, {
      rate,
      seconds: opts.openS,
      make: () => {
        const i = k++;
        return { path: hook, body: JSON.stringify({ member_id: `p-${i % opts.passes}`, points: 5e9 + i }) };
      },
    }));
    const o = details.open;
    const failed = Object.entries(o.statuses).filter(([s]) => s !== "200").reduce((a, [, n]) => a + n, 0);
    return {
      details,
      rows: [
        { metric: "listener update req/s (distinct passes)", value: round(m.rps, 0), unit: "req/s", ratio: true, runs: details.closed.map((r) => round(r.rps, 0)), others: details.closed.map((r) => r.othersCpuPercent), errors: m.non2xx + m.socketErrors, targets: [{ minOf: "hello", min: 0.04 }, { minOf: "floor", min: 2 / 3 }] },
        { metric: "listener update p50 / p99 (closed loop, 16 conns)", value: `${round(m.p50, 1)} / ${round(m.p99, 1)}`, unit: "ms" },
        { metric: "workerd CPU per listener update", value: round(details.cpuMsPerRequest, 2), unit: "ms", cpuRatio: true, note: "all of workerd's CPU (D1, DOs, queues, local rate limiter) / requests; ratios: the ceiling's CPU per request / this" },
        { metric: `listener p99 at half load (open loop, ${rate} req/s)`, value: round(o.p99, 1), unit: "ms", targets: [{ max: 25 }], others: o.othersCpuPercent, note: `p50 ${round(o.p50, 1)}, p99.9 ${round(o.p999, 1)}, max ${round(o.max, 1)} ms; ${o.completed}/${o.sent} answered${failed ? `, ${failed} not 200` : ""}` },
      ],
    };
  } finally {
    await ctx.stop(rt, "listener-distinct");
  }
}
