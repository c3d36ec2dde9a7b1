/**
 * APNs from the Worker's side (apple-wallet.md §5): provider tokens verified by jose against the test
 * key's public half, their reuse for 50 minutes on an injected clock and their refresh after
 * ExpiredProviderToken; the §5.4 response table; the fetch and relay transports against a `fetch` spy
 * that answers like APNs (and like the relay), with the relay's HMAC recomputed here with WebCrypto.
 * The relay itself and a real HTTP/2 APNs stand-in are tested in test/node/apns-relay.test.ts.
 */
import { decodeProtectedHeader, importSPKI, jwtVerify } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ApnsTransportError,
  buildPushRequest,
  classifyApnsResponse,
  classifyTransportFailure,
  fetchTransport,
  interpretCanaryAnswer,
  invalidateProviderToken,
  providerToken,
  relayTransport,
  runApnsCanary,
  type ApnsOutcome,
  type ApnsTokenKey,
} from "../src/apple";
import { fixture, identity } from "./support/apple-fixtures";

const NOW = Date.parse("2027-03-01T12:00:00Z");
const MIN = 60_000;
const key = (version = "k1"): ApnsTokenKey => ({ teamId: identity.apnsTeamId, keyId: identity.apnsKeyId, privateKeyPem: fixture("apns.p8"), keyVersion: version });
const DEVICE = "ab".repeat(32);
const TOPIC = identity.passTypeIdentifier;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("provider token", () => {
  it("is an ES256 JWT {kid} / {iss, iat} that verifies with the .p8's public key", async () => {
    const jwt = await providerToken(key("verify"), NOW);
    const pub = await importSPKI(fixture("apns.pub.pem"), "ES256");
    const { payload, protectedHeader } = await jwtVerify(jwt, pub, { currentDate: new Date(NOW), issuer: identity.apnsTeamId, algorithms: ["ES256"] });
    expect(protectedHeader).toEqual({ alg: "ES256", kid: identity.apnsKeyId });
    expect(payload).toEqual({ iss: identity.apnsTeamId, iat: NOW / 1000 });
  });

  it("is reused until 50 minutes old, then replaced", async () => {
    const k = key("reuse");
    const first = await providerToken(k, NOW);
    expect(await providerToken(k, NOW + 49 * MIN + 59_000)).toBe(first);
    const second = await providerToken(k, NOW + 50 * MIN);
    expect(second).not.toBe(first);
    expect((await jwtVerify(second, await importSPKI(fixture("apns.pub.pem"), "ES256"), { currentDate: new Date(NOW + 50 * MIN) })).payload.iat).toBe(
      (NOW + 50 * MIN) / 1000,
    );
    expect(await providerToken(k, NOW + 60 * MIN)).toBe(second);
    // Another key version (a replaced .p8) never reuses the old token.
    expect(await providerToken(key("reuse-2"), NOW + 60 * MIN)).not.toBe(second);
  });

  it("is minted again after ExpiredProviderToken, once for many concurrent pushes", async () => {
    const k = key("refresh");
    const old = await providerToken(k, NOW);
    await Promise.all([invalidateProviderToken(k, old), invalidateProviderToken(k, old)]);
    const fresh = await providerToken(k, NOW + MIN);
    expect(fresh).not.toBe(old);
    // A late invalidation naming the old token leaves the fresh one alone.
    await invalidateProviderToken(k, old);
    expect(await providerToken(k, NOW + 2 * MIN)).toBe(fresh);
    await invalidateProviderToken(k);
    expect(await providerToken(k, NOW + 3 * MIN)).not.toBe(fresh);
  });

  it("fails for a key that is not an EC P-256 PKCS#8 key, and does not cache the failure", async () => {
    const bad = { ...key("bad"), privateKeyPem: fixture("pass.key") };
    await expect(providerToken(bad, NOW)).rejects.toThrow();
    expect(decodeProtectedHeader(await providerToken({ ...bad, privateKeyPem: fixture("apns.p8") }, NOW)).kid).toBe(identity.apnsKeyId);
  });
});

