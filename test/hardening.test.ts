/**
 * Hardening regressions (issue "Hardening"): each case was reproduced against the code before the fix
 * and fails there. Tenants are isolated (one isolate's Object.prototype is shared), numbers and blank
 * strings are taken at their word, a listener checks a stranger's request before it costs anything, a
 * captured request cannot be replayed, D1's limits bound every statement, our own outages delay work
 * without failing it, egress is bounded, and nothing secret reaches a log.
 */
import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import wranglerToml from "../wrangler.toml?raw";
import { buildApp, redactPath } from "../src/app";
import { consumeCallbacks } from "../src/callbacks";
import { createLimiter } from "../src/lib/limit";
import { crashRetryDelay } from "../src/lib/backoff";
import { listenerRoutes, purgeOldEvents } from "../src/listener";
import { consumePushes, type DeliveryTask, type PushTask } from "../src/passes";
import { BASE, call, newPass, newProject, newTemplate, operator, workerEnv, type TestProject } from "./support/http";
import { mockReceiver, until } from "./support/receiver";

afterEach(() => vi.restoreAllMocks());

async function integration(p: TestProject, body: Record<string, unknown>) {
  const r = await call(`/v1/project/${p.id}/integrations`, { auth: p.auth, body });
  if (r.status !== 201) throw new Error(`integration create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { id: string; listenerUrl: string };
}

function hook(url: string, payload: unknown, headers: Record<string, string> = {}) {
  const raw = typeof payload === "string" ? payload : JSON.stringify(payload);
  return call(url.slice(BASE.length), { method: "POST", raw, headers: { "content-type": "application/json", ...headers } });
}

async function hmacHex(secret: string, body: string) {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return [...new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const passRow = (templateId: number, externalId: string) =>
  env.DB.prepare("select id, fields, version from passes where template_id = ? and external_id = ?")
    .bind(templateId, externalId)
    .first<{ id: number; fields: string; version: number }>();

const count = async (sql: string, ...binds: unknown[]) => (await env.DB.prepare(sql).bind(...binds).first<{ n: number }>())!.n;

describe("tenant isolation: no input reaches Object.prototype", () => {
  it("project A's hostile mapping cannot change which pass project B's listener writes", async () => {
    const proto = Object.prototype as Record<string, unknown>;
    try {
      // A: a field whose example value names a key of B's payload, mapped through __proto__.
      const a = await newProject("Attacker");
      const ta = await newTemplate(a, [
        { key: "name", label: "Name", type: "text" },
        { key: "member", label: "Member", type: "text", default: "victim_key" },
      ]);
      const hostile = [
        { "pass-id": "pid", member: "__proto__.pass-id" },
        { "pass-id": "__proto__.pass-id" },
        { "pass-id": "constructor.prototype.pass-id" },
        { "pass-id": "pid", name: "a.prototype.x" },
      ];
      for (const fieldMapping of hostile) {
        const r = await call(`/v1/project/${a.id}/integrations`, { auth: a.auth, body: { templateId: ta, action: "create", fieldMapping } });
        expect(r.status, JSON.stringify(fieldMapping)).toBe(400);
        expect(r.body.error.code).toBe("validation_failed");
      }
      // A mapping stored before the check existed (written straight to D1) stays inert when viewed and used.
      const ok = await integration(a, { templateId: ta, action: "create", fieldMapping: { "pass-id": "pid" } });
      await env.DB.prepare("update integrations set field_mapping = ? where id = ?")
        .bind(JSON.stringify({ "pass-id": "pid", member: "__proto__.pass-id" }), ok.id)
        .run();
      expect((await call(`/v1/integration/${ok.id}`, { auth: a.auth })).status).toBe(200);
      expect((await hook(ok.listenerUrl, { pid: "a-1", name: "A", __proto__: { "pass-id": "x" } })).status).toBe(201);
      expect(Object.hasOwn(proto, "pass-id")).toBe(false);
      expect(({} as Record<string, unknown>)["pass-id"]).toBeUndefined();

      // B: default mapping. Its sender's id is "b-1"; "victim_key" carries another pass's id.
      const b = await newProject("Victim");
      const tb = await newTemplate(b, [{ key: "name", label: "Name", type: "text", required: true }]);
      const ib = await integration(b, { templateId: tb, action: "create" });
      const r = await hook(ib.listenerUrl, { "pass-id": "b-1", victim_key: "a-target", name: "Bea" });
      expect(r.status).toBe(201);
      expect(r.body.externalId).toBe("b-1");
      expect(await passRow(tb, "a-target")).toBeNull();
    } finally {
      delete proto["pass-id"];
    }
  });

  it("refuses template field keys that shadow built-in object members", async () => {
    const p = await newProject();
    for (const key of ["constructor", "prototype", "__proto__", "toString", "valueOf", "hasOwnProperty"]) {
      const r = await call(`/v1/project/${p.id}/templates`, { auth: p.auth, body: { name: "T", passType: "generic", fields: [{ key, label: "X", type: "text" }] } });
      expect(r.status, key).toBe(400);
    }
    const r = await call(`/v1/project/${p.id}/templates`, { auth: p.auth, body: { name: "T", passType: "generic", fields: [{ key: "constructor", label: "X", type: "text" }] } });
    expect(r.body.error.details.issues[0]).toMatchObject({ path: "fields.0.key", message: expect.stringContaining("reserved") });
  });
});

describe("numbers and blank strings", () => {
  it("refuses numeric pass-ids past 2^53 instead of merging two ids into one pass", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create" });
    for (const raw of ['{"pass-id": 12345678901234567890, "name": "A"}', '{"pass-id": 12345678901234567891, "name": "B"}', '{"pass-id": 1.5, "name": "C"}']) {
      const r = await hook(i.listenerUrl, raw);
      expect(r.status, raw).toBe(400);
      expect(r.body.error.details.issues[0].message).toContain("string");
    }
    expect(await count("select count(*) as n from passes where template_id = ?", t)).toBe(0);
    expect((await hook(i.listenerUrl, '{"pass-id": 9007199254740991, "name": "Max"}')).body.externalId).toBe("9007199254740991");
    expect((await hook(i.listenerUrl, '{"pass-id": "12345678901234567890", "name": "A"}')).body.externalId).toBe("12345678901234567890");
    // Number fields likewise: a value that lost digits is refused, not stored as another number.
    const big = await hook(i.listenerUrl, '{"pass-id": "n1", "name": "N", "points": 12345678901234567890}');
    expect(big.status).toBe(400);
    expect(big.body.error.details.issues[0]).toMatchObject({ path: "points", message: expect.stringContaining("2^53") });
  });

  it("does not let an empty or blank string satisfy a required field", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create" });
    for (const name of ["", "   ", "\t\n"]) {
      const r = await hook(i.listenerUrl, { "pass-id": `blank-${name.length}`, name });
      expect(r.status).toBe(400);
      expect(r.body.error.details.issues[0]).toMatchObject({ path: "name", message: "is required" });
      const admin = await call(`/v1/template/${t}/pass`, { auth: p.auth, body: { externalId: `admin-${name.length}`, fields: { name } } });
      expect(admin.status).toBe(400);
    }
    expect(await count("select count(*) as n from passes where template_id = ?", t)).toBe(0);
    await newPass(p, t, "named", { name: "Ada" });
    const clear = await call(`/v1/pass/template/${t}/id/named`, { method: "PUT", auth: p.auth, body: { fields: { name: "  " } } });
    expect(clear.status).toBe(400);
    expect(clear.body.error.details.issues[0].message).toContain("cannot be cleared");
    const blankLabel = await call(`/v1/project/${p.id}/templates`, { auth: p.auth, body: { name: "T", passType: "generic", fields: [{ key: "a", label: "  ", type: "text" }] } });
    expect(blankLabel.status).toBe(400);
    const blankSecret = await call(`/v1/project/${p.id}/integrations`, { auth: p.auth, body: { templateId: t, action: "update", signingSecret: " ".repeat(20) } });
    expect(blankSecret.status).toBe(400);
  });

  it("tells a sender who puts template fields at the top level that they go under fields", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const r = await call(`/v1/template/${t}/pass`, { auth: p.auth, body: { externalId: "x", name: "X" } });
    expect(r.status).toBe(400);
    expect(r.body.error.details.issues).toEqual([{ path: "name", message: expect.stringContaining('go under "fields"') }]);
    // Real pass properties get their own answer.
    await newPass(p, t, "props");
    const put = await call(`/v1/pass/template/${t}/id/props`, { method: "PUT", auth: p.auth, body: { fields: {}, status: "voided", externalId: "y" } });
    expect(put.body.error.details.issues).toEqual([
      { path: "status", message: expect.stringContaining("/status") },
      { path: "externalId", message: expect.stringContaining("cannot be changed") },
    ]);
  });

  it("refuses long numbers in text and barcode fields, and invisible characters as values", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create" });
    const r = await hook(i.listenerUrl, '{"pass-id": "bc", "name": "B", "member": 12345678901234567891}');
    expect(r.status).toBe(400);
    expect(r.body.error.details.issues[0]).toMatchObject({ path: "member", message: expect.stringContaining("JSON string") });
    expect((await hook(i.listenerUrl, { "pass-id": "bc", name: "B", member: "12345678901234567891" })).body.externalId).toBe("bc");
    const zw = await hook(i.listenerUrl, { "pass-id": "zw", name: "\u200B\uFEFF" });
    expect(zw.body.error.details.issues[0]).toMatchObject({ path: "name", message: "is required" });
    expect((await hook(i.listenerUrl, { "pass-id": "\u200B", name: "Z" })).status).toBe(400);
    for (const source of ["a..b", "c.", ".d"]) {
      const m = await call(`/v1/project/${p.id}/integrations`, { auth: p.auth, body: { templateId: t, action: "create", fieldMapping: { name: source } } });
      expect(m.status, source).toBe(400);
    }
  });
});

describe("listener: a stranger who only knows the URL", () => {
  it("cannot spend a signed integration's rate limit or store bodies with unsigned requests", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const secret = "a long shared signing secret";
    const create = await integration(p, { templateId: t, action: "create", signingSecret: secret });
    // More forged requests than the integration's whole limit (120 a minute in the tests).
    const forged = JSON.stringify({ "pass-id": "forged", name: "x".repeat(10_000) });
    for (let k = 0; k < 130; k++) expect((await hook(create.listenerUrl, forged)).status).toBe(401);
    const body = JSON.stringify({ "pass-id": "genuine", name: "Ada" });
    const genuine = await hook(create.listenerUrl, body, { "x-passhook-signature": `sha256=${await hmacHex(secret, body)}` });
    expect(genuine.status).toBe(201);
    // Refused requests are logged without their body, and only within their own budget (20 a minute here;
    // the limiter's windows are fixed, so a run that straddles a minute boundary may log two windows' worth).
    const events: { statusCode: number; body: string; bodyBytes: number; bodySha256: string }[] = (await call(`/v1/integration/${create.id}/events?limit=100`, { auth: p.auth })).body.events;
    const refused = events.filter((e) => e.statusCode === 401);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThanOrEqual(40);
    for (const e of refused) {
      expect(e.body).toBe("");
      expect(e.bodyBytes).toBe(new TextEncoder().encode(forged).length);
      expect(e.bodySha256).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(events.find((e) => e.statusCode === 201)!.body).toBe(body);
  });

  it("answers a replayed X-Passhook-Signature request with the first response, never rolling the pass back", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const secret = "another long signing secret";
    const create = await integration(p, { templateId: t, action: "create" });
    const update = await integration(p, { templateId: t, action: "update", signingSecret: secret });
    await hook(create.listenerUrl, { "pass-id": "rb", name: "Ada" });
    const signed = async (b: string) => hook(update.listenerUrl, b, { "x-passhook-signature": `sha256=${await hmacHex(secret, b)}` });
    const captured = JSON.stringify({ "pass-id": "rb", points: 5 });
    const first = await signed(captured);
    expect(first.body.version).toBe(2);
    expect((await signed(JSON.stringify({ "pass-id": "rb", points: 6 }))).body.version).toBe(3);
    const replay = await signed(captured);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const row = await passRow(t, "rb");
    expect(row!.version).toBe(3);
    expect(JSON.parse(row!.fields).points).toBe(6);
  });

  it("keys an X-Passhook-Signature request by its signature, whatever unsigned headers a replay adds", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const secret = "a third long signing secret";
    const create = await integration(p, { templateId: t, action: "create" });
    const update = await integration(p, { templateId: t, action: "update", signingSecret: secret });
    await hook(create.listenerUrl, { "pass-id": "rk", name: "Ada" });
    const captured = JSON.stringify({ "pass-id": "rk", points: 100 });
    const sig = { "x-passhook-signature": `sha256=${await hmacHex(secret, captured)}` };
    const first = await hook(update.listenerUrl, captured, sig);
    const later = JSON.stringify({ "pass-id": "rk", points: 5 });
    await hook(update.listenerUrl, later, { "x-passhook-signature": `sha256=${await hmacHex(secret, later)}` });
    const extras: Record<string, string>[] = [{ "idempotency-key": "anything" }, { "webhook-id": "fresh-id" }, { "webhook-id": "x", "idempotency-key": "y" }];
    for (const extra of extras) {
      const r = await hook(update.listenerUrl, captured, { ...sig, ...extra });
      expect(r.body, JSON.stringify(extra)).toEqual(first.body);
      expect(r.headers.get("idempotent-replayed")).toBe("true");
    }
    expect(JSON.parse((await passRow(t, "rk"))!.fields).points).toBe(5);
  });

  it("answers replays without spending the sender's rate limit and logs them without their body", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const secret = "a fourth long signing secret";
    const create = await integration(p, { templateId: t, action: "create", signingSecret: secret });
    const captured = JSON.stringify({ "pass-id": "flood", name: "x".repeat(4000) });
    const sig = { "x-passhook-signature": `sha256=${await hmacHex(secret, captured)}` };
    expect((await hook(create.listenerUrl, captured, sig)).status).toBe(201);
    for (let k = 0; k < 130; k++) expect((await hook(create.listenerUrl, captured, sig)).status).toBe(201);
    const fresh = JSON.stringify({ "pass-id": "after-flood", name: "Ada" });
    expect((await hook(create.listenerUrl, fresh, { "x-passhook-signature": `sha256=${await hmacHex(secret, fresh)}` })).status).toBe(201);
    const events: { duplicateOf: string | null; body: string; bodyBytes: number }[] = (await call(`/v1/integration/${create.id}/events?limit=100`, { auth: p.auth })).body.events;
    const dups = events.filter((e) => e.duplicateOf !== null);
    expect(dups.length).toBeGreaterThan(0);
    expect(dups.length).toBeLessThanOrEqual(40); // 20 a minute; two windows if the run straddles a boundary
    expect(dups.every((d) => d.body === "" && d.bodyBytes === captured.length)).toBe(true);
  });

  it("lets a sender's retry run again after an answer that depended on the pass's state", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const secret = "a fifth long signing secret";
    const create = await integration(p, { templateId: t, action: "create" });
    const update = await integration(p, { templateId: t, action: "update", signingSecret: secret });
    const early = JSON.stringify({ "pass-id": "late", points: 3 });
    const sig = { "x-passhook-signature": `sha256=${await hmacHex(secret, early)}` };
    expect((await hook(update.listenerUrl, early, sig)).status).toBe(404); // the create has not arrived yet
    await hook(create.listenerUrl, { "pass-id": "late", name: "Ada" });
    const retry = await hook(update.listenerUrl, early, sig);
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    // A refusal that depends on the body alone is kept: the same bad body gets the same answer.
    const bad = JSON.stringify({ "pass-id": "late", points: "many" });
    const badSig = { "x-passhook-signature": `sha256=${await hmacHex(secret, bad)}` };
    expect((await hook(update.listenerUrl, bad, badSig)).status).toBe(400);
    expect((await hook(update.listenerUrl, bad, badSig)).headers.get("idempotent-replayed")).toBe("true");
  });

  it("warns when two integrations of a project share a signing secret", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const a = await call(`/v1/project/${p.id}/integrations`, { auth: p.auth, body: { templateId: t, action: "update", signingSecret: "one shared app secret" } });
    expect(a.body.warnings).toBeUndefined();
    const b = await call(`/v1/project/${p.id}/integrations`, { auth: p.auth, body: { templateId: t, action: "archive", signingSecret: "one shared app secret" } });
    expect(b.status).toBe(201);
    expect(b.body.warnings[0]).toContain(a.body.id);
    expect(JSON.stringify(b.body)).not.toContain("one shared app secret");
    const c = await call(`/v1/integration/${b.body.id}`, { method: "PATCH", auth: p.auth, body: { signingSecret: "its own signing secret" } });
    expect(c.body.warnings).toBeUndefined();
  });

  it("runs concurrent repeats of one webhook-id once", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const create = await integration(p, { templateId: t, action: "create" });
    const rs = await Promise.all(Array.from({ length: 10 }, () => hook(create.listenerUrl, { "pass-id": "cc", name: "Ada" }, { "webhook-id": "same-id" })));
    for (const r of rs) expect([201, 409]).toContain(r.status);
    expect(rs.filter((r) => r.status === 201 && !r.headers.get("idempotent-replayed"))).toHaveLength(1);
    for (const r of rs.filter((x) => x.status === 409)) {
      expect(r.body.error.code).toBe("idempotency_conflict");
      expect(r.headers.get("retry-after")).toBe("1");
    }
    // Processed once: one logged event ran the action, the rest were refused or replayed.
    expect(await count("select count(*) as n from inbound_events where integration_id = ? and status_code = 201 and duplicate_of is null", create.id)).toBe(1);
    // A later repeat gets the first response back.
    const later = await hook(create.listenerUrl, { "pass-id": "cc", name: "Ada" }, { "webhook-id": "same-id" });
    expect(later.status).toBe(201);
    expect(later.headers.get("idempotent-replayed")).toBe("true");
  });

  it("runs concurrent admin writes with one Idempotency-Key once", async () => {
    const p = await newProject();
    const rs = await Promise.all(Array.from({ length: 8 }, () => call(`/v1/project/${p.id}/keys`, { method: "POST", auth: p.auth, headers: { "idempotency-key": "one-key" } })));
    expect(rs.filter((r) => r.status === 201 && !r.headers.get("idempotent-replayed"))).toHaveLength(1);
    // API keys live in the directory (shard 0): DIR in the sharded run.
    const keys = await (env.DIR ?? env.DB).prepare("select count(*) as n from api_keys where project_id = ?").bind(p.id).first<{ n: number }>();
    expect(keys!.n).toBe(2);
  });

  it("answers with what landed when the event log insert fails", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const create = await integration(p, { templateId: t, action: "create" });
    const update = await integration(p, { templateId: t, action: "update" });
    await hook(create.listenerUrl, { "pass-id": "lw", name: "Ada" });
    await env.DB.prepare(`create trigger fail_event before insert on inbound_events begin select raise(abort, 'injected log failure'); end`).run();
    const quiet = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      // The event row is written in the same batch as the change: both land, or neither (and a 500 says so).
      const r = await hook(update.listenerUrl, { "pass-id": "lw", points: 7 });
      expect(r.status).toBe(500);
      expect(JSON.parse((await passRow(t, "lw"))!.fields).points).toBe(0);
      // A request that changes nothing keeps its own answer when only its log row fails.
      const bad = await hook(update.listenerUrl, { "pass-id": "lw", points: "many" });
      expect(bad.status).toBe(400);
      expect(quiet.mock.calls.some((c) => String(c[0]).includes("event log write failed"))).toBe(true);
    } finally {
      await env.DB.prepare("drop trigger fail_event").run();
      quiet.mockRestore();
    }
    const again = await hook(update.listenerUrl, { "pass-id": "lw", points: 7 });
    expect(again.status).toBe(200);
    expect(JSON.parse((await passRow(t, "lw"))!.fields).points).toBe(7);
  });
});

describe("listener idempotency keys are never left claimed", () => {
  it("records or releases the key of a request whose log row could not be written", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const update = await integration(p, { templateId: t, action: "update" });
    await env.DB.prepare(`create trigger fail_event_key before insert on inbound_events begin select raise(abort, 'injected log failure'); end`).run();
    const quiet = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      // 404 (no such pass yet) depends on state: the key is released, so the sender's retry runs again.
      expect((await hook(update.listenerUrl, { "pass-id": "nobody" }, { "webhook-id": "k-404" })).status).toBe(404);
      // 400 depends on the body alone: the answer is kept for repeats.
      expect((await hook(update.listenerUrl, { "pass-id": "nobody", points: "many" }, { "webhook-id": "k-400" })).status).toBe(400);
    } finally {
      await env.DB.prepare("drop trigger fail_event_key").run();
      quiet.mockRestore();
    }
    expect(await count("select count(*) as n from idempotency_keys where state = 'processing' and scope = ?", `listener:${update.id}`)).toBe(0);
    const retry = await hook(update.listenerUrl, { "pass-id": "nobody" }, { "webhook-id": "k-404" });
    expect(retry.status).toBe(404);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    const repeat = await hook(update.listenerUrl, { "pass-id": "nobody", points: "many" }, { "webhook-id": "k-400" });
    expect(repeat.status).toBe(400);
    expect(repeat.headers.get("idempotent-replayed")).toBe("true");
  });
});

describe("what a sender can make passhook store", () => {
  it("names at most 20 ignored keys and keeps a long content type short", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create" });
    const body: Record<string, unknown> = { "pass-id": "stray", name: "Ada" };
    for (let k = 0; k < 5000; k++) body[`stray_${k}_${"x".repeat(20)}`] = 1;
    const r = await hook(i.listenerUrl, body, { "webhook-id": "many-keys" });
    expect(r.status).toBe(201);
    expect(r.body.ignoredFields).toHaveLength(20);
    const stored = await env.DB.prepare("select length(response_body) as n from idempotency_keys where scope = ?").bind(`listener:${i.id}`).first<{ n: number }>();
    expect(stored!.n).toBeLessThan(2048);
    const long = await hook(i.listenerUrl, "x", { "content-type": `text/${"y".repeat(70_000)}` });
    expect(long.status).toBe(415);
    expect(JSON.stringify(long.body).length).toBeLessThan(1024);
    const listed = (await call(`/v1/integration/${i.id}/events?limit=2`, { auth: p.auth })).body.events;
    // Apart from the body (at most its first 64 KiB in a list), what is recorded stays small.
    expect(JSON.stringify(listed.map((e: Record<string, unknown>) => ({ ...e, body: null }))).length).toBeLessThan(4096);
  });
});

describe("D1 limits", () => {
  it("recovers a pass with more failed deliveries than one statement can bind", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "many");
    expect((await call(`/v1/project/${p.id}/settings/callback`, { auth: p.auth, body: { baseUrl: "https://hooks.example.com/cb" } })).status).toBe(200);
    const { calls } = mockReceiver();
    const ids = Array.from({ length: 150 }, (_, k) => `msg_bulk${String(k).padStart(4, "0")}`);
    await env.DB.batch(
      ids.map((id, k) =>
        env.DB.prepare(
          `insert into deliveries (id, project_id, pass_id, event, payload, status, is_test, attempt_count, tries, created_at, updated_at, completed_at)
           values (?, ?, ?, 'install', '{}', 'failed', 0, 8, 8, ?, ?, ?)`,
        ).bind(id, p.id, pass.id, 1000 + k, 1000 + k, 2000 + k),
      ),
    );
    const r = await call(`/v1/project/${p.id}/callbacks/recover`, { auth: p.auth, body: { since: "1970-01-01T00:00:00Z" } });
    expect(r.status).toBe(202);
    expect(r.body.recovered).toBe(150);
    expect(await count("select count(*) as n from deliveries where pass_id = ? and status in ('waiting', 'pending')", pass.id)).toBe(150);
    await until(() => calls.length > 0);
  });

  it("keeps up with the write rate: one cron run goes on while rows are due (within its time budget)", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create" });
    const old = Date.now() - 40 * 86_400_000;
    const { m } = (await env.DB.prepare("select coalesce(min(id), 1) as m from inbound_events").first<{ m: number }>())!;
    const start = m - 12_001;
    const stmts = Array.from({ length: 12_000 }, (_, k) =>
      env.DB.prepare("insert into inbound_events (id, integration_id, received_at, status_code) values (?, ?, ?, 200)").bind(start + k, i.id, old + k),
    );
    for (let k = 0; k < stmts.length; k += 1000) await env.DB.batch(stmts.slice(k, k + 1000));
    // More than the 10,000 rows a run could delete before (20 chunks of 500).
    expect(await purgeOldEvents(workerEnv)).toEqual({ deleted: 12_000, more: false });
    expect(await count("select count(*) as n from inbound_events where integration_id = ?", i.id)).toBe(0);
  });

  it("deletes old log rows in bounded chunks, walking the primary key, with their R2 details", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create" });
    const old = Date.now() - 40 * 86_400_000;
    // 1200 old rows with the lowest ids (ids grow with time), then one kept row.
    const { m } = (await env.DB.prepare("select coalesce(min(id), 1) as m from inbound_events").first<{ m: number }>())!;
    const start = m - 1201;
    const stmts = Array.from({ length: 1200 }, (_, k) =>
      env.DB.prepare("insert into inbound_events (id, integration_id, received_at, status_code) values (?, ?, ?, 200)").bind(start + k, i.id, old + k),
    );
    for (let k = 0; k < stmts.length; k += 400) await env.DB.batch(stmts.slice(k, k + 400));
    await hook(i.listenerUrl, { "pass-id": "recent", name: "Ada" });
    await env.EVENT_LOG.put(`events/${i.id}/${start + 1100}`, "{}");
    // An R2 outage leaves the rows in place for the next run (no objects nothing points at).
    const r2Down = vi.spyOn(env.EVENT_LOG, "delete").mockRejectedValueOnce(new Error("R2 unavailable"));
    await expect(purgeOldEvents(workerEnv)).rejects.toThrow("R2 unavailable");
    r2Down.mockRestore();
    expect(await count("select count(*) as n from inbound_events where integration_id = ?", i.id)).toBe(1201);
    const first = await purgeOldEvents(workerEnv, Date.now(), { chunk: 500, maxChunks: 2 });
    expect(first).toEqual({ deleted: 1000, more: true });
    const second = await purgeOldEvents(workerEnv);
    expect(second).toEqual({ deleted: 200, more: false });
    expect(await env.EVENT_LOG.get(`events/${i.id}/${start + 1100}`)).toBeNull(); // purged with its row
    expect((await call(`/v1/integration/${i.id}/events`, { auth: p.auth })).body.events).toHaveLength(1);
    // Each chunk picks rows by the primary key (a range scan), not by scanning received_at.
    const plan = await env.DB.prepare("explain query plan select id from inbound_events where id < ? order by id limit 500").bind(10).all<{ detail: string }>();
    expect(plan.results.map((r) => r.detail).join(" ")).toMatch(/USING INTEGER PRIMARY KEY/);
    for (const [table, index, column] of [
      ["deliveries", "deliveries_completed_idx", "completed_at"],
      ["idempotency_keys", "idempotency_created_idx", "created_at"],
    ]) {
      const q = await env.DB.prepare(`explain query plan select rowid from ${table} where ${column} < ? limit 500`).bind(Date.now()).all<{ detail: string }>();
      expect(q.results.map((r) => r.detail).join(" "), table).toContain(index);
    }
  });
});

describe("our own outages", () => {
  it("backs the pushes consumer off on its own failures", async () => {
    await env.DB.prepare("alter table outbox rename to outbox_away").run();
    const quiet = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const batch = createMessageBatch<PushTask>("passhook-pushes", [
        { id: "a", timestamp: new Date(), attempts: 1, body: { outboxId: 1 } },
        { id: "b", timestamp: new Date(), attempts: 7, body: { outboxId: 2 } },
      ]);
      const retries = batch.messages.map((m) => vi.spyOn(m, "retry"));
      await consumePushes(batch, env, [], () => 0.5);
      expect(retries.map((r) => (r.mock.calls[0] as unknown as [{ delaySeconds: number }])[0].delaySeconds)).toEqual([30, 1920]);
    } finally {
      await env.DB.prepare("alter table outbox_away rename to outbox").run();
      quiet.mockRestore();
    }
  });

  it("computes crash delays from 30 s doubling to a 2 h cap, within ±20 %", () => {
    expect([1, 2, 3, 8, 9, 30, 1000].map((a) => crashRetryDelay(a, 0.5))).toEqual([30, 60, 120, 3840, 7200, 7200, 7200]);
    expect(crashRetryDelay(1, 0)).toBe(24);
    expect(crashRetryDelay(1, 0.999999)).toBe(36);
    expect(crashRetryDelay(Number.NaN, Number.NaN)).toBe(30);
    // 30 retries (the consumers' max_retries) keep a message alive for about two days.
    const total = Array.from({ length: 30 }, (_, k) => crashRetryDelay(k + 1, 0.5)).reduce((a, b) => a + b, 0);
    expect(total / 3600).toBeGreaterThan(40);
    expect(total / 3600).toBeLessThan(96); // within Queues' default 4-day retention
    // Every consumer (callbacks, pushes, each wallet, and their dead-letter queues) keeps that budget.
    const budgets = wranglerToml.match(/^max_retries = (\d+)$/gm) ?? [];
    expect(budgets.length).toBeGreaterThanOrEqual(4);
    expect(new Set(budgets)).toEqual(new Set(["max_retries = 30"]));
  });
});

describe("egress", () => {
  /** Pending deliveries to a receiver host of their own (other tests' deliveries may still be in flight). */
  async function pendingDeliveries(n: number) {
    const p = await newProject();
    const t = await newTemplate(p);
    const host = `hooks-${crypto.randomUUID().slice(0, 8)}.example.com`;
    expect((await call(`/v1/project/${p.id}/settings/callback`, { auth: p.auth, body: { baseUrl: `https://${host}/cb` } })).status).toBe(200);
    const ids: string[] = [];
    for (let k = 0; k < n; k++) {
      const pass = await newPass(p, t, `eg-${k}-${crypto.randomUUID()}`);
      const id = `msg_eg${crypto.randomUUID().replace(/-/g, "")}`;
      await env.DB.prepare(
        `insert into deliveries (id, project_id, pass_id, event, payload, status, is_test, attempt_count, tries, next_attempt_at, created_at, updated_at)
         values (?, ?, ?, 'install', '{}', 'pending', 0, 0, 0, 0, 0, 0)`,
      )
        .bind(id, p.id, pass.id)
        .run();
      ids.push(id);
    }
    return { p, ids, host };
  }

  it("runs at most 6 callback POSTs at once (an invocation's connection limit)", async () => {
    const { ids, host } = await pendingDeliveries(10);
    let inFlight = 0;
    let max = 0;
    const held: (() => void)[] = [];
    mockReceiver(async (req) => {
      if (new URL(req.url).host !== host) return new Response("ok");
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise<void>((resolve) => held.push(resolve));
      inFlight--;
      return new Response("ok");
    });
    const batch = createMessageBatch<DeliveryTask>("passhook-callbacks", ids.map((id, k) => ({ id: `m${k}`, timestamp: new Date(), attempts: 1, body: { deliveryId: id, attempt: 1 } })));
    const acks = batch.messages.map((m) => vi.spyOn(m, "ack"));
    const done = consumeCallbacks(batch, env, { random: () => 0.5 });
    await until(() => held.length >= 6);
    // Give any further request time to start if it could (it must not: this only makes a regression visible).
    await new Promise((r) => setTimeout(r, 200));
    expect(inFlight).toBe(6);
    while (acks.some((a) => a.mock.calls.length === 0)) {
      held.shift()?.();
      await new Promise((r) => setTimeout(r, 5));
    }
    await done;
    expect(max).toBe(6);
  });

  it("never follows a receiver's redirect", async () => {
    const { p, ids, host } = await pendingDeliveries(1);
    const { calls } = mockReceiver((req) =>
      new URL(req.url).host === host
        ? new Response(null, { status: 307, headers: { location: "https://169.254.169.254/latest/meta-data" } })
        : new Response(req.url.includes("169.254") ? "metadata" : "ok"),
    );
    const batch = createMessageBatch<DeliveryTask>("passhook-callbacks", [{ id: "r", timestamp: new Date(), attempts: 1, body: { deliveryId: ids[0], attempt: 1 } }]);
    const send = vi.fn(async () => undefined);
    await consumeCallbacks(batch, { ...env, CALLBACKS_QUEUE: { send, sendBatch: vi.fn() } as unknown as Queue }, { random: () => 0.5 });
    const mine = calls.filter((c) => new URL(c.url).host === host || c.url.includes("169.254"));
    expect(mine.map((c) => c.url)).toEqual([`https://${host}/cb/v1/pass/install`]);
    const d = (await call(`/v1/project/${p.id}/callbacks/deliveries/${ids[0]}`, { auth: p.auth })).body;
    expect(d.attemptLog[0]).toMatchObject({ statusCode: 307, error: "HTTP 307" });
    expect(send).toHaveBeenCalledOnce(); // retried later, as any non-2xx
  });

  it("hands a finished slot to a waiting task, never to a newcomer", async () => {
    const run = createLimiter(2);
    let active = 0;
    let max = 0;
    const gate: (() => void)[] = [];
    const task = () =>
      run(async () => {
        active++;
        max = Math.max(max, active);
        await new Promise<void>((r) => gate.push(r));
        active--;
      });
    const all = [task(), task(), task()];
    await until(() => gate.length === 2);
    gate.shift()!(); // one finishes; the waiter gets its slot, and a newcomer arriving now must wait
    const late = task();
    await until(() => gate.length === 2);
    expect(active).toBe(2);
    while (gate.length) {
      gate.shift()!();
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all([...all, late]);
    expect(max).toBe(2);
  });
});

