// Child process: one Worker on Miniflare with a direct workerd socket (no wrangler dev proxy in front).
// Started by runtime.mjs with its settings in BENCH_SERVE; says {ready} over IPC; {stop} disposes.
// Worker options are the ones wrangler derives from the config (bindings, DOs, queues, consumers),
// pointed at the pre-built bundle; the bench adds test secrets and its own variable overrides.
import { Log, LogLevel, Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

const cfg = JSON.parse(process.env.BENCH_SERVE);
// wrangler reads required secrets from process.env (wrangler.toml `secrets.required`).
Object.assign(process.env, cfg.secrets);

const { workerOptions } = unstable_getMiniflareWorkerOptions(cfg.config);
const w = { ...workerOptions };
// No cron while measuring; the bundle is pre-built, so no module rules or root path.
delete w.cronTriggers;
delete w.modulesRules;
delete w.rootPath;
Object.assign(w, {
  modules: true,
  scriptPath: cfg.script,
  compatibilityDate: cfg.compatibilityDate ?? w.compatibilityDate,
  unsafeDirectSockets: [{ host: "127.0.0.1", port: cfg.port }],
  // --profile: the V8 inspector of this Worker's isolate, for a CPU profile (costs CPU; off otherwise).
  ...(cfg.inspectorPort ? { unsafeInspectorProxy: true } : {}),
});
// Binding names by kind, for the instrumented entry (bench/workers/instrumented.ts).
const names = {
  d1: Object.keys(w.d1Databases ?? {}),
  durableObjects: Object.fromEntries(Object.entries(w.durableObjects ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : v.className])),
  queues: Object.keys(w.queueProducers ?? {}),
  ratelimits: Object.keys(w.ratelimits ?? {}),
  r2: Object.keys(w.r2Buckets ?? {}),
};
w.bindings = { ...(w.bindings ?? {}), ...cfg.secrets, ...cfg.bindings, BENCH_BINDINGS: JSON.stringify(names) };
for (const [k, v] of Object.entries(cfg.ratelimits ?? {})) if (w.ratelimits?.[k]) w.ratelimits[k] = { ...w.ratelimits[k], ...v };

const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    resourcePersistencePath: cfg.persist,
    cf: false,
    ...(cfg.inspectorPort ? { inspectorPort: cfg.inspectorPort, inspectorHost: "127.0.0.1" } : {}),
    log: new Log(LogLevel.WARN),
    workers: [w],
  }),
);
await mf.ready;
process.send({ ready: true, bindings: names });
process.on("message", async (m) => {
  if (m?.stop) {
    await mf.dispose();
    process.exit(0);
  }
});
process.on("disconnect", async () => {
  await mf.dispose().catch(() => {});
  process.exit(0);
});
