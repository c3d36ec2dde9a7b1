/**
 * tools/apns-relay against a local HTTP/2-only TLS server playing APNs (self-signed certificate made
 * here with openssl): signed pushes forwarded with the right method, path and headers; APNs's status,
 * body and apns-id passed through; bad signatures, stale or future timestamps, replays and foreign hosts
 * refused before anything reaches APNs; one HTTP/2 session per host and team; APNs silence and absence
 * reported as the relay's own 504 / 502. Then the Worker's relayTransport (src/apple) end to end, the
 * relay started from its command line with env vars, and `npm run apns:canary` on every path.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRelay, sign, startRelay } from "../../tools/apns-relay/relay.mjs";
import { loadAppleSrc, type AppleSrc } from "./support/apple-src";
import { GONE_AT, startFakeApns, TOKENS } from "./support/fake-apns";
import { makeTlsCert, tempDir } from "./support/openssl";
import { fromRoot } from "./support/repo";

const SECRET = "relay-test-secret-0123456789abcdef0123";
const tmp = tempDir("relay");
const tls = makeTlsCert(tmp.dir);
let apns: Awaited<ReturnType<typeof startFakeApns>>;
let relay: Awaited<ReturnType<typeof startRelay>>;
let src: AppleSrc;

/** A JWT-shaped token with a team in `iss` (the relay groups connections by it; APNs checks it). */
const jwtFor = (team: string) => `${Buffer.from('{"alg":"ES256","kid":"KEYID12345"}').toString("base64url")}.${Buffer.from(JSON.stringify({ iss: team, iat: 1 })).toString("base64url")}.c2ln`;

function push(over: Record<string, unknown> = {}) {
  return {
    host: apns.url,
    deviceToken: TOKENS.ok,
    topic: "pass.example.passhook.demo",
    jwt: jwtFor("ABCDE12345"),
    payload: "{}",
    headers: { "apns-topic": "pass.example.passhook.demo", "apns-push-type": "background", "apns-priority": "5", "apns-expiration": "0", "content-type": "application/json" },
    nonce: Math.random().toString(16).slice(2),
    ...over,
  };
}

async function send(body: unknown, opts: { ts?: number; secret?: string; raw?: string; url?: string } = {}) {
  const text = opts.raw ?? JSON.stringify(body);
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  const res = await fetch(`${opts.url ?? relay.url}/push`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-passhook-relay-timestamp": String(ts), "x-passhook-relay-signature": sign(opts.secret ?? SECRET, ts, text) },
    body: text,
  });
  return { status: res.status, body: await res.text(), apnsId: res.headers.get("apns-id"), relayError: res.headers.get("x-passhook-relay-error") };
}

beforeAll(async () => {
  apns = await startFakeApns(tls);
  relay = await startRelay({ secret: SECRET, allowedHosts: [apns.url], port: 0, apnsTimeoutMs: 1500, connectOptions: { ca: apns.ca } });
  src = await loadAppleSrc();
});
afterAll(async () => {
  await relay?.close();
  await apns?.close();
  tmp.remove();
});