describe("push request and APNs answers", () => {
  it("builds the pass-update push: body {}, topic = pass type id, expiration, configurable type and priority", () => {
    const req = buildPushRequest({ host: "https://api.push.apple.com/", deviceToken: DEVICE, passTypeIdentifier: TOPIC, jwt: "j", now: NOW });
    expect(req).toEqual({
      host: "https://api.push.apple.com",
      deviceToken: DEVICE,
      topic: TOPIC,
      jwt: "j",
      payload: "{}",
      headers: {
        "apns-topic": TOPIC,
        "apns-push-type": "background",
        "apns-priority": "5",
        "apns-expiration": String(NOW / 1000 + 86_400),
        "content-type": "application/json",
      },
    });
    const once = buildPushRequest({ host: "h", deviceToken: DEVICE, passTypeIdentifier: TOPIC, jwt: "j", now: NOW, options: { expirationSeconds: 0, priority: 10, pushType: "alert" } });
    expect(once.headers).toMatchObject({ "apns-expiration": "0", "apns-priority": "10", "apns-push-type": "alert" });
    for (const bad of ["", "zz".repeat(32), `${DEVICE}/../x`, "a".repeat(201)])
      expect(() => buildPushRequest({ host: "h", deviceToken: bad, passTypeIdentifier: TOPIC, jwt: "j", now: NOW })).toThrow(/device token/);
  });

  it("classifies every row of the APNs response table", () => {
    const body = (reason: string, extra = {}) => JSON.stringify({ reason, ...extra });
    const table: [number, string, ApnsOutcome][] = [
      [200, "", { action: "done" }],
      [400, body("BadDeviceToken"), { action: "remove_registration", reason: "BadDeviceToken" }],
      [400, body("DeviceTokenNotForTopic"), { action: "remove_registration", reason: "DeviceTokenNotForTopic", alert: true }],
      [400, body("BadTopic"), { action: "bug", reason: "BadTopic" }],
      [400, body("MissingTopic"), { action: "bug", reason: "MissingTopic" }],
      [400, body("TopicDisallowed"), { action: "bug", reason: "TopicDisallowed" }],
      [400, body("BadPriority"), { action: "bug", reason: "BadPriority" }],
      [403, body("ExpiredProviderToken"), { action: "refresh_token_and_retry", reason: "ExpiredProviderToken" }],
      [403, body("InvalidProviderToken"), { action: "credentials_invalid", reason: "InvalidProviderToken" }],
      [403, body("MissingProviderToken"), { action: "credentials_invalid", reason: "MissingProviderToken" }],
      [403, body("BadCertificate"), { action: "credentials_invalid", reason: "BadCertificate" }],
      [403, body("BadCertificateEnvironment"), { action: "credentials_invalid", reason: "BadCertificateEnvironment" }],
      [403, body("Forbidden"), { action: "credentials_invalid", reason: "Forbidden" }],
      [404, body("BadPath"), { action: "bug", reason: "BadPath" }],
      [405, body("MethodNotAllowed"), { action: "bug", reason: "MethodNotAllowed" }],
      [413, body("PayloadTooLarge"), { action: "bug", reason: "PayloadTooLarge" }],
      [410, body("Unregistered", { timestamp: 1_700_000_000_000 }), { action: "remove_registration", reason: "Unregistered", unregisteredAt: 1_700_000_000_000 }],
      [410, body("ExpiredToken"), { action: "remove_registration", reason: "ExpiredToken" }],
      [429, body("TooManyRequests"), { action: "retry", reason: "TooManyRequests", delaySeconds: 60 }],
      [429, body("TooManyProviderTokenUpdates"), { action: "retry", reason: "TooManyProviderTokenUpdates", delaySeconds: 1200 }],
      [500, body("InternalServerError"), { action: "retry", reason: "InternalServerError", delaySeconds: 10 }],
      [503, body("ServiceUnavailable"), { action: "retry", reason: "ServiceUnavailable", delaySeconds: 10 }],
      [503, body("Shutdown"), { action: "retry", reason: "Shutdown", delaySeconds: 10 }],
      [502, "<html>bad gateway</html>", { action: "retry", reason: "HTTP 502", delaySeconds: 10 }],
      [401, "", { action: "bug", reason: "HTTP 401" }],
    ];
    for (const [status, b, outcome] of table) expect(classifyApnsResponse(status, b), `${status} ${b}`).toEqual(outcome);
  });

  it("backs off exponentially with the attempt, capped at an hour", () => {
    const delays = [0, 1, 2, 3, 10, 100].map((a) => (classifyApnsResponse(503, "{}", a) as { delaySeconds: number }).delaySeconds);
    expect(delays).toEqual([10, 20, 40, 80, 3600, 3600]);
    expect((classifyApnsResponse(429, '{"reason":"TooManyRequests"}', 2) as { delaySeconds: number }).delaySeconds).toBe(240);
    expect(classifyTransportFailure(new ApnsTransportError("timeout", "slow"), 1)).toEqual({ action: "retry", reason: "slow", delaySeconds: 60 });
  });
});

