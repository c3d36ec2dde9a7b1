/**
 * APNs pushes (issue 13 §6, §7; apple-wallet.md §5) with APNs mocked at the fetch boundary and
 * behaving like APNs (support/apple-web.ts): every pass change (admin API, listener, template edit,
 * image) reaches each registered device once, with the pass type as topic, body `{}` and an ES256
 * provider token verified here with the test key's public half and reused; 410 / BadDeviceToken
 * remove the registration (not one made after APNs gave up on it); ExpiredProviderToken refreshes and
 * retries; 429 / 5xx / no answer retry with backoff, only for devices still owed a push; bad
 * credentials and a missing PUBLIC_URL fail the job; dead-lettered jobs keep their record. A template
 * edit fans out in pages with its progress in the API.
 */
import { createMessageBatch } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { strFromU8, unzipSync } from "fflate";
import { importSPKI, jwtVerify } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { apnsTransport, consumeAppleDeadLetters, consumeApplePushes, defaultIconImages, FANOUT_PAGE, relaySignature } from "../src/apple";
import type { WalletTask } from "../src/passes";
import { fixture, goodCredentials, identity } from "./support/apple-fixtures";
import { APNS_HOST, appleProject, mockNetwork, PASS_TYPE, register, registrations, settled, TOKENS, walletJobRow, type AppleProject } from "./support/apple-web";
import { BASE, call, newPass } from "./support/http";
import { mockReceiver, until } from "./support/receiver";

afterEach(() => vi.restoreAllMocks());

async function verifyJwt(jwt: string) {
  const key = await importSPKI(fixture("apns.pub.pem"), "ES256");
  return jwtVerify(jwt, key, { issuer: identity.apnsTeamId, algorithms: ["ES256"] });
}

const update = (a: AppleProject, passId: number, fields: Record<string, unknown>) => call(`/v1/pass/${passId}`, { method: "PUT", auth: a.p.auth, body: { fields } });

