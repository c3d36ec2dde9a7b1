/**
 * Listener endpoints (api.md "Integrations"; WalletThat webhook actions): the integrations API, all
 * six actions over the listener URL, field mapping, signatures checked against the independent
 * `standardwebhooks` library and a plain HMAC, idempotency, the event log and replay, ordering, and
 * bad input that changes nothing.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { purgeOldEvents } from "../src/listener";
import { BASE, call, history, newProject, newTemplate, workerEnv, type TestProject } from "./support/http";

async function integration(p: TestProject, body: Record<string, unknown>) {
  const r = await call(`/v1/project/${p.id}/integrations`, { auth: p.auth, body });
  if (r.status !== 201) throw new Error(`integration create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { id: string; listenerUrl: string; expectedPayload: Record<string, unknown> };
}

/** POSTs to a listener URL as a third-party system would. */
function hook(url: string, payload: unknown, headers: Record<string, string> = {}) {
  const path = url.slice(BASE.length);
  const raw = typeof payload === "string" ? payload : JSON.stringify(payload);
  return call(path, { method: "POST", raw, headers: { "content-type": "application/json", ...headers } });
}

async function passRow(templateId: number, externalId: string) {
  return env.DB.prepare("select id, status, fields, version, archived_at from passes where template_id = ? and external_id = ?")
    .bind(templateId, externalId)
    .first<{ id: number; status: string; fields: string; version: number; archived_at: number | null }>();
}

async function passCount(templateId: number) {
  return (await env.DB.prepare("select count(*) as n from passes where template_id = ?").bind(templateId).first<{ n: number }>())!.n;
}

describe("integrations API", () => {
  it("creates an integration with an unguessable listener URL stored only as a hash", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const r = await call(`/v1/project/${p.id}/integrations`, { auth: p.auth, body: { templateId: t, action: "create", name: "CRM signup" } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ templateId: t, action: "create", name: "CRM signup", enabled: true, signed: false });
    expect(r.body.id).toMatch(/^int_/);
    const token = r.body.listenerUrl.slice(`${BASE}/hooks/`.length);
    expect(r.body.listenerUrl.startsWith(`${BASE}/hooks/`)).toBe(true);
    expect(token.length).toBeGreaterThanOrEqual(43); // 32 random bytes, base64url: 256 bits
    const stored = await env.DB.prepare("select * from integrations where id = ?").bind(r.body.id).first<Record<string, unknown>>();
    expect(JSON.stringify(stored)).not.toContain(token);
    const got = await call(`/v1/integration/${r.body.id}`, { auth: p.auth });
    expect(got.body).not.toHaveProperty("listenerUrl");
    expect(got.body.listenerUrlHint).toContain(token.slice(0, 6));
    const list = await call(`/v1/project/${p.id}/integrations`, { auth: p.auth });
    expect(list.body.integrations.map((i: { id: string }) => i.id)).toEqual([r.body.id]);
  });

  it("shows the expected payload after the mapping", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, {
      templateId: t,
      action: "create",
      fieldMapping: { "pass-id": "member_id", name: "customer.name", email: "customer.email", site: null, expires: null, member: null, counter: null, tier: null },
    });
    expect(i.expectedPayload).toEqual({ member_id: "pass-123", customer: { name: "text", email: "holder@example.com" }, points: 0 });
    const status = await integration(p, { templateId: t, action: "redeem" });
    expect(status.expectedPayload).toEqual({ "pass-id": "pass-123" });
  });

  it("refuses mappings that remove pass-id, name unknown fields or map fields on status actions", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const cases: [Record<string, unknown>, string][] = [
      [{ templateId: t, action: "create", fieldMapping: { "pass-id": null } }, "fieldMapping.pass-id"],
      [{ templateId: t, action: "update", fieldMapping: { colour: "c" } }, "fieldMapping.colour"],
      [{ templateId: t, action: "expire", fieldMapping: { points: "p" } }, "fieldMapping.points"],
      [{ templateId: t, action: "archive", fieldMapping: { "pass-id": null } }, "fieldMapping.pass-id"],
    ];
    for (const [body, path] of cases) {
      const r = await call(`/v1/project/${p.id}/integrations`, { auth: p.auth, body });
      expect(r.status, path).toBe(400);
      expect(r.body.error.details.issues.map((x: { path: string }) => x.path)).toContain(path);
    }
    const bad = await call(`/v1/project/${p.id}/integrations`, { auth: p.auth, body: { templateId: t, action: "delete" } });
    expect(bad.status).toBe(400);
    const renamed = await call(`/v1/project/${p.id}/integrations`, { auth: p.auth, body: { templateId: t, action: "void", fieldMapping: { "pass-id": "ticket" } } });
    expect(renamed.status).toBe(201);
    expect((await call(`/v1/project/${p.id}/integrations`)).status).toBe(401);
  });

  it("patches, disables, rotates and deletes; other projects see 404", async () => {
    const p = await newProject();
    const other = await newProject("other");
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create" });
    expect((await call(`/v1/integration/${i.id}`, { auth: other.auth })).status).toBe(404);
    expect((await hook(i.listenerUrl, { "pass-id": "r1", name: "Ada" })).status).toBe(201);

    const rotated = await call(`/v1/integration/${i.id}/rotate`, { method: "POST", auth: p.auth });
    expect(rotated.status).toBe(200);
    expect(rotated.body.listenerUrl).not.toBe(i.listenerUrl);
    const old = await hook(i.listenerUrl, { "pass-id": "r2", name: "Bo" });
    expect(old.status).toBe(404);
    expect(old.body.error.code).toBe("not_found");
    expect((await hook(rotated.body.listenerUrl, { "pass-id": "r2", name: "Bo" })).status).toBe(201);

    const off = await call(`/v1/integration/${i.id}`, { method: "PATCH", auth: p.auth, body: { enabled: false, name: "paused" } });
    expect(off.body).toMatchObject({ enabled: false, name: "paused" });
    expect((await hook(rotated.body.listenerUrl, { "pass-id": "r3", name: "Cy" })).status).toBe(404);

    expect((await call(`/v1/integration/${i.id}`, { method: "DELETE", auth: p.auth })).status).toBe(204);
    expect((await call(`/v1/integration/${i.id}`, { auth: p.auth })).status).toBe(404);
    expect((await hook(rotated.body.listenerUrl, { "pass-id": "r3", name: "Cy" })).status).toBe(404);
    expect(await passCount(t)).toBe(2);
  });
});

