/**
 * Google Wallet at the edges (issue 14 §1, §4, §5, §6; api.md "Wallet credentials"; google-wallet.md
 * §4-§6): the credentials PUT/GET/DELETE (validated, encrypted, never shown), save links decoded
 * and verified with jose against the service account's public key (skinny once the object exists,
 * inline before, inserted first when inline would be too long), the holder page's redirect, signed
 * save/delete callbacks built here with a throwaway root -> intermediate -> message chain
 * (scripts/lib/google-chain.ts) and their refusals, nonce dedup under concurrency, and the
 * reconciliation job emitting a missed install exactly once. Google is the shared fake behind a
 * fetch spy; the customer's callback server is the spy's other branch.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { decodeJwt, jwtVerify } from "jose";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { newEcKey, newIntermediate } from "../scripts/lib/google-chain";
import { googleSaveLink, purgeGoogleNonces, reconcileGoogleSaves } from "../src/google";
import { receiveGoogleCallback } from "../src/google/callback";
import worker from "../src/index";
import { passPublicToken, passSubject, type PassView } from "../src/passes";
import { loadWalletCredentials } from "../src/projects";
import { call, history, newPass, newProject, newTemplate, workerEnv, type TestProject } from "./support/http";
import { classIdOf, credentialsBody, EMAIL, googleJob, googleObjectRow, googleProject, googleWorld, ISSUER, objectIdOf, signedCallback, type GoogleWorld } from "./support/google";
import { until } from "./support/receiver";

let w: GoogleWorld & { install: () => void };

beforeAll(async () => {
  w = await googleWorld();
});
beforeEach(() => w.install());
afterEach(() => vi.restoreAllMocks());

const SAVE_PREFIX = "https://pay.google.com/gp/v/save/";

async function saveJwt(url: string) {
  expect(url.startsWith(SAVE_PREFIX)).toBe(true);
  const jwt = url.slice(SAVE_PREFIX.length);
  expect(jwt.length).toBeLessThanOrEqual(1800);
  const { payload, protectedHeader } = await jwtVerify(jwt, w.publicKey, { algorithms: ["RS256"], audience: "google", issuer: EMAIL });
  expect(protectedHeader).toMatchObject({ alg: "RS256", typ: "JWT" });
  expect(payload.typ).toBe("savetowallet");
  expect(typeof payload.iat).toBe("number");
  return payload as { origins: string[]; payload: { loyaltyObjects: Record<string, unknown>[] } };
}

const postCallback = (body: string) => call("/google/callback", { method: "POST", raw: body, headers: { "content-type": "application/json" } });

/** Install/uninstall deliveries recorded for a pass (the DO writes the row before emit returns). */
async function deliveries(passId: number) {
  const rows = await env.DB.prepare("select event, payload from deliveries where pass_id = ? order by created_at, id").bind(passId).all<{ event: string; payload: string }>();
  return rows.results.map((r) => ({ event: r.event, payload: JSON.parse(r.payload) as Record<string, unknown> }));
}

async function insertedPass(externalId: string): Promise<{ p: TestProject; t: number; pass: PassView }> {
  const { p, t } = await googleProject(w);
  const pass = await newPass(p, t, externalId, { name: "Ada", points: 7 });
  await until(async () => (await googleJob(passSubject(pass.id)))?.state === "done");
  return { p, t, pass };
}