describe("secrets stay out of logs", () => {
  it("turns Cloudflare's invocation logs off (they record listener URLs) and logs a redacted line instead", async () => {
    expect(wranglerToml).toMatch(/\[observability\.logs\][^[]*invocation_logs = false/);
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create" });
    const token = i.listenerUrl.slice(`${BASE}/hooks/`.length);
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    const app = buildApp({ root: [listenerRoutes] });
    const res = await app.request(`/hooks/${token}`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"pass-id":"log1","name":"A"}' }, { ...env, REQUEST_LOG: "true" });
    expect(res.status).toBe(201);
    const line = lines.find((l) => l.includes('"msg":"request"'));
    expect(line).toContain("/hooks/[redacted]");
    expect(lines.join("\n")).not.toContain(token);
  });

  it("redacts a listener token in any spelling of the path", () => {
    for (const path of ["/hooks/tok", "//hooks/tok", "/HOOKS/tok", "/Hooks/tok/extra", "/x/hooks/tok"]) {
      expect(redactPath(path), path).not.toContain("tok");
    }
    expect(redactPath("/v1/pass/1")).toBe("/v1/pass/1");
  });

  it("keeps an admin write's answer when recording it under its Idempotency-Key fails", async () => {
    const p = await newProject();
    await env.DB.prepare(`create trigger fail_idem before update on idempotency_keys when new.state = 'done' begin select raise(abort, 'injected'); end`).run();
    const quiet = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const r = await call(`/v1/project/${p.id}/keys`, { method: "POST", auth: p.auth, headers: { "idempotency-key": "k-fail" } });
      expect(r.status).toBe(201);
      expect(r.body.secret).toMatch(/^sk_/);
      expect(quiet.mock.calls.some((c) => String(c[0]).includes("idempotency record failed"))).toBe(true);
    } finally {
      await env.DB.prepare("drop trigger fail_idem").run();
    }
  });

  it("logs a failed query without its bound parameters", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    await env.DB.prepare(`create trigger fail_integration before insert on integrations begin select raise(abort, 'injected insert failure'); end`).run();
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
    try {
      const secretName = "holder-jane.doe@example.com-private";
      const r = await call(`/v1/project/${p.id}/integrations`, { auth: p.auth, body: { templateId: t, action: "create", name: secretName, signingSecret: "signing-secret-value-123" } });
      expect(r.status).toBe(500);
      expect(JSON.stringify(r.body)).not.toContain("injected");
      const text = logged.join("\n");
      expect(text).toContain("injected insert failure");
      expect(text).not.toContain(secretName);
      expect(text).not.toContain("v1."); // the encrypted secret is a parameter too
    } finally {
      await env.DB.prepare("drop trigger fail_integration").run();
    }
  });
});

describe("small ones", () => {
  it("answers racing project creates with one externalId with one 201 and 409s", async () => {
    const rs = await Promise.all(Array.from({ length: 6 }, () => call("/v1/projects", { auth: operator(), body: { name: "Race", externalId: "race-ext" } })));
    expect(rs.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of rs.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe("already_exists");
    }
  });

  it("does not answer a GET with 405 'Use GET' on a trailing slash", async () => {
    const r = await call("/health/");
    expect(r.status).toBe(404);
    expect((await call("/health", { method: "POST", raw: "" })).status).toBe(405);
  });
});