describe("the six actions", () => {
  it("create, update, redeem, expire, void and archive over listener URLs", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const urls = Object.fromEntries(
      await Promise.all(
        ["create", "update", "archive", "expire", "void", "redeem"].map(async (action) => [action, (await integration(p, { templateId: t, action })).listenerUrl]),
      ),
    ) as Record<string, string>;

    const created = await hook(urls.create, { "pass-id": "m-1", name: "Ada", points: "10" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ externalId: "m-1", action: "create", status: "active", version: 1, ignoredFields: [] });
    expect(Number.isInteger(created.body.passId)).toBe(true);
    const repeat = await hook(urls.create, { "pass-id": "m-1", name: "Ada", points: 10 });
    expect(repeat.status).toBe(200);
    expect(repeat.body.version).toBe(1);
    const clash = await hook(urls.create, { "pass-id": "m-1", name: "Someone else" });
    expect(clash.status).toBe(409);

    const updated = await hook(urls.update, { "pass-id": "m-1", points: 25, extra: "ignored" });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ version: 2, ignoredFields: ["extra"] });
    expect(JSON.parse((await passRow(t, "m-1"))!.fields)).toMatchObject({ name: "Ada", points: 25 });
    expect((await hook(urls.update, { "pass-id": "nobody", points: 1 })).status).toBe(404);

    const redeemed = await hook(urls.redeem, { "pass-id": "m-1" });
    expect(redeemed.body).toMatchObject({ status: "redeemed", version: 3 });
    const again = await hook(urls.redeem, { "pass-id": "m-1" });
    expect(again.status).toBe(200);
    expect(again.body.version).toBe(3);
    const illegal = await hook(urls.expire, { "pass-id": "m-1" });
    expect(illegal.status).toBe(409);
    expect(illegal.body.error.details.currentStatus).toBe("redeemed");

    await hook(urls.create, { "pass-id": "m-2", name: "Bo" });
    expect((await hook(urls.expire, { "pass-id": "m-2" })).body.status).toBe("expired");
    expect((await hook(urls.void, { "pass-id": "m-2" })).body.status).toBe("voided");

    const archived = await hook(urls.archive, { "pass-id": "m-1" });
    expect(archived.status).toBe(200);
    expect((await passRow(t, "m-1"))!.archived_at).not.toBeNull();
    const gone = await hook(urls.update, { "pass-id": "m-1", points: 1 });
    expect(gone.status).toBe(410);
    expect(gone.body.error.code).toBe("pass_archived");
    expect((await hook(urls.create, { "pass-id": "m-1", name: "Ada", points: 25 })).status).toBe(410);
    expect((await hook(urls.redeem, { "pass-id": "m-1" })).status).toBe(410);
    expect((await hook(urls.archive, { "pass-id": "m-1" })).status).toBe(410);
    const events = await history(p, created.body.passId);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.source.startsWith("listener:int_"))).toBe(true);
  });
});

