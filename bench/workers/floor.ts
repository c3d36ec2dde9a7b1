/**
 * Ceiling 2, the floor of passhook's design: per request, one RPC to a Durable Object per key, which
 * runs one D1 batch writing one row. Nothing else (no auth, no parsing, no queue, no log row), so a
 * listener update can only be slower than this; the gap is what the listener adds on top.
 */
import { DurableObject } from "cloudflare:workers";

interface FloorEnv {
  DB: D1Database;
  FLOOR: DurableObjectNamespace<FloorObject>;
}

// One table, created once per isolate (the bench warms up before it measures). WITHOUT ROWID: the
// key is the row, so an upsert writes one row and no separate index entry.
let ready: Promise<unknown> | undefined;
function ensureTable(db: D1Database): Promise<unknown> {
  ready ??= db.prepare("CREATE TABLE IF NOT EXISTS floor (k TEXT PRIMARY KEY, v TEXT NOT NULL, n INTEGER NOT NULL) WITHOUT ROWID").run();
  return ready;
}

export class FloorObject extends DurableObject<FloorEnv> {
  async write(key: string, value: string): Promise<number> {
    await ensureTable(this.env.DB);
    const [r] = await this.env.DB.batch<{ n: number }>([
      this.env.DB.prepare("INSERT INTO floor (k, v, n) VALUES (?1, ?2, 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = n + 1 RETURNING n").bind(key, value),
    ]);
    return r.results[0].n;
  }
}

export default {
  async fetch(req, env): Promise<Response> {
    const key = new URL(req.url).pathname.slice(1) || "k";
    const n = await env.FLOOR.getByName(key).write(key, await req.text());
    return Response.json({ key, n });
  },
} satisfies ExportedHandler<FloorEnv>;
