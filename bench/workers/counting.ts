/**
 * @module bench/workers/counting
 * Counting wrappers for the instrumented bench entry: buckets per invocation (AsyncLocalStorage), and
 * wrappers for D1, Durable Object namespaces and stubs, queues and rate limits that count into the
 * current bucket. Bench-only; nothing in src/ imports it.
 */
import { AsyncLocalStorage } from "node:async_hooks";

interface Bucket {
  invocations: number;
  messages: number;
  d1RoundTrips: number;
  d1Statements: number;
  d1RowsRead: number;
  d1RowsWritten: number;
  d1DurationMs: number;
  doCalls: Record<string, number>;
  queueSends: Record<string, number>;
  rateLimitCalls: number;
}

interface BindingNames {
  d1: string[];
  durableObjects: Record<string, string>;
  queues: string[];
  ratelimits: string[];
}

const als = new AsyncLocalStorage<string>();
let buckets = new Map<string, Bucket>();
let lastSizeAfter: number | null = null;
let d1Counting: "wire" | "api" | "none" = "none";
const instrumentedClasses: string[] = [];

function bucket(): Bucket | null {
  const origin = als.getStore();
  if (!origin) return null;
  let b = buckets.get(origin);
  if (!b) {
    b = { invocations: 0, messages: 0, d1RoundTrips: 0, d1Statements: 0, d1RowsRead: 0, d1RowsWritten: 0, d1DurationMs: 0, doCalls: {}, queueSends: {}, rateLimitCalls: 0 };
    buckets.set(origin, b);
  }
  return b;
}

const inc = (rec: Record<string, number>, key: string, by = 1) => {
  rec[key] = (rec[key] ?? 0) + by;
};

// --- D1 -----------------------------------------------------------------------------------------

interface D1Meta {
  rows_read?: number;
  rows_written?: number;
  duration?: number;
  size_after?: number;
}

function countMetas(metas: (D1Meta | undefined)[]) {
  const b = bucket();
  for (const m of metas) {
    if (!m) continue;
    if (typeof m.size_after === "number") lastSizeAfter = m.size_after;
    if (!b) continue;
    b.d1RowsRead += m.rows_read ?? 0;
    b.d1RowsWritten += m.rows_written ?? 0;
    b.d1DurationMs += m.duration ?? 0;
  }
}

type Fetcher = { fetch: (input: string, init?: RequestInit) => Promise<Response> };

/** Wraps the fetcher the binding sends each round trip through; reads D1's meta off a clone of the answer. */
function countingFetcher(inner: Fetcher): Fetcher {
  return {
    async fetch(input, init) {
      const b = bucket();
      if (b) {
        b.d1RoundTrips++;
        let statements = 1;
        try {
          const sent = JSON.parse(String(init?.body ?? "null"));
          if (Array.isArray(sent)) statements = sent.length;
        } catch {
          /* not a query body (dump): one round trip, one statement */
        }
        b.d1Statements += statements;
      }
      const res = await inner.fetch(input, init);
      try {
        const answer = (await res.clone().json()) as { meta?: D1Meta } | { meta?: D1Meta }[];
        countMetas((Array.isArray(answer) ? answer : [answer]).map((r) => r?.meta));
      } catch {
        /* an error answer without JSON: the caller sees it */
      }
      return res;
    },
  };
}

const wrappedD1 = new WeakSet<object>();

/** Counts at the wire when the binding has its usual internals, else at the public API. */
function instrumentD1(db: D1Database): D1Database {
  if (wrappedD1.has(db)) return db;
  const internals = db as any;
  if (internals.alwaysPrimarySession?.fetcher && internals.fetcher) {
    const counting = countingFetcher(internals.fetcher);
    internals.fetcher = counting;
    internals.alwaysPrimarySession.fetcher = counting;
    wrappedD1.add(db);
    d1Counting = "wire";
    return db;
  }
  d1Counting = "api";
  const api = apiCountingD1(db);
  wrappedD1.add(api);
  return api;
}

function apiCountingD1(db: D1Database): D1Database {
  const stmt = (s: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(s, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target);
        if (typeof v !== "function") return v;
        if (prop === "bind") return (...a: unknown[]) => stmt(v.apply(target, a));
        if (prop === "run" || prop === "all" || prop === "first" || prop === "raw") {
          return async (...a: unknown[]) => {
            const b = bucket();
            if (b) {
              b.d1RoundTrips++;
              b.d1Statements++;
            }
            const r = await v.apply(target, a);
            if (prop === "run" || prop === "all") countMetas([(r as D1Result).meta as D1Meta]);
            return r;
          };
        }
        return v.bind(target);
      },
    });
  return new Proxy(db, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      if (prop === "prepare") return (sql: string) => stmt(v.call(target, sql));
      if (prop === "batch") {
        return async (list: D1PreparedStatement[]) => {
          const b = bucket();
          if (b) {
            b.d1RoundTrips++;
            b.d1Statements += list.length;
          }
          const rs = (await v.call(target, list)) as D1Result[];
          countMetas(rs.map((r) => r.meta as D1Meta));
          return rs;
        };
      }
      return v.bind(target);
    },
  });
}