describe("field mapping", () => {
  it("renames, removes, reads dotted paths and renames pass-id", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, {
      templateId: t,
      action: "create",
      fieldMapping: { "pass-id": "order.customer_id", name: "order.customer.full_name", points: "loyalty_points", tier: null },
    });
    const r = await hook(i.listenerUrl, {
      order: { customer_id: 4711, customer: { full_name: "Ada Lovelace" } },
      loyalty_points: "7",
      tier: "gold",
      campaign: "x",
    });
    expect(r.status).toBe(201);
    expect(r.body.externalId).toBe("4711");
    expect(r.body.ignoredFields.sort()).toEqual(["campaign", "tier"]);
    expect(JSON.parse((await passRow(t, "4711"))!.fields)).toEqual({ name: "Ada Lovelace", points: 7 });
  });

  it("names the sender's key when a value cannot be coerced", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create", fieldMapping: { points: "pts", email: "contact.mail" } });
    const r = await hook(i.listenerUrl, { "pass-id": "c1", name: "Ada", pts: "many", contact: { mail: "not-an-email" } });
    expect(r.status).toBe(400);
    const issues = r.body.error.details.issues;
    expect(issues.map((x: { path: string }) => x.path).sort()).toEqual(["contact.mail", "pts"]);
    expect(issues.find((x: { path: string }) => x.path === "pts").message).toContain("must be a number");
    expect(await passCount(t)).toBe(0);
  });

  it("accepts application/x-www-form-urlencoded", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create" });
    const r = await call(i.listenerUrl.slice(BASE.length), {
      method: "POST",
      raw: "pass-id=f1&name=Form+Sender&points=3&utm_source=zap",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(r.status).toBe(201);
    expect(r.body.ignoredFields).toEqual(["utm_source"]);
    expect(JSON.parse((await passRow(t, "f1"))!.fields)).toMatchObject({ name: "Form Sender", points: 3 });
  });
});

