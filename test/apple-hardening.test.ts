/**
 * Apple Wallet against a hostile caller (review findings): the personalize endpoint is no signing
 * oracle (opaque tokens only, the first token only, rate limited per pass); APNs hosts are Apple's
 * unless a development flag allows others; one project's hanging APNs host neither starves another
 * project's pushes nor keeps a batch past its deadline; the operator APNs canary route; no query
 * parameters in job errors; a total image cap per template; the pass type cannot change under issued
 * passes; relay refusals that will not change fail at once. Outside parties are `fetch` mocks.
 */
import { createMessageBatch } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { decodeProtectedHeader } from "jose";
import * as pkijs from "pkijs";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ApnsTransportError,
  buildPushRequest,
  classifyTransportFailure,
  consumeAppleDeadLetters,
  consumeApplePushes,
  defaultIconImages,
  normaliseApnsHost,
  personalizeBody,
  relayTransport,
} from "../src/apple";
import { toBase64 } from "../src/lib/crypto";
import { loadAppleCredentials, saveAppleCredentials } from "../src/apple/credentials";
import { saveWalletCredentials } from "../src/projects";
import type { WalletTask } from "../src/passes";
import { fixture, goodCredentials, identity } from "./support/apple-fixtures";
import { appleProject, applePass, mockNetwork, PASS_TYPE, register, registrationPath, registrations, TOKENS, walletJobRow, type AppleProject } from "./support/apple-web";
import { BASE, call, LOYALTY_FIELDS, newPass, newProject, operator } from "./support/http";
import { mockReceiver, until } from "./support/receiver";

afterEach(() => vi.restoreAllMocks());

/** A request to the Worker with raw bytes in and out. */
async function raw(path: string, init: RequestInit & { auth?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.auth) headers.set("authorization", init.auth);
  const res = await exports.default.fetch(`${BASE}${path}`, { ...init, headers });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

const NFC_KEY = fixture("apns.pub.pem").replace(/-----[^-]+-----|\s/g, "");
const rootCert = () => pkijs.Certificate.fromBER(Uint8Array.from(atob(fixture("root.pem").replace(/-----[^-]+-----|\s/g, "")), (c) => c.charCodeAt(0)));

/** Whether `signature` (DER CMS) is the pass certificate's signature over `data`, chaining to the test root. */
async function signs(signature: Uint8Array, data: string): Promise<boolean> {
  const signed = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(signature).content });
  return signed.verify({ signer: 0, data: new TextEncoder().encode(data).buffer as ArrayBuffer, trustedCerts: [rootCert()], checkChain: true });
}

