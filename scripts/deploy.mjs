// `npm run deploy`: the real path to Cloudflare, in order. Every step is a plain wrangler command,
// printed before it runs; DRY_RUN=1 prints them without running anything.
//   1. wrangler d1 create passhook        (once; paste the database_id into wrangler.toml)
//   0. refuses a placeholder database_id or an empty PUBLIC_URL (wallet work needs it)
//   2. wrangler queues create …           (once per queue; "already exists" is fine)
//      wrangler r2 bucket create passhook-event-log, and its 30-day lifecycle rule
//   3. wrangler secret put ADMIN_TOKEN / MASTER_KEY   (once; MASTER_KEY = `openssl rand -base64 32`)
//   4. wrangler d1 migrations apply <binding> --remote   (every D1 shard in D1_SHARDS; default DB)
//   5. wrangler deploy
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { d1Databases, shardBindings } from "./lib/d1-shards.ts";

const root = path.resolve(import.meta.dirname, "..");
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const dry = process.env.DRY_RUN === "1";
const QUEUES = [
  "passhook-callbacks",
  "passhook-callbacks-dlq",
  "passhook-pushes",
  "passhook-pushes-dlq",
  "passhook-apple",
  "passhook-apple-dlq",
  "passhook-google",
  "passhook-google-dlq",
];

function run(args, { allowFail = false, capture = false } = {}) {
  console.log(`$ wrangler ${args.join(" ")}`);
  if (dry) return { status: 0, stdout: "" };
  const r = spawnSync(wrangler, args, { cwd: root, stdio: capture ? ["inherit", "pipe", "pipe"] : "inherit", encoding: "utf8" });
  if (r.status !== 0 && !allowFail) process.exit(r.status ?? 1);
  return r;
}

const toml = readFileSync(path.join(root, "wrangler.toml"), "utf8");
if (/database_id = "0{8}-0{4}-0{4}-0{4}-0{12}"/.test(toml)) {
  console.log(`wrangler.toml still has the placeholder database_id. Create the database once:

  npx wrangler d1 create passhook

then paste the printed database_id into wrangler.toml ([[d1_databases]]) and run npm run deploy again.`);
  if (!dry) process.exit(1);
}

// Wallet work needs a fixed public base URL: every Apple pass carries {PUBLIC_URL}/apple as its
// webServiceURL for good, and queue consumers have no request to take an origin from.
const publicUrl = /^PUBLIC_URL\s*=\s*"([^"]*)"/m.exec(toml)?.[1]?.trim() ?? "";
if (!/^https:\/\/[^\s/]+/.test(publicUrl)) {
  console.log(`PUBLIC_URL in wrangler.toml [vars] is ${publicUrl ? `"${publicUrl}", not an https URL` : "empty"}. Wallet work needs the Worker's public base URL:

  PUBLIC_URL = "https://passhook.example.com"     (your custom domain, or https://passhook.<account>.workers.dev)

Apple passes carry {PUBLIC_URL}/apple as their web service URL for good, so choose it before the first pass goes out.`);
  if (!dry) process.exit(1);
}

for (const q of QUEUES) run(["queues", "create", q], { allowFail: true });

// The inbound event log's details live in R2; objects expire with the log's retention (the cron
// also deletes them with their rows; the rule is the backstop, and takes what a deleted integration
// left). EVENT_LOG_RETENTION_DAYS is whole days 1-30 (src/listener/event-log.ts); else 30.
const retentionVar = Number(/^EVENT_LOG_RETENTION_DAYS\s*=\s*"([^"]*)"/m.exec(toml)?.[1]);
const retentionDays = Number.isInteger(retentionVar) && retentionVar >= 1 && retentionVar <= 30 ? retentionVar : 30;
run(["r2", "bucket", "create", "passhook-event-log"], { allowFail: true });
run(["r2", "bucket", "lifecycle", "add", "passhook-event-log", "expire-event-details", "--expire-days", String(retentionDays), "--force"], { allowFail: true });

const secrets = dry ? "" : (run(["secret", "list", "--format", "json"], { allowFail: true, capture: true }).stdout ?? "");
for (const name of ["ADMIN_TOKEN", "MASTER_KEY"]) {
  if (!secrets.includes(`"${name}"`)) {
    console.log(name === "MASTER_KEY" ? "MASTER_KEY: paste 32 random bytes in base64 (openssl rand -base64 32)" : "ADMIN_TOKEN: paste a long random operator token");
    run(["secret", "put", name]);
  }
}

// D1 shards (docs/scaling.md): every binding D1_SHARDS lists gets the same migrations, in order.
const shards = shardBindings(toml);
const databases = d1Databases(toml);
const missing = shards.filter((b) => !databases.some((d) => d.binding === b && d.databaseId && /^[0-9a-f-]{36}$/.test(d.databaseId)));
if (missing.length) {
  console.log(`D1_SHARDS names ${missing.join(", ")}, which wrangler.toml has no [[d1_databases]] binding with a real database_id for. Add each shard:

  npx wrangler d1 create passhook-shard-1
  [[d1_databases]]
  binding = "DB_1"
  database_name = "passhook-shard-1"
  database_id = "<the printed id>"
  migrations_dir = "migrations"

then run npm run types (worker-configuration.d.ts lists the bindings).`);
  if (!dry) process.exit(1);
}
for (const b of shards) run(["d1", "migrations", "apply", b, "--remote"]);
run(["deploy"]);
console.log(`\nDeployed at ${publicUrl}. APNs path: npm run apns:canary tells whether the Worker's own fetch reaches APNs; if not, run tools/apns-relay and set APNS_RELAY_URL (+ wrangler secret put APNS_RELAY_SECRET).`);
