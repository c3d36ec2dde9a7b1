// 6. Callbacks: N install events (one per pass, through the public test-send endpoint, which makes a
// real delivery through the pipeline: DO, delivery row, queue, consumer, signed POST) to a local
// receiver. Deliveries/s and event-to-receipt latency (receipt minus the moment the event request
// returned its 202), joined on webhook-id = deliveryId.
import http from "node:http";
import { Api } from "../lib/api.mjs";
import { pool } from "../lib/load.mjs";
import { round, summarize } from "../lib/stats.mjs";

function startReceiver() {
  const receipts = new Map();
  let duplicates = 0;
  const server = http.createServer((req, res) => {
    const id = req.headers["webhook-id"];
    req.resume();
    req.on("end", () => {
      if (receipts.has(id)) duplicates++;
      else receipts.set(id, performance.now());
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: server.address().port, receipts, dup: () => duplicates })));
}

export async function callbacks(ctx) {
  const { opts } = ctx;
  const rt = await ctx.start("main", "callbacks");
  const receiver = await startReceiver();
  try {
    const api = await new Api(rt.url).seedProject({ actions: [] });
    const N = opts.callbacksN;
    const warmN = Math.min(50, N);
    const passIds = await api.seedPasses(N + warmN);
    await api.call("POST", `/v1/project/${api.projectId}/settings/callback`, { baseUrl: `http://127.0.0.1:${receiver.port}/cb` }, { expect: [200] });

    const returned = new Map();
    const fire = (ids) =>
      pool(ids, 16, async (passId) => {
        const r = await api.call("POST", `/v1/project/${api.projectId}/settings/callback/test`, { event: "install", passId }, { expect: [202] });
        returned.set(r.body.deliveryId, performance.now());
      });
    const waitAll = async (ids, timeoutMs) => {
      const deadline = performance.now() + timeoutMs;
      while (ids.some((id) => !receiver.receipts.has(id)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    };

    // Warm-up on other passes, then the measured batch.
    await fire(passIds.slice(N));
    await waitAll([...returned.keys()], 60_000);
    returned.clear();
    const { t0, produced, ids, othersCpuPercent } = await ctx.measure(async () => {
      const t0 = performance.now();
      await fire(passIds.slice(0, N));
      const produced = performance.now();
      const ids = [...returned.keys()];
      await waitAll(ids, 180_000);
      return { t0, produced, ids };
    });
    const got = ids.filter((id) => receiver.receipts.has(id));
    const lat = got.map((id) => receiver.receipts.get(id) - returned.get(id));
    const lastReceipt = Math.max(...got.map((id) => receiver.receipts.get(id)));
    const s = summarize(lat);
    const perSec = got.length / ((lastReceipt - t0) / 1000);
    // Receipts per second from the first event on, and the rate at which the backlog drained once
    // every event was in: that one is the delivery pipeline alone.
    const timeline = [];
    for (const id of got) {
      const sec = Math.floor((receiver.receipts.get(id) - t0) / 1000);
      timeline[sec] = (timeline[sec] ?? 0) + 1;
    }
    const afterProduction = got.filter((id) => receiver.receipts.get(id) > produced).length;
    const drainPerSec = afterProduction >= 20 ? afterProduction / ((lastReceipt - produced) / 1000) : null;
    const details = { events: N, received: got.length, duplicates: receiver.dup(), eventsPerSec: N / ((produced - t0) / 1000), deliveriesPerSec: perSec, drainPerSec, afterProduction, receiptsPerSecond: Array.from(timeline, (x) => x ?? 0), latency: s };
    return {
      details,
      rows: [
        { metric: `callbacks: deliveries/s (${N} install events)`, value: round(perSec, 0), unit: "deliveries/s", ratio: true, targets: [{ min: 500 }], others: othersCpuPercent, note: `events produced at ${round(details.eventsPerSec, 0)}/s (16 concurrent test sends)${drainPerSec ? `; the ${afterProduction} still queued then drained at ${round(drainPerSec, 0)}/s` : ""}; ${got.length}/${N} received, ${details.duplicates} duplicates` },
        { metric: "callbacks: event-to-receipt p50 / p99", value: `${round(s.p50, 0)} / ${round(s.p99, 0)}`, unit: "ms", targets: [{ max: 1500, field: "p50" }], p50: s.p50 },
      ],
    };
  } finally {
    receiver.server.close();
    await ctx.stop(rt, "callbacks");
  }
}
