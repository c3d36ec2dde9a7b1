/**
 * @module db/shards
 * D1 sharded by project (docs/scaling.md). `D1_SHARDS` lists the D1 bindings, shard 0 first; empty
 * means the one binding `DB`, which is exactly the unsharded deployment. Shard 0 also holds the
 * directory: every project's row with its shard, and the API keys (the only things read before a
 * project is known). Everything else a project owns lives in its own shard, so every query passhook
 * runs is a single-database query, consistent and read-your-writes.
 *
 * Code below the entry points never names a shard: an entry point that learned the project's shard
 * (a key, a token's prefix, a queue message, a Google object id) swaps `env` for `withShard(env, k)`,
 * whose `DB` is that shard, and everything downstream keeps using `env.DB`. The swapped env also
 * remembers which shard it is (`shardOf`), for what must name it again: queue messages, the pass's
 * Durable Object name, and the tokens and serials passhook hands out.
 */

const SHARD = Symbol("passhook.shard");
const DIRECTORY = Symbol("passhook.directory");
const ORIGINAL = Symbol("passhook.original");

type ShardVars = Pick<Env, "DB"> & { D1_SHARDS?: string; D1_OPEN_SHARDS?: string };
type Tagged = { [SHARD]?: number; [DIRECTORY]?: D1Database; [ORIGINAL]?: unknown };

/** The most shards a deployment may list (ids, tokens and serials carry the index in 1-4 digits). */
export const MAX_SHARDS = 1000;

const parsed = new Map<string, string[]>();

/** A comma-separated list of binding names (parsed once per distinct value: it is read on every request). */
function names(list: string | undefined): string[] {
  const key = list ?? "";
  let out = parsed.get(key);
  if (!out) {
    out = key
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    if (parsed.size < 100) parsed.set(key, out);
  }
  return out;
}

/** The shards' binding names, shard 0 first. A list that cannot be right throws (a 500 that says why). */
export function shardNames(env: ShardVars): string[] {
  const list = names(env.D1_SHARDS);
  if (!list.length) return DEFAULT_SHARDS;
  if (checked.has(list)) return list;
  if (list.length > MAX_SHARDS) throw new Error(`D1_SHARDS lists ${list.length} shards; at most ${MAX_SHARDS}`);
  if (new Set(list).size !== list.length) throw new Error("D1_SHARDS lists a binding twice: each shard must be its own D1 database");
  checked.add(list);
  return list;
}

const DEFAULT_SHARDS = ["DB"];
/** Lists already found valid (the parsed arrays are cached, so each is checked once). */
const checked = new WeakSet<string[]>();

export function shardCount(env: ShardVars): number {
  return shardNames(env).length;
}

/** Whether `k` names a configured shard. */
export function isShard(env: ShardVars, k: number): boolean {
  return Number.isInteger(k) && k >= 0 && k < shardCount(env);
}

/** The Worker's own env, before any swap. */
function original<E extends ShardVars>(env: E): E {
  return ((env as Tagged)[ORIGINAL] as E | undefined) ?? env;
}

/** The D1 binding of shard `k` (a misconfigured list fails loudly, not into another shard). */
function binding(env: ShardVars, k: number): D1Database {
  const name = shardNames(env)[k];
  const db = name === undefined ? undefined : (original(env) as unknown as Record<string, unknown>)[name];
  if (!db || typeof (db as D1Database).prepare !== "function") throw new Error(`D1 shard ${k} (${name ?? "unlisted"}) is not a D1 binding: check D1_SHARDS`);
  return db as D1Database;
}

const swapped = new WeakMap<object, Map<number, unknown>>();

/**
 * `env` with `DB` pointing at shard `k`. Shard 0 of an unsharded deployment is `env` itself. The
 * result is cached per env object, so a hot path does not copy the bindings on every request.
 * Swapping again starts from the Worker's own env: a copy made with extra fields (`{...env, X}`)
 * keeps its shard, but `withShard` on that copy drops X. Swap first, then add fields.
 */
export function withShard<E extends ShardVars>(env: E, k: number): E {
  const base = original(env);
  if (k === 0 && shardNames(base)[0] === "DB") return base;
  let byShard = swapped.get(base);
  if (!byShard) swapped.set(base, (byShard = new Map()));
  let out = byShard.get(k) as E | undefined;
  if (!out) {
    out = { ...base, DB: binding(base, k), [SHARD]: k, [DIRECTORY]: binding(base, 0), [ORIGINAL]: base } as E;
    byShard.set(k, out);
  }
  return out;
}

