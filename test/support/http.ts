/** Calls the real Worker entry (routing, onError, bindings) and builds credentials. */
import { env, exports } from "cloudflare:workers";
import { prefixShard, shardField, withShard } from "../../src/db/shards";

export const BASE = "https://passhook.test";

export interface Call {
  method?: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  auth?: string | null;
}

export async function call(path: string, opts: Call = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.auth) headers.authorization = opts.auth;
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await exports.default.fetch(`${BASE}${path}`, { method: opts.method ?? (body ? "POST" : "GET"), headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* keep text */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/**
 * The env the Worker works in for the test projects: `env` itself, or in the "workers-sharded" run
 * (vitest.config.ts) shard 1, whose binding is `DB` too. Tests that call the Worker's functions
 * directly pass this, as an entry point would after choosing the shard.
 */
export const workerEnv: Env = env.DIR ? withShard(env, 1) : env;

/** A pass's Durable Object as the Worker names it, and the target it takes (with the shard). */
export const passStub = (templateId: number, externalId: string) => env.PASS_OBJECT.getByName(prefixShard(workerEnv, "/", `${templateId}:${externalId}`));
export const passTarget = (templateId: number, externalId: string) => ({ templateId, externalId, ...shardField(workerEnv) });

export const operator = () => `Bearer ${env.ADMIN_TOKEN}`;
export const basic = (key: string, secret: string) => `Basic ${btoa(`${key}:${secret}`)}`;

export interface TestProject {
  id: string;
  auth: string;
  key: string;
}

export async function newProject(name = "Test project"): Promise<TestProject> {
  const r = await call("/v1/projects", { body: { name }, auth: operator() });
  if (r.status !== 201) throw new Error(`project create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.id, auth: basic(r.body.apiKey.key, r.body.apiKey.secret), key: r.body.apiKey.key };
}

export const LOYALTY_FIELDS = [
  { key: "name", label: "Name", type: "text", required: true },
  { key: "points", label: "Points", type: "number", default: 0 },
  { key: "tier", label: "Tier", type: "text" },
  { key: "email", label: "Email", type: "email" },
  { key: "expires", label: "Expires", type: "date" },
  { key: "site", label: "Site", type: "url" },
  { key: "member", label: "Member code", type: "barcode" },
  { key: "counter", label: "Counter", type: "number" },
];

export async function newTemplate(p: TestProject, fields: unknown[] = LOYALTY_FIELDS): Promise<number> {
  const r = await call(`/v1/project/${p.id}/templates`, {
    auth: p.auth,
    body: { name: "Loyalty", passType: "loyalty", fields },
  });
  if (r.status !== 201) throw new Error(`template create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id;
}

export async function newPass(p: TestProject, templateId: number, externalId: string, fields: Record<string, unknown> = { name: "Ada" }) {
  const r = await call(`/v1/template/${templateId}/pass`, { auth: p.auth, body: { externalId, fields } });
  if (r.status !== 201) throw new Error(`pass create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export interface HistoryEntry {
  id: number;
  version: number;
  kind: "write" | "holder";
  action: string;
  source: string;
  changes: Record<string, any>;
  at: string;
}

/** A pass's whole history through the API (`GET /v1/pass/{id}/events`), oldest first. */
export async function history(p: TestProject, passId: number): Promise<HistoryEntry[]> {
  const out: HistoryEntry[] = [];
  let cursor: string | null = null;
  do {
    const r = await call(`/v1/pass/${passId}/events?limit=100${cursor ? `&cursor=${cursor}` : ""}`, { auth: p.auth });
    if (r.status !== 200) throw new Error(`history failed: ${r.status} ${JSON.stringify(r.body)}`);
    out.push(...r.body.events);
    cursor = r.body.nextCursor;
  } while (cursor);
  return out.reverse();
}
