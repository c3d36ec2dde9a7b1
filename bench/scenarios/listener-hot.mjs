// 3. Listener `update` on one hot pass (a stadium's gate scanners): 16 concurrent senders, every
// update a new value. Checks order and loss from the answers: each 200 carries a distinct version,
// the versions are exactly 2..final, and the pass's final version and value match the last answer.
import { Api } from "../lib/api.mjs";
import { closedLoop } from "../lib/load.mjs";
import { round } from "../lib/stats.mjs";

export async function listenerHot(ctx) {
  const { opts } = ctx;
  const rt = await ctx.start("main", "listener-hot");
  try {
    const api = await new Api(rt.url).seedProject({ actions: ["update"] });
    await api.seedPasses(1, { prefix: "hot-" });
    const hook = api.hooks.update;
    const versions = [];
    let last = { version: 0, points: null };
    let other = 0;
    const make = (k) => ({ path: hook, body: JSON.stringify({ member_id: "hot-0", points: k + 1 }), points: k + 1 });
    const onAnswer = (req, res) => {
      if (res.status !== 200) return other++;
      const v = JSON.parse(res.body).version;
      versions.push(v);
      if (v > last.version) last = { version: v, points: req.points };
    };
    // The warm-up's updates count towards the final version too.
    const warm = await closedLoop(rt.url, { concurrency: 16, seconds: opts.warmS, make, onAnswer });
    const offset = warm.sent;
    const run = await ctx.measure(() => closedLoop(rt.url, { concurrency: 16, seconds: opts.hotS, make: (k) => make(k + offset), onAnswer }), rt);
    const pass = await api.getPass("hot-0");
    const sent = warm.sent + run.sent;
    const sorted = [...versions].sort((a, b) => a - b);
    const contiguous = sorted.every((v, i) => v === i + 2);
    const ok = other === 0 && pass.version === 1 + sent && contiguous && last.version === pass.version && pass.fields.points === last.points;
    const rps = run.statuses["200"] / run.seconds;
    return {
      details: { warm, run, finalVersion: pass.version, sent, non200: other, contiguous, lastAnswer: last, finalPoints: pass.fields.points },
      rows: [
        { metric: "one hot pass: ordered updates/s", value: round(rps, 0), unit: "updates/s", ratio: true, targets: [{ min: 300 }], others: run.othersCpuPercent, note: `p50 ${round(run.p50, 1)}, p99 ${round(run.p99, 1)} ms; workerd CPU ${round(run.cpuMsPerRequest, 2)} ms per update` },
        { metric: "one hot pass: final version = 1 + updates sent", value: ok ? "yes" : "NO", unit: "", targets: [{ equals: "yes" }], note: `${sent} sent, final version ${pass.version}, ${other} not 200, versions ${contiguous ? "contiguous" : "NOT contiguous"}` },
      ],
    };
  } finally {
    await ctx.stop(rt, "listener-hot");
  }
}