describe("a pass change reaches every registered device", () => {
  it("pushes once per device: path, topic, body {}, a provider token that verifies, reused for the next change", async () => {
    const net = mockNetwork();
    const a = await appleProject();
    const pass = await newPass(a.p, a.templateId, "push-1");
    await register(pass.serialNumber, "iphone", TOKENS.ok);
    await register(pass.serialNumber, "ipad", TOKENS.ok2);
    await settled();
    net.apns.length = 0;

    expect((await update(a, pass.id, { points: 10 })).status).toBe(200);
    await settled();
    expect(net.apns.map((r) => r.token).sort()).toEqual([TOKENS.ok, TOKENS.ok2].sort());
    for (const r of net.apns) {
      expect(r.url).toBe(`${APNS_HOST}/3/device/${r.token}`);
      expect(r.headers).toMatchObject({ "apns-topic": PASS_TYPE, "apns-push-type": "background", "apns-priority": "5", "content-type": "application/json" });
      expect(Number(r.headers["apns-expiration"])).toBeGreaterThan(Date.now() / 1000);
      expect(r.body).toBe("{}");
      const { payload, protectedHeader } = await verifyJwt(r.jwt);
      expect(protectedHeader).toEqual({ alg: "ES256", kid: identity.apnsKeyId });
      expect(payload.iss).toBe(identity.apnsTeamId);
    }
    expect(await walletJobRow(`p:${pass.id}`)).toMatchObject({ state: "done", attempts: 0, last_error: null });
    const firstJwt = net.apns[0].jwt;

    // A listener action is a change like any other; the token is reused (minted < 50 minutes ago).
    const integ = await call(`/v1/project/${a.p.id}/integrations`, { auth: a.p.auth, body: { templateId: a.templateId, action: "update" } });
    const hook = await call(integ.body.listenerUrl.slice(BASE.length), { raw: JSON.stringify({ "pass-id": "push-1", points: 11 }), headers: { "content-type": "application/json" } });
    expect(hook.status).toBe(200);
    await settled();
    expect(net.apns).toHaveLength(4);
    expect(net.apns[2].jwt).toBe(firstJwt);
    expect(net.apns[3].jwt).toBe(firstJwt);

    // The device then sees the change: listed, and served with its new values.
    const bundle = await call(`/v1/pass/${pass.id}`, { auth: a.p.auth });
    expect(bundle.body.fields.points).toBe(11);
  });

  it("makes no job for a pass without devices, or for a project without an APNs key", async () => {
    const net = mockNetwork();
    const a = await appleProject();
    const lonely = await newPass(a.p, a.templateId, "lonely");
    await update(a, lonely.id, { points: 1 });
    await settled();
    expect(await walletJobRow(`p:${lonely.id}`)).toBeNull();
    const untouched = await call(`/v1/project/${a.p.id}/templates`, { auth: a.p.auth, body: { name: "No devices", passType: "generic", fields: [] } });
    expect((await call(`/v1/template/${untouched.body.id}/pushes`, { auth: a.p.auth })).body.apple).toEqual({ state: "idle", done: 0, total: 0, startedAt: null, finishedAt: null, error: null });

    const quiet = await appleProject({ apns: false });
    const pass = await newPass(quiet.p, quiet.templateId, "quiet");
    await register(pass.serialNumber, "dev-q");
    await update(quiet, pass.id, { points: 1 });
    await settled();
    expect(await walletJobRow(`p:${pass.id}`)).toBeNull();
    expect(net.apns).toHaveLength(0);
    // The tag still moved: the device sees the change when it next asks.
    const [row] = await registrations(pass.id);
    expect(row.tag).toBeGreaterThan(row.pushed_tag);
  });

  it("removes registrations APNs calls dead, keeps one made after APNs gave up on it, and emits uninstall for the last", async () => {
    const net = mockNetwork();
    const a = await appleProject();
    const pass = await newPass(a.p, a.templateId, "dead-1");
    await register(pass.serialNumber, "dev-gone", TOKENS.gone);
    await register(pass.serialNumber, "dev-bad", TOKENS.bad);
    await register(pass.serialNumber, "dev-back", TOKENS.goneLongAgo); // registered after its 410 timestamp
    await settled();
    await update(a, pass.id, { points: 3 });
    await settled();
    expect((await registrations(pass.id)).map((r) => r.device_library_id)).toEqual(["dev-back"]);
    expect(await walletJobRow(`p:${pass.id}`)).toMatchObject({ state: "done" });

    const other = await newPass(a.p, a.templateId, "dead-2");
    await register(other.serialNumber, "dev-only", TOKENS.gone);
    await settled();
    await update(a, other.id, { points: 4 });
    await settled();
    expect(await registrations(other.id)).toEqual([]);
    await until(() => net.callbacks.some((c) => c.path.endsWith("/uninstall") && c.json.passId === other.id));
    expect(net.callbacks.filter((c) => c.path.endsWith("/uninstall")).map((c) => c.json.passId)).toEqual([other.id]);
  });

  it("mints a new provider token after ExpiredProviderToken and sends again", async () => {
    const net = mockNetwork();
    const a = await appleProject();
    const pass = await newPass(a.p, a.templateId, "expired-1");
    await settled(); // the pass's creation is handed on before a device registers: no push for it
    await register(pass.serialNumber, "dev-exp", TOKENS.expiredJwt);
    await update(a, pass.id, { points: 5 });
    await settled();
    const sent = net.apns.filter((r) => r.token === TOKENS.expiredJwt);
    expect(sent).toHaveLength(2);
    expect(sent[1].jwt).not.toBe(sent[0].jwt);
    await verifyJwt(sent[1].jwt);
    expect(await walletJobRow(`p:${pass.id}`)).toMatchObject({ state: "done" });
    const [row] = await registrations(pass.id);
    expect(row.pushed_tag).toBe(row.tag);
  });
});

