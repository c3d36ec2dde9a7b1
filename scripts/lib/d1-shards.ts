/**
 * The D1 shards a deployment lists (docs/scaling.md), for the scripts that apply migrations: the
 * `D1_SHARDS` var (a local `.dev.vars` line wins over wrangler.toml, as in `wrangler dev`), and the
 * `[[d1_databases]]` bindings wrangler.toml declares, comments ignored.
 */
import { existsSync, readFileSync } from "node:fs";

const list = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** wrangler.toml without its comments (a commented-out block declares nothing). */
export function uncommented(toml: string): string {
  return toml
    .split("\n")
    .map((line) => line.replace(/^\s*#.*$/, ""))
    .join("\n");
}

/** The shard bindings, shard 0 first (`["DB"]` when none are listed). */
export function shardBindings(toml: string, devVars?: string): string[] {
  const local = devVars && existsSync(devVars) ? /^\s*D1_SHARDS\s*=(.*)$/m.exec(readFileSync(devVars, "utf8"))?.[1]?.trim().replace(/^"|"$/g, "") : undefined;
  const declared = /^\s*D1_SHARDS\s*=\s*"([^"]*)"/m.exec(uncommented(toml))?.[1];
  const shards = list(local ?? declared);
  return shards.length ? shards : ["DB"];
}

/** `[[d1_databases]]` blocks of wrangler.toml: binding and database_id. */
export function d1Databases(toml: string): { binding: string; databaseId: string | null }[] {
  return uncommented(toml)
    .split(/^\s*\[\[d1_databases\]\]\s*$/m)
    .slice(1)
    .map((block) => block.split(/^\s*\[/m)[0])
    .map((block) => ({ binding: /^\s*binding\s*=\s*"([^"]+)"/m.exec(block)?.[1] ?? "", databaseId: /^\s*database_id\s*=\s*"([^"]*)"/m.exec(block)?.[1] ?? null }))
    .filter((d) => d.binding);
}