/** The shard `env.DB` is (0 unless the env came from `withShard`). */
export function shardOf(env: object): number {
  return (env as Tagged)[SHARD] ?? 0;
}

/** The directory database (shard 0), whichever shard `env.DB` is. */
export function directoryDb(env: ShardVars): D1Database {
  return (env as Tagged)[DIRECTORY] ?? binding(env, 0);
}

/** Indexes of the shards that take new projects (`D1_OPEN_SHARDS`, binding names; empty: all). */
export function openShards(env: ShardVars): number[] {
  const all = shardNames(original(env));
  const open = names(env.D1_OPEN_SHARDS);
  const unknown = open.filter((n) => !all.includes(n));
  if (unknown.length) throw new Error(`D1_OPEN_SHARDS names ${unknown.join(", ")}, not listed in D1_SHARDS`);
  return open.length ? all.map((n, i) => (open.includes(n) ? i : -1)).filter((i) => i >= 0) : all.map((_, i) => i);
}

/** A queue message's shard field: absent for shard 0, so unsharded messages keep their shape. */
export function shardField(env: object): { shard?: number } {
  const k = shardOf(env);
  return k ? { shard: k } : {};
}

/** The shard a queue message names, or null when it names none we have. */
export function messageShard(env: ShardVars, body: unknown): number | null {
  const k = body && typeof body === "object" ? (body as { shard?: unknown }).shard : undefined;
  if (k === undefined) return 0;
  return typeof k === "number" && isShard(env, k) ? k : null;
}

/**
 * Identifiers handed out by a shard other than 0 carry its index in front (`<k><sep><rest>`), so a
 * request finds its shard without a directory read. Those of shard 0 are unchanged.
 */
export function prefixShard(env: object, sep: "." | "_" | "/", rest: string): string {
  const k = shardOf(env);
  return k ? `${k}${sep}${rest}` : rest;
}

const PREFIXES: Record<string, RegExp> = { ".": /^([1-9][0-9]{0,3})\./, _: /^([1-9][0-9]{0,3})_/, "/": /^([1-9][0-9]{0,3})\// };

/**
 * Splits `<k><sep><rest>` into its shard and the rest; no prefix is shard 0. Null for a prefix that is
 * not a configured shard (the caller answers "not found").
 */
export function splitShard(env: ShardVars, sep: "." | "_" | "/", value: string): { shard: number; rest: string } | null {
  const m = PREFIXES[sep].exec(value);
  if (!m) return { shard: 0, rest: value };
  const k = Number(m[1]);
  return isShard(env, k) ? { shard: k, rest: value.slice(m[0].length) } : null;
}

const guarded = new WeakMap<object, unknown>();

/**
 * The env the Worker's entry points start from. With one shard it is `env` itself. With several, its
 * `DB` throws until an entry point chose the shard (`withShard`): a path that forgot to would
 * otherwise read and write shard 0 for every project, silently.
 */
export function rootEnv<E extends ShardVars>(env: E): E {
  if (shardCount(env) === 1 && shardNames(env)[0] === "DB") return env;
  let out = guarded.get(env) as E | undefined;
  if (!out) {
    out = Object.defineProperty({ ...env, [ORIGINAL]: env }, "DB", {
      enumerable: false,
      get() {
        throw new Error("env.DB was used before a D1 shard was chosen (db/shards.ts)");
      },
    }) as E;
    guarded.set(env, out);
  }
  return out;
}

/**
 * A queue batch split by the shard each message names, for consumers that work in one shard at a
 * time. Messages naming no configured shard are logged and acknowledged (nothing could ever take them).
 */
export function batchesByShard<B>(env: ShardVars, batch: MessageBatch<B>): { shard: number; batch: MessageBatch<B> }[] {
  const groups = new Map<number, Message<B>[]>();
  for (const msg of batch.messages) {
    const k = messageShard(env, msg.body);
    if (k === null) {
      console.error(JSON.stringify({ msg: "queue message names an unknown D1 shard; dropped", queue: batch.queue, shard: (msg.body as { shard?: unknown }).shard }));
      msg.ack();
      continue;
    }
    const list = groups.get(k) ?? [];
    list.push(msg);
    groups.set(k, list);
  }
  return [...groups].map(([shard, messages]) => ({
    shard,
    batch: {
      queue: batch.queue,
      metadata: batch.metadata,
      messages,
      retryAll: (options?: QueueRetryOptions) => messages.forEach((m) => m.retry(options)),
      ackAll: () => messages.forEach((m) => m.ack()),
    } as MessageBatch<B>,
  }));
}
