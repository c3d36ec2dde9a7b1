/**
 * Bench-only entry: the real passhook Worker with counting bindings, for "cost per listener update".
 * Production code is untouched: this file re-exports src/index.ts, hands every handler (and every
 * Durable Object) a wrapped env, and counts what crosses the bindings:
 *
 * - D1: round trips, statements, and rows_read / rows_written / duration / size_after as D1's own
 *   result meta reports them. Counted on the wire (the binding's internal fetcher: every round trip is
 *   one fetch, whichever of run/all/first/raw/batch made it); if a runtime update moves that internal,
 *   it falls back to counting the public API (then first() and raw() carry no rows) and says so.
 * - Durable Object stub calls (by class and method), queue messages (by binding), rate-limit calls.
 *
 * Counts go to a bucket named after the invocation that made them (AsyncLocalStorage): `fetch`,
 * `queue:<queue name>`, `scheduled`, or `do:<Class>.<method>` for work inside a Durable Object (an RPC
 * arrives there as a new invocation). The bench attributes a DO bucket to the callers of that method.
 *
 * Binding names come from the bench launcher (BENCH_BINDINGS, read from wrangler.toml), so new or
 * renamed bindings are picked up. Durable Object classes are instrumented below by name: a class this
 * file does not wrap still works (the star export), uncounted, and /__bench/counters lists which were.
 *
 * Bench routes (answered before the app, never counted): GET /__bench/counters, POST /__bench/reset,
 * and the read-only storage figures of storage-stats.ts (GET /__bench/storage/d1, POST
 * /__bench/storage/do, GET /__bench/storage/r2).
 */
import worker, * as real from "../../src/index";
import { instrumentDurableObject, instrumentEnv, resetCounters, snapshot, within } from "./counting";
import { objectStorage, storageRoute } from "./storage-stats";

export * from "../../src/index";

/**
 * Adds `benchStorage()` (this object's SQLite size and tables) to an instrumented class, for the
 * storage figures. Not counted: the bench calls it from its own route, outside any bucket.
 */
function withStorageProbe<T extends new (ctx: DurableObjectState, env: Env) => object>(Base: T): T {
  return class extends (Base as new (ctx: DurableObjectState, env: Env) => object) {
    readonly #sql: SqlStorage;
    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env);
      this.#sql = ctx.storage.sql;
    }
    benchStorage() {
      return objectStorage(this.#sql);
    }
  } as unknown as T;
}

// Every Durable Object class of wrangler.toml, by its class_name. A new class: add one line here.
export const PassObject = withStorageProbe(instrumentDurableObject(real.PassObject, "PassObject"));

async function benchRoute(req: Request, url: URL, env: Env): Promise<Response> {
  if (url.pathname === "/__bench/reset" && req.method === "POST") {
    resetCounters();
    return Response.json({ ok: true });
  }
  if (url.pathname === "/__bench/counters") {
    return Response.json(snapshot());
  }
  return (await storageRoute(req, url, env as unknown as Record<string, unknown>)) ?? Response.json({ error: "no such bench route" }, { status: 404 });
}

const handler = worker as ExportedHandler<Env>;

export default {
  fetch(req, env, ctx) {
    const url = new URL(req.url);
    if (url.pathname.startsWith("/__bench/")) return benchRoute(req, url, env);
    return within("fetch", () => handler.fetch!(req, instrumentEnv(env), ctx));
  },
  queue(batch, env, ctx) {
    return within(`queue:${batch.queue}`, () => handler.queue!(batch, instrumentEnv(env), ctx), batch.messages.length);
  },
  scheduled(controller, env, ctx) {
    return within("scheduled", () => handler.scheduled!(controller, instrumentEnv(env), ctx));
  },
} satisfies ExportedHandler<Env>;
