// What the numbers ran on, and how busy the machine was meanwhile (other processes share it).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./paths.mjs";

const version = (pkg) => JSON.parse(readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;

export function machine() {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? os.cpus()[0]?.model;
  let workerd = null;
  try {
    workerd = execFileSync(path.join(ROOT, "node_modules/@cloudflare/workerd-linux-64/bin/workerd"), ["--version"], { encoding: "utf8" }).trim();
  } catch {
    /* another platform package */
  }
  let wrk = null;
  try {
    execFileSync("wrk", ["--version"], { encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    wrk = String(e.stdout ?? "").split("\n")[0].split(" Copyright")[0].trim() || null; // wrk --version exits 1
  }
  return {
    cpu,
    cores: os.cpus().length,
    ramGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    workerd,
    miniflare: version("miniflare"),
    wrangler: version("wrangler"),
    wrk,
  };
}

function cpuTimes() {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  return { idle, total: f.reduce((a, b) => a + b, 0) };
}

/** Every process: name, parent, CPU seconds used so far. */
function processes() {
  const out = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(d), { comm, ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / 100 });
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * Samples, once a second, the CPU that processes outside this bench's process tree use (other
 * people's tests on a shared machine). A process seen for the first time counts with all it used.
 * `window()` gives the share of the machine they took between two calls: a noise flag per measurement.
 */
export function startContentionSampler() {
  const cores = os.cpus().length;
  const byComm = {};
  let others = 0;
  let prev = processes();
  const ours = (procs, pid) => {
    for (let p = pid, i = 0; p > 1 && i < 64; p = procs.get(p)?.ppid ?? 0, i++) if (p === process.pid) return true;
    return false;
  };
  const sample = () => {
    const cur = processes();
    for (const [pid, p] of cur) {
      // Kernel threads (children of kthreadd) are left out: their I/O work may well be ours.
      if (pid === 2 || p.ppid === 2 || ours(cur, pid)) continue;
      const before = prev.get(pid);
      const used = p.cpu - (before && before.comm === p.comm ? before.cpu : 0);
      if (used > 0) {
        others += used;
        byComm[p.comm] = (byComm[p.comm] ?? 0) + used;
      }
    }
    prev = cur;
  };
  const timer = setInterval(sample, 1000);
  timer.unref();
  const t0 = cpuTimes();
  const started = Date.now();
  const start = { loadavg: os.loadavg().map((x) => Number(x.toFixed(2))) };
  return {
    window() {
      sample();
      const at = { t: Date.now(), others };
      return {
        end() {
          sample();
          return Number((((others - at.others) / (((Date.now() - at.t) / 1000) * cores)) * 100).toFixed(1));
        },
      };
    },
    finish() {
      clearInterval(timer);
      sample();
      const t1 = cpuTimes();
      const seconds = (Date.now() - started) / 1000;
      const busy = 1 - (t1.idle - t0.idle) / (t1.total - t0.total);
      return {
        start,
        end: { loadavg: os.loadavg().map((x) => Number(x.toFixed(2))) },
        machineCpuBusyPercent: Number((busy * 100).toFixed(1)),
        otherProcessesCpuPercent: Number(((others / (seconds * cores)) * 100).toFixed(1)),
        busiestOthers: Object.entries(byComm)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([comm, cpuS]) => ({ comm, cpuSeconds: Number(cpuS.toFixed(1)) })),
      };
    },
  };
}
