/**
 * Apple Wallet through the real Worker (issue 13 §1-§5, §8, §9): credentials validated, stored
 * encrypted and never returned; template designs and images (kept out of the template row); the
 * .pkpass of a pass and its public link; every PassKit web service status code (apple-wallet.md §1.1)
 * with the ApplePass token checked before any lookup; install / uninstall / personalize reaching the
 * callback pipeline through the pass's Durable Object; the update tag; the device log. The customer's
 * callback server and APNs are `fetch` mocks (support/apple-web.ts).
 */
import { env, exports } from "cloudflare:workers";
import { strFromU8, unzipSync } from "fflate";
import * as pkijs from "pkijs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { appleAuthToken, appleDownloadUrl, defaultIconImages } from "../src/apple";
import { cachedSignerCount } from "../src/apple/pkpass";
import { toBase64 } from "../src/lib/crypto";
import { fixture, goodCredentials, identity } from "./support/apple-fixtures";
import {
  APNS_HOST,
  appleProject,
  applePass,
  mockNetwork,
  PASS_TYPE,
  register,
  registrationPath,
  registrations,
  settled,
  TOKENS,
  type AppleProject,
} from "./support/apple-web";
import { BASE, call, history, LOYALTY_FIELDS, newPass, newProject, workerEnv, type TestProject } from "./support/http";
import { until } from "./support/receiver";

afterEach(() => vi.restoreAllMocks());

const ICON = defaultIconImages()["icon.png"];
const ICON_2X = defaultIconImages()["icon@2x.png"];
const NFC_KEY = fixture("apns.pub.pem").replace(/-----[^-]+-----|\s/g, "");

/** A request to the Worker with raw bytes in and out. */
async function raw(path: string, init: RequestInit & { auth?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.auth) headers.set("authorization", init.auth);
  const res = await exports.default.fetch(`${BASE}${path}`, { ...init, headers });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

async function pkpass(p: TestProject, passId: number) {
  const r = await raw(`/v1/pass/${passId}/pkpass`, { auth: p.auth });
  expect(r.status).toBe(200);
  return unzipSync(r.bytes);
}

const passJsonOf = (files: Record<string, Uint8Array>) => JSON.parse(strFromU8(files["pass.json"]));

describe("credentials", () => {
  it("validates, stores encrypted, and shows only a summary", async () => {
    const p = await newProject();
    const url = `/v1/project/${p.id}/credentials/apple`;
    const body = { ...goodCredentials(), apns: { keyId: identity.apnsKeyId, teamId: identity.apnsTeamId, privateKeyPem: fixture("apns.p8"), host: APNS_HOST } };
    const r = await call(url, { method: "PUT", auth: p.auth, body });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      wallet: "apple",
      passTypeIdentifier: identity.passTypeIdentifier,
      teamIdentifier: identity.teamIdentifier,
      apns: { keyId: identity.apnsKeyId, teamId: identity.apnsTeamId, host: APNS_HOST },
    });
    expect(r.body.subject).toContain(identity.passTypeIdentifier);
    expect(Date.parse(r.body.notAfter)).toBeGreaterThan(Date.now());
    const listed = await call(`/v1/project/${p.id}/credentials`, { auth: p.auth });
    expect(listed.body.apple).toMatchObject({ passTypeIdentifier: identity.passTypeIdentifier, version: r.body.version });
    for (const text of [JSON.stringify(r.body), JSON.stringify(listed.body)]) expect(text).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
    const row = await env.DB.prepare("select secret_enc, summary from wallet_credentials where project_id = ?").bind(p.id).first<{ secret_enc: string; summary: string }>();
    expect(row!.secret_enc).toMatch(/^v1\./);
    expect(row!.secret_enc + row!.summary).not.toMatch(/PRIVATE KEY|BEGIN/);
  });

  it("answers a 400 that says which check failed, and keeps the old credentials", async () => {
    const p = await newProject();
    const url = `/v1/project/${p.id}/credentials/apple`;
    expect((await call(url, { method: "PUT", auth: p.auth, body: goodCredentials() })).status).toBe(200);
    const cases: [Record<string, unknown>, string, string][] = [
      [{ privateKeyPem: fixture("other-pass.key") }, "key_mismatch", "privateKeyPem"],
      [{ certificatePem: fixture("expired.pem") }, "certificate_expired", "certificatePem"],
      [{ wwdrCertificatePem: fixture("other-wwdr.pem") }, "wrong_issuer", "wwdrCertificatePem"],
      [{ certificatePem: fixture("impostor-pass.pem"), wwdrCertificatePem: fixture("wwdr.pem") }, "issuer_signature_invalid", "wwdrCertificatePem"],
      [{ teamIdentifier: "ZZZZZ99999" }, "identifier_mismatch", "teamIdentifier"],
      [{ apns: { keyId: identity.apnsKeyId, teamId: identity.apnsTeamId, privateKeyPem: fixture("pass.key") } }, "apns_key_invalid", "apns.privateKeyPem"],
      [{ apns: { keyId: identity.apnsKeyId, teamId: identity.apnsTeamId, privateKeyPem: fixture("apns.p8"), host: "http://apns.example" } }, "apns_host_invalid", "apns.host"],
    ];
    for (const [change, reason, path] of cases) {
      const r = await call(url, { method: "PUT", auth: p.auth, body: { ...goodCredentials(), ...change } });
      expect(r.status, reason).toBe(400);
      expect(r.body.error).toMatchObject({ code: "validation_failed", details: { reason, issues: [{ path }] } });
      expect(JSON.stringify(r.body)).not.toMatch(/PRIVATE KEY/);
    }
    const missing = await call(url, { method: "PUT", auth: p.auth, body: { passTypeIdentifier: "nope" } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(["passTypeIdentifier", "certificatePem"]));
    // The first, valid credentials are still there.
    expect((await call(`/v1/project/${p.id}/credentials`, { auth: p.auth })).body.apple.teamIdentifier).toBe(identity.teamIdentifier);
  });
});

