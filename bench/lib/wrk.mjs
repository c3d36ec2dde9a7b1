// wrk, the closed-loop load generator (a C program: ~1-2 % CPU here, so it barely competes with
// workerd for the two cores). Installed with apt-get when missing, as CI installs its packages.
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { BENCH } from "./paths.mjs";

export function ensureWrk(log) {
  if (spawnSync("wrk", ["--version"]).error === undefined) return;
  log("wrk is missing: installing it with apt-get (Debian package `wrk`) …");
  const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
  const apt = (args) => spawnSync(sudo.length ? "sudo" : "apt-get", [...(sudo.length ? ["apt-get"] : []), ...args], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  let r = apt(["install", "-y", "-q", "wrk"]);
  if (r.status !== 0) {
    apt(["update", "-q"]);
    r = apt(["install", "-y", "-q", "wrk"]);
  }
  if (spawnSync("wrk", ["--version"]).error !== undefined) {
    throw new Error("wrk is not installed and apt-get could not install it; install it (apt-get install wrk) and run again");
  }
}

let runs = 0;

/**
 * Runs wrk against `url` for `seconds` with `connections` connections. `request`: {method, path, body,
 * n, headers} as wrk.lua takes them. Returns wrk's counts and latency percentiles (ms) and req/s.
 */
export function wrk(url, { seconds, connections = 16, threads = 2, request }) {
  const { method = "GET", path: p = "/", body = "", n = 1, headers = {} } = request;
  const args = [
    `-t${threads}`,
    `-c${connections}`,
    `-d${seconds}s`,
    "--timeout",
    "10s",
    "-s",
    path.join(BENCH, "lib", "wrk.lua"),
    url,
    "--",
    method,
    p,
    body,
    String(n),
    String(++runs),
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return new Promise((resolve, reject) => {
    const proc = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout.on("data", (d) => (out += d));
    proc.stderr.on("data", (d) => (out += d));
    proc.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("BENCHJSON "));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (${code}):\n${out}`));
      const r = JSON.parse(line.slice("BENCHJSON ".length));
      const secs = r.duration_us / 1e6;
      const ms = (us) => us / 1000;
      const errors = r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout;
      resolve({
        requests: r.requests,
        seconds: secs,
        rps: r.requests / secs,
        non2xx: r.errors.status,
        socketErrors: errors,
        p50: ms(r.latency_us.p50),
        p90: ms(r.latency_us.p90),
        p99: ms(r.latency_us.p99),
        p999: ms(r.latency_us.p999),
        max: ms(r.latency_us.max),
        mean: ms(r.latency_us.mean),
      });
    });
  });
}