describe("apns-relay", () => {
  it("forwards a signed push over HTTP/2 and answers with APNs's status and apns-id", async () => {
    const before = apns.seen.length;
    const r = await send(push());
    expect(r).toEqual({ status: 200, body: "", apnsId: "0a1b2c3d-0000-4000-8000-000000000001", relayError: null });
    const got = apns.seen[before];
    expect(got.path).toBe(`/3/device/${TOKENS.ok}`);
    expect(got.headers[":method"]).toBe("POST");
    expect(got.headers.authorization).toBe(`bearer ${jwtFor("ABCDE12345")}`);
    expect(got.headers["apns-topic"]).toBe("pass.example.passhook.demo");
    expect(got.headers["apns-push-type"]).toBe("background");
    expect(got.body).toBe("{}");
  });

  it("passes APNs error answers through unchanged", async () => {
    expect(await send(push({ deviceToken: TOKENS.bad }))).toMatchObject({ status: 400, body: '{"reason":"BadDeviceToken"}', relayError: null });
    expect(await send(push({ deviceToken: TOKENS.gone }))).toMatchObject({ status: 410, body: JSON.stringify({ reason: "Unregistered", timestamp: GONE_AT }), relayError: null });
    expect(await send(push({ deviceToken: TOKENS.expiredJwt }))).toMatchObject({ status: 403, body: '{"reason":"ExpiredProviderToken"}', relayError: null });
  });

  it("refuses a bad signature, a stale or future timestamp and a replay before reaching APNs", async () => {
    const before = apns.seen.length;
    expect(await send(push(), { secret: "another-secret-0123456789abcdef-xyz" })).toMatchObject({ status: 401, relayError: "bad_signature" });
    // A minute past the 300 s tolerance on either side: the relay reads its clock later than this line
    // does (a second boundary under load made +301 land at exactly 300, inside the tolerance).
    const now = Math.floor(Date.now() / 1000);
    expect(await send(push(), { ts: now - 360 })).toMatchObject({ status: 401, relayError: "stale_timestamp" });
    expect(await send(push(), { ts: now + 360 })).toMatchObject({ status: 401, relayError: "stale_timestamp" });
    // A body changed after signing: the signature no longer matches.
    const raw = JSON.stringify(push());
    const res = await fetch(`${relay.url}/push`, {
      method: "POST",
      headers: { "x-passhook-relay-timestamp": String(now), "x-passhook-relay-signature": sign(SECRET, now, raw) },
      body: raw.replace(TOKENS.ok, TOKENS.bad),
    });
    expect(res.status).toBe(401);
    expect(apns.seen.length).toBe(before);

    const once = JSON.stringify(push());
    expect((await send(null, { raw: once, ts: now })).status).toBe(200);
    expect(await send(null, { raw: once, ts: now })).toMatchObject({ status: 409, relayError: "replayed" });
    expect(apns.seen.length).toBe(before + 1);
  });

  it("refuses hosts outside the allow-list and malformed pushes", async () => {
    expect(await send(push({ host: "https://api.push.apple.com" }))).toMatchObject({ status: 403, relayError: "host_not_allowed" });
    expect(await send(push({ deviceToken: "../../3/device/x" }))).toMatchObject({ status: 400, relayError: "bad_request" });
    expect(await send(push({ jwt: "not a jwt" }))).toMatchObject({ status: 400, relayError: "bad_request" });
    expect(await send(null, { raw: "{not json" })).toMatchObject({ status: 400, relayError: "bad_request" });
    expect(await send(null, { raw: "x".repeat(17 * 1024) })).toMatchObject({ status: 413, relayError: "too_large" });
    expect((await fetch(`${relay.url}/health`)).status).toBe(200);
    expect((await fetch(`${relay.url}/other`, { method: "POST" })).headers.get("x-passhook-relay-error")).toBe("not_found");
  });

  it("keeps one HTTP/2 session per APNs host and team", async () => {
    const own = await startRelay({ secret: SECRET, allowedHosts: [apns.url], port: 0, connectOptions: { ca: apns.ca } });
    try {
      const before = apns.sessions();
      for (let i = 0; i < 3; i++) expect((await send(push(), { url: own.url })).status).toBe(200);
      expect(apns.sessions() - before).toBe(1);
      expect((await send(push({ jwt: jwtFor("ZZZZZ99999") }), { url: own.url })).status).toBe(200);
      expect(apns.sessions() - before).toBe(2);
      expect(own.relay.sessionCount()).toBe(2);
    } finally {
      await own.close();
    }
  });

  it("answers 504 when APNs stays silent and 502 when it cannot be reached", async () => {
    expect(await send(push({ deviceToken: TOKENS.hang }))).toMatchObject({ status: 504, relayError: "apns_timeout" });
    const closed = await freePort();
    const lonely = await startRelay({ secret: SECRET, allowedHosts: [`https://127.0.0.1:${closed}`], port: 0 });
    try {
      expect(await send(push({ host: `https://127.0.0.1:${closed}` }), { url: lonely.url })).toMatchObject({ status: 502, relayError: "apns_unreachable" });
    } finally {
      await lonely.close();
    }
  });

  it("will not start without a long enough secret", () => {
    expect(() => createRelay({ secret: "short", allowedHosts: [] })).toThrow(/RELAY_SECRET/);
    expect(() => createRelay({ secret: undefined, allowedHosts: [] })).toThrow(/RELAY_SECRET/);
  });
});

