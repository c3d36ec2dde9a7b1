// What a listener update spends its CPU on: the same load as listener-distinct, with the V8 sampling
// profiler on passhook's isolate. Its JS time is split by source (passhook's folders, hono, drizzle,
// zod …); the rest of workerd's CPU is the runtime itself and the local binding emulators (D1, the
// queue broker, the rate limiter), which run outside that isolate. Profiling costs CPU, so these
// figures are not mixed with the throughput ones.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { Api } from "../lib/api.mjs";
import { startProfile, summarizeProfile } from "../lib/profile.mjs";
import { round } from "../lib/stats.mjs";
import { wrk } from "../lib/wrk.mjs";

export async function profile(ctx) {
  const { opts } = ctx;
  const rt = await ctx.start("main", "profile", { inspect: true });
  try {
    const api = await new Api(rt.url).seedProject({ actions: ["update"] });
    await api.seedPasses(opts.passes);
    const req = { method: "POST", path: api.hooks.update, body: '{"member_id":"p-{i}","points":{u}}', n: opts.passes, headers: { "Content-Type": "application/json" } };
    await wrk(rt.url, { seconds: opts.warmS, request: req });
    const prof = await startProfile(rt);
    const run = await ctx.measure(() => wrk(rt.url, { seconds: opts.measureS, request: req }), rt);
    const p = await prof.stop();
    const file = path.join(rt.stateDir, "listener-update.cpuprofile");
    writeFileSync(file, JSON.stringify(p));
    const s = summarizeProfile(p, rt.bundle, run.requests);
    const top = s.groups.slice(0, 8);
    const pct = (x) => `${Math.round(x * 100)} %`;
    return {
      details: { run, summary: s, cpuprofile: path.relative(process.cwd(), file) },
      rows: [
        {
          metric: "listener update with the profiler on: workerd CPU per update",
          value: round(run.cpuMsPerRequest, 2),
          unit: "ms",
          others: run.othersCpuPercent,
          note: `passhook's isolate ran ~${round(s.busyMsPerRequest, 2)} ms of it (${s.busySamples} samples of 250 µs over ${s.requests} updates); the rest is the runtime and the local D1 / queue / rate-limit emulators, outside the isolate; ${round(run.rps, 0)} req/s while profiling`,
        },
        {
          metric: "passhook's isolate time by source (share)",
          value: top.map((g) => `${g.group} ${pct(g.share)}`).join(", "),
          unit: "",
          note: `top functions: ${s.topFunctions.slice(0, 6).map((f) => `${f.fn} ${pct(f.share)}`).join("; ")}`,
        },
      ],
    };
  } finally {
    await ctx.stop(rt, "profile");
  }
}