describe("signatures", () => {
  const whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

  it("accepts a Standard Webhooks signature made by the standardwebhooks library", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create", signingSecret: whsec });
    const body = JSON.stringify({ "pass-id": "s1", name: "Signed" });
    const wh = new Webhook(whsec);
    const ts = new Date();
    const headers = {
      "webhook-id": "msg_s1",
      "webhook-timestamp": String(Math.floor(ts.getTime() / 1000)),
      "webhook-signature": wh.sign("msg_s1", ts, body),
    };
    expect((await hook(i.listenerUrl, body, headers)).status).toBe(201);
    // Tampered body, wrong secret, stale timestamp: 401 and nothing written.
    const tampered = await hook(i.listenerUrl, body.replace("s1", "s2"), { ...headers, "webhook-id": "msg_s2" });
    expect(tampered.status).toBe(401);
    const other = new Webhook("whsec_" + btoa("another secret of 32 bytes......"));
    const wrong = await hook(i.listenerUrl, body, { ...headers, "webhook-id": "msg_s3", "webhook-signature": other.sign("msg_s3", ts, body) });
    expect(wrong.status).toBe(401);
    const old = new Date(Date.now() - 10 * 60 * 1000);
    const stale = await hook(i.listenerUrl, body, {
      "webhook-id": "msg_s4",
      "webhook-timestamp": String(Math.floor(old.getTime() / 1000)),
      "webhook-signature": wh.sign("msg_s4", old, body),
    });
    expect(stale.status).toBe(401);
    expect(await passCount(t)).toBe(1);
  });

  it("accepts a raw (non-whsec) secret in the library's raw format", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const secret = "a plain shared secret value";
    const i = await integration(p, { templateId: t, action: "create", signingSecret: secret });
    const body = JSON.stringify({ "pass-id": "raw1", name: "Raw" });
    const ts = new Date();
    const sig = new Webhook(secret, { format: "raw" }).sign("msg_raw", ts, body);
    const r = await hook(i.listenerUrl, body, { "webhook-id": "msg_raw", "webhook-timestamp": String(Math.floor(ts.getTime() / 1000)), "webhook-signature": sig });
    expect(r.status).toBe(201);
  });

  it("accepts X-Passhook-Signature: sha256=<hex HMAC of the raw body>", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const secret = "a plain shared secret value";
    const i = await integration(p, { templateId: t, action: "create", signingSecret: secret });
    const body = JSON.stringify({ "pass-id": "h1", name: "Hmac" });
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
    const hex = [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect((await hook(i.listenerUrl, body, { "x-passhook-signature": `sha256=${hex}` })).status).toBe(201);
    // Signed over the exact bytes: a body starting with a byte-order mark still verifies.
    const bom = "\uFEFF" + JSON.stringify({ "pass-id": "h2", name: "Bom" });
    const bomMac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(bom)));
    const bomHex = [...bomMac].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect((await hook(i.listenerUrl, bom, { "x-passhook-signature": `sha256=${bomHex}` })).status).toBe(201);
    const bad = await hook(i.listenerUrl, body, { "x-passhook-signature": `sha256=${"0".repeat(64)}` });
    expect(bad.status).toBe(401);
    const none = await hook(i.listenerUrl, body);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBeTruthy();
    const logged = await call(`/v1/integration/${i.id}/events`, { auth: p.auth });
    // Newest first: [unsigned, bad signature, BOM, good]. Signatures are logged as present, never their value.
    const [unsigned, badSig] = logged.body.events;
    expect(unsigned.headers).not.toHaveProperty("x-passhook-signature");
    expect(badSig.statusCode).toBe(401);
    expect(badSig.headers["x-passhook-signature"]).toBe("[redacted]");
    expect(JSON.stringify(logged.body)).not.toContain("sha256=");
    expect(JSON.stringify(logged.body)).not.toContain(secret);
    const stored = await env.DB.prepare("select signing_secret_enc from integrations where id = ?").bind(i.id).first<{ signing_secret_enc: string }>();
    expect(stored!.signing_secret_enc).toMatch(/^v1\./);
    expect(stored!.signing_secret_enc).not.toContain(secret);
  });
});

describe("idempotency", () => {
  it("replays the first response to a repeated webhook-id and runs nothing", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const create = await integration(p, { templateId: t, action: "create" });
    const update = await integration(p, { templateId: t, action: "update" });
    await hook(create.listenerUrl, { "pass-id": "i1", name: "Ada" });
    const body = { "pass-id": "i1", points: 5 };
    const first = await hook(update.listenerUrl, body, { "webhook-id": "evt-1" });
    const second = await hook(update.listenerUrl, body, { "webhook-id": "evt-1" });
    expect(second.status).toBe(first.status);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect((await passRow(t, "i1"))!.version).toBe(2);
    const viaKey = await hook(update.listenerUrl, { "pass-id": "i1", points: 6 }, { "idempotency-key": "k-1" });
    const viaKeyAgain = await hook(update.listenerUrl, { "pass-id": "i1", points: 6 }, { "idempotency-key": "k-1" });
    expect(viaKeyAgain.body).toEqual(viaKey.body);
    expect((await passRow(t, "i1"))!.version).toBe(3);
    // The window is 24 hours: at 23 h a repeat still replays, at 25 h it runs again.
    const age = (key: string, hours: number) =>
      env.DB.prepare("update idempotency_keys set created_at = ? where key = ? and scope = ?")
        .bind(Date.now() - hours * 3600 * 1000, key, `listener:${update.id}`)
        .run();
    await age("k-1", 23);
    expect((await hook(update.listenerUrl, { "pass-id": "i1", points: 6 }, { "idempotency-key": "k-1" })).headers.get("idempotent-replayed")).toBe("true");
    await age("k-1", 25);
    const rerun = await hook(update.listenerUrl, { "pass-id": "i1", points: 6 }, { "idempotency-key": "k-1" });
    expect(rerun.status).toBe(200);
    expect(rerun.headers.get("idempotent-replayed")).toBeNull();
    const conflict = await hook(update.listenerUrl, { "pass-id": "i1", points: 9 }, { "webhook-id": "evt-1" });
    expect(conflict.status).toBe(409);
    const log = await call(`/v1/integration/${update.id}/events`, { auth: p.auth });
    const dup = log.body.events.find((e: { duplicateOf: string | null; idempotencyKey: string }) => e.duplicateOf && e.idempotencyKey === "evt-1");
    const original = log.body.events.find(
      (e: { idempotencyKey: string; duplicateOf: null; statusCode: number }) => e.idempotencyKey === "evt-1" && !e.duplicateOf && e.statusCode === 200,
    );
    expect(dup.duplicateOf).toBe(original.id);
    expect(dup.response).toEqual(original.response);
  });
});