describe("retries, failures and dead letters (the consumer called directly)", () => {
  /** A pass with devices owed a push and a due job, made without the real queue running it. */
  async function owed(tokens: string[]) {
    const a = await appleProject({ apns: false });
    const pass = await newPass(a.p, a.templateId, `owed-${tokens.join("-").slice(0, 12)}`);
    for (const [i, t] of tokens.entries()) await register(pass.serialNumber, `dev-${i}`, t);
    await update(a, pass.id, { points: 1 }); // stamps the tags; no APNs key yet, so no job
    await settled();
    const apns = { keyId: identity.apnsKeyId, teamId: identity.apnsTeamId, privateKeyPem: fixture("apns.p8"), host: APNS_HOST };
    const creds = await call(`/v1/project/${a.p.id}/credentials/apple`, { method: "PUT", auth: a.p.auth, body: { ...goodCredentials(), apns } });
    expect(creds.status).toBe(200);
    const now = Date.now();
    await env.DB.prepare("insert into wallet_jobs (wallet, subject, project_id, wanted_at, done_at, state, attempts, created_at, updated_at) values ('apple', ?, ?, ?, 0, 'pending', 0, ?, ?)")
      .bind(`p:${pass.id}`, a.p.id, now, now, now)
      .run();
    return { a, pass };
  }

  async function consume(passId: number, attempts: number, over: Partial<Env> = {}) {
    const batch = createMessageBatch<WalletTask>("passhook-apple", [{ id: `m${attempts}`, timestamp: new Date(), attempts, body: { wallet: "apple", subject: `p:${passId}` } }]);
    const retry = vi.spyOn(batch.messages[0], "retry");
    const ack = vi.spyOn(batch.messages[0], "ack");
    await consumeApplePushes(batch, { ...env, ...over });
    const delay = retry.mock.calls.length ? (retry.mock.calls[0][0] as { delaySeconds: number }).delaySeconds : null;
    return { retried: retry.mock.calls.length > 0, acked: ack.mock.calls.length > 0, delay };
  }

  it("retries 429 with backoff for the devices still owed a push, then dead-letters with the record kept", async () => {
    const net = mockNetwork();
    const { pass } = await owed([TOKENS.ok, TOKENS.busy]);
    const first = await consume(pass.id, 1);
    expect(first).toMatchObject({ retried: true, acked: false, delay: 60 });
    expect(net.apns.map((r) => r.token).sort()).toEqual([TOKENS.ok, TOKENS.busy].sort());
    expect(await walletJobRow(`p:${pass.id}`)).toMatchObject({ state: "pending", attempts: 1 });
    expect((await walletJobRow(`p:${pass.id}`))!.last_error).toContain("TooManyRequests");

    const second = await consume(pass.id, 2);
    expect(second.delay).toBe(120);
    expect(net.apns.slice(2).map((r) => r.token)).toEqual([TOKENS.busy]); // the accepted device is not pushed twice

    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    await consumeAppleDeadLetters(createMessageBatch<WalletTask>("passhook-apple-dlq", [{ id: "d", timestamp: new Date(), attempts: 1, body: { wallet: "apple", subject: `p:${pass.id}` } }]), env);
    const dead = await walletJobRow(`p:${pass.id}`);
    expect(dead).toMatchObject({ state: "failed" });
    expect(dead!.last_error).toMatch(/^retries exhausted: .*TooManyRequests/);
    expect(errors.mock.calls.some((c) => String(c[0]).includes("dead-lettered"))).toBe(true);
    expect(await registrations(pass.id)).toHaveLength(2);
  });

  it("retries 5xx and unanswered pushes with growing delays", async () => {
    const net = mockNetwork();
    const { pass } = await owed([TOKENS.down]);
    expect((await consume(pass.id, 1)).delay).toBe(10);
    expect((await consume(pass.id, 4)).delay).toBe(80);
    expect(net.apns.at(-1)!.token).toBe(TOKENS.down);
    const cut = await owed([TOKENS.unreachable]);
    expect(await consume(cut.pass.id, 1)).toMatchObject({ retried: true, delay: 30 });
    expect((await walletJobRow(`p:${cut.pass.id}`))!.last_error).toContain("Network connection lost");
  });

  it("fails the job at once for refused credentials or a missing PUBLIC_URL", async () => {
    mockNetwork();
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const { pass } = await owed([TOKENS.refused]);
    expect(await consume(pass.id, 1)).toMatchObject({ retried: false, acked: true });
    expect(errors.mock.calls.some((c) => String(c[0]).includes("InvalidProviderToken"))).toBe(true);
    expect(await walletJobRow(`p:${pass.id}`)).toMatchObject({ state: "failed", last_error: "APNs refused the project's credentials: InvalidProviderToken" });

    const other = await owed([TOKENS.ok]);
    expect(await consume(other.pass.id, 1, { PUBLIC_URL: "" })).toMatchObject({ retried: false, acked: true });
    expect((await walletJobRow(`p:${other.pass.id}`))!.last_error).toMatch(/^PUBLIC_URL is not set/);
    expect(errors.mock.calls.some((c) => String(c[0]).includes("PUBLIC_URL is not set"))).toBe(true);
  });
});