type Spy = (url: string, init: RequestInit) => Promise<Response>;
function mockFetch(handler: Spy) {
  return vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => handler(String(input), init ?? {}));
}
const apnsError = (status: number, reason: string) => new Response(JSON.stringify({ reason }), { status, headers: { "apns-id": "11111111-2222-3333-4444-555555555555" } });

describe("fetch transport", () => {
  it("POSTs to {host}/3/device/{token} with the bearer token and APNs headers, and returns APNs's answer", async () => {
    const spy = mockFetch(async () => apnsError(400, "BadDeviceToken"));
    const req = buildPushRequest({ host: "https://apns.test", deviceToken: DEVICE, passTypeIdentifier: TOPIC, jwt: "the.jwt.value", now: NOW });
    const res = await fetchTransport().send(req);
    expect(res).toEqual({ status: 400, body: '{"reason":"BadDeviceToken"}', apnsId: "11111111-2222-3333-4444-555555555555" });
    const [url, init] = spy.mock.calls[0] as [string, RequestInit];
    expect(url).toBe(`https://apns.test/3/device/${DEVICE}`);
    expect(init.method).toBe("POST");
    expect(init.body).toBe("{}");
    expect(init.headers).toMatchObject({ authorization: "bearer the.jwt.value", "apns-topic": TOPIC, "apns-push-type": "background" });
  });

  it("turns a hang into a timeout and a refused connection into a network failure", async () => {
    mockFetch((_url, init) => new Promise((_resolve, reject) => init.signal!.addEventListener("abort", () => reject(init.signal!.reason))));
    const req = buildPushRequest({ host: "https://apns.test", deviceToken: DEVICE, passTypeIdentifier: TOPIC, jwt: "j", now: NOW });
    await expect(fetchTransport({ timeoutMs: 50 }).send(req)).rejects.toMatchObject({ name: "ApnsTransportError", failure: "timeout" });
    vi.restoreAllMocks();
    mockFetch(async () => {
      throw new TypeError("Network connection lost.");
    });
    await expect(fetchTransport().send(req)).rejects.toMatchObject({ failure: "network" });
  });

  it("refreshes the provider token after ExpiredProviderToken and succeeds on the retry", async () => {
    const k = key("flow");
    const seen: string[] = [];
    mockFetch(async (_url, init) => {
      const auth = (init.headers as Record<string, string>).authorization;
      seen.push(auth);
      return seen.length === 1 ? apnsError(403, "ExpiredProviderToken") : new Response(null, { status: 200, headers: { "apns-id": "ok-id" } });
    });
    const transport = fetchTransport();
    let outcome: ApnsOutcome = { action: "bug", reason: "not sent" };
    for (let attempt = 0; attempt < 2; attempt++) {
      const jwt = await providerToken(k, NOW + attempt * MIN);
      const res = await transport.send(buildPushRequest({ host: "https://apns.test", deviceToken: DEVICE, passTypeIdentifier: TOPIC, jwt, now: NOW }));
      outcome = classifyApnsResponse(res.status, res.body, attempt);
      if (outcome.action !== "refresh_token_and_retry") break;
      await invalidateProviderToken(k, jwt);
    }
    expect(outcome).toEqual({ action: "done" });
    expect(seen).toHaveLength(2);
    expect(seen[1]).not.toBe(seen[0]);
  });
});

