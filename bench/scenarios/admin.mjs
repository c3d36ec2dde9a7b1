// 4. Listener `create`, admin GET of a pass by externalId, and cold Durable Objects: the first update
// to each pass after a restart (fresh isolate, objects that must load their pass) against a second one.
import { Api } from "../lib/api.mjs";
import { median, medianRun, round, summarize } from "../lib/stats.mjs";
import { wrk } from "../lib/wrk.mjs";

export async function adminAndCold(ctx) {
  const { opts } = ctx;
  let rt = await ctx.start("main", "admin");
  const details = {};
  const rows = [];
  try {
    const api = await new Api(rt.url).seedProject({ actions: ["update", "create"] });
    await api.seedPasses(opts.passes);

    // Listener create: every request a new pass ({u} is unique per request).
    const create = { method: "POST", path: api.hooks.create, body: '{"member_id":"new-{u}","full_name":"New {u}"}', headers: { "Content-Type": "application/json" } };
    await wrk(rt.url, { seconds: opts.warmS, request: create });
    details.create = await ctx.repeat(() => wrk(rt.url, { seconds: opts.measureS, request: create }), rt);
    const c = medianRun(details.create);
    rows.push({ metric: "listener create req/s (new passes)", value: round(c.rps, 0), unit: "req/s", ratio: true, runs: details.create.map((r) => round(r.rps, 0)), others: details.create.map((r) => r.othersCpuPercent), errors: c.non2xx + c.socketErrors, note: `p50 ${round(c.p50, 1)}, p99 ${round(c.p99, 1)} ms; workerd CPU ${round(median(details.create.map((r) => r.cpuMsPerRequest)), 2)} ms per request` });

    const get = { method: "GET", path: `/v1/pass/template/${api.templateId}/id/p-{i}`, n: opts.passes, headers: { Authorization: api.auth } };
    await wrk(rt.url, { seconds: opts.warmS, request: get });
    details.get = await ctx.repeat(() => wrk(rt.url, { seconds: opts.measureS, request: get }), rt);
    const g = medianRun(details.get);
    rows.push({ metric: "admin GET pass by externalId req/s", value: round(g.rps, 0), unit: "req/s", ratio: true, runs: details.get.map((r) => round(r.rps, 0)), others: details.get.map((r) => r.othersCpuPercent), errors: g.non2xx + g.socketErrors, note: `p50 ${round(g.p50, 1)}, p99 ${round(g.p99, 1)} ms; workerd CPU ${round(median(details.get.map((r) => r.cpuMsPerRequest)), 2)} ms per request` });

    // Cold objects: restart, wake the isolate with one request, then one update per pass, one at a time.
    const restarted = await rt.restart();
    ctx.recordMemory("admin", restarted.memory);
    rt = restarted.runtime;
    const t0 = performance.now();
    await fetch(`${rt.url}/health`);
    details.firstRequestMs = performance.now() - t0;
    const update = (k) => ({ path: api.hooks.update, body: JSON.stringify({ member_id: `p-${k % opts.coldN}`, points: 7e9 + k }) });
    details.cold = await ctx.measure(() => sequential(rt.url, opts.coldN, update, 0));
    details.warm = await ctx.measure(() => sequential(rt.url, opts.coldN, update, opts.coldN));
    const cold = details.cold;
    const warm = details.warm;
    rows.push(
      { metric: `cold DO: first update after restart, p50 / p99 (${opts.coldN} passes, one at a time)`, value: `${round(cold.p50, 1)} / ${round(cold.p99, 1)}`, unit: "ms", note: `same passes warm: ${round(warm.p50, 1)} / ${round(warm.p99, 1)} ms; first request after restart ${round(details.firstRequestMs, 0)} ms` },
    );
    return { rows, details };
  } finally {
    await ctx.stop(rt, "admin");
  }
}

async function sequential(base, n, make, offset) {
  const lat = [];
  let bad = 0;
  for (let k = 0; k < n; k++) {
    const { path, body } = make(k + offset);
    const t = performance.now();
    const res = await fetch(base + path, { method: "POST", headers: { "content-type": "application/json" }, body });
    await res.arrayBuffer();
    lat.push(performance.now() - t);
    if (res.status !== 200) bad++;
  }
  return { ...summarize(lat), non200: bad };
}