describe("credentials", () => {
  it("validates, stores encrypted, shows a summary without key material, deletes", async () => {
    const p = await newProject();
    const url = `/v1/project/${p.id}/credentials/google`;
    const bad: [Record<string, unknown>, string[]][] = [
      [credentialsBody(w, { privateKeyPem: "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----" }), ["privateKeyPem"]],
      [credentialsBody(w, { serviceAccountEmail: "someone@gmail.com" }), ["serviceAccountEmail"]],
      [credentialsBody(w, { issuerId: 3388000000022141777 }), ["issuerId"]],
      [credentialsBody(w, { origins: ["javascript:alert(1)"] }), ["origins.0"]],
      [credentialsBody(w, { extra: true }), ["extra"]],
      [{}, ["issuerId", "serviceAccountEmail", "privateKeyPem"]],
    ];
    for (const [body, paths] of bad) {
      const r = await call(url, { method: "PUT", auth: p.auth, body });
      expect(r.status, JSON.stringify(paths)).toBe(400);
      expect(r.body.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual([...paths].sort());
      expect(JSON.stringify(r.body)).not.toContain(w.privateKeyPem.split("\n")[1]);
    }
    const hostile = await call(url, { method: "PUT", auth: p.auth, raw: `{"__proto__": {"issuerId": "1"}, "issuerId": "${ISSUER}"}`, headers: { "content-type": "application/json" } });
    expect(hostile.status).toBe(400);
    expect((await call(`/v1/project/${p.id}/credentials`, { auth: p.auth })).body.google).toBeNull();

    const ok = await call(url, { method: "PUT", auth: p.auth, body: credentialsBody(w) });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ wallet: "google", issuerId: ISSUER, serviceAccountEmail: EMAIL, origins: ["https://shop.example.com"], keyBits: 2048 });
    expect(ok.body.publicKeyFingerprint).toMatch(/^[0-9a-f]{16}$/);
    const keyLine = w.privateKeyPem.split("\n")[2];
    expect(JSON.stringify(ok.body)).not.toContain(keyLine);
    expect(JSON.stringify(ok.body)).not.toContain("PRIVATE");
    const shown = await call(`/v1/project/${p.id}/credentials`, { auth: p.auth });
    expect(shown.body).toMatchObject({ apple: null, google: { issuerId: ISSUER, version: ok.body.version } });
    expect(JSON.stringify(shown.body)).not.toContain(keyLine);
    const row = await env.DB.prepare("select secret_enc, summary from wallet_credentials where project_id = ? and wallet = 'google'").bind(p.id).first<{ secret_enc: string; summary: string }>();
    expect(row!.secret_enc).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(keyLine);

    expect((await call(url, { method: "PUT", auth: basicOf(p, "wrong") , body: credentialsBody(w) })).status).toBe(401);
    expect((await call(`/v1/project/${p.id}/credentials/google`, { method: "DELETE", auth: p.auth })).status).toBe(204);
    expect((await call(`/v1/project/${p.id}/credentials`, { auth: p.auth })).body.google).toBeNull();
    expect((await call(`/v1/project/${p.id}/credentials/google`, { method: "DELETE", auth: p.auth })).status).toBe(404);
  });

  it("asks every template of the project to write its class when credentials arrive", async () => {
    const p = await newProject("Late Shop");
    const t = await newTemplate(p);
    expect(await googleJob(`t:${t}`)).toBeNull();
    expect((await call(`/v1/project/${p.id}/credentials/google`, { method: "PUT", auth: p.auth, body: credentialsBody(w) })).status).toBe(200);
    await until(() => w.fake.object("loyaltyClass", classIdOf(p.id, t)) !== undefined);
  });
});

function basicOf(p: TestProject, secret: string) {
  return `Basic ${btoa(`${p.key}:${secret}`)}`;
}