describe("the Worker's relay transport", () => {
  it("reaches APNs through the relay and returns APNs's answer", async () => {
    const transport = src.relayTransport({ url: `${relay.url}/push`, secret: SECRET });
    const jwt = await src.providerToken({ teamId: "ABCDE12345", keyId: "KEYID12345", privateKeyPem: fixturesP8(), keyVersion: "relay-e2e" }, Date.now());
    const ok = await transport.send(src.buildPushRequest({ host: apns.url, deviceToken: TOKENS.ok, passTypeIdentifier: "pass.example.passhook.demo", jwt, now: Date.now() }));
    expect(ok).toEqual({ status: 200, body: "", apnsId: "0a1b2c3d-0000-4000-8000-000000000001" });
    // Two identical pushes in the same second are two requests, not a replay.
    const again = await transport.send(src.buildPushRequest({ host: apns.url, deviceToken: TOKENS.ok, passTypeIdentifier: "pass.example.passhook.demo", jwt, now: Date.now() }));
    expect(again.status).toBe(200);
    const gone = await transport.send(src.buildPushRequest({ host: apns.url, deviceToken: TOKENS.gone, passTypeIdentifier: "pass.example.passhook.demo", jwt, now: Date.now() }));
    expect(gone.status).toBe(410);
    const wrong = src.relayTransport({ url: `${relay.url}/push`, secret: "x".repeat(40) });
    await expect(wrong.send(src.buildPushRequest({ host: apns.url, deviceToken: TOKENS.ok, passTypeIdentifier: "p", jwt, now: Date.now() }))).rejects.toMatchObject({
      failure: "relay_refused",
      status: 401,
    });
  });
});

describe("command line", () => {
  const node = process.execPath;
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: tls.cert };

  it("starts the relay from env vars and refuses to start without a secret", async () => {
    const missing = spawnSync(node, [fromRoot("tools/apns-relay/relay.mjs")], { env: { ...env, RELAY_SECRET: "" }, encoding: "utf8" });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/RELAY_SECRET/);

    const child = spawn(node, [fromRoot("tools/apns-relay/relay.mjs")], { env: { ...env, RELAY_SECRET: SECRET, PORT: "0", APNS_HOSTS: apns.url } });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (c: Buffer) => {
          out += c.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.once("exit", (code) => reject(new Error(`relay exited with ${code}`)));
      });
      expect(await send(push(), { url })).toMatchObject({ status: 200, relayError: null });
      expect(await send(push({ deviceToken: TOKENS.bad }), { url })).toMatchObject({ status: 400, body: '{"reason":"BadDeviceToken"}' });
    } finally {
      child.kill("SIGTERM");
    }
  });

  /** Runs the canary as a child process. Asynchronously: the fake APNs lives in this process's event loop. */
  const canary = (args: string[]) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(node, [fromRoot("scripts/apns-canary.mjs"), ...args], { env });
      let out = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => (out += c.toString()));
      child.on("close", (code) => resolve({ code, out }));
    });

  it("apns:canary says which path works: HTTP/2 and the relay do, an HTTP/1.1 fetch does not", async () => {
    const r = await canary(["--host", apns.url, "--relay", `${relay.url}/push`, "--relay-secret", SECRET]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/http2\s+WORKS\s+APNs answered 403 InvalidProviderToken/);
    expect(r.out).toMatch(/relay\s+WORKS\s+APNs answered 403 InvalidProviderToken/);
    expect(r.out).toMatch(/fetch\s+FAILS/);
    expect(r.out).toContain("2 of 3 path(s) reach APNs.");
  });

  it("apns:canary with a real-looking key gets BadDeviceToken, and fails clearly on silence or a closed port", async () => {
    const keyed = await canary(["--host", apns.url, "--via", "http2", "--key", fromRoot("test/fixtures/apple/apns.p8"), "--key-id", "KEYID12345", "--team-id", "ABCDE12345"]);
    expect(keyed.out).toMatch(/http2\s+WORKS\s+APNs answered 400 BadDeviceToken/);
    const port = await freePort();
    const closed = await canary(["--host", `https://127.0.0.1:${port}`, "--via", "http2,fetch"]);
    expect(closed.code).toBe(1);
    expect(closed.out).toMatch(/http2\s+FAILS/);
    expect(closed.out).toContain("No path reached APNs.");
    // A server that accepts the connection and never answers: the canary gives up instead of hanging.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const hung = await canary(["--host", `https://127.0.0.1:${(silent.address() as { port: number }).port}`, "--via", "http2", "--timeout", "1500"]);
      expect(hung.code).toBe(1);
      expect(hung.out).toMatch(/http2\s+FAILS\s+apns_timeout/);
    } finally {
      silent.close();
    }
    expect((await canary(["--via", "pigeon"])).code).toBe(2);
  });
});

function fixturesP8(): string {
  return readFileSync(fromRoot("test/fixtures/apple/apns.p8"), "utf8");
}

/** A port nothing listens on. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