describe("template edits reach every holder", () => {
  it("fans a design change out in pages to every pass with a device, with progress in the API", async () => {
    const net = mockNetwork();
    const a = await appleProject();
    const count = FANOUT_PAGE + 3;
    const serials: string[] = [];
    for (let i = 0; i < count; i++) {
      const pass = await newPass(a.p, a.templateId, `fan-${i}`, { name: `Holder ${i}` });
      serials.push(pass.serialNumber);
      expect(await register(pass.serialNumber, "fan-device", TOKENS.ok)).toBe(201);
    }
    const lonely = await newPass(a.p, a.templateId, "fan-no-device");
    await settled();
    const before = await call(`/apple/v1/devices/fan-device/registrations/${PASS_TYPE}`);
    expect(before.body.serialNumbers).toHaveLength(count);
    net.apns.length = 0;
    // (The template's own creation may have fanned out already, if it reached Apple after the first device.)
    const previous = (await call(`/v1/template/${a.templateId}/pushes`, { auth: a.p.auth })).body.apple;

    const template = (await call(`/v1/template/${a.templateId}`, { auth: a.p.auth })).body;
    const edit = await call(`/v1/template/${a.templateId}`, { method: "PUT", auth: a.p.auth, body: { name: template.name, passType: template.passType, fields: template.fields, apple: { backgroundColor: "#204060" } } });
    expect(edit.status).toBe(200);
    await settled();
    expect(net.apns).toHaveLength(count);
    const progress = (await call(`/v1/template/${a.templateId}/pushes`, { auth: a.p.auth })).body.apple;
    expect(progress).toMatchObject({ state: "done", done: count, total: count, error: null });
    expect(progress.startedAt).not.toBe(previous.startedAt);
    expect(Date.parse(progress.finishedAt)).toBeGreaterThanOrEqual(Date.parse(progress.startedAt));
    expect(await walletJobRow(`t:${a.templateId}`)).toMatchObject({ state: "done" });
    expect(await walletJobRow(`p:${lonely.id}`)).toBeNull();
    const untouched = await call(`/v1/project/${a.p.id}/templates`, { auth: a.p.auth, body: { name: "No devices", passType: "generic", fields: [] } });
    expect((await call(`/v1/template/${untouched.body.id}/pushes`, { auth: a.p.auth })).body.apple).toEqual({ state: "idle", done: 0, total: 0, startedAt: null, finishedAt: null, error: null });

    // The device's "what changed" lists every pass; each is served with the new design.
    const after = await call(`/apple/v1/devices/fan-device/registrations/${PASS_TYPE}?passesUpdatedSince=${before.body.lastUpdated}`);
    expect(after.body.serialNumbers.sort()).toEqual([...serials].sort());
    const one = (await call(`/v1/pass/template/${a.templateId}/id/fan-7`, { auth: a.p.auth })).body.id;
    const bundle = await exports.default.fetch(`${BASE}/v1/pass/${one}/pkpass`, { headers: { authorization: a.p.auth } });
    expect(JSON.parse(strFromU8(unzipSync(new Uint8Array(await bundle.arrayBuffer()))["pass.json"])).backgroundColor).toBe("rgb(32, 64, 96)");
  });

  it("fans an image change out like a template edit", async () => {
    const net = mockNetwork();
    const a = await appleProject();
    const pass = await newPass(a.p, a.templateId, "img-1");
    await register(pass.serialNumber, "img-device", TOKENS.ok);
    await settled();
    net.apns.length = 0;
    const put = await exports.default.fetch(`${BASE}/v1/template/${a.templateId}/images/logo.png`, {
      method: "PUT",
      headers: { authorization: a.p.auth, "content-type": "image/png" },
      body: defaultIconImages()["icon@2x.png"],
    });
    expect(put.status).toBe(200);
    await settled();
    expect(net.apns.map((r) => r.token)).toEqual([TOKENS.ok]);
    expect((await call(`/v1/template/${a.templateId}/pushes`, { auth: a.p.auth })).body.apple).toMatchObject({ state: "done", done: 1, total: 1 });
    const bundle = await exports.default.fetch(`${BASE}/v1/pass/${pass.id}/pkpass`, { headers: { authorization: a.p.auth } });
    const files = unzipSync(new Uint8Array(await bundle.arrayBuffer()));
    expect(files["logo.png"]).toEqual(defaultIconImages()["icon@2x.png"]);
    expect(JSON.parse(strFromU8(files["pass.json"])).serialNumber).toBe(pass.serialNumber);
  });
});

describe("transport", () => {
  it("uses the relay when APNS_RELAY_URL is set, signing each request with APNS_RELAY_SECRET", async () => {
    const secret = "r".repeat(40);
    const { calls } = mockReceiver(() => new Response("", { status: 200, headers: { "apns-id": "relay-apns-id" } }));
    const transport = apnsTransport({ APNS_RELAY_URL: "https://relay.example.com/push", APNS_RELAY_SECRET: secret });
    const res = await transport.send({ host: APNS_HOST, deviceToken: TOKENS.ok, topic: PASS_TYPE, jwt: "j.w.t", payload: "{}", headers: { "apns-topic": PASS_TYPE } });
    expect(res).toEqual({ status: 200, body: "", apnsId: "relay-apns-id" });
    expect(calls[0].url).toBe("https://relay.example.com/push");
    const ts = Number(calls[0].headers["x-passhook-relay-timestamp"]);
    expect(calls[0].headers["x-passhook-relay-signature"]).toBe(await relaySignature(secret, ts, calls[0].body));
    expect(() => apnsTransport({ APNS_RELAY_URL: "https://relay.example.com/push", APNS_RELAY_SECRET: undefined })).toThrow(/APNS_RELAY_SECRET/);
    expect(apnsTransport({ APNS_RELAY_URL: "" })).toBe(apnsTransport({ APNS_RELAY_URL: "" }));
  });
});
