// `npm run db:migrate:local`: applies the migrations to every local D1 shard (D1_SHARDS; default DB).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { shardBindings } from "./lib/d1-shards.ts";

const root = path.resolve(import.meta.dirname, "..");
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
for (const binding of shardBindings(readFileSync(path.join(root, "wrangler.toml"), "utf8"), path.join(root, ".dev.vars"))) {
  console.log(`$ wrangler d1 migrations apply ${binding} --local`);
  const r = spawnSync(wrangler, ["d1", "migrations", "apply", binding, "--local"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
