// Node load drivers for what wrk cannot do: an open-loop generator (fixed arrival rate, latency from
// the intended send time, so queueing shows in p99) and a closed-loop driver that keeps every answer
// (the hot-pass order check). Both use keep-alive connections from one pool.
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { summarize } from "./stats.mjs";

function send(agent, url, { method = "POST", path, headers = {}, body }) {
  return new Promise((resolve) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method, path, agent, headers: body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers } : headers },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", (e) => resolve({ status: 0, error: String(e) }));
      },
    );
    req.on("error", (e) => resolve({ status: 0, error: String(e) }));
    req.end(body);
  });
}

/**
 * Open loop: request k is due at start + k/rate, whatever happened to earlier ones. Latency is
 * measured from that intended time, so time spent waiting for a free connection or behind a slow
 * answer counts (no coordinated omission). `make(k)` returns the request; `onAnswer(k, answer,
 * latencyMs)`, when given, sees every answer.
 */
export async function openLoop(base, { rate, seconds, connections = 64, make, onAnswer }) {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const total = Math.round(rate * seconds);
  const latencies = [];
  const statuses = {};
  let maxLag = 0;
  const inflight = new Set();
  const start = performance.now();
  let k = 0;
  while (k < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) * rate) / 1000) + 1);
    for (; k < due; k++) {
      const intended = start + (k * 1000) / rate;
      maxLag = Math.max(maxLag, now - intended);
      const id = k;
      const p = send(agent, url, make(k)).then((r) => {
        const ms = performance.now() - intended;
        latencies.push(ms);
        onAnswer?.(id, r, ms);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        inflight.delete(p);
      });
      inflight.add(p);
    }
    const next = start + (k * 1000) / rate;
    await sleep(Math.max(0, Math.min(5, next - performance.now())));
  }
  const sendEnd = performance.now();
  await Promise.race([Promise.all(inflight), sleep(30_000)]);
  agent.destroy();
  return { rate, sent: total, seconds: (sendEnd - start) / 1000, completed: latencies.length, statuses, schedulerMaxLagMs: maxLag, ...summarize(latencies) };
}

/**
 * Closed loop: `concurrency` workers, each sending its next request when the previous one answered,
 * until `seconds` passed. Every answer is handed to `onAnswer(request, answer, latencyMs)`.
 */
export async function closedLoop(base, { concurrency, seconds, make, onAnswer = () => {} }) {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = [];
  const statuses = {};
  let k = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const req = make(k++);
        const t = performance.now();
        const res = await send(agent, url, req);
        const ms = performance.now() - t;
        latencies.push(ms);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        onAnswer(req, res, ms);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  return { sent: k, seconds: elapsed, rps: latencies.length / elapsed, statuses, ...summarize(latencies) };
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (i < items.length) {
        const j = i++;
        out[j] = await fn(items[j], j);
      }
    }),
  );
  return out;
}