describe("personalize is not a signing oracle", () => {
  const template = {
    name: "Rewards",
    passType: "loyalty",
    fields: LOYALTY_FIELDS,
    apple: {
      nfc: { message: "member", encryptionPublicKey: NFC_KEY },
      personalization: { requiredFields: ["PKPassPersonalizationFieldName"], description: "Join" },
    },
  };
  const personalize = (serial: string, token: string, info: Record<string, string>) =>
    raw(`/apple/v1/passes/${PASS_TYPE}/${serial}/personalize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ personalizationToken: token, requiredPersonalizationInfo: info }),
    });

  it("accepts only an opaque token: base64, base64url or hex characters, at most 1024", () => {
    const ok = (t: string) => personalizeBody.safeParse({ personalizationToken: t }).success;
    for (const t of ["t0k", "q83vEjRWeJA=", "q83v-EjRW_eJA", "0123456789abcdef", "a+b/c==", "x".repeat(1024)]) expect(ok(t), t).toBe(true);
    const manifest = JSON.stringify({ "pass.json": "a".repeat(40) });
    for (const t of [manifest, "{}", '"abc"', "abc def", "abc\n", "\tabc", "a:b", "a,b", "x".repeat(1025), ""]) expect(ok(t), t).toBe(false);
  });

  it("refuses a forged manifest as the token, and re-signs only the first token", async () => {
    mockNetwork();
    const a = await appleProject({ template });
    const pass = await newPass(a.p, a.templateId, "oracle-1");
    const forged = JSON.stringify({ "pass.json": "a".repeat(40), "icon.png": "b".repeat(40) });
    const first = await personalize(pass.serialNumber, forged, { fullName: "Eve" });
    expect(first.status).toBe(400);
    expect(await env.DB.prepare("select count(*) as n from apple_personalizations").first<{ n: number }>()).toEqual({ n: 0 });

    const signedUp = await personalize(pass.serialNumber, "dG9rZW4tZnJvbS13YWxsZXQ=", { fullName: "Eve" });
    expect(signedUp.status).toBe(200);
    expect(await signs(signedUp.bytes, "dG9rZW4tZnJvbS13YWxsZXQ=")).toBe(true);
    // A lost answer: the same sign-up with the same token is signed again.
    const again = await personalize(pass.serialNumber, "dG9rZW4tZnJvbS13YWxsZXQ=", { fullName: "Eve" });
    expect(again.status).toBe(200);
    expect(await signs(again.bytes, "dG9rZW4tZnJvbS13YWxsZXQ=")).toBe(true);
    // The same data with another token is a conflict, like other data: nothing else gets signed.
    const other = await personalize(pass.serialNumber, "c29tZXRoaW5nLWVsc2U=", { fullName: "Eve" });
    expect(other.status).toBe(409);
    expect(new TextDecoder().decode(other.bytes)).toContain("conflict");
    const row = await env.DB.prepare("select token_hash from apple_personalizations").first<{ token_hash: string }>();
    expect(row!.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("never signs again for a sign-up stored before token hashes were kept", async () => {
    mockNetwork();
    const a = await appleProject({ template });
    const pass = await newPass(a.p, a.templateId, "legacy-1");
    expect((await personalize(pass.serialNumber, "bGVnYWN5", { fullName: "Ada" })).status).toBe(200);
    await env.DB.prepare("update apple_personalizations set token_hash = null where pass_id = ?").bind(pass.id).run();
    expect((await personalize(pass.serialNumber, "bGVnYWN5", { fullName: "Ada" })).status).toBe(409);
  });

  it("limits calls per pass (refused ones count), and another pass keeps its own budget", async () => {
    mockNetwork();
    const a = await appleProject({ template });
    const pass = await newPass(a.p, a.templateId, "flood-1");
    const other = await newPass(a.p, a.templateId, "flood-2");
    // The test binding allows 5 a minute per key (windows aligned to the clock): forged tokens are
    // refused with 400 until the limit answers 429, whichever minute the calls fall in.
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof personalize>> | undefined;
    for (let i = 0; i < 30 && !limited; i++) {
      const r = await personalize(pass.serialNumber, `{"n":${i}}`, { fullName: "Eve" });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    expect(limited, JSON.stringify(statuses)).toBeDefined();
    expect(statuses.slice(0, -1).every((s) => s === 400)).toBe(true);
    expect(limited!.headers.get("retry-after")).toBe("60");
    expect((await personalize(other.serialNumber, "dG9rZW4=", { fullName: "Ada" })).status).toBe(200);
  });
});

// --- APNs hosts, fair slots and the consumer's deadline ------------------------------------------------

const SANDBOX = "https://api.sandbox.push.apple.com";
const apnsBody = (host: string) => ({ keyId: identity.apnsKeyId, teamId: identity.apnsTeamId, privateKeyPem: fixture("apns.p8"), host });
const update = (a: AppleProject, passId: number, fields: Record<string, unknown>) => call(`/v1/pass/${passId}`, { method: "PUT", auth: a.p.auth, body: { fields } });

/**
 * A pass whose devices are owed a push, with a due job and APNs credentials at `host`, made without
 * the real queue running the job (the consumer is called directly). `save` stores the credentials.
 */
async function owed(host: string, devices: number, save?: (a: AppleProject) => Promise<void>) {
  const a = await appleProject({ apns: false });
  const pass = await newPass(a.p, a.templateId, `owed-${crypto.randomUUID()}`);
  // The template's and the pass's creation are handed on before any device registers: no fan-out job.
  await outboxEmpty();
  for (let i = 0; i < devices; i++) expect(await register(pass.serialNumber, `dev-${i}`, (i + 16).toString(16).padStart(2, "0").repeat(32))).toBe(201);
  expect((await update(a, pass.id, { points: 1 })).status).toBe(200); // stamps the tags; no APNs key, so no job
  await outboxEmpty();
  expect(await env.DB.prepare("select count(*) as n from wallet_jobs where project_id = ?").bind(a.p.id).first()).toEqual({ n: 0 });
  if (save) await save(a);
  else expect((await call(`/v1/project/${a.p.id}/credentials/apple`, { method: "PUT", auth: a.p.auth, body: { ...goodCredentials(), apns: apnsBody(host) } })).status).toBe(200);
  const now = Date.now();
  await env.DB.prepare("insert into wallet_jobs (wallet, subject, project_id, wanted_at, done_at, state, attempts, created_at, updated_at) values ('apple', ?, ?, ?, 0, 'pending', 0, ?, ?)")
    .bind(`p:${pass.id}`, a.p.id, now, now, now)
    .run();
  return { a, pass };
}

const outboxEmpty = () => until(async () => (await env.DB.prepare("select count(*) as n from outbox").first<{ n: number }>())!.n === 0);

const task = (subject: string, attempts = 1) => ({ id: `m-${subject}-${attempts}`, timestamp: new Date(), attempts, body: { wallet: "apple" as const, subject } });

/** A queue that records what is sent to it. */
function recordingQueue() {
  const sent: { body: unknown; delaySeconds?: number }[] = [];
  const queue = {
    send: async (body: unknown, opts?: { delaySeconds?: number }) => void sent.push({ body, delaySeconds: opts?.delaySeconds }),
    sendBatch: async (msgs: { body: unknown; delaySeconds?: number }[]) => void sent.push(...msgs),
  } as unknown as Queue;
  return { sent, queue };
}

describe("APNs hosts", () => {
  it("are Apple's two on port 443 unless ALLOW_CUSTOM_APNS_HOST allows others", () => {
    for (const h of ["https://api.push.apple.com", "https://api.push.apple.com/", "https://api.push.apple.com:443", `${SANDBOX}/`]) expect(normaliseApnsHost(h, false).ok, h).toBe(true);
    for (const h of ["https://apns.test", "https://api.push.apple.com:8443", "https://api.push.apple.com/x", "https://api.push.apple.com.evil.test", "http://api.push.apple.com", "http://127.0.0.1:8791"])
      expect(normaliseApnsHost(h, false).ok, h).toBe(false);
    expect(normaliseApnsHost("https://apns.test/", true)).toEqual({ ok: true, value: "https://apns.test" });
    expect(normaliseApnsHost("http://127.0.0.1:8791", true)).toEqual({ ok: true, value: "http://127.0.0.1:8791" });
    expect(normaliseApnsHost("http://apns.test", true).ok).toBe(false);
  });

  it("refuses another host in the credentials (400 naming apns.host); the development flag allows it", async () => {
    const a = await appleProject({ apns: false });
    const r = await call(`/v1/project/${a.p.id}/credentials/apple`, { method: "PUT", auth: a.p.auth, body: { ...goodCredentials(), apns: apnsBody("https://apns.test") } });
    expect(r.status).toBe(400);
    expect(r.body.error.details).toMatchObject({ reason: "apns_host_invalid", issues: [{ path: "apns.host" }] });
    expect(r.body.error.message).toContain("ALLOW_CUSTOM_APNS_HOST");
    const dev = await saveAppleCredentials({ ...env, ALLOW_CUSTOM_APNS_HOST: "true" }, a.p.id, { ...goodCredentials(), apns: apnsBody("https://apns.test") });
    expect(dev).toMatchObject({ apns: { host: "https://apns.test" } });
  });

  it("fails a push job at once when the stored host is no longer allowed, and sends nothing there", async () => {
    const net = mockReceiver((req) => (req.url.startsWith("https://apns.test") ? new Response(null, { status: 200, headers: { "apns-id": crypto.randomUUID() } }) : new Response("ok")));
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const { pass } = await owed("", 1, async (a) => {
      await saveAppleCredentials({ ...env, ALLOW_CUSTOM_APNS_HOST: "true" }, a.p.id, { ...goodCredentials(), apns: apnsBody("https://apns.test") });
    });
    const batch = createMessageBatch<WalletTask>("passhook-apple", [task(`p:${pass.id}`)]);
    const ack = vi.spyOn(batch.messages[0], "ack");
    await consumeApplePushes(batch, env);
    expect(ack).toHaveBeenCalled();
    expect(net.calls.filter((c) => c.url.startsWith("https://apns.test"))).toHaveLength(0);
    const job = await walletJobRow(`p:${pass.id}`);
    expect(job).toMatchObject({ state: "failed" });
    expect(job!.last_error).toContain("APNs host is not allowed");
  });
});

describe("one batch, many projects", () => {
  it("a project whose APNs host hangs does not hold up another project's push", async () => {
    mockNetwork();
    const slow = await owed("https://api.push.apple.com", 12);
    const fast = await owed(SANDBOX, 1);
    const held: (() => void)[] = [];
    let slowSettled = 0;
    let slowSettledWhenFastSent: number | null = null;
    let slowInFlight = 0;
    let maxSlowInFlightBeforeFast = 0;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input as RequestInfo, init);
      const ok = () => new Response(null, { status: 200, headers: { "apns-id": crypto.randomUUID() } });
      if (!req.url.startsWith("https://api.")) return new Response("ok"); // the callback server
      if (req.url.startsWith(SANDBOX)) {
        slowSettledWhenFastSent ??= slowSettled;
        return ok();
      }
      // The slow host answers only when the test lets it; an abort (the transport's timeout) ends it like a real fetch.
      slowInFlight++;
      if (slowSettledWhenFastSent === null) maxSlowInFlightBeforeFast = Math.max(maxSlowInFlightBeforeFast, slowInFlight);
      try {
        await new Promise<void>((resolve, reject) => {
          held.push(resolve);
          req.signal.addEventListener("abort", () => reject(req.signal.reason), { once: true });
        });
        return ok();
      } finally {
        slowInFlight--;
        slowSettled++;
      }
    });
    const batch = createMessageBatch<WalletTask>("passhook-apple", [task(`p:${slow.pass.id}`), task(`p:${fast.pass.id}`)]);
    const run = consumeApplePushes(batch, env);
    await until(async () => slowSettledWhenFastSent !== null, 30_000);
    // The fast project's push went out while every one of the slow host's requests was still hanging.
    expect(slowSettledWhenFastSent).toBe(0);
    expect(maxSlowInFlightBeforeFast).toBeLessThanOrEqual(3);
    // Then the slow host answers, and the slow pass gets its whole share.
    for (let i = 0; i < 600 && slowSettled < 12; i++) {
      while (held.length) held.shift()!();
      await new Promise((r) => setTimeout(r, 50));
    }
    await run;
    expect(await walletJobRow(`p:${fast.pass.id}`)).toMatchObject({ state: "done" });
    expect(await walletJobRow(`p:${slow.pass.id}`)).toMatchObject({ state: "done" });
  });

  it("starts no push after the invocation's time budget: the rest go in a new message, not a failure", async () => {
    mockNetwork();
    const { pass } = await owed("https://api.push.apple.com", 8);
    let sends = 0;
    const t0 = Date.now();
    // The test's clock moves 25 s with every push sent: the 60 s budget is gone after the third.
    const clock = () => t0 + sends * 25_000;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      if (!new Request(input as RequestInfo, init).url.startsWith("https://api.push.apple.com/")) return new Response("ok"); // the callback server
      sends++;
      return new Response(null, { status: 200, headers: { "apns-id": crypto.randomUUID() } });
    });
    const q = recordingQueue();
    const batch = createMessageBatch<WalletTask>("passhook-apple", [task(`p:${pass.id}`)]);
    const ack = vi.spyOn(batch.messages[0], "ack");
    const retry = vi.spyOn(batch.messages[0], "retry");
    await consumeApplePushes(batch, { ...env, APPLE_QUEUE: q.queue }, Math.random, clock);
    expect(sends).toBeGreaterThan(0);
    expect(sends).toBeLessThan(8);
    expect(ack).toHaveBeenCalled();
    expect(retry).not.toHaveBeenCalled();
    expect(q.sent).toEqual([{ body: { wallet: "apple", subject: `p:${pass.id}` }, delaySeconds: 5 }]);
    expect(await walletJobRow(`p:${pass.id}`)).toMatchObject({ state: "pending", attempts: 0, last_error: null });
    const regs = await registrations(pass.id);
    expect(regs.filter((r) => r.pushed_tag === r.tag)).toHaveLength(sends);

    // The new message pushes only the devices still owed one.
    const next = createMessageBatch<WalletTask>("passhook-apple", [task(`p:${pass.id}`)]);
    const before = sends;
    await consumeApplePushes(next, env);
    expect(sends - before).toBe(8 - before);
    expect(await walletJobRow(`p:${pass.id}`)).toMatchObject({ state: "done" });
  });
});

describe("job errors", () => {
  it("keep a failed query's parameters out of wallet_jobs and the fan-out error the API shows", async () => {
    mockNetwork();
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const a = await appleProject({ apns: false });
    const pass = await newPass(a.p, a.templateId, "errs-1");
    await outboxEmpty(); // no fan-out job of the queue's own: the template was handed on before the device came
    expect(await register(pass.serialNumber, "dev-errs", TOKENS.ok)).toBe(201);
    await outboxEmpty();
    const subject = `t:${a.templateId}`;
    const now = Date.now();
    await env.DB.prepare("insert into wallet_jobs (wallet, subject, project_id, wanted_at, done_at, state, attempts, created_at, updated_at) values ('apple', ?, ?, ?, 0, 'pending', 0, ?, ?)")
      .bind(subject, a.p.id, now, now, now)
      .run();
    // The fan-out's cursor move (a single drizzle query, whose error quotes its parameters) fails.
    await env.DB.prepare("create trigger fail_cursor before update on apple_templates when new.fanout_cursor > old.fanout_cursor begin select raise(abort, 'disk on fire'); end").run();
    try {
      const batch = createMessageBatch<WalletTask>("passhook-apple", [task(subject)]);
      const retry = vi.spyOn(batch.messages[0], "retry");
      await consumeApplePushes(batch, env);
      expect(retry).toHaveBeenCalled();
    } finally {
      await env.DB.prepare("drop trigger fail_cursor").run();
    }
    const job = await walletJobRow(subject);
    expect(job!.last_error).toMatch(/^passhook error: query failed \(.*disk on fire.*\) in: update "apple_templates"/);
    expect(job!.last_error).not.toMatch(/params|prj_/);

    await consumeAppleDeadLetters(createMessageBatch<WalletTask>("passhook-apple-dlq", [task(subject)]), env);
    const shown = await call(`/v1/template/${a.templateId}/pushes`, { auth: a.p.auth });
    expect(shown.body.apple.state).toBe("failed");
    expect(shown.body.apple.error).toMatch(/^retries exhausted: passhook error: query failed/);
    expect(shown.body.apple.error).not.toMatch(/params|prj_/);
    expect(errors.mock.calls.map((c) => String(c[0])).join("\n")).not.toMatch(/params:/);
  });
});

// --- the operator's APNs canary ----------------------------------------------------------------------

describe("POST /v1/operator/apns-canary", () => {
  const CANARY = "/v1/operator/apns-canary";
  const DUMMY = "0".repeat(64);

  it("answers 401 to anyone but the operator, and sends nothing", async () => {
    const net = mockReceiver(() => new Response(null, { status: 200 }));
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const a = await appleProject({ apns: false });
    net.calls.length = 0;
    for (const auth of [null, "Bearer wrong-token", a.p.auth, `Basic ${btoa(`x:${env.ADMIN_TOKEN}`)}`]) {
      const r = await call(CANARY, { auth, body: {} });
      expect(r.status, String(auth)).toBe(401);
      expect(r.headers.get("www-authenticate")).toBe('Bearer realm="passhook-operator"');
    }
    expect(net.calls).toHaveLength(0);
  });

  it("sends one push to a dummy token with the Worker's fetch and reads APNs's answer", async () => {
    const net = mockReceiver((req) =>
      req.url.startsWith("https://api.push.apple.com/") ? new Response(JSON.stringify({ reason: "BadDeviceToken" }), { status: 400, headers: { "content-type": "application/json", "apns-id": crypto.randomUUID() } }) : new Response("unexpected", { status: 500 }),
    );
    const r = await call(CANARY, { auth: operator(), body: { topic: "pass.com.example.canary", jwt: "aGVhZA.Y2xhaW1z.c2ln" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ verdict: "path_works", status: 400, reason: "BadDeviceToken", host: "https://api.push.apple.com", topic: "pass.com.example.canary", throwawayKey: false });
    expect(net.calls).toHaveLength(1);
    expect(net.calls[0].url).toBe(`https://api.push.apple.com/3/device/${DUMMY}`);
    expect(net.calls[0].headers).toMatchObject({ authorization: "bearer aGVhZA.Y2xhaW1z.c2ln", "apns-topic": "pass.com.example.canary", "apns-expiration": "0" });
    expect(net.calls[0].body).toBe("{}");
  });

  it("signs with a throwaway key when given none, says when the path fails, and refuses hosts the credentials could not use", async () => {
    let answer: () => Response = () => new Response(JSON.stringify({ reason: "InvalidProviderToken" }), { status: 403, headers: { "content-type": "application/json" } });
    const net = mockReceiver(() => answer());
    const sandbox = await call(CANARY, { auth: operator(), body: { host: SANDBOX } });
    expect(sandbox.body).toMatchObject({ verdict: "path_works", status: 403, reason: "InvalidProviderToken", host: SANDBOX, topic: "pass.example.canary", throwawayKey: true });
    const jwt = net.calls[0].headers.authorization.replace(/^bearer /, "");
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: "ES256", kid: "CANARY0000" });

    answer = () => {
      throw new TypeError("Network connection lost.");
    };
    const down = await call(CANARY, { method: "POST", auth: operator(), raw: "" });
    expect(down.status).toBe(200);
    expect(down.body).toMatchObject({ verdict: "path_fails" });
    expect(down.body.detail).toContain("could not be reached");

    const before = net.calls.length;
    for (const body of [{ host: "https://evil.test" }, { host: "http://127.0.0.1:8791" }, { topic: "not a topic" }, { jwt: '{"a":1}' }, { extra: 1 }]) {
      const r = await call(CANARY, { auth: operator(), body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe("validation_failed");
    }
    expect(net.calls.length).toBe(before);
  });
});