describe("template design and images", () => {
  it("checks the apple design against the template and keeps images out of the template row", async () => {
    const p = await newProject();
    const bad = await call(`/v1/project/${p.id}/templates`, {
      auth: p.auth,
      body: { name: "T", passType: "loyalty", fields: LOYALTY_FIELDS, apple: { fields: { primary: ["nope"] }, backgroundColor: "red", __proto__: { x: 1 } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(["apple.backgroundColor"]));
    const style = await call(`/v1/project/${p.id}/templates`, { auth: p.auth, body: { name: "T", passType: "loyalty", fields: LOYALTY_FIELDS, apple: { fields: { primary: ["nope"] } } } });
    expect(style.body.error.details.issues).toEqual([{ path: "apple.fields.primary.0", message: '"nope" is not a field of this template' }]);

    const design = { backgroundColor: "#112233", images: { "icon.png": toBase64(ICON), "logo.png": toBase64(ICON_2X) } };
    const t = await call(`/v1/project/${p.id}/templates`, { auth: p.auth, body: { name: "T", passType: "loyalty", fields: LOYALTY_FIELDS, apple: design } });
    expect(t.status).toBe(201);
    expect(t.body.apple).toEqual({ backgroundColor: "#112233" });
    const row = await env.DB.prepare("select apple from templates where id = ?").bind(t.body.id).first<{ apple: string }>();
    expect(row!.apple).not.toContain("images");
    const listed = await call(`/v1/template/${t.body.id}/images`, { auth: p.auth });
    expect(listed.body.images.map((i: { name: string }) => i.name)).toEqual(["icon.png", "logo.png"]);
    expect(listed.body.images[0]).toMatchObject({ bytes: ICON.length, width: 29, height: 29 });
  });

  it("takes raw PNG uploads past the JSON limit, refuses what is not an image the style shows", async () => {
    const p = await newProject();
    const t = (await call(`/v1/project/${p.id}/templates`, { auth: p.auth, body: { name: "T", passType: "loyalty", fields: LOYALTY_FIELDS } })).body.id;
    const put = (name: string, body: Uint8Array, type = "image/png") => raw(`/v1/template/${t}/images/${name}`, { method: "PUT", auth: p.auth, body, headers: { "content-type": type, "idempotency-key": `k-${name}-${body.length}` } });
    // A 300 KiB strip: a real PNG header, then padding (only the header is read).
    const big = new Uint8Array(300 * 1024);
    big.set(ICON.subarray(0, 33));
    const ok = await put("strip@2x.png", big);
    expect(ok.status).toBe(200);
    expect(JSON.parse(strFromU8(ok.bytes))).toMatchObject({ name: "strip@2x.png", bytes: big.length, width: 29, height: 29 });
    const back = await raw(`/v1/template/${t}/images/strip@2x.png`, { auth: p.auth });
    expect(back.headers.get("content-type")).toBe("image/png");
    expect(back.bytes).toEqual(big);

    expect((await put("thumbnail.png", ICON)).status).toBe(400); // a store card shows no thumbnail
    expect((await put("banner.png", ICON)).status).toBe(404);
    expect((await put("logo.png", ICON, "application/json")).status).toBe(415);
    expect((await put("logo.png", new TextEncoder().encode("not a png at all, just text padding here"))).status).toBe(400);
    const huge = new Uint8Array(1024 * 1024 + 1);
    huge.set(ICON.subarray(0, 33));
    const tooBig = await put("logo.png", huge);
    expect(tooBig.status).toBe(413);
    expect((await call(`/v1/template/${t}/images`, { auth: p.auth })).body.images.map((i: { name: string }) => i.name)).toEqual(["strip@2x.png"]);

    expect((await raw(`/v1/template/${t}/images/strip@2x.png`, { method: "DELETE", auth: p.auth })).status).toBe(204);
    expect((await raw(`/v1/template/${t}/images/strip@2x.png`, { method: "DELETE", auth: p.auth })).status).toBe(404);
  });
});

describe(".pkpass downloads", () => {
  it("builds the pass from template, values, images and the project's identity; 409 without credentials", async () => {
    const { p, templateId } = await appleProject();
    const pass = await newPass(p, templateId, "dl-1", { name: "Ada", points: 7, member: "M-1" });
    expect((await raw(`/v1/template/${templateId}/images/logo.png`, { method: "PUT", auth: p.auth, body: ICON_2X, headers: { "content-type": "image/png" } })).status).toBe(200);
    const r = await raw(`/v1/pass/${pass.id}/pkpass`, { auth: p.auth });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/vnd.apple.pkpass");
    const files = unzipSync(r.bytes);
    expect(Object.keys(files).sort()).toEqual(["icon.png", "icon@2x.png", "icon@3x.png", "logo.png", "manifest.json", "pass.json", "signature"]);
    expect(files["logo.png"]).toEqual(ICON_2X);
    const json = passJsonOf(files);
    expect(json).toMatchObject({
      passTypeIdentifier: PASS_TYPE,
      teamIdentifier: identity.teamIdentifier,
      organizationName: identity.organizationName,
      serialNumber: pass.serialNumber,
      webServiceURL: "https://passhook.test/apple",
      authenticationToken: await appleAuthToken(workerEnv, pass.serialNumber),
      barcodes: [{ message: "M-1" }],
    });
    expect(json.authenticationToken.length).toBeGreaterThanOrEqual(16);
    // Not the column: the token is derived, nothing new is stored for it.
    const stored = await env.DB.prepare("select authentication_token from passes where id = ?").bind(pass.id).first<{ authentication_token: string }>();
    expect(stored!.authentication_token).not.toBe(json.authenticationToken);

    // The signer is parsed once per credential version: more downloads reuse it, new credentials add one.
    const signers = cachedSignerCount();
    for (let i = 0; i < 3; i++) expect((await raw(`/v1/pass/${pass.id}/pkpass`, { auth: p.auth })).status).toBe(200);
    expect(cachedSignerCount()).toBe(signers);
    expect((await call(`/v1/project/${p.id}/credentials/apple`, { method: "PUT", auth: p.auth, body: goodCredentials() })).status).toBe(200);
    expect((await raw(`/v1/pass/${pass.id}/pkpass`, { auth: p.auth })).status).toBe(200);
    expect(cachedSignerCount()).toBe(signers + 1);

    const other = await newProject();
    const t2 = (await call(`/v1/project/${other.id}/templates`, { auth: other.auth, body: { name: "T", passType: "generic", fields: LOYALTY_FIELDS } })).body.id;
    const p2 = await newPass(other, t2, "x");
    const none = await call(`/v1/pass/${p2.id}/pkpass`, { auth: other.auth });
    expect(none.status).toBe(409);
    expect(none.body.error.message).toContain("credentials/apple");
    expect(await appleDownloadUrl(workerEnv, { ...p2, projectId: other.id })).toBeNull();
  });

  it("has a public, unguessable download link: 200 for it, 404 for a forged one, 410 once archived or voided", async () => {
    const { p, templateId } = await appleProject();
    const pass = await newPass(p, templateId, "public-1");
    const url = await appleDownloadUrl(workerEnv, { id: pass.id, serialNumber: pass.serialNumber, projectId: p.id });
    expect(url).toMatch(/^https:\/\/passhook\.test\/p\/(?:[1-9][0-9]*_)?[0-9a-z]+\.[A-Za-z0-9_-]{22}\/pass\.pkpass$/);
    const path = url!.slice(BASE.length);
    const r = await raw(path);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-disposition")).toContain("pass.pkpass");
    expect(passJsonOf(unzipSync(r.bytes)).serialNumber).toBe(pass.serialNumber);
    const forged = path.replace(/\.([A-Za-z0-9_-])/, (_, c: string) => `.${c === "A" ? "B" : "A"}`);
    expect((await raw(forged)).status).toBe(404);
    expect((await call(`/v1/pass/${pass.id}`, { method: "DELETE", auth: p.auth })).status).toBe(200);
    expect((await raw(path)).status).toBe(410);
    // A voided pass's link (which cannot be revoked) stops handing out the pass too.
    const voided = await newPass(p, templateId, "public-voided");
    expect((await call(`/v1/pass/${voided.id}/status`, { auth: p.auth, body: { status: "voided" } })).status).toBe(200);
    const voidedUrl = await appleDownloadUrl(workerEnv, { id: voided.id, serialNumber: voided.serialNumber, projectId: p.id });
    expect((await raw(voidedUrl!.slice(BASE.length))).status).toBe(410);
  });

  it("lists the pass's links, and its holder page offers the Apple button once the project has Apple credentials", async () => {
    const { p, templateId } = await appleProject();
    const pass = await newPass(p, templateId, "links-1");
    const links = await call(`/v1/pass/${pass.id}/links`, { auth: p.auth });
    expect(links.status).toBe(200);
    expect(links.body).toEqual({
      apple: await appleDownloadUrl(workerEnv, { id: pass.id, serialNumber: pass.serialNumber, projectId: p.id }),
      google: null, // no Google credentials for this project
      page: expect.stringMatching(/^https:\/\/passhook\.test\/p\/(?:[1-9][0-9]*_)?[0-9a-z]+\.[A-Za-z0-9_-]{22}$/),
    });
    const page = await raw(links.body.page.slice(BASE.length));
    const html = new TextDecoder().decode(page.bytes);
    expect(html).toContain(`href="${links.body.apple.slice(BASE.length)}"`);
    expect(html).not.toContain("/google\"");
    const other = await newProject();
    expect((await call(`/v1/pass/${pass.id}/links`, { auth: other.auth })).status).toBe(404);
  });
});

describe("PassKit web service", () => {
  it("registers (201, then 200), refuses a bad token with 401 whether or not the serial exists, 404 for unknown ones", async () => {
    const net = mockNetwork();
    const { p, templateId } = await appleProject();
    const pass = await newPass(p, templateId, "ws-1");
    const path = registrationPath("device-1", pass.serialNumber);
    const good = await applePass(pass.serialNumber);
    const body = { pushToken: TOKENS.ok };
    expect((await call(path, { body })).status).toBe(401);
    const wrong = await call(path, { body, auth: "ApplePass " + "x".repeat(43) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toContain("ApplePass");
    expect((await call(path, { body, auth: `Bearer ${(await applePass(pass.serialNumber)).slice(10)}` })).status).toBe(401);
    // An unknown serial with a wrong token is a 401 too: nothing tells which serials exist.
    expect((await call(registrationPath("device-1", "no-such-serial"), { body, auth: "ApplePass " + "x".repeat(43) })).status).toBe(401);
    expect((await call(registrationPath("device-1", "no-such-serial"), { body, auth: await applePass("no-such-serial") })).status).toBe(404);
    expect((await call(registrationPath("device-1", pass.serialNumber, "pass.other.type"), { body, auth: good })).status).toBe(404);
    expect((await call(path, { body: { pushToken: "not hex" }, auth: good })).status).toBe(400);
    expect((await call(path, { raw: "{nope", auth: good, headers: { "content-type": "application/json" } })).status).toBe(400);
    expect(await registrations(pass.id)).toEqual([]);

    expect((await call(path, { body, auth: good })).status).toBe(201);
    expect((await call(path, { body: { pushToken: TOKENS.ok2 }, auth: good })).status).toBe(200);
    const rows = await registrations(pass.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ device_library_id: "device-1", pass_type_id: PASS_TYPE, push_token: TOKENS.ok2, template_id: templateId });
    await until(() => net.callbacks.length === 1);
  });

  it("emits install on a pass's first device and uninstall when its last device leaves, through the pass's history", async () => {
    const net = mockNetwork();
    const { p, templateId } = await appleProject();
    const pass = await newPass(p, templateId, "ws-2");
    expect(await register(pass.serialNumber, "dev-a")).toBe(201);
    await until(() => net.callbacks.length === 1);
    expect(net.callbacks[0].path).toBe("/passhook/v1/pass/install");
    expect(net.callbacks[0].json).toMatchObject({ passId: pass.id, serialNumber: pass.serialNumber, externalId: "ws-2", platform: "ios" });
    expect(await register(pass.serialNumber, "dev-b", TOKENS.ok2)).toBe(201);

    const del = (device: string, auth?: string) => call(registrationPath(device, pass.serialNumber), { method: "DELETE", auth });
    expect((await del("dev-a")).status).toBe(401);
    expect((await del("dev-a", await applePass(pass.serialNumber))).status).toBe(200);
    expect((await del("dev-a", await applePass(pass.serialNumber))).status).toBe(200); // a repeat
    expect((await del("dev-b", await applePass(pass.serialNumber))).status).toBe(200);
    await until(() => net.callbacks.length === 2);
    expect(net.callbacks.map((c) => c.path)).toEqual(["/passhook/v1/pass/install", "/passhook/v1/pass/uninstall"]);
    const events = (await history(p, pass.id)).filter((e) => e.kind === "holder");
    expect(events.map((e) => [e.action, e.source, e.changes.platform])).toEqual([
      ["install", "apple", "ios"],
      ["uninstall", "apple", "ios"],
    ]);
  });

  it("lists serials changed since a tag: all at first, 204 when nothing changed, again after a change", async () => {
    mockNetwork();
    const { p, templateId } = await appleProject();
    const a = await newPass(p, templateId, "list-a");
    const b = await newPass(p, templateId, "list-b");
    await register(a.serialNumber, "lister");
    await register(b.serialNumber, "lister");
    // The passes' own creation reaches Apple through the queue and may stamp them again: let it.
    await settled();
    const list = (since?: string) => call(`/apple/v1/devices/lister/registrations/${PASS_TYPE}${since === undefined ? "" : `?passesUpdatedSince=${since}`}`);
    const first = await list();
    expect(first.status).toBe(200);
    expect(first.body.serialNumbers.sort()).toEqual([a.serialNumber, b.serialNumber].sort());
    // A tag; in the sharded run, the tag of the project's shard (`1-<tag>`: apple/web-service.ts).
    expect(first.body.lastUpdated).toMatch(/^(?:1-)?\d{13,}$/);
    expect((await list(first.body.lastUpdated)).status).toBe(204);
    expect((await call(`/apple/v1/devices/nobody/registrations/${PASS_TYPE}`)).status).toBe(204);
    expect((await list("garbage")).status).toBe(200);

    expect((await call(`/v1/pass/${a.id}`, { method: "PUT", auth: p.auth, body: { fields: { points: 5 } } })).status).toBe(200);
    await settled();
    const after = await list(first.body.lastUpdated);
    expect(after.status).toBe(200);
    expect(after.body.serialNumbers).toEqual([a.serialNumber]);
    const tagOf = (lastUpdated: string) => BigInt(lastUpdated.replace(/^1-/, ""));
    expect(tagOf(after.body.lastUpdated)).toBeGreaterThan(tagOf(first.body.lastUpdated));
    expect((await list(after.body.lastUpdated)).status).toBe(204);
  });

  it("serves the latest pass with Last-Modified, 304 for a copy as new, HEAD like GET", async () => {
    const { p, templateId } = await appleProject();
    const pass = await newPass(p, templateId, "latest-1", { name: "Ada", points: 1 });
    const path = `/apple/v1/passes/${PASS_TYPE}/${pass.serialNumber}`;
    const auth = await applePass(pass.serialNumber);
    expect((await raw(path)).status).toBe(401);
    expect((await raw(path, { auth: "ApplePass wrong-token-wrong-token" })).status).toBe(401);
    expect((await raw(`/apple/v1/passes/${PASS_TYPE}/nope`, { auth: await applePass("nope") })).status).toBe(404);
    expect((await raw(`/apple/v1/passes/pass.other.type/${pass.serialNumber}`, { auth })).status).toBe(404);

    const r = await raw(path, { auth });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/vnd.apple.pkpass");
    expect(r.headers.get("cache-control")).toBe("no-store");
    const lastModified = Date.parse(r.headers.get("last-modified")!);
    expect(lastModified).toBeLessThanOrEqual(Date.parse(pass.updatedAt));
    expect(passJsonOf(unzipSync(r.bytes)).serialNumber).toBe(pass.serialNumber);

    const later = new Date(Date.parse(pass.updatedAt) + 1000).toUTCString();
    const notModified = await raw(path, { auth, headers: { "if-modified-since": later } });
    expect(notModified.status).toBe(304);
    expect(notModified.bytes.length).toBe(0);
    expect((await raw(path, { auth, headers: { "if-modified-since": new Date(Date.parse(pass.updatedAt) - 2000).toUTCString() } })).status).toBe(200);
    expect((await raw(path, { auth, headers: { "if-modified-since": "yesterday-ish" } })).status).toBe(200);
    // The date a device got right after a change never hides that change: it is before it.
    expect((await raw(path, { auth, headers: { "if-modified-since": r.headers.get("last-modified")! } })).status).toBe(200);

    const head = await raw(path, { method: "HEAD", auth });
    expect(head.status).toBe(200);
    expect(head.bytes.length).toBe(0);
    expect(head.headers.get("last-modified")).toBeTruthy();

    // A change after the device's copy: modified since, even when the device's date is that of the copy.
    const copy = new Date(Math.floor(Date.parse(pass.updatedAt) / 1000) * 1000 - 1000).toUTCString();
    await call(`/v1/pass/${pass.id}`, { method: "PUT", auth: p.auth, body: { fields: { points: 2 } } });
    expect((await raw(path, { auth, headers: { "if-modified-since": copy } })).status).toBe(200);
  });

  it("logs device reports capped, sanitized and rate limited, always answering 200", async () => {
    const logs: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => void logs.push(String(line)));
    const send = (body: unknown, ip = "203.0.113.9") => raw("/apple/v1/log", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", "cf-connecting-ip": ip } });
    const secretPath = "/apple/v1/devices/SECRETDEVICE123/registrations/pass.x.y";
    const r = await send({ logs: [`Web service error for ${secretPath}: Authorization ApplePass abcdefghijklmnop\u0000\nnext`, 42, "x".repeat(5000)] });
    expect(r.status).toBe(200);
    const line = logs.find((l) => l.includes("apple device log"))!;
    expect(line).toBeDefined();
    expect(line).not.toContain("SECRETDEVICE123");
    expect(line).not.toContain("abcdefghijklmnop");
    const lines = JSON.parse(line).lines as string[];
    expect(lines).toHaveLength(2);
    expect(lines[0]).not.toMatch(/[\u0000\n]/);
    expect(lines[1].length).toBeLessThanOrEqual(301);
    expect((await raw("/apple/v1/log", { method: "POST", body: "x".repeat(17 * 1024), headers: { "content-type": "application/json" } })).status).toBe(413);
    expect((await raw("/apple/v1/log", { method: "POST", body: "not json" })).status).toBe(200);
    // The test binding allows 5 reports a minute per address: the rest are answered and dropped.
    for (let i = 0; i < 8; i++) expect((await send({ logs: [`line ${i}`] }, "198.51.100.7")).status).toBe(200);
    const kept = logs.filter((l) => l.includes("apple device log") && l.includes("line "));
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBeLessThanOrEqual(5);
  });
});

describe("personalization (rewards enrollment)", () => {
  const template = {
    name: "Rewards",
    passType: "loyalty",
    fields: LOYALTY_FIELDS,
    apple: {
      nfc: { message: "member", encryptionPublicKey: NFC_KEY },
      personalization: { requiredFields: ["PKPassPersonalizationFieldName", "PKPassPersonalizationFieldEmailAddress"], description: "Join the club" },
    },
  };

  async function signedUp(a: AppleProject, pass: { serialNumber: string }, info: Record<string, string>) {
    return raw(`/apple/v1/passes/${PASS_TYPE}/${pass.serialNumber}/personalize`, {
      method: "POST",
      body: JSON.stringify({ personalizationToken: "token-from-wallet-0001", requiredPersonalizationInfo: info }),
      headers: { "content-type": "application/json" },
    });
  }

  it("stores the sign-up encrypted, answers the signed token, emits personalize, drops personalization.json", async () => {
    const net = mockNetwork();
    const a = await appleProject({ template });
    const pass = await newPass(a.p, a.templateId, "rw-1");
    const before = await pkpass(a.p, pass.id);
    expect(JSON.parse(strFromU8(before["personalization.json"]))).toMatchObject({ requiredPersonalizationFields: template.apple.personalization.requiredFields, description: "Join the club" });
    const lmBefore = (await raw(`/apple/v1/passes/${PASS_TYPE}/${pass.serialNumber}`, { auth: await applePass(pass.serialNumber) })).headers.get("last-modified");

    expect((await signedUp(a, pass, { fullName: "Ada Lovelace" })).status).toBe(400); // no email
    expect((await raw(`/apple/v1/passes/${PASS_TYPE}/nope/personalize`, { method: "POST", body: "{}" })).status).toBe(404);
    const info = { fullName: "Ada Lovelace", emailAddress: "ada@example.com", unexpected: "dropped" };
    const r = await signedUp(a, pass, info);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/octet-stream");
    // The answer is a CMS signature over the token's bytes, by the pass certificate, chaining to the test root.
    const signed = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(r.bytes).content });
    const root = pkijs.Certificate.fromBER(Uint8Array.from(atob(fixture("root.pem").replace(/-----[^-]+-----|\s/g, "")), (c) => c.charCodeAt(0)));
    const verified = await signed.verify({ signer: 0, data: new TextEncoder().encode("token-from-wallet-0001").buffer as ArrayBuffer, trustedCerts: [root], checkChain: true });
    expect(verified).toBe(true);

    await until(() => net.callbacks.some((c) => c.path.endsWith("/personalize")));
    const cb = net.callbacks.find((c) => c.path.endsWith("/personalize"))!;
    expect(cb.path).toBe(`/passhook/v1/pass/${pass.id}/personalize`);
    expect(cb.json).toMatchObject({ passId: pass.id, platform: "ios", fullName: "Ada Lovelace", emailAddress: "ada@example.com" });
    expect(cb.json).not.toHaveProperty("unexpected");
    const row = await env.DB.prepare("select data_enc from apple_personalizations where pass_id = ?").bind(pass.id).first<{ data_enc: string }>();
    expect(row!.data_enc).not.toContain("ada@example.com");

    const after = await pkpass(a.p, pass.id);
    expect(after["personalization.json"]).toBeUndefined();
    const lmAfter = (await raw(`/apple/v1/passes/${PASS_TYPE}/${pass.serialNumber}`, { auth: await applePass(pass.serialNumber) })).headers.get("last-modified");
    expect(Date.parse(lmAfter!)).toBeGreaterThanOrEqual(Date.parse(lmBefore!));

    // A retry with the same data is answered again without a second callback; other data is refused.
    expect((await signedUp(a, pass, info)).status).toBe(200);
    expect((await signedUp(a, pass, { fullName: "Mallory", emailAddress: "m@example.com" })).status).toBe(409);
    await settled();
    expect(net.callbacks.filter((c) => c.path.endsWith("/personalize"))).toHaveLength(1);
  });

  it("answers 404 for a pass whose template asks for no sign-up", async () => {
    const a = await appleProject();
    const pass = await newPass(a.p, a.templateId, "plain-1");
    expect((await signedUp(a, pass, { fullName: "A", emailAddress: "a@example.com" })).status).toBe(404);
  });
});