// --- Durable Objects, queues, rate limits -------------------------------------------------------

const STUB_PROPERTIES = new Set(["id", "name"]);

function instrumentStub<T extends object>(stub: T, className: string): T {
  return new Proxy(stub, {
    get(target, prop) {
      if (typeof prop !== "string" || prop === "then") return undefined;
      if (STUB_PROPERTIES.has(prop)) return Reflect.get(target, prop, target);
      return (...args: unknown[]) => {
        const b = bucket();
        if (b) inc(b.doCalls, `${className}.${prop}`);
        return (target as any)[prop](...args);
      };
    },
  });
}

const STUB_FACTORIES = new Set(["get", "getByName", "getExisting"]);

function instrumentNamespace(ns: DurableObjectNamespace, className: string): DurableObjectNamespace {
  return new Proxy(ns, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      if (typeof prop === "string" && STUB_FACTORIES.has(prop)) return (...a: unknown[]) => instrumentStub(v.apply(target, a), className);
      return v.bind(target);
    },
  });
}

function instrumentQueue(q: Queue, binding: string): Queue {
  return new Proxy(q, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      if (prop === "send" || prop === "sendBatch") {
        return (...a: unknown[]) => {
          const b = bucket();
          if (b) inc(b.queueSends, binding, prop === "send" ? 1 : (a[0] as unknown[]).length);
          return v.apply(target, a);
        };
      }
      return v.bind(target);
    },
  });
}

function instrumentRateLimit(rl: RateLimit): RateLimit {
  return new Proxy(rl, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      if (prop === "limit") {
        return (...a: unknown[]) => {
          const b = bucket();
          if (b) b.rateLimitCalls++;
          return v.apply(target, a);
        };
      }
      return v.bind(target);
    },
  });
}

// --- env and entry points -----------------------------------------------------------------------

const wrappedEnvs = new WeakMap<object, Env>();

export function instrumentEnv(env: Env): Env {
  const done = wrappedEnvs.get(env);
  if (done) return done;
  const raw = env as unknown as Record<string, unknown>;
  const names: BindingNames = JSON.parse(String(raw.BENCH_BINDINGS ?? "null")) ?? { d1: [], durableObjects: {}, queues: [], ratelimits: [] };
  const out: Record<string, unknown> = { ...raw };
  for (const n of names.d1) if (raw[n]) out[n] = instrumentD1(raw[n] as D1Database);
  for (const [n, cls] of Object.entries(names.durableObjects)) if (raw[n]) out[n] = instrumentNamespace(raw[n] as DurableObjectNamespace, cls);
  for (const n of names.queues) if (raw[n]) out[n] = instrumentQueue(raw[n] as Queue, n);
  for (const n of names.ratelimits) if (raw[n]) out[n] = instrumentRateLimit(raw[n] as RateLimit);
  const wrapped = out as unknown as Env;
  wrappedEnvs.set(env, wrapped);
  return wrapped;
}

/** Runs `fn` in `origin`'s bucket, unless already inside one (calls between a DO's own methods). */
export function within<T>(origin: string, fn: () => T, messages = 0): T {
  if (als.getStore()) return fn();
  return als.run(origin, () => {
    const b = bucket()!;
    b.invocations++;
    b.messages += messages;
    return fn();
  });
}

type DOClass = new (ctx: DurableObjectState, env: Env) => object;

/** A subclass whose env is instrumented and whose every prototype method counts into `do:<name>.<method>`. */
export function instrumentDurableObject<T extends DOClass>(Base: T, name: string): T {
  const Instrumented = class extends (Base as DOClass) {
    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, instrumentEnv(env));
    }
  };
  const seen = new Set<string>(["constructor"]);
  for (let proto = Base.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const desc = Object.getOwnPropertyDescriptor(proto, key);
      if (seen.has(key) || !desc || typeof desc.value !== "function") continue;
      seen.add(key);
      const original = desc.value as (...a: unknown[]) => unknown;
      Object.defineProperty(Instrumented.prototype, key, {
        value(this: object, ...args: unknown[]) {
          return within(`do:${name}.${key}`, () => original.apply(this, args));
        },
        writable: true,
        configurable: true,
      });
    }
  }
  instrumentedClasses.push(name);
  return Instrumented as unknown as T;
}


export function resetCounters(): void {
  buckets = new Map();
}

export function snapshot() {
  return { d1Counting, sizeAfter: lastSizeAfter, instrumentedClasses, buckets: Object.fromEntries(buckets) };
}