// --- template images: a total per template -------------------------------------------------------------

describe("template images", () => {
  /** A PNG of `size` bytes: a real signature and header, then padding (enough for the checks). */
  function png(size: number): Uint8Array {
    const icon = defaultIconImages()["icon.png"];
    const out = new Uint8Array(size);
    out.set(icon.subarray(0, 33));
    return out;
  }
  const upload = (p: { auth: string }, templateId: number, name: string, bytes: Uint8Array) =>
    raw(`/v1/template/${templateId}/images/${name}`, { method: "PUT", auth: p.auth, headers: { "content-type": "image/png" }, body: bytes });
  const errorOf = (r: { bytes: Uint8Array }) => JSON.parse(new TextDecoder().decode(r.bytes)).error;
  const MIB = 1024 * 1024;
  const TEMPLATE = { name: "Show", passType: "eventTicket", fields: LOYALTY_FIELDS };

  it("may total at most 2 MiB per template: a 413 names the total; replacing an image counts it once", async () => {
    mockNetwork();
    const p = await newProject();
    const t = (await call(`/v1/project/${p.id}/templates`, { auth: p.auth, body: { ...TEMPLATE, apple: {} } })).body.id;
    expect((await upload(p, t, "icon.png", png(MIB))).status).toBe(200);
    expect((await upload(p, t, "logo.png", png(MIB - 4096))).status).toBe(200);
    const over = await upload(p, t, "strip.png", png(8192));
    expect(over.status).toBe(413);
    expect(errorOf(over)).toMatchObject({ code: "payload_too_large", details: { limitBytes: 2 * MIB, totalBytes: 2 * MIB + 4096 } });
    expect(errorOf(over).message).toContain("2052 KiB");
    // Replacing the 1 MiB icon with a smaller one frees room; the total is never counted twice.
    expect((await upload(p, t, "icon.png", png(MIB - 8192))).status).toBe(200);
    expect((await upload(p, t, "strip.png", png(8192))).status).toBe(200);
    const listed = await call(`/v1/template/${t}/images`, { auth: p.auth });
    expect(listed.body.images.reduce((n: number, i: { bytes: number }) => n + i.bytes, 0)).toBe(2 * MIB - 4096);
  });

  it("a template body whose images would pass the total is refused before anything changes", async () => {
    mockNetwork();
    const p = await newProject();
    const created = await call(`/v1/project/${p.id}/templates`, { auth: p.auth, body: { ...TEMPLATE, apple: {} } });
    const t = created.body.id;
    expect((await upload(p, t, "icon.png", png(MIB))).status).toBe(200);
    expect((await upload(p, t, "logo.png", png(MIB - 65536))).status).toBe(200);
    const body = { ...TEMPLATE, name: "Renamed", apple: { images: { "strip.png": toBase64(png(128 * 1024)) } } };
    const r = await call(`/v1/template/${t}`, { method: "PUT", auth: p.auth, body });
    expect(r.status).toBe(413);
    expect(r.body.error.details.totalBytes).toBe(2 * MIB + 65536);
    expect((await call(`/v1/template/${t}`, { auth: p.auth })).body).toEqual(created.body);
    const names = (await call(`/v1/template/${t}/images`, { auth: p.auth })).body.images.map((i: { name: string }) => i.name);
    expect(names.sort()).toEqual(["icon.png", "logo.png"]);
    // Another project's template is a 404, as the replace would answer, whatever the images.
    const q = await newProject();
    expect((await call(`/v1/template/${t}`, { method: "PUT", auth: q.auth, body })).status).toBe(404);
  });
});