describe("relay transport", () => {
  const SECRET = "relay-secret-for-tests-0123456789abcdef";

  async function expectedSignature(ts: string, body: string) {
    const k = await crypto.subtle.importKey("raw", new TextEncoder().encode(SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(`${ts}.${body}`)));
    return `v1=${[...mac].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  }

  it("POSTs the push as signed JSON and passes APNs's status, body and apns-id through", async () => {
    const spy = mockFetch(async () => apnsError(410, "Unregistered"));
    const req = buildPushRequest({ host: "https://api.push.apple.com", deviceToken: DEVICE, passTypeIdentifier: TOPIC, jwt: "j.w.t", now: NOW });
    const res = await relayTransport({ url: "https://relay.test/push", secret: SECRET, clock: () => NOW }).send(req);
    expect(res).toEqual({ status: 410, body: '{"reason":"Unregistered"}', apnsId: "11111111-2222-3333-4444-555555555555" });
    const [url, init] = spy.mock.calls[0] as [string, RequestInit];
    expect(url).toBe("https://relay.test/push");
    const headers = init.headers as Record<string, string>;
    expect(headers["x-passhook-relay-timestamp"]).toBe(String(NOW / 1000));
    expect(headers["x-passhook-relay-signature"]).toBe(await expectedSignature(String(NOW / 1000), init.body as string));
    const sent = JSON.parse(init.body as string);
    expect(sent).toEqual({ host: req.host, deviceToken: DEVICE, topic: TOPIC, jwt: "j.w.t", payload: "{}", headers: req.headers, nonce: expect.stringMatching(/^[0-9a-f]{24}$/) });
    expect(headers.authorization).toBeUndefined();
  });

  it("treats the relay's own refusals as transport failures, not APNs answers", async () => {
    mockFetch(async () => new Response('{"error":"bad_signature"}', { status: 401, headers: { "x-passhook-relay-error": "bad_signature" } }));
    const req = buildPushRequest({ host: "https://api.push.apple.com", deviceToken: DEVICE, passTypeIdentifier: TOPIC, jwt: "j", now: NOW });
    await expect(relayTransport({ url: "https://relay.test/push", secret: SECRET }).send(req)).rejects.toMatchObject({ failure: "relay_refused", status: 401 });
    vi.restoreAllMocks();
    mockFetch(async () => new Response('{"error":"apns_timeout"}', { status: 504, headers: { "x-passhook-relay-error": "apns_timeout" } }));
    await expect(relayTransport({ url: "https://relay.test/push", secret: SECRET }).send(req)).rejects.toMatchObject({ failure: "timeout" });
    expect(() => relayTransport({ url: "https://relay.test/push", secret: "short" })).toThrow(/32/);
  });
});

describe("canary", () => {
  it("says a path works when APNs answered in its own format, and fails on silence", async () => {
    expect(interpretCanaryAnswer(400, '{"reason":"BadDeviceToken"}').verdict).toBe("path_works");
    expect(interpretCanaryAnswer(403, '{"reason":"InvalidProviderToken"}').verdict).toBe("path_works");
    expect(interpretCanaryAnswer(502, "<html>").verdict).toBe("unexpected_answer");
    mockFetch(async () => apnsError(403, "InvalidProviderToken"));
    const works = await runApnsCanary({ transport: fetchTransport(), host: "https://apns.test", topic: TOPIC, jwt: "j", now: NOW });
    expect(works).toMatchObject({ verdict: "path_works", status: 403, reason: "InvalidProviderToken" });
    vi.restoreAllMocks();
    mockFetch((_url, init) => new Promise((_resolve, reject) => init.signal!.addEventListener("abort", () => reject(init.signal!.reason))));
    const fails = await runApnsCanary({ transport: fetchTransport({ timeoutMs: 50 }), host: "https://apns.test", topic: TOPIC, jwt: "j", now: NOW });
    expect(fails.verdict).toBe("path_fails");
    expect(fails.detail).toMatch(/did not answer/);
  });
});
