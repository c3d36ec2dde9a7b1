// `npm start`: local passhook with a demo project. Creates .dev.vars from the example when missing
// (or adds the keys of the example it lacks, never changing a line that is there),
// applies the D1 migrations locally, seeds a demo project (re-runnable), prints how to use it, then
// runs `wrangler dev` on http://127.0.0.1:8787 with local D1, Durable Objects and Queues. Once the
// Worker answers, it creates the demo pass `member-1` through the API (a 409 on later runs is fine)
// and prints the dashboard URL.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { shardBindings } from "./lib/d1-shards.ts";
import { prepareDevVars } from "./lib/dev-vars.ts";

const root = path.resolve(import.meta.dirname, "..");
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
// Non-interactive: wrangler's migration prompt takes its default, and no Request.cf lookup goes out.
const env = { ...process.env, CI: "true", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

const DEMO = {
  projectId: "prj_demo",
  key: "pk_demo",
  // Local-only credentials, like ADMIN_TOKEN in .dev.vars.example: never deploy these.
  secret: "sk_demo_local_only",
  templateId: 1,
};

/** Runs a wrangler command quietly; on failure prints its output and returns its exit status. */
function run(args) {
  const r = spawnSync(wrangler, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (r.status !== 0) process.stderr.write(r.stdout + r.stderr);
  return r.status ?? 1;
}

const devVars = path.join(root, ".dev.vars");
const prepared = prepareDevVars(devVars, path.join(root, ".dev.vars.example"));
if (prepared.created) console.log("created .dev.vars from .dev.vars.example");
else if (prepared.added.length) console.log(`added to .dev.vars from .dev.vars.example: ${prepared.added.join(", ")}`);
// Wallet work (Apple passes' webServiceURL, push consumers) needs a fixed PUBLIC_URL: a .dev.vars made
// before it was needed gets the local one.
if (!/^PUBLIC_URL=\S/m.test(readFileSync(devVars, "utf8"))) {
  appendFileSync(devVars, "\n# Base of links and Apple passes' webServiceURL (wallet work needs it).\nPUBLIC_URL=http://127.0.0.1:8787\n");
  console.log("added PUBLIC_URL=http://127.0.0.1:8787 to .dev.vars");
}
// The Apple walk-through pushes to the local fake APNs, which only ALLOW_CUSTOM_APNS_HOST allows.
if (!/^ALLOW_CUSTOM_APNS_HOST=/m.test(readFileSync(devVars, "utf8"))) {
  appendFileSync(devVars, "\n# APNs hosts other than Apple's (the local fake APNs). Never in production.\nALLOW_CUSTOM_APNS_HOST=true\n");
  console.log("added ALLOW_CUSTOM_APNS_HOST=true to .dev.vars");
}
const adminToken = /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync(devVars, "utf8"))?.[1]?.trim() ?? "(see .dev.vars)";

console.log("applying D1 migrations locally …");
// Every D1 shard (docs/scaling.md); the demo project below is in shard 0, as every project was before shards.
const shards = shardBindings(readFileSync(path.join(root, "wrangler.toml"), "utf8"), devVars);
for (const binding of shards) {
  if (run(["d1", "migrations", "apply", binding, "--local"]) !== 0) process.exit(1);
}

const now = Date.now();
const hash = createHash("sha256").update(DEMO.secret).digest("hex");
const fields = JSON.stringify([
  { key: "name", label: "Member", type: "text", required: true },
  { key: "points", label: "Points", type: "number", default: 0 },
  { key: "tier", label: "Tier", type: "text", default: "bronze" },
  { key: "email", label: "Email", type: "email" },
  { key: "member", label: "Member code", type: "barcode" },
]);
const seed = `
INSERT OR IGNORE INTO projects (id, name, external_id, created_at, updated_at) VALUES ('${DEMO.projectId}', 'Demo coffee shop', 'demo', ${now}, ${now});
INSERT OR IGNORE INTO api_keys (key, project_id, secret_hash, created_at) VALUES ('${DEMO.key}', '${DEMO.projectId}', '${hash}', ${now});
INSERT OR IGNORE INTO templates (id, project_id, name, pass_type, fields, apple, google, created_at, updated_at)
  VALUES (${DEMO.templateId}, '${DEMO.projectId}', 'Demo loyalty card', 'loyalty', '${fields}', NULL, NULL, ${now}, ${now});
`;
const seedDir = mkdtempSync(path.join(tmpdir(), "passhook-"));
const seedFile = path.join(seedDir, "seed.sql");
writeFileSync(seedFile, seed);
console.log("seeding the demo project …");
const seeded = run(["d1", "execute", shards[0], "--local", "--file", seedFile]);
rmSync(seedDir, { recursive: true, force: true });
if (seeded !== 0) process.exit(1);

const basic = Buffer.from(`${DEMO.key}:${DEMO.secret}`).toString("base64");
const BASE = "http://127.0.0.1:8787";
console.log(`
passhook is starting on ${BASE}

  dashboard      ${BASE}/dashboard   (sign in with the API key and secret below)

  demo project   ${DEMO.projectId}
  API key        ${DEMO.key}
  API secret     ${DEMO.secret}
  Basic auth     -u ${DEMO.key}:${DEMO.secret}   (header: Authorization: Basic ${basic})
  demo template  ${DEMO.templateId} (loyalty: name, points, tier, email, member)
  operator token ${adminToken}   (only for POST /v1/projects)

First call — create a pass:
  curl -s -u ${DEMO.key}:${DEMO.secret} -H 'content-type: application/json' \\
    -d '{"externalId":"member-2","fields":{"name":"Grace","points":10}}' \\
    http://127.0.0.1:8787/v1/template/${DEMO.templateId}/pass

The README walks through templates, passes, listener URLs and callbacks.
Apple Wallet: npm run apple:demo (test certificates + a local fake APNs), see the README's "Apple Wallet".
`);

const dev = spawn(wrangler, ["dev", "--ip", "127.0.0.1", "--port", "8787"], { cwd: root, env: { ...env, CI: "" }, stdio: "inherit" });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => dev.kill(sig));
dev.on("exit", (code) => process.exit(code ?? 0));

// The demo pass, through the real API (so its history starts with a real event), once the Worker is up.
(async () => {
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${BASE}/health`)).ok) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    const res = await fetch(`${BASE}/v1/template/${DEMO.templateId}/pass`, {
      method: "POST",
      headers: { authorization: `Basic ${basic}`, "content-type": "application/json" },
      body: JSON.stringify({ externalId: "member-1", fields: { name: "Ada Lovelace", points: 10, tier: "bronze" } }),
    });
    if (res.status !== 201 && res.status !== 409) console.error(`demo pass: ${res.status} ${await res.text()}`);
  } catch (e) {
    console.error(`demo pass not created: ${e instanceof Error ? e.message : e}`);
  }
  console.log(`\n  Ready. Dashboard: ${BASE}/dashboard  (key ${DEMO.key}, secret ${DEMO.secret}); demo pass: member-1\n`);
})();
