/**
 * The D1 shards the scripts migrate (scripts/lib/d1-shards.ts): `npm start`, `npm run
 * db:migrate:local` and `npm run deploy` apply the migrations to every binding D1_SHARDS lists, and
 * deploy refuses a listed shard wrangler.toml does not bind to a real database.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { d1Databases, shardBindings } from "../../scripts/lib/d1-shards";

const dir = mkdtempSync(path.join(tmpdir(), "passhook-shards-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOML = `[vars]
D1_SHARDS = "DB, DB_1"
# D1_SHARDS = "DB,DB_1,DB_2"

[[d1_databases]]
binding = "DB"
database_id = "0f3a4a1e-2b7c-4d5e-9f00-1234567890ab"

# [[d1_databases]]
# binding = "DB_2"

[[d1_databases]]
binding = "DB_1"
database_id = "<the printed id>"
migrations_dir = "migrations"

[[r2_buckets]]
binding = "EVENT_LOG"
`;

describe("D1 shards in the scripts", () => {
  it("reads D1_SHARDS from wrangler.toml, ignoring comments; none listed is the one binding DB", () => {
    expect(shardBindings(TOML)).toEqual(["DB", "DB_1"]);
    expect(shardBindings(`[vars]\nD1_SHARDS = ""\n`)).toEqual(["DB"]);
    expect(shardBindings(`[vars]\n`)).toEqual(["DB"]);
  });

  it("lets a local .dev.vars line win, as wrangler dev does", () => {
    const devVars = path.join(dir, ".dev.vars");
    writeFileSync(devVars, "MASTER_KEY=x\nD1_SHARDS=DB,DB_1,DB_2\n");
    expect(shardBindings(TOML, devVars)).toEqual(["DB", "DB_1", "DB_2"]);
    expect(shardBindings(TOML, path.join(dir, "missing"))).toEqual(["DB", "DB_1"]);
  });

  it("lists the declared D1 bindings with their ids, not commented-out blocks nor other bindings", () => {
    expect(d1Databases(TOML)).toEqual([
      { binding: "DB", databaseId: "0f3a4a1e-2b7c-4d5e-9f00-1234567890ab" },
      { binding: "DB_1", databaseId: "<the printed id>" },
    ]);
  });
});