// --- the pass type under issued passes ---------------------------------------------------------------

describe("changing the pass type", () => {
  const OLD = "pass.example.passhook.previous";

  /** A project whose stored credentials are for OLD (the test PKI has one pass type, so the row is rewritten). */
  async function projectOfOldType() {
    const a = await appleProject({ apns: false });
    const stored = await loadAppleCredentials(env, a.p.id);
    const summary = (await call(`/v1/project/${a.p.id}/credentials`, { auth: a.p.auth })).body.apple;
    await saveWalletCredentials(env, a.p.id, "apple", { secret: { ...stored!.secret, passTypeIdentifier: OLD }, summary: { ...summary, passTypeIdentifier: OLD } });
    return a;
  }
  const putCredentials = (a: AppleProject) => call(`/v1/project/${a.p.id}/credentials/apple`, { method: "PUT", auth: a.p.auth, body: goodCredentials() });
  const storedType = async (a: AppleProject) => (await call(`/v1/project/${a.p.id}/credentials`, { auth: a.p.auth })).body.apple?.passTypeIdentifier ?? null;

  it("is a 409 while devices hold the project's passes; DELETE first switches anyway", async () => {
    mockNetwork();
    const a = await projectOfOldType();
    const pass = await newPass(a.p, a.templateId, "type-1");
    const reg = await call(registrationPath("dev-type", pass.serialNumber, OLD), { auth: await applePass(pass.serialNumber), body: { pushToken: TOKENS.ok } });
    expect(reg.status).toBe(201);

    const r = await putCredentials(a);
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: "conflict", details: { passTypeIdentifier: OLD } });
    expect(r.body.error.message).toContain(`DELETE /v1/project/${a.p.id}/credentials/apple`);
    expect(await storedType(a)).toBe(OLD);
    // The device still reaches its pass.
    expect((await raw(`/apple/v1/passes/${OLD}/${pass.serialNumber}`, { auth: await applePass(pass.serialNumber) })).status).toBe(200);

    expect((await call(`/v1/project/${a.p.id}/credentials/apple`, { method: "DELETE", auth: a.p.auth })).status).toBe(204);
    expect((await putCredentials(a)).status).toBe(200);
    expect(await storedType(a)).toBe(PASS_TYPE);
  });

  it("is allowed when no device holds a pass of the old type, and re-uploading the same type always is", async () => {
    mockNetwork();
    const a = await projectOfOldType();
    await newPass(a.p, a.templateId, "type-2");
    expect((await putCredentials(a)).status).toBe(200);
    expect(await storedType(a)).toBe(PASS_TYPE);

    const b = await appleProject({ apns: false });
    const pass = await newPass(b.p, b.templateId, "type-3");
    expect(await register(pass.serialNumber, "dev-same")).toBe(201);
    expect((await putCredentials(b)).status).toBe(200);
  });
});

