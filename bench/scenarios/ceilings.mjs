// 1. Ceilings: a bare hello-world Worker, and the design floor (one DO RPC that runs one D1 batch
// writing one row, a DO per key), on the same runtime and load as the listener.
import { wrk } from "../lib/wrk.mjs";
import { median, medianRun, round } from "../lib/stats.mjs";

export async function ceilings(ctx) {
  const { opts } = ctx;
  const rows = [];
  const details = {};

  const hello = await ctx.start("hello", "ceilings-hello");
  try {
    const req = { method: "GET", path: "/" };
    await wrk(hello.url, { seconds: opts.warmS, request: req });
    details.hello = await ctx.repeat(() => wrk(hello.url, { seconds: opts.measureS, request: req }), hello);
  } finally {
    await ctx.stop(hello, "ceilings");
  }
  const h = medianRun(details.hello);
  ctx.ceilings.hello = h.rps;
  ctx.ceilings.helloCpuMs = median(details.hello.map((r) => r.cpuMsPerRequest));
  rows.push(
    { metric: "hello-world req/s", value: round(h.rps, 0), unit: "req/s", ratio: true, runs: details.hello.map((r) => round(r.rps, 0)), others: details.hello.map((r) => r.othersCpuPercent) },
    { metric: "hello-world p50 / p99", value: `${round(h.p50, 2)} / ${round(h.p99, 2)}`, unit: "ms" },
    { metric: "hello-world workerd CPU per request", value: round(ctx.ceilings.helloCpuMs, 3), unit: "ms", cpuRatio: true },
  );

  const floor = await ctx.start("floor", "ceilings-floor");
  try {
    // Distinct keys like the listener's distinct passes; the warm-up creates every object and the table.
    const req = { method: "POST", path: "/k-{i}", body: '{"v":{u}}', n: opts.passes };
    await wrk(floor.url, { seconds: opts.warmS, request: req });
    details.floor = await ctx.repeat(() => wrk(floor.url, { seconds: opts.measureS, request: req }), floor);
  } finally {
    await ctx.stop(floor, "ceilings");
  }
  const f = medianRun(details.floor);
  ctx.ceilings.floor = f.rps;
  ctx.ceilings.floorCpuMs = median(details.floor.map((r) => r.cpuMsPerRequest));
  rows.push(
    { metric: "design floor req/s (1 DO call + 1 D1 batch)", value: round(f.rps, 0), unit: "req/s", ratio: true, runs: details.floor.map((r) => round(r.rps, 0)), others: details.floor.map((r) => r.othersCpuPercent), errors: f.non2xx + f.socketErrors },
    { metric: "design floor p50 / p99", value: `${round(f.p50, 2)} / ${round(f.p99, 2)}`, unit: "ms" },
    { metric: "design floor workerd CPU per request", value: round(ctx.ceilings.floorCpuMs, 3), unit: "ms", cpuRatio: true },
  );
  return { rows, details };
}