describe("event log and replay", () => {
  it("logs every request newest first and replays a failed one after the mapping is fixed", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create" });
    const failed = await hook(i.listenerUrl, { "pass-id": "rp1", full_name: "Ada" }, { authorization: "Bearer crm-secret" });
    expect(failed.status).toBe(400);
    expect(failed.body.error.details.issues[0]).toMatchObject({ path: "name", message: "is required" });
    expect(await passCount(t)).toBe(0);

    const log = await call(`/v1/integration/${i.id}/events`, { auth: p.auth });
    expect(log.body.events).toHaveLength(1);
    const ev = log.body.events[0];
    expect(ev).toMatchObject({ statusCode: 400, error: { code: "validation_failed" }, body: JSON.stringify({ "pass-id": "rp1", full_name: "Ada" }) });
    expect(ev.headers.authorization).toBe("[redacted]");

    const fix = await call(`/v1/integration/${i.id}`, { method: "PATCH", auth: p.auth, body: { fieldMapping: { name: "full_name" } } });
    expect(fix.status).toBe(200);
    const replay = await call(`/v1/integration/${i.id}/events/${ev.id}/replay`, { method: "POST", auth: p.auth });
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ replayOf: ev.id, statusCode: 201, response: { externalId: "rp1", version: 1 } });
    expect(JSON.parse((await passRow(t, "rp1"))!.fields).name).toBe("Ada");

    const after = await call(`/v1/integration/${i.id}/events?limit=1`, { auth: p.auth });
    expect(after.body.events[0].id).toBe(replay.body.id);
    const older = await call(`/v1/integration/${i.id}/events?limit=1&cursor=${after.body.nextCursor}`, { auth: p.auth });
    expect(older.body.events[0].id).toBe(ev.id);
    expect((await call(`/v1/integration/${i.id}/events/evt_nope/replay`, { method: "POST", auth: p.auth })).status).toBe(404);
  });

  it("keeps the log for 30 days", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create" });
    await hook(i.listenerUrl, { "pass-id": "kept", name: "Ada" });
    const ancient = Date.now() - 31 * 24 * 3600 * 1000;
    // A row from 31 days ago (the lowest id: ids grow with time), with its details in R2.
    const { id: oldId } = (await env.DB.prepare(
      "insert into inbound_events (id, integration_id, received_at, status_code) values ((select min(id) - 1 from inbound_events), ?, ?, 200) returning id",
    )
      .bind(i.id, ancient)
      .first<{ id: number }>())!;
    await env.EVENT_LOG.put(`events/${i.id}/${oldId}`, JSON.stringify({ headers: {}, contentType: null, body: "{}", bodyTruncated: false, bodySha256: null, response: {}, errorMessage: null }));
    expect((await call(`/v1/integration/${i.id}/events`, { auth: p.auth })).body.events).toHaveLength(2);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "*/5 * * * *", scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    const log = await call(`/v1/integration/${i.id}/events`, { auth: p.auth });
    expect(log.body.events.map((e: { id: string }) => e.id)).not.toContain(`evt_${oldId.toString(36)}`);
    expect(log.body.events).toHaveLength(1);
    expect(await env.EVENT_LOG.get(`events/${i.id}/${oldId}`)).toBeNull();
  });

  it("keeps the log for EVENT_LOG_RETENTION_DAYS when set (1-30; anything else means 30)", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create" });
    const day = 24 * 3600 * 1000;
    const base = (await env.DB.prepare("select coalesce(min(id), 1000000) as m from inbound_events").first<{ m: number }>())!.m;
    // Ids grow with time: the 8-day-old row gets the lowest id, the 6-day-old one the next.
    for (const [k, age] of [[2, 8], [1, 6]] as const) {
      await env.DB.prepare("insert into inbound_events (id, integration_id, received_at, status_code) values (?, ?, ?, 200)").bind(base - k, i.id, Date.now() - age * day).run();
    }
    const ids = async () => (await env.DB.prepare("select id from inbound_events where integration_id = ? order by id").bind(i.id).all<{ id: number }>()).results.map((r) => r.id);
    for (const bad of ["0", "31", "7.5", "", "seven"]) {
      await purgeOldEvents({ ...workerEnv, EVENT_LOG_RETENTION_DAYS: bad });
      expect(await ids(), bad).toEqual([base - 2, base - 1]);
    }
    await purgeOldEvents({ ...workerEnv, EVENT_LOG_RETENTION_DAYS: "7" });
    expect(await ids()).toEqual([base - 1]);
  });

  it("keeps bodies raw in R2, lists only their start, shows one event whole, and deletes them with the integration", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create" });
    // 200 KiB of raw control characters (not valid JSON: a 400): JSON-escaped, each would take six bytes.
    const hostile = `{"pass-id":"ctl","note":"${"\u0001".repeat(200 * 1024)}"}`;
    expect((await hook(i.listenerUrl, hostile)).status).toBe(400);
    const listed = await call(`/v1/integration/${i.id}/events`, { auth: p.auth });
    const ev = listed.body.events[0];
    expect(ev.bodyComplete).toBe(false);
    expect(ev.body.length).toBeLessThan(64 * 1024);
    expect(hostile.startsWith(ev.body)).toBe(true);
    const stored = (await env.EVENT_LOG.head(`events/${i.id}/${parseInt(ev.id.slice(4), 36)}`))!;
    expect(stored.size).toBeLessThan(hostile.length + 4096);
    const one = await call(`/v1/integration/${i.id}/events/${ev.id}`, { auth: p.auth });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: ev.id, bodyComplete: true, statusCode: 400, body: hostile });
    expect((await call(`/v1/integration/${i.id}/events/evt_zz`, { auth: p.auth })).status).toBe(404);
    const other = await newProject();
    expect((await call(`/v1/integration/${i.id}/events/${ev.id}`, { auth: other.auth })).status).toBe(404);
    // A short body is listed whole.
    await hook(i.listenerUrl, { "pass-id": "short", name: "Bo" });
    expect((await call(`/v1/integration/${i.id}/events?limit=1`, { auth: p.auth })).body.events[0]).toMatchObject({ bodyComplete: true, statusCode: 201 });

    expect((await env.EVENT_LOG.list({ prefix: `events/${i.id}/` })).objects).toHaveLength(2);
    expect((await call(`/v1/integration/${i.id}`, { method: "DELETE", auth: p.auth })).status).toBe(204);
    expect((await env.EVENT_LOG.list({ prefix: `events/${i.id}/` })).objects).toHaveLength(0);
  });

  it("refuses to replay a request that failed its signature", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create", signingSecret: "a signing secret value" });
    expect((await hook(i.listenerUrl, { "pass-id": "x", name: "Forged" })).status).toBe(401);
    const ev = (await call(`/v1/integration/${i.id}/events`, { auth: p.auth })).body.events[0];
    const r = await call(`/v1/integration/${i.id}/events/${ev.id}/replay`, { method: "POST", auth: p.auth });
    expect(r.status).toBe(409);
    expect(await passCount(t)).toBe(0);
  });
});