// --- relay refusals that will never pass -----------------------------------------------------------------

describe("APNs relay refusals", () => {
  const RELAY = "https://relay.example.com/push";
  const SECRET = "s".repeat(40);
  /** The relay's own answer (tools/apns-relay/relay.mjs `refuse`). */
  const refusal = (status: number, code: string, message: string) =>
    new Response(JSON.stringify({ error: code, message }), { status, headers: { "content-type": "application/json", "x-passhook-relay-error": code } });

  it("a refusal the same push always gets is final; one that may pass is retried", async () => {
    const req = buildPushRequest({ host: "https://api.sandbox.push.apple.com", deviceToken: TOKENS.ok, passTypeIdentifier: PASS_TYPE, jwt: "j.w.t", now: Date.now() });
    const answers: Record<string, Response> = {};
    mockReceiver((r) => answers[r.url] ?? new Response("unexpected", { status: 500 }));
    const send = async (answer: Response) => {
      answers[RELAY] = answer;
      return relayTransport({ url: RELAY, secret: SECRET }).send(req).then(
        () => null,
        (e: unknown) => e,
      );
    };
    const hostRefused = await send(refusal(403, "host_not_allowed", "host https://api.sandbox.push.apple.com is not in APNS_HOSTS"));
    expect(hostRefused).toMatchObject({ failure: "relay_rejected", status: 403 });
    expect((hostRefused as Error).message).toBe("APNs relay: host_not_allowed (host https://api.sandbox.push.apple.com is not in APNS_HOSTS)");
    expect(classifyTransportFailure(hostRefused)).toEqual({ action: "refused", reason: (hostRefused as Error).message });
    for (const [status, code] of [[400, "bad_request"], [413, "too_large"]] as const) {
      const e = await send(refusal(status, code, "no"));
      expect(classifyTransportFailure(e).action, code).toBe("refused");
    }
    for (const [status, code] of [[401, "bad_signature"], [401, "stale_timestamp"], [409, "replayed"], [502, "apns_unreachable"], [500, "relay_failed"]] as const) {
      const e = await send(refusal(status, code, "later"));
      expect(e).toMatchObject({ failure: "relay_refused" });
      expect(classifyTransportFailure(e, 0), code).toMatchObject({ action: "retry", delaySeconds: 30 });
    }
    expect(classifyTransportFailure(new ApnsTransportError("network", "down"))).toMatchObject({ action: "retry" });
  });

  it("fails the push job at once, with the relay's reason, instead of retrying it for a day", async () => {
    mockNetwork();
    const { pass } = await owed(SANDBOX, 1);
    const relayed: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const r = new Request(input as RequestInfo, init);
      if (r.url !== RELAY) return new Response("ok"); // the callback server
      relayed.push(JSON.parse(await r.text()).host);
      return refusal(403, "host_not_allowed", `host ${SANDBOX} is not in APNS_HOSTS`);
    });
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const batch = createMessageBatch<WalletTask>("passhook-apple", [task(`p:${pass.id}`)]);
    const ack = vi.spyOn(batch.messages[0], "ack");
    const retry = vi.spyOn(batch.messages[0], "retry");
    await consumeApplePushes(batch, { ...env, APNS_RELAY_URL: RELAY, APNS_RELAY_SECRET: SECRET });
    expect(relayed).toEqual([SANDBOX]);
    expect(ack).toHaveBeenCalled();
    expect(retry).not.toHaveBeenCalled();
    const job = await walletJobRow(`p:${pass.id}`);
    expect(job).toMatchObject({ state: "failed" });
    expect(job!.last_error).toContain("host_not_allowed");
  });
});
