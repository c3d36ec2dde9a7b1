// Bundles each Worker once per bench run (wrangler's own build, `deploy --dry-run`) and prepares the
// migrated D1 state that every passhook scenario starts from a fresh copy of.
import { spawn } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { BUILD, ROOT, STATE } from "./paths.mjs";
import { SECRETS } from "./secrets.mjs";

const ENV = { ...process.env, ...SECRETS, CI: "true", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

function wrangler(args) {
  return new Promise((resolve, reject) => {
    // Through this Node (the pinned one): the .bin shim would take whatever `node` is first on PATH.
    const p = spawn(process.execPath, [path.join(ROOT, "node_modules/wrangler/bin/wrangler.js"), ...args], { cwd: ROOT, env: ENV, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`wrangler ${args.join(" ")} failed:\n${out}`))));
  });
}

// Absolute --outdir: with --config, wrangler resolves a relative one against the config's folder.
const out = (name) => path.join(BUILD, name);
const BUNDLES = [
  ["main", ["deploy", "--dry-run", "--outdir", out("main")]],
  // The real Worker behind counting bindings: same config, another entry.
  ["instrumented", ["deploy", "bench/workers/instrumented.ts", "--dry-run", "--outdir", out("instrumented")]],
  ["hello", ["deploy", "--dry-run", "--config", "bench/workers/hello.toml", "--outdir", out("hello")]],
  ["floor", ["deploy", "--dry-run", "--config", "bench/workers/floor.toml", "--outdir", out("floor")]],
];

/** The bundle wrangler wrote (named after the entry file). */
export function bundleOf(name) {
  const js = readdirSync(out(name)).filter((f) => f.endsWith(".js"));
  if (js.length !== 1) throw new Error(`expected one .js bundle in ${out(name)}, found ${js.join(", ") || "none"}`);
  return path.join(out(name), js[0]);
}

export async function build(log) {
  rmSync(BUILD, { recursive: true, force: true });
  const started = Date.now();
  // Two at a time: the machine has two cores.
  for (let i = 0; i < BUNDLES.length; i += 2) {
    await Promise.all(BUNDLES.slice(i, i + 2).map(([, args]) => wrangler(args)));
  }
  const template = path.join(STATE, "template");
  rmSync(template, { recursive: true, force: true });
  await wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", path.relative(ROOT, template)]);
  log(`built ${BUNDLES.map(([n]) => n).join(", ")} and a migrated D1 state in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