describe("ordering", () => {
  it("applies 50 concurrent listener updates to one pass in arrival order", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const create = await integration(p, { templateId: t, action: "create" });
    const update = await integration(p, { templateId: t, action: "update" });
    await hook(create.listenerUrl, { "pass-id": "o1", name: "Ada" });
    const rs = await Promise.all(Array.from({ length: 50 }, (_, k) => hook(update.listenerUrl, { "pass-id": "o1", counter: k + 1 })));
    expect(rs.every((r) => r.status === 200)).toBe(true);
    const row = await passRow(t, "o1");
    expect(row!.version).toBe(51);
    const events = { results: (await history(p, row!.id)).filter((e) => e.action === "update").map((e) => ({ version: e.version, changes: JSON.stringify(e.changes) })) };
    expect(events.results.map((e) => e.version)).toEqual(Array.from({ length: 50 }, (_, k) => k + 2));
    const tos = events.results.map((e) => JSON.parse(e.changes).fields.counter.to);
    expect(events.results.slice(1).map((e) => JSON.parse(e.changes).fields.counter.from)).toEqual(tos.slice(0, -1));
    expect(new Set(rs.map((r) => r.body.version)).size).toBe(50);
  });
});

describe("bad input changes nothing and is still logged", () => {
  it("answers each case with the right 4xx", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "create" });
    const path = i.listenerUrl.slice(BASE.length);
    const cases: [string, () => ReturnType<typeof call>, number, string][] = [
      ["malformed JSON", () => call(path, { method: "POST", raw: "{oops", headers: { "content-type": "application/json" } }), 400, "invalid_json"],
      ["wrong content type", () => call(path, { method: "POST", raw: "pass-id: 1", headers: { "content-type": "text/plain" } }), 415, "unsupported_media_type"],
      ["array body", () => hook(i.listenerUrl, [1, 2]), 400, "bad_request"],
      ["too large", () => hook(i.listenerUrl, { "pass-id": "big", name: "x".repeat(260 * 1024) }), 413, "payload_too_large"],
      ["missing pass-id", () => hook(i.listenerUrl, { name: "Ada" }), 400, "validation_failed"],
      ["empty pass-id", () => hook(i.listenerUrl, { "pass-id": " ", name: "Ada" }), 400, "validation_failed"],
      ["wrong type", () => hook(i.listenerUrl, { "pass-id": "w", name: "Ada", points: "ten" }), 400, "validation_failed"],
      ["missing required field", () => hook(i.listenerUrl, { "pass-id": "w" }), 400, "validation_failed"],
    ];
    for (const [name, send, status, code] of cases) {
      const r = await send();
      expect(r.status, name).toBe(status);
      expect(r.body.error.code, name).toBe(code);
    }
    expect(await passCount(t)).toBe(0);
    const log = await call(`/v1/integration/${i.id}/events?limit=100`, { auth: p.auth });
    expect(log.body.events).toHaveLength(cases.length);
    const big = log.body.events.find((e: { statusCode: number }) => e.statusCode === 413);
    expect(big.bodyTruncated).toBe(true);
  });

  it("leaves an existing pass untouched when an update is refused", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const create = await integration(p, { templateId: t, action: "create" });
    const update = await integration(p, { templateId: t, action: "update", signingSecret: "update signing secret" });
    const plain = await integration(p, { templateId: t, action: "update" });
    await hook(create.listenerUrl, { "pass-id": "keep", name: "Ada", points: 5 });
    const before = await passRow(t, "keep");
    const path = plain.listenerUrl.slice(BASE.length);
    const refused = [
      await call(path, { method: "POST", raw: '{"pass-id":"keep","points":', headers: { "content-type": "application/json" } }),
      await call(path, { method: "POST", raw: "pass-id=keep", headers: { "content-type": "text/csv" } }),
      await hook(plain.listenerUrl, { "pass-id": "keep", points: "many", email: "nope" }),
      await hook(plain.listenerUrl, { "pass-id": "keep", name: null }),
      await hook(plain.listenerUrl, { "pass-id": "keep", name: "x".repeat(300 * 1024) }),
      await hook(update.listenerUrl, { "pass-id": "keep", points: 99 }), // unsigned
    ];
    expect(refused.map((r) => r.status)).toEqual([400, 415, 400, 400, 413, 401]);
    expect(await passRow(t, "keep")).toEqual(before);
  });

  it("rate limits per integration with 429 and Retry-After", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const i = await integration(p, { templateId: t, action: "archive" });
    let limited: Awaited<ReturnType<typeof call>> | null = null;
    // 120 a minute in fixed windows: 400 tries overflow a window even when the run straddles a boundary.
    for (let k = 0; k < 400 && !limited; k++) {
      const r = await hook(i.listenerUrl, { "pass-id": `none-${k}` });
      if (r.status === 429) limited = r;
      else expect(r.status).toBe(404);
    }
    expect(limited).not.toBeNull();
    expect(limited!.headers.get("retry-after")).toBe("60");
    expect(limited!.body.error.code).toBe("rate_limited");
    // Another integration is not affected.
    const j = await integration(p, { templateId: t, action: "archive" });
    expect((await hook(j.listenerUrl, { "pass-id": "none" })).status).toBe(404);
  });
});
