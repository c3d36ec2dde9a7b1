// Runs once per test file (storage is per file): applies the same SQL wrangler applies, to every D1
// database the run has (the sharded run adds the directory, DIR).
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
if (env.DIR) await applyD1Migrations(env.DIR, env.TEST_MIGRATIONS);