describe("save links", () => {
  it("is skinny once the object exists: only its ids, signed by the service account", async () => {
    const { p, t, pass } = await insertedPass("link-skinny");
    const url = await googleSaveLink(workerEnv, pass);
    const claims = await saveJwt(url!);
    expect(claims.origins).toEqual(["https://shop.example.com"]);
    expect(claims.payload).toEqual({ loyaltyObjects: [{ id: objectIdOf(p.id, pass.id), classId: classIdOf(p.id, t) }] });
    expect(JSON.stringify(claims)).not.toMatch(/PRIVATE|BEGIN|private_key/);
    expect((await googleObjectRow(pass.id))?.link_issued_at).toEqual(expect.any(Number));
  });

  it("carries the object inline before it exists, and has it inserted so the next link is skinny", async () => {
    const p = await newProject("Inline Shop");
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "link-inline", { name: "Ada", points: 3 });
    // Credentials arrive after the pass: its object is not at Google yet.
    expect((await call(`/v1/project/${p.id}/credentials/google`, { method: "PUT", auth: p.auth, body: credentialsBody(w) })).status).toBe(200);
    const claims = await saveJwt((await googleSaveLink(workerEnv, pass))!);
    const [inline] = claims.payload.loyaltyObjects;
    expect(inline).toMatchObject({ id: objectIdOf(p.id, pass.id), classId: classIdOf(p.id, t), state: "ACTIVE" });
    expect(JSON.stringify(inline.textModulesData)).toContain("Ada");
    expect(JSON.stringify(claims)).not.toMatch(/PRIVATE|BEGIN|private_key/);

    await until(async () => (await googleObjectRow(pass.id))?.inserted_at != null);
    const next = await saveJwt((await googleSaveLink(workerEnv, pass))!);
    expect(Object.keys(next.payload.loyaltyObjects[0]).sort()).toEqual(["classId", "id"]);
  });

  it("inserts the object first when the inline link would pass Google's 1800 characters", async () => {
    const p = await newProject("Long Shop");
    const fields = Array.from({ length: 8 }, (_, i) => ({ key: `note${i}`, label: `Note ${i}`, type: "text" }));
    const t = (await call(`/v1/project/${p.id}/templates`, { auth: p.auth, body: { name: "Notes", passType: "loyalty", fields } })).body.id;
    const pass = await newPass(p, t, "link-long", Object.fromEntries(fields.map((f) => [f.key, "x".repeat(120)])));
    expect((await call(`/v1/project/${p.id}/credentials/google`, { method: "PUT", auth: p.auth, body: credentialsBody(w) })).status).toBe(200);
    const claims = await saveJwt((await googleSaveLink(workerEnv, pass))!);
    expect(Object.keys(claims.payload.loyaltyObjects[0]).sort()).toEqual(["classId", "id"]);
    expect(w.fake.object("loyaltyObject", objectIdOf(p.id, pass.id))).toMatchObject({ state: "ACTIVE" });
  });

  it("is null without Google credentials; the holder's /p/{token}/google redirects or answers 404", async () => {
    const plain = await newProject();
    const pt = await newTemplate(plain);
    const other = await newPass(plain, pt, "link-none");
    expect(await googleSaveLink(workerEnv, other)).toBeNull();
    expect((await call(`/p/${await passPublicToken(workerEnv, other)}/google`)).status).toBe(404);

    const { p, pass } = await insertedPass("link-holder");
    const token = await passPublicToken(workerEnv, pass);
    const links = await call(`/v1/pass/${pass.id}/links`, { auth: p.auth });
    expect(links.status).toBe(200);
    expect(links.body).toEqual({ apple: null, google: expect.stringMatching(/^https:\/\/pay\.google\.com\/gp\/v\/save\//), page: `https://passhook.test/p/${token}` });
    await saveJwt(links.body.google);
    expect((await call(`/v1/pass/${other.id}/links`, { auth: p.auth })).status).toBe(404);
    expect((await call(`/v1/pass/${other.id}/links`, { auth: plain.auth })).body.google).toBeNull();
    const res = await worker.fetch(new Request(`https://passhook.test/p/${token}/google`, { redirect: "manual" }), env, createExecutionContext());
    expect(res.status).toBe(302);
    expect(res.headers.get("cache-control")).toBe("no-store");
    await saveJwt(res.headers.get("location")!);
    expect((await call(`/p/${token.slice(0, -2)}xx/google`)).status).toBe(404);
    expect((await call(`/p/${"x".repeat(100)}/google`)).status).toBe(404);
    // Voided, then archived: the link is refused (an inline save link would carry the pass's fields).
    expect((await call(`/v1/pass/${pass.id}/status`, { auth: p.auth, body: { status: "voided" } })).status).toBe(200);
    expect((await call(`/p/${token}/google`)).status).toBe(410);
    expect((await call(`/v1/pass/${pass.id}`, { method: "DELETE", auth: p.auth })).status).toBe(200);
    expect((await call(`/p/${token}/google`)).status).toBe(410);
  });
});

describe("callbacks", () => {
  it("a signed save emits install and a del emits uninstall (platform android) to the project's callback server", async () => {
    const { p, t, pass } = await insertedPass("cb-save");
    const ids = { classId: classIdOf(p.id, t), objectId: objectIdOf(p.id, pass.id) };
    const save = await postCallback(await signedCallback(w, { ...ids, eventType: "save" }));
    expect(save).toMatchObject({ status: 200, body: { ok: true } });
    await until(() => w.received.some((r) => r.path === "/passhook/v1/pass/install" && r.json.passId === pass.id));
    const install = w.received.find((r) => r.path === "/passhook/v1/pass/install" && r.json.passId === pass.id)!;
    expect(install.json).toEqual({
      passId: pass.id,
      templateId: t,
      serialNumber: pass.serialNumber,
      createdAt: pass.createdAt,
      updatedAt: expect.any(String),
      externalId: "cb-save",
      platform: "android",
    });
    expect(install.headers["webhook-signature"]).toMatch(/^v1,/);

    expect((await postCallback(await signedCallback(w, { ...ids, eventType: "del" }))).status).toBe(200);
    await until(() => w.received.some((r) => r.path === "/passhook/v1/pass/uninstall" && r.json.passId === pass.id));
    const holder = (await history(p, pass.id)).filter((e) => e.kind === "holder");
    expect(holder.map((e) => [e.action, e.source, e.changes.platform])).toEqual([
      ["install", "google", "android"],
      ["uninstall", "google", "android"],
    ]);
  });

  it("a replayed nonce answers 200 and emits nothing; concurrent duplicates emit once", async () => {
    const { p, t, pass } = await insertedPass("cb-dup");
    const body = await signedCallback(w, { classId: classIdOf(p.id, t), objectId: objectIdOf(p.id, pass.id) });
    const answers = await Promise.all(Array.from({ length: 6 }, () => postCallback(body)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect((await deliveries(pass.id)).map((d) => d.event)).toEqual(["install"]);
    expect((await postCallback(body)).status).toBe(200);
    // A new message with the same nonce (Google's own retry) is a duplicate too.
    const nonce = JSON.parse(JSON.parse(body).signedMessage).nonce;
    expect((await postCallback(await signedCallback(w, { classId: classIdOf(p.id, t), objectId: objectIdOf(p.id, pass.id), nonce }))).status).toBe(200);
    expect((await deliveries(pass.id)).map((d) => d.event)).toEqual(["install"]);
  });

  it("refuses with 401, emitting nothing: tampered message, wrong recipient, expired intermediate, unknown root, foreign object", async () => {
    const { p, t, pass } = await insertedPass("cb-bad");
    const ids = { classId: classIdOf(p.id, t), objectId: objectIdOf(p.id, pass.id) };
    const good = JSON.parse(await signedCallback(w, ids));

    const tampered = { ...good, signedMessage: good.signedMessage.replace('"save"', '"del"') };
    const otherRoot = await newEcKey();
    const unknownRoot = await newIntermediate(otherRoot.privateKey, { senderId: "GooglePayPasses", keyExpirationMs: Date.now() + 86_400_000 });
    const expired = await newIntermediate(w.root.privateKey, { senderId: "GooglePayPasses", keyExpirationMs: Date.now() - 1000 });
    const stranger = await newProject();
    const strangerTemplate = await newTemplate(stranger);
    const strangerPass = await newPass(stranger, strangerTemplate, "cb-stranger");

    const refused: [string, string][] = [
      ["tampered message", JSON.stringify(tampered)],
      ["tampered signature", JSON.stringify({ ...good, signature: good.signature.slice(0, -8) + "AAAAAAA=" })],
      ["wrong recipient", await signedCallback(w, ids, { recipient: "3388000000099999999" })],
      ["expired intermediate", await signedCallback(w, ids, { intermediate: expired })],
      ["unknown root key", await signedCallback(w, ids, { intermediate: unknownRoot })],
      ["wrong sender", await signedCallback(w, ids, { sender: "SomebodyElse" })],
      ["project without credentials", await signedCallback(w, { classId: classIdOf(stranger.id, strangerTemplate), objectId: objectIdOf(stranger.id, strangerPass.id) })],
      ["not an object of ours", await signedCallback(w, { classId: `${ISSUER}.elsewhere`, objectId: `${ISSUER}.elsewhere-42` })],
      ["not JSON", "{nope"],
      ["empty", ""],
      ["__proto__ envelope", '{"__proto__":{"signedMessage":"x"},"protocolVersion":"ECv2SigningOnly"}'],
      ["deeply nested", "[".repeat(5000) + "]".repeat(5000)],
      ["20 KB of junk", JSON.stringify({ signedMessage: "x".repeat(20_000) })],
    ];
    for (const [what, body] of refused) {
      const r = await postCallback(body);
      expect(r.status, what).toBe(401);
      expect(r.body.error.code, what).toBe("unauthorized");
      expect(r.body.error.message, what).toBe("The callback signature does not verify.");
    }
    // An expired message verified fine but is stale: 200, nothing emitted (Google's retry would not help).
    expect((await postCallback(await signedCallback(w, { ...ids, expTimeMillis: Date.now() - 1000 }))).status).toBe(200);
    expect((await postCallback("x".repeat(70 * 1024))).status).toBe(413);
    expect(await deliveries(pass.id)).toEqual([]);
    expect(await deliveries(strangerPass.id)).toEqual([]);
    expect((await history(p, pass.id)).filter((e) => e.kind === "holder")).toEqual([]);
  });

  it("emits install only when the pass is not installed, and uninstall only when it is (as Apple does)", async () => {
    const { p, t, pass } = await insertedPass("cb-state");
    const ids = { classId: classIdOf(p.id, t), objectId: objectIdOf(p.id, pass.id) };
    const send = async (eventType: "save" | "del") => expect((await postCallback(await signedCallback(w, { ...ids, eventType }))).status).toBe(200);
    const events = async () => (await deliveries(pass.id)).map((d) => d.event);
    // A delete of a pass nobody installed: nothing to report.
    await send("del");
    expect(await events()).toEqual([]);
    await send("save");
    await send("save"); // another save (a new nonce) without a delete between
    expect(await events()).toEqual(["install"]);
    await send("del");
    await send("del");
    expect(await events()).toEqual(["install", "uninstall"]);
    await send("save");
    expect(await events()).toEqual(["install", "uninstall", "install"]);
    expect((await history(p, pass.id)).filter((e) => e.kind === "holder").map((e) => e.action)).toEqual(["install", "uninstall", "install"]);
    expect((await googleObjectRow(pass.id))?.installed_at).toEqual(expect.any(Number));
  });

  it("answers an address whose callbacks keep failing verification 429 before any work; Google's verifying traffic is never limited", async () => {
    const { p, t, pass } = await insertedPass("cb-brake");
    const other = await newPass(p, t, "cb-brake-2");
    await until(async () => (await googleJob(passSubject(other.id)))?.state === "done");
    const from = (client: string, body: string) => call("/google/callback", { method: "POST", raw: body, headers: { "content-type": "application/json", "cf-connecting-ip": client } });
    const tag = crypto.randomUUID().slice(0, 8);
    const google = `2001:db8:${tag.slice(0, 4)}::1`;
    const forger = `2001:db8:${tag.slice(4)}::2`;
    const ids = (passId: number) => ({ classId: classIdOf(p.id, t), objectId: objectIdOf(p.id, passId) });

    // More genuine callbacks than the test budget of failures (20 a minute): all answered.
    for (let i = 0; i < 25; i++) expect((await from(google, await signedCallback(w, { ...ids(pass.id), eventType: "save" }))).status).toBe(200);
    expect((await deliveries(pass.id)).map((d) => d.event)).toEqual(["install"]);

    // Callbacks for objects that are not ours (made-up projects: another issuer may point its classes
    // here) are refused without counting: Google's own address must not get blocked by them.
    const notOurs = JSON.stringify({ signedMessage: JSON.stringify({ objectId: `${ISSUER}.prj_madeup.p1` }) });
    for (let i = 0; i < 30; i++) expect((await from(`2001:db8:${tag.slice(2, 6)}::3`, notOurs)).status).toBe(401);

    // Forgeries: a tampered message for a real pass.
    const good = JSON.parse(await signedCallback(w, ids(pass.id)));
    const forgery = JSON.stringify({ ...good, signedMessage: good.signedMessage.replace('"save"', '"del"') });
    const statuses: number[] = [];
    for (let i = 0; i < 40 && !statuses.includes(429); i++) statuses.push((await from(forger, forgery)).status);
    expect(statuses.indexOf(429)).toBeGreaterThanOrEqual(10);
    expect(new Set(statuses.slice(0, statuses.indexOf(429)))).toEqual(new Set([401]));

    // Blocked: even a genuine body from that address is refused unread; other addresses are not.
    const blocked = await from(forger, await signedCallback(w, { ...ids(other.id), eventType: "save" }));
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe("rate_limited");
    expect(blocked.headers.get("retry-after")).toBe("60");
    expect(await deliveries(other.id)).toEqual([]);
    expect((await from(google, await signedCallback(w, { ...ids(other.id), eventType: "save" }))).status).toBe(200);
    expect((await deliveries(other.id)).map((d) => d.event)).toEqual(["install"]);
  });

  it("callbacks naming made-up projects do not push real projects' credentials out of the cache", async () => {
    const { p } = await googleProject(w);
    const at = Date.now();
    expect(await loadWalletCredentials(workerEnv, p.id, "google", at)).not.toBeNull();
    for (let i = 0; i < 600; i++) {
      const body = JSON.stringify({ signedMessage: JSON.stringify({ objectId: `${ISSUER}.prj_madeup${i}.p1` }) });
      expect((await receiveGoogleCallback(env, body)).status).toBe(401);
    }
    // Gone from D1 behind the cache's back: only a cached entry can still answer.
    await env.DB.prepare("delete from wallet_credentials where project_id = ?").bind(p.id).run();
    expect(await loadWalletCredentials(workerEnv, p.id, "google", at)).not.toBeNull();
  });

  it("keeps nonces 7 days", async () => {
    const { p, t, pass } = await insertedPass("cb-retention");
    const body = await signedCallback(w, { classId: classIdOf(p.id, t), objectId: objectIdOf(p.id, pass.id) });
    expect((await postCallback(body)).status).toBe(200);
    const count = async () => (await env.DB.prepare("select count(*) as n from google_callback_nonces where pass_id = ?").bind(pass.id).first<{ n: number }>())!.n;
    expect(await count()).toBe(1);
    await purgeGoogleNonces(workerEnv, Date.now() + 6 * 86_400_000);
    expect(await count()).toBe(1);
    await purgeGoogleNonces(workerEnv, Date.now() + 8 * 86_400_000);
    expect(await count()).toBe(0);
  });
});

describe("reconciliation", () => {
  it("emits a missed install once, and the late callback for that save emits nothing more", async () => {
    const { p, t, pass } = await insertedPass("rec-1");
    const unsaved = await newPass(p, t, "rec-2");
    await until(async () => (await googleJob(passSubject(unsaved.id)))?.state === "done");
    await googleSaveLink(workerEnv, pass);
    await googleSaveLink(workerEnv, unsaved);
    // A holder saved the first pass; Google's callback never came.
    w.fake.object("loyaltyObject", objectIdOf(p.id, pass.id))!.hasUsers = true;

    const now = Date.now();
    const first = await reconcileGoogleSaves(workerEnv, now);
    expect(first.installs).toEqual([pass.id]);
    expect((await deliveries(pass.id)).map((d) => [d.event, d.payload.platform])).toEqual([["install", "android"]]);
    expect(await deliveries(unsaved.id)).toEqual([]);
    expect((await googleObjectRow(unsaved.id))?.checked_at).toBe(now);

    // Later runs (the cron, an hour on) and the late save callback emit no second install.
    expect((await reconcileGoogleSaves(workerEnv, now + 2 * 3_600_000)).installs).toEqual([]);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "*/5 * * * *", scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    const ids = { classId: classIdOf(p.id, t), objectId: objectIdOf(p.id, pass.id) };
    expect((await postCallback(await signedCallback(w, { ...ids, eventType: "save" }))).status).toBe(200);
    expect((await deliveries(pass.id)).map((d) => d.event)).toEqual(["install"]);
    // The holder removes it, then saves again: both are new events.
    expect((await postCallback(await signedCallback(w, { ...ids, eventType: "del" }))).status).toBe(200);
    expect((await postCallback(await signedCallback(w, { ...ids, eventType: "save" }))).status).toBe(200);
    expect((await deliveries(pass.id)).map((d) => d.event)).toEqual(["install", "uninstall", "install"]);
    await until(() => w.received.filter((r) => r.json.passId === pass.id).length === 3);
    expect(w.received.filter((r) => r.json.passId === pass.id).map((r) => r.path)).toEqual([
      "/passhook/v1/pass/install",
      "/passhook/v1/pass/uninstall",
      "/passhook/v1/pass/install",
    ]);
  });

  it("stops probing a link 30 days after it was last handed out; a new link starts again", async () => {
    const { p, t } = await insertedPass("rec-age");
    const old = await newPass(p, t, "rec-age-old");
    const recent = await newPass(p, t, "rec-age-recent");
    await until(async () => (await googleJob(passSubject(recent.id)))?.state === "done" && (await googleJob(passSubject(old.id)))?.state === "done");
    const now = Date.now() + 100 * 86_400_000;
    await googleSaveLink(workerEnv, old, now - 31 * 86_400_000);
    await googleSaveLink(workerEnv, recent, now - 29 * 86_400_000);
    for (const pass of [old, recent]) w.fake.object("loyaltyObject", objectIdOf(p.id, pass.id))!.hasUsers = true;
    const probedIds = () => w.googleCalls.filter((c) => c.method === "GET" && c.url.includes(".p")).map((c) => c.url.split("/").pop());
    const before = probedIds().length;
    const run = await reconcileGoogleSaves(workerEnv, now);
    expect(run.installs).toContain(recent.id);
    expect(run.installs).not.toContain(old.id);
    expect(probedIds().slice(before)).not.toContain(objectIdOf(p.id, old.id));
    expect((await googleObjectRow(old.id))?.checked_at).toBeNull();
    // The holder page hands out a new link: the pass is probed again.
    await googleSaveLink(workerEnv, old, now - 86_400_000);
    expect((await reconcileGoogleSaves(workerEnv, now)).installs).toEqual([old.id]);
  });

  it("never probes a deleted pass (Google's hasUsers may stay true after a delete)", async () => {
    const { p, t, pass } = await insertedPass("rec-deleted");
    const lost = await newPass(p, t, "rec-deleted-lost");
    await until(async () => (await googleJob(passSubject(lost.id)))?.state === "done");
    for (const x of [pass, lost]) await googleSaveLink(workerEnv, x);
    const send = async (passId: number, eventType: "save" | "del") =>
      expect((await postCallback(await signedCallback(w, { classId: classIdOf(p.id, t), objectId: objectIdOf(p.id, passId), eventType }))).status).toBe(200);
    await send(pass.id, "save");
    await send(pass.id, "del");
    // The save callback of the other pass never came; its delete did.
    await send(lost.id, "del");
    for (const x of [pass, lost]) w.fake.object("loyaltyObject", objectIdOf(p.id, x.id))!.hasUsers = true;
    const run = await reconcileGoogleSaves(workerEnv, Date.now() + 2 * 3_600_000);
    expect(run.installs).not.toContain(pass.id);
    expect(run.installs).not.toContain(lost.id);
    expect((await googleObjectRow(lost.id))?.checked_at).toBeNull();
    expect((await deliveries(pass.id)).map((d) => d.event)).toEqual(["install", "uninstall"]);
    expect(await deliveries(lost.id)).toEqual([]);
  });

  it("probes at most its bound per run, least recently checked first", async () => {
    const { p, t } = await insertedPass("rec-bound");
    const passes = await Promise.all([1, 2, 3].map((i) => newPass(p, t, `rec-bound-${i}`)));
    for (const pass of passes) await googleSaveLink(workerEnv, pass);
    const now = Date.now() + 10 * 3_600_000;
    const due = await env.DB.prepare(
      "select count(*) as n from google_objects where link_issued_at >= ? and installed_at is null and uninstalled_at is null and (checked_at is null or checked_at < ?)",
    )
      .bind(now - 30 * 86_400_000, now - 3_600_000)
      .first<{ n: number }>();
    expect(due!.n).toBeGreaterThan(3);
    const a = await reconcileGoogleSaves(workerEnv, now, 2);
    expect(a.probed).toBe(2);
    const b = await reconcileGoogleSaves(workerEnv, now, 50);
    // The second run takes everything the first left, and nothing the first checked.
    expect(b.probed).toBe(due!.n - 2);
    expect((await reconcileGoogleSaves(workerEnv, now, 50)).probed).toBe(0);
    const checked = await Promise.all(passes.map(async (x) => (await googleObjectRow(x.id))?.checked_at));
    expect(checked.every((c) => c === now)).toBe(true);
    expect(b.installs).toEqual([]);
  });
});
