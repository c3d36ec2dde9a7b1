// Starts and stops one Worker on Miniflare (bench/lib/serve.mjs in a child process), each with its own
// persisted state, and reads the workerd process's peak RSS from /proc before stopping it.
import { fork } from "node:child_process";
import { cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { bundleOf } from "./build.mjs";
import { ROOT, STATE } from "./paths.mjs";
import { SECRETS } from "./secrets.mjs";

/** Settings for passhook under the bench, passed as bindings. */
const PASSHOOK_BINDINGS = {
  ALLOW_INSECURE_CALLBACKS: "true",
  PUBLIC_URL: "",
  // Short retries: a bench receiver that hiccups should not stall a run for minutes.
  CALLBACK_RETRY_SCHEDULE: "1,1,1,1,1",
};
// The listener's per-integration limit (12000/min) would cap the hot-pass and distinct runs. Raised for
// the bench; the local emulation (a SQLite-backed Durable Object) still runs on every request.
const NO_RATE_LIMIT = { LISTENER_RATE_LIMIT: { simple: { limit: 1_000_000_000, period: 60 } } };

export const WORKERS = {
  main: { config: "wrangler.toml", outdir: "main", template: true, bindings: PASSHOOK_BINDINGS, ratelimits: NO_RATE_LIMIT },
  instrumented: { config: "wrangler.toml", outdir: "instrumented", template: true, bindings: PASSHOOK_BINDINGS, ratelimits: NO_RATE_LIMIT },
  hello: { config: "bench/workers/hello.toml", outdir: "hello", template: false },
  floor: { config: "bench/workers/floor.toml", outdir: "floor", template: false },
};

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function childrenOf(pid) {
  const out = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const m = /^\d+ \((.*)\) \S (\d+)/.exec(stat);
      if (m && Number(m[2]) === pid) out.push({ pid: Number(d), comm: m[1] });
    } catch {
      /* gone */
    }
  }
  return out;
}

function statusKb(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

/**
 * Starts `worker` (a key of WORKERS) on a state directory named `stateName`: fresh (a copy of the
 * migrated template, or empty) unless `keepState`. Returns {url, port, pid, workerdPid, stop, restart}.
 */
export async function startRuntime(worker, stateName, { keepState = false, compatibilityDate, inspect = false } = {}) {
  const spec = WORKERS[worker];
  const stateDir = path.join(STATE, stateName);
  if (!keepState) {
    rmSync(stateDir, { recursive: true, force: true });
    if (spec.template) cpSync(path.join(STATE, "template"), stateDir, { recursive: true });
    mkdirSync(stateDir, { recursive: true });
  }
  const port = await freePort();
  const cfg = {
    config: spec.config,
    script: path.relative(ROOT, bundleOf(spec.outdir)),
    persist: path.relative(ROOT, path.join(stateDir, "v3")),
    port,
    compatibilityDate,
    secrets: spec.template ? SECRETS : {},
    bindings: spec.bindings ?? {},
    ratelimits: spec.ratelimits ?? {},
    inspectorPort: inspect ? await freePort() : undefined,
  };
  const logFile = path.join(stateDir, "runtime.log");
  const log = openSync(logFile, "a");
  const child = fork(path.join(ROOT, "bench/lib/serve.mjs"), [], {
    cwd: ROOT, // workerd refuses paths outside its starting directory
    env: { ...process.env, BENCH_SERVE: JSON.stringify(cfg), CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", log, log, "ipc"],
  });
  const ready = await new Promise((resolve, reject) => {
    const fail = (e) => {
      for (const c of childrenOf(child.pid)) process.kill(c.pid, "SIGKILL");
      child.kill("SIGKILL");
      reject(e);
    };
    const timer = setTimeout(() => fail(new Error(`${worker} did not start in 60 s; see ${logFile}`)), 60_000);
    child.once("message", (m) => {
      clearTimeout(timer);
      if (m?.ready) resolve(m);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${worker} exited with ${code} while starting; see ${logFile}`));
    });
  });
  const workerd = childrenOf(child.pid).find((c) => c.comm === "workerd");
  const url = `http://127.0.0.1:${port}`;
  // Wait for the direct socket to answer.
  for (let i = 0; ; i++) {
    try {
      await fetch(`${url}/__bench/ping`);
      break;
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const rt = {
    worker,
    url,
    port,
    pid: child.pid,
    workerdPid: workerd?.pid ?? null,
    /** Binding names by kind, as the runtime got them from the config. */
    bindings: ready.bindings,
    inspectorPort: cfg.inspectorPort,
    bundle: path.join(ROOT, cfg.script),
    stateDir,
    logFile,
    /** Peak RSS of workerd (VmHWM) and of the Miniflare host process, in kB. */
    memory() {
      return { workerdPeakRssKb: rt.workerdPid ? statusKb(rt.workerdPid, "VmHWM") : null, hostPeakRssKb: statusKb(child.pid, "VmHWM") };
    },
    cpu() {
      return rt.workerdPid ? cpuSeconds(rt.workerdPid) : null;
    },
    async stop() {
      const mem = rt.memory();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.send({ stop: true });
        const t = setTimeout(() => {
          child.kill("SIGKILL");
          if (rt.workerdPid && existsSync(`/proc/${rt.workerdPid}`)) process.kill(rt.workerdPid, "SIGKILL");
        }, 15_000);
        await exited;
        clearTimeout(t);
      }
      return mem;
    },
    /** Stops and starts again on the same state: cold isolate, cold Durable Objects. */
    async restart() {
      const mem = await rt.stop();
      const next = await startRuntime(worker, stateName, { keepState: true, compatibilityDate, inspect });
      return { runtime: next, memory: mem };
    },
  };
  return rt;
}
