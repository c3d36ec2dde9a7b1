// 1. Ceilings: a bare hello-world Worker, and the design floor (one DO RPC that runs one D1 batch
// writing one row, a DO per key), on the same runtime and load as the listener. With
// listener-distinct, their runs are interleaved with the listener's (hello, floor, listener, hello …)
// so that each ratio compares runs made under the same load from other processes. The runtime evicts
// Durable Objects that sat idle for a few seconds, so every DO-backed run gets its own warm-up.
import { median, medianRun, round } from "../lib/stats.mjs";
import { wrk } from "../lib/wrk.mjs";

const HELLO = { method: "GET", path: "/" };

/** Both ceiling Workers, started and warm; `round()` measures each once. */
export async function ceilingRig(ctx) {
  const { opts } = ctx;
  // Distinct keys like the listener's distinct passes; the warm-up creates every object and the table.
  const floorReq = { method: "POST", path: "/k-{i}", body: '{"v":{u}}', n: opts.passes };
  const hello = await ctx.start("hello", "ceilings-hello");
  let floor;
  try {
    floor = await ctx.start("floor", "ceilings-floor");
  } catch (e) {
    await ctx.stop(hello, "ceilings");
    throw e;
  }
  const details = { hello: [], floor: [] };
  return {
    details,
    async warm() {
      await wrk(hello.url, { seconds: opts.warmS, request: HELLO });
      await wrk(floor.url, { seconds: opts.warmS, request: floorReq });
    },
    /** One measured run of each. The floor is warmed first: its objects went idle during the other runs. */
    async round() {
      details.hello.push(await ctx.measure(() => wrk(hello.url, { seconds: opts.measureS, request: HELLO }), hello));
      await wrk(floor.url, { seconds: opts.warmS, request: floorReq });
      details.floor.push(await ctx.measure(() => wrk(floor.url, { seconds: opts.measureS, request: floorReq }), floor));
    },
    async stop() {
      if (this.stopped) return;
      this.stopped = true;
      await ctx.stop(hello, "ceilings");
      await ctx.stop(floor, "ceilings");
    },
  };
}

/** Sets this run's ceilings (medians of the rounds) and returns their rows. */
export function ceilingRows(ctx, details) {
  const h = medianRun(details.hello);
  const f = medianRun(details.floor);
  ctx.ceilings.hello = h.rps;
  ctx.ceilings.helloCpuMs = median(details.hello.map((r) => r.cpuMsPerRequest));
  ctx.ceilings.floor = f.rps;
  ctx.ceilings.floorCpuMs = median(details.floor.map((r) => r.cpuMsPerRequest));
  const runs = (d) => d.map((r) => round(r.rps, 0));
  const others = (d) => d.map((r) => r.othersCpuPercent);
  return [
    { metric: "hello-world req/s", value: round(h.rps, 0), unit: "req/s", ratio: true, runs: runs(details.hello), others: others(details.hello), errors: h.non2xx + h.socketErrors },
    { metric: "hello-world p50 / p99", value: `${round(h.p50, 2)} / ${round(h.p99, 2)}`, unit: "ms" },
    { metric: "hello-world workerd CPU per request", value: round(ctx.ceilings.helloCpuMs, 3), unit: "ms", cpuRatio: true },
    { metric: "design floor req/s (1 DO call + 1 D1 batch)", value: round(f.rps, 0), unit: "req/s", ratio: true, runs: runs(details.floor), others: others(details.floor), errors: f.non2xx + f.socketErrors },
    { metric: "design floor p50 / p99", value: `${round(f.p50, 2)} / ${round(f.p99, 2)}`, unit: "ms" },
    { metric: "design floor workerd CPU per request", value: round(ctx.ceilings.floorCpuMs, 3), unit: "ms", cpuRatio: true },
  ];
}

export async function ceilings(ctx) {
  const rig = await ceilingRig(ctx);
  try {
    await rig.warm();
    for (let i = 0; i < ctx.opts.runs; i++) await rig.round();
  } finally {
    await rig.stop();
  }
  return { rows: ceilingRows(ctx, rig.details), details: rig.details };
}
