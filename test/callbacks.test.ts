/**
 * Callbacks (api.md "Callbacks"; Airship wallet callbacks; Standard Webhooks): registration and its
 * validation, the exact Airship paths and bodies, signatures checked with the `standardwebhooks`
 * library (also across a rotation), retries with Svix's schedule, Retry-After, 410, dead-lettering,
 * resend and recover, per-pass order, and the delivery log.
 */
import { createExecutionContext, createMessageBatch, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { consumeCallbacks, consumeDeadLetters } from "../src/callbacks";
import worker from "../src/index";
import { emitHolderEvent, type DeliveryTask } from "../src/passes";
import { call, history, newPass, newProject, newTemplate, workerEnv, type TestProject } from "./support/http";
import { mockReceiver, until, type Received } from "./support/receiver";

afterEach(() => vi.restoreAllMocks());

const HOOKS = "https://hooks.customer.example/passhook";
const AUTH = "Basic dGVzdEB0ZXN0LmNvbTp0ZXN0";

async function registered(headers: Record<string, string> = { Authorization: AUTH }) {
  const p = await newProject();
  const t = await newTemplate(p);
  const r = await call(`/v1/project/${p.id}/settings/callback`, { auth: p.auth, body: { baseUrl: HOOKS, headers } });
  expect(r.status).toBe(200);
  return { p, t, secret: r.body.signingSecret as string };
}

async function testSend(p: TestProject, event: string, passId: number) {
  const r = await call(`/v1/project/${p.id}/settings/callback/test`, { auth: p.auth, body: { event, passId } });
  expect(r.status).toBe(202);
  return r.body.deliveryId as string;
}

async function delivery(p: TestProject, id: string) {
  return (await call(`/v1/project/${p.id}/callbacks/deliveries/${id}`, { auth: p.auth })).body;
}

function verify(secret: string, r: Received) {
  return new Webhook(secret).verify(r.body, {
    "webhook-id": r.headers["webhook-id"],
    "webhook-timestamp": r.headers["webhook-timestamp"],
    "webhook-signature": r.headers["webhook-signature"],
  });
}

describe("registration", () => {
  it("registers, masks header values, keeps the secret on re-registration, deletes", async () => {
    const p = await newProject();
    const url = `/v1/project/${p.id}/settings/callback`;
    expect((await call(url, { auth: p.auth })).status).toBe(404);
    const r = await call(url, { auth: p.auth, body: { baseUrl: HOOKS + "/", headers: { Authorization: AUTH, "Content-Type": "application/json" } } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ baseUrl: HOOKS, headers: { Authorization: "Basi****" }, enabled: true });
    expect(r.body.signingSecret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    const got = await call(url, { auth: p.auth });
    expect(got.body.headers).toEqual({ Authorization: "Basi****" });
    expect(JSON.stringify(got.body)).not.toContain(AUTH);
    expect(got.body).not.toHaveProperty("signingSecret");
    const row = await env.DB.prepare("select * from callback_settings where project_id = ?").bind(p.id).first<Record<string, string>>();
    expect(JSON.stringify(row)).not.toContain("dGVzdEB0ZXN0");
    expect(JSON.stringify(row)).not.toContain(r.body.signingSecret.slice(6));
    const again = await call(url, { auth: p.auth, body: { baseUrl: "https://other.example/cb" } });
    expect(again.body).not.toHaveProperty("signingSecret");
    expect(again.body).toMatchObject({ baseUrl: "https://other.example/cb", headers: {} });
    expect((await call(url, { method: "DELETE", auth: p.auth })).status).toBe(204);
    expect((await call(url, { auth: p.auth })).status).toBe(404);
    expect((await call(url, { method: "DELETE", auth: p.auth })).status).toBe(404);
  });

  it("refuses unsafe URLs and headers with field paths", async () => {
    const p = await newProject();
    const url = `/v1/project/${p.id}/settings/callback`;
    const bad: [unknown, string][] = [
      [{ baseUrl: "http://hooks.example.com" }, "baseUrl"],
      [{ baseUrl: "http://127.0.0.1:9000" }, "baseUrl"], // ALLOW_INSECURE_CALLBACKS is false here
      [{ baseUrl: "https://127.0.0.1/cb" }, "baseUrl"],
      [{ baseUrl: "https://10.1.2.3/cb" }, "baseUrl"],
      [{ baseUrl: "https://169.254.169.254/latest" }, "baseUrl"],
      [{ baseUrl: "https://2130706433/cb" }, "baseUrl"],
      [{ baseUrl: "https://[::ffff:169.254.169.254]/cb" }, "baseUrl"],
      [{ baseUrl: "https://[fd00:ec2::254]/cb" }, "baseUrl"],
      [{ baseUrl: "https://user:pw@hooks.example.com/cb" }, "baseUrl"],
      [{ baseUrl: "not a url" }, "baseUrl"],
      [{ baseUrl: HOOKS, headers: { Host: "evil" } }, "headers.Host"],
      [{ baseUrl: HOOKS, headers: { "Transfer-Encoding": "chunked" } }, "headers.Transfer-Encoding"],
      [{ baseUrl: HOOKS, headers: { "webhook-signature": "v1,x" } }, "headers.webhook-signature"],
      [{ baseUrl: HOOKS, headers: { "X-Token": "a\r\nInjected: 1" } }, "headers.X-Token"],
      [{ baseUrl: HOOKS, headers: { "Content-Type": "text/xml" } }, "headers.Content-Type"],
    ];
    for (const [body, path] of bad) {
      const r = await call(url, { auth: p.auth, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.details.issues.map((i: { path: string }) => i.path), JSON.stringify(body)).toContain(path);
      expect(JSON.stringify(r.body)).not.toContain("pw@");
    }
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, "v"]));
    expect((await call(url, { auth: p.auth, body: { baseUrl: HOOKS, headers: many } })).status).toBe(400);
    expect((await call(url, { auth: p.auth })).status).toBe(404);
  });
});

describe("deliveries on the wire", () => {
  it("sends install, uninstall and personalize to Airship's paths with exactly its fields, signed", async () => {
    const { p, t, secret } = await registered();
    const pass = await newPass(p, t, "wire-1");
    const { calls } = mockReceiver();
    await testSend(p, "install", pass.id);
    await testSend(p, "uninstall", pass.id);
    await testSend(p, "personalize", pass.id);
    await until(() => calls.length === 3);

    expect(calls.map((c) => c.url)).toEqual([
      `${HOOKS}/v1/pass/install`,
      `${HOOKS}/v1/pass/uninstall`,
      `${HOOKS}/v1/pass/${pass.id}/personalize`,
    ]);
    const expected = {
      passId: pass.id,
      templateId: t,
      serialNumber: pass.serialNumber,
      createdAt: pass.createdAt,
      updatedAt: pass.updatedAt,
      externalId: "wire-1",
      platform: "ios",
    };
    expect(calls[0].json).toEqual(expected);
    expect(Object.keys(calls[0].json)).toEqual(["passId", "templateId", "serialNumber", "createdAt", "updatedAt", "externalId", "platform"]);
    expect(calls[1].json).toEqual(expected);
    expect(calls[2].json).toMatchObject({ ...expected, fullName: "Test Holder", emailAddress: "holder@example.com" });
    expect(typeof calls[0].json.passId).toBe("number");
    expect(calls[0].json.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    for (const c of calls) {
      expect(c.headers["content-type"]).toBe("application/json");
      expect(c.headers.authorization).toBe(AUTH);
      expect(c.headers["webhook-id"]).toMatch(/^msg_/);
      expect(verify(secret, c)).toEqual(c.json);
    }
    expect(() => verify("whsec_" + btoa("some other secret of 32 bytes..."), calls[0])).toThrow();
    const log = await delivery(p, calls[0].headers["webhook-id"]);
    expect(log).toMatchObject({ status: "succeeded", test: true, attempts: 1, event: "install" });
    expect(log.attemptLog[0]).toMatchObject({ attempt: 1, statusCode: 200, response: "ok", error: null });
  });

  it("signs with both secrets for 24 h after a rotation", async () => {
    const { p, t, secret: old } = await registered();
    const pass = await newPass(p, t, "rot");
    const rot = await call(`/v1/project/${p.id}/settings/callback/rotate-secret`, { method: "POST", auth: p.auth });
    expect(rot.status).toBe(200);
    const fresh = rot.body.signingSecret as string;
    expect(fresh).not.toBe(old);
    const { calls } = mockReceiver();
    await testSend(p, "install", pass.id);
    await until(() => calls.length === 1);
    expect(calls[0].headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(verify(fresh, calls[0])).toEqual(calls[0].json);
    expect(verify(old, calls[0])).toEqual(calls[0].json);
  });

  it("emits real holder events from a pass, logs them, and delivers only when a server is registered", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "real");
    expect(await emitHolderEvent(workerEnv, pass.id, { event: "install", platform: "android", source: "google" })).toBeNull();
    await call(`/v1/project/${p.id}/settings/callback`, { auth: p.auth, body: { baseUrl: HOOKS } });
    const { calls } = mockReceiver();
    const id = await emitHolderEvent(workerEnv, pass.id, { event: "uninstall", platform: "android", source: "google" });
    expect(id).toMatch(/^msg_/);
    await until(() => calls.length === 1);
    expect(calls[0].json.platform).toBe("android");
    expect((await delivery(p, id!)).test).toBe(false);
    const events = (await history(p, pass.id)).filter((e) => e.kind === "holder").map(({ kind, action, source, changes }) => ({ kind, action, source, changes }));
    expect(events).toEqual([
      { kind: "holder", action: "install", source: "google", changes: { platform: "android" } },
      { kind: "holder", action: "uninstall", source: "google", changes: { platform: "android" } },
    ]);
  });

  it("test-sends only for the project's own passes and a registered server", async () => {
    const p = await newProject();
    const t = await newTemplate(p);
    const pass = await newPass(p, t, "nt");
    const body = { event: "install", passId: pass.id };
    expect((await call(`/v1/project/${p.id}/settings/callback/test`, { auth: p.auth, body })).status).toBe(404);
    const { p: other } = await registered();
    expect((await call(`/v1/project/${other.id}/settings/callback/test`, { auth: other.auth, body })).status).toBe(404);
    expect((await call(`/v1/project/${other.id}/settings/callback/test`, { auth: other.auth, body: { event: "opened", passId: 1 } })).status).toBe(400);
  });
});

describe("retries", () => {
  /** A pending delivery consumed directly, so the delays asked of the queue can be read. */
  async function pendingDelivery(tries: number) {
    const { p, t } = await registered();
    const pass = await newPass(p, t, `sched-${tries}-${crypto.randomUUID()}`);
    const id = `msg_sched${crypto.randomUUID().replace(/-/g, "")}`;
    await env.DB.prepare(
      `insert into deliveries (id, project_id, pass_id, event, payload, status, is_test, attempt_count, tries, next_attempt_at, created_at, updated_at)
       values (?, ?, ?, 'install', '{}', 'pending', 0, ?, ?, 0, 0, 0)`,
    )
      .bind(id, p.id, pass.id, tries, tries)
      .run();
    return { p, t, id };
  }

  /** Runs one attempt through the consumer; the queue it re-sends on is a spy, to read the delays asked for. */
  async function consumeOnce(id: string, random: number, schedule = "", timeoutMs?: number) {
    const row = await env.DB.prepare("select attempt_count from deliveries where id = ?").bind(id).first<{ attempt_count: number }>();
    const attempt = row!.attempt_count + 1;
    const batch = createMessageBatch<DeliveryTask>("passhook-callbacks", [{ id: "m1", timestamp: new Date(), attempts: 1, body: { deliveryId: id, attempt } }]);
    const retry = vi.spyOn(batch.messages[0], "retry");
    const ack = vi.spyOn(batch.messages[0], "ack");
    const send = vi.fn(async () => undefined);
    const queue = { send, sendBatch: vi.fn() } as unknown as Queue;
    await consumeCallbacks(batch, { ...env, CALLBACK_RETRY_SCHEDULE: schedule, CALLBACKS_QUEUE: queue }, { random: () => random, timeoutMs });
    /** The delay of the re-send, or null when none was asked for. */
    const delay = send.mock.calls.length ? (send.mock.calls[0] as unknown as [DeliveryTask, { delaySeconds: number }])[1].delaySeconds : null;
    if (send.mock.calls.length) expect((send.mock.calls[0] as unknown as [DeliveryTask])[0]).toEqual({ deliveryId: id, attempt: attempt + 1 });
    return { retry, ack, delay };
  }

  it("asks the queue for Svix's delays: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then gives up", async () => {
    mockReceiver(() => new Response("down", { status: 500 }));
    const expected = [5, 300, 1800, 7200, 18000, 36000, 36000];
    for (let tries = 0; tries < 7; tries++) {
      const { id } = await pendingDelivery(tries);
      const { retry, ack, delay } = await consumeOnce(id, 0.5);
      expect(delay).toBe(expected[tries]);
      // A new delayed message, not msg.retry(): the queue's retry budget is kept for our own crashes.
      expect(retry).not.toHaveBeenCalled();
      expect(ack).toHaveBeenCalled();
    }
    const { p, id } = await pendingDelivery(7);
    const { retry, ack, delay } = await consumeOnce(id, 0.5);
    expect(delay).toBeNull();
    expect(retry).not.toHaveBeenCalled();
    expect(ack).toHaveBeenCalled();
    expect((await delivery(p, id)).status).toBe("failed");
  });

  it("keeps jitter within ±20 %", async () => {
    mockReceiver(() => new Response("down", { status: 502 }));
    expect((await consumeOnce((await pendingDelivery(1)).id, 0)).delay).toBe(240);
    expect((await consumeOnce((await pendingDelivery(1)).id, 0.999999)).delay).toBe(360);
  });

  it("honours Retry-After on 429 and 503, capped, and not on 500", async () => {
    mockReceiver(() => new Response("slow down", { status: 429, headers: { "retry-after": "120" } }));
    expect((await consumeOnce((await pendingDelivery(0)).id, 0.5)).delay).toBe(120);
    vi.restoreAllMocks();
    mockReceiver(() => new Response("", { status: 503, headers: { "retry-after": String(48 * 3600) } }));
    expect((await consumeOnce((await pendingDelivery(0)).id, 0.5)).delay).toBe(6 * 3600);
    vi.restoreAllMocks();
    mockReceiver(() => new Response("", { status: 500, headers: { "retry-after": "600" } }));
    expect((await consumeOnce((await pendingDelivery(0)).id, 0.5)).delay).toBe(5);
  });

  it("drops a duplicate or overtaken message without sending", async () => {
    const { calls } = mockReceiver();
    const { p, id } = await pendingDelivery(2);
    const batch = createMessageBatch<DeliveryTask>("passhook-callbacks", [
      { id: "old", timestamp: new Date(), attempts: 1, body: { deliveryId: id, attempt: 2 } },
      { id: "ahead", timestamp: new Date(), attempts: 1, body: { deliveryId: id, attempt: 9 } },
    ]);
    const acks = batch.messages.map((m) => vi.spyOn(m, "ack"));
    await consumeCallbacks(batch, env);
    expect(calls).toHaveLength(0);
    expect(acks.every((a) => a.mock.calls.length === 1)).toBe(true);
    expect((await delivery(p, id)).attempts).toBe(2);
  });

  it("retries until the last attempt, then marks the delivery failed and keeps its record", async () => {
    const { p, t } = await registered();
    const pass = await newPass(p, t, "dead");
    const { calls } = mockReceiver(() => new Response("nope", { status: 500 }));
    const id = await testSend(p, "install", pass.id);
    await until(async () => (await delivery(p, id)).status === "failed");
    const d = await delivery(p, id);
    expect(calls).toHaveLength(8); // 1 + 7 retries (the test schedule has no waits)
    expect(new Set(calls.map((c) => c.headers["webhook-id"]))).toEqual(new Set([id]));
    expect(d).toMatchObject({ attempts: 8, lastStatusCode: 500, lastError: "HTTP 500" });
    expect(d.attemptLog.map((a: { attempt: number }) => a.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(d.attemptLog[7]).toMatchObject({ statusCode: 500, response: "nope" });
    // Parked: the dead-letter queue's consumer took the task and stamped the kept record.
    await until(async () => (await delivery(p, id)).deadLetteredAt !== null);
    const failed = await call(`/v1/project/${p.id}/callbacks/deliveries?status=failed`, { auth: p.auth });
    expect(failed.body.deliveries.map((x: { id: string }) => x.id)).toEqual([id]);
  });

  it("backs off on our own failures and never fails a delivery for them", async () => {
    const { p, id } = await pendingDelivery(0);
    const { calls } = mockReceiver();
    // Our side breaks (the stored headers no longer decrypt): every consumption throws before sending.
    await env.DB.prepare("update callback_settings set headers_enc = 'v1.AAAAAAAAAAAAAAAA.AAAA' where project_id = ?").bind(p.id).run();
    const quiet = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const delays: number[] = [];
    for (const attempts of [1, 2, 5, 9, 30]) {
      const batch = createMessageBatch<DeliveryTask>("passhook-callbacks", [{ id: `c${attempts}`, timestamp: new Date(), attempts, body: { deliveryId: id, attempt: 1 } }]);
      const retry = vi.spyOn(batch.messages[0], "retry");
      await consumeCallbacks(batch, env, { random: () => 0.5 });
      delays.push((retry.mock.calls[0] as unknown as [{ delaySeconds: number }])[0].delaySeconds);
    }
    // 30 s doubling, capped at 2 h (the queue's max_retries of 30 spans about two days).
    expect(delays).toEqual([30, 60, 480, 7200, 7200]);
    expect(quiet.mock.calls.map((c) => String(c[0]))).toSatisfy((lines: string[]) => lines.every((l) => l.includes("callback consumer error; retrying")));
    expect((await delivery(p, id)).status).toBe("pending");
    expect(calls.filter((c) => c.headers["webhook-id"] === id)).toHaveLength(0);

    // The queue gives up and dead-letters the task: the delivery stays pending, with a note, for the sweep.
    await consumeDeadLetters(createMessageBatch<DeliveryTask>("passhook-callbacks-dlq", [{ id: "d", timestamp: new Date(), attempts: 1, body: { deliveryId: id, attempt: 1 } }]), env);
    const parked = await delivery(p, id);
    expect(parked.status).toBe("pending");
    expect(parked.lastError).toContain("sweep");
    quiet.mockRestore();

    // Our side heals (registering again re-encrypts the headers); the cron sweep sends it, and it lands.
    expect((await call(`/v1/project/${p.id}/settings/callback`, { auth: p.auth, body: { baseUrl: HOOKS, headers: { Authorization: AUTH } } })).status).toBe(200);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "*/5 * * * *", scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    await until(async () => (await delivery(p, id)).status === "succeeded");
    // (Other tests' pending rows are overdue too; this delivery was sent exactly once.)
    expect(calls.filter((c) => c.headers["webhook-id"] === id)).toHaveLength(1);
  });

  it("does not let a parked task fail a delivery that was resent meanwhile", async () => {
    const { p, id } = await pendingDelivery(8); // resent after 8 attempts: pending again, waiting for attempt 9
    const batch = createMessageBatch<DeliveryTask>("passhook-callbacks-dlq", [
      { id: "parked", timestamp: new Date(), attempts: 1, body: { deliveryId: id, attempt: 8, parked: true } },
    ]);
    await consumeDeadLetters(batch, env);
    expect((await delivery(p, id)).status).toBe("pending");
    expect((await delivery(p, id)).deadLetteredAt).toBeNull();
  });

  it("disables the registration on 410 until the project registers again", async () => {
    const { p, t } = await registered();
    const pass = await newPass(p, t, "gone");
    const { calls } = mockReceiver(() => new Response("", { status: 410 }));
    const first = await testSend(p, "install", pass.id);
    await until(async () => (await delivery(p, first)).status === "failed");
    expect(calls).toHaveLength(1);
    const settings = await call(`/v1/project/${p.id}/settings/callback`, { auth: p.auth });
    expect(settings.body).toMatchObject({ enabled: false, disabledReason: expect.stringContaining("410") });
    // Two more for the same pass: each fails at once, and the second is not stuck behind the first.
    const second = await testSend(p, "uninstall", pass.id);
    const third = await testSend(p, "install", pass.id);
    await until(async () => (await delivery(p, third)).status === "failed");
    expect(calls).toHaveLength(1);
    expect((await delivery(p, second)).lastError).toContain("disabled");
    expect((await delivery(p, third)).lastError).toContain("disabled");
    await call(`/v1/project/${p.id}/settings/callback`, { auth: p.auth, body: { baseUrl: HOOKS } });
    expect((await call(`/v1/project/${p.id}/settings/callback`, { auth: p.auth })).body.enabled).toBe(true);
  });

  it("aborts an attempt at the timeout, and records network errors and the first KiB of a response", async () => {
    const { p, t, id } = await pendingDelivery(0);
    // A server that never answers: only the consumer's AbortSignal can end the attempt.
    vi.spyOn(globalThis, "fetch").mockImplementation(
      (_input: RequestInfo | URL, init?: RequestInit) =>
        new Promise<Response>((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason))),
    );
    await consumeOnce(id, 0.5, "", 50);
    const d = await delivery(p, id);
    expect(d.attemptLog[0].error).toBe("timed out after 0.05 s");
    expect(d.attemptLog[0].durationMs).toBeGreaterThanOrEqual(40);
    vi.restoreAllMocks();

    let n = 0;
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => {
      n++;
      if (n === 1) throw new TypeError("connection refused");
      return new Response("x".repeat(5000), { status: 500 });
    });
    // Another pass: the first one's delivery is still pending (its retry went to the stub queue), and
    // per-pass order would rightly hold this one behind it.
    const other = await newPass(p, t, "slow-2");
    const live = await testSend(p, "install", other.id);
    await until(async () => (await delivery(p, live)).attempts >= 2);
    const log = (await delivery(p, live)).attemptLog;
    expect(log[0].error).toBe("network error: connection refused");
    expect(log[1].response).toBe("x".repeat(1024));
    // Let its remaining (immediate, in tests) retries run out here rather than in the next test.
    await until(async () => (await delivery(p, live)).status === "failed");
  });

  it("stops signing with the old secret 24 hours after a rotation", async () => {
    const { p, t, secret: old } = await registered();
    const pass = await newPass(p, t, "rot-expired");
    const fresh = (await call(`/v1/project/${p.id}/settings/callback/rotate-secret`, { method: "POST", auth: p.auth })).body.signingSecret;
    await env.DB.prepare("update callback_settings set previous_secret_expires_at = ? where project_id = ?").bind(Date.now() - 1000, p.id).run();
    const { calls } = mockReceiver();
    const id = await testSend(p, "install", pass.id);
    await until(() => calls.some((c) => c.headers["webhook-id"] === id));
    const ours = calls.find((c) => c.headers["webhook-id"] === id)!;
    expect(ours.headers["webhook-signature"].split(" ")).toHaveLength(1);
    expect(verify(fresh, ours)).toEqual(ours.json);
    expect(() => verify(old, ours)).toThrow();
  });
});

describe("resend and recover", () => {
  it("resends one delivery and recovers every failed one since a time", async () => {
    const { p, t, secret } = await registered();
    const a = await newPass(p, t, "rec-a");
    const b = await newPass(p, t, "rec-b");
    let up = false;
    const { calls } = mockReceiver(() => new Response(up ? "ok" : "down", { status: up ? 200 : 503 }));
    const since = new Date(Date.now() - 1000).toISOString();
    const ids = [await testSend(p, "install", a.id), await testSend(p, "install", b.id), await testSend(p, "uninstall", a.id)];
    await until(async () => {
      const r = await call(`/v1/project/${p.id}/callbacks/deliveries?status=failed`, { auth: p.auth });
      return r.body.deliveries.length === 3;
    });
    up = true;
    const before = calls.length;
    const resent = await call(`/v1/project/${p.id}/callbacks/deliveries/${ids[1]}/resend`, { method: "POST", auth: p.auth });
    expect(resent.status).toBe(202);
    await until(async () => (await delivery(p, ids[1])).status === "succeeded");
    expect(calls.length).toBe(before + 1);
    expect(calls[calls.length - 1].headers["webhook-id"]).toBe(ids[1]);
    expect(verify(secret, calls[calls.length - 1])).toBeTruthy();
    expect((await call(`/v1/project/${p.id}/callbacks/deliveries/${ids[1]}/resend`, { method: "POST", auth: p.auth })).status).toBe(202);

    const rec = await call(`/v1/project/${p.id}/callbacks/recover`, { auth: p.auth, body: { since } });
    expect(rec.status).toBe(202);
    expect(rec.body.recovered).toBe(2);
    await until(async () => (await delivery(p, ids[0])).status === "succeeded" && (await delivery(p, ids[2])).status === "succeeded");
    // Recovery keeps per-pass order: pass A's install before its uninstall.
    const aCalls = calls.filter((c) => c.json.passId === a.id && c.headers["webhook-id"] !== undefined).slice(-2);
    expect(aCalls.map((c) => c.path)).toEqual(["/passhook/v1/pass/install", "/passhook/v1/pass/uninstall"]);
    expect((await call(`/v1/project/${p.id}/callbacks/recover`, { auth: p.auth, body: { since: "yesterday" } })).status).toBe(400);
    expect((await call(`/v1/project/${p.id}/callbacks/deliveries/msg_nope/resend`, { method: "POST", auth: p.auth })).status).toBe(404);
  });
});

describe("per-pass order", () => {
  it("holds a later event until the earlier one has succeeded, after two failures", async () => {
    const { p, t } = await registered();
    const pass = await newPass(p, t, "order");
    let installTries = 0;
    const { calls } = mockReceiver((r) => {
      if (r.path.endsWith("/install") && ++installTries <= 2) return new Response("busy", { status: 500 });
      return new Response("ok");
    });
    const install = await testSend(p, "install", pass.id);
    const uninstall = await testSend(p, "uninstall", pass.id);
    await until(() => calls.length === 4);
    expect(calls.map((c) => `${c.path.split("/").pop()}:${c.headers["webhook-id"] === install ? "1" : "2"}`)).toEqual([
      "install:1",
      "install:1",
      "install:1",
      "uninstall:2",
    ]);
    expect((await delivery(p, install)).attempts).toBe(3);
    expect((await delivery(p, uninstall)).attempts).toBe(1);
  });

  it("delivers different passes in parallel", async () => {
    const { p, t } = await registered();
    const a = await newPass(p, t, "par-a");
    const b = await newPass(p, t, "par-b");
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { calls } = mockReceiver(async (r) => {
      if (r.json.externalId === "par-a") await held;
      return new Response("ok");
    });
    const da = await testSend(p, "install", a.id);
    const db = await testSend(p, "install", b.id);
    await until(async () => (await delivery(p, db)).status === "succeeded");
    expect((await delivery(p, da)).status).toBe("pending");
    release();
    await until(async () => (await delivery(p, da)).status === "succeeded");
    expect(calls.map((c) => c.json.externalId)).toEqual(["par-a", "par-b"]);
  });
});

describe("delivery log", () => {
  it("lists newest first with a cursor and hides other projects' deliveries", async () => {
    const { p, t } = await registered();
    const pass = await newPass(p, t, "log");
    mockReceiver();
    const ids: string[] = [];
    for (const e of ["install", "uninstall", "install"]) ids.push(await testSend(p, e, pass.id));
    await until(async () => (await delivery(p, ids[2])).status === "succeeded");
    const page1 = await call(`/v1/project/${p.id}/callbacks/deliveries?limit=2`, { auth: p.auth });
    expect(page1.body.deliveries.map((d: { id: string }) => d.id)).toEqual([ids[2], ids[1]]);
    const page2 = await call(`/v1/project/${p.id}/callbacks/deliveries?limit=2&cursor=${page1.body.nextCursor}`, { auth: p.auth });
    expect(page2.body.deliveries.map((d: { id: string }) => d.id)).toEqual([ids[0]]);
    expect(page2.body.nextCursor).toBeNull();
    expect((await call(`/v1/project/${p.id}/callbacks/deliveries?status=bogus`, { auth: p.auth })).status).toBe(400);
    const other = await newProject();
    expect((await call(`/v1/project/${other.id}/callbacks/deliveries/${ids[0]}`, { auth: other.auth })).status).toBe(404);
    expect((await call(`/v1/project/${p.id}/callbacks/deliveries/${ids[0]}`, { auth: other.auth })).status).toBe(404);
  });
});

describe("cron sweep", () => {
  async function cron() {
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "*/5 * * * *", scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
  }

  it("re-sends a pending delivery whose queue task was lost, and pumps a stalled pass", async () => {
    const { p, t } = await registered();
    const lost = await newPass(p, t, "lost-task");
    const stalled = await newPass(p, t, "stalled");
    const old = Date.now() - 60 * 60 * 1000;
    const insert = (id: string, passId: number, status: string) =>
      env.DB.prepare(
        `insert into deliveries (id, project_id, pass_id, event, payload, status, is_test, attempt_count, tries, next_attempt_at, created_at, updated_at)
         values (?, ?, ?, 'install', ?, ?, 1, 0, 0, ?, ?, ?)`,
      )
        .bind(id, p.id, passId, JSON.stringify({ passId, templateId: t, externalId: "x", platform: "ios" }), status, status === "pending" ? old : null, old, old)
        .run();
    await insert("msg_losttask", lost.id, "pending"); // due an hour ago, no queue message exists
    await insert("msg_stalled", stalled.id, "waiting"); // waiting, nothing in flight, never claimed
    const { calls } = mockReceiver();
    await cron();
    // Other tests in this file leave overdue rows too; the sweep re-sends those as well.
    const ours = () => calls.map((c) => c.headers["webhook-id"]).filter((id) => id === "msg_losttask" || id === "msg_stalled");
    await until(() => ours().length === 2);
    expect(ours().sort()).toEqual(["msg_losttask", "msg_stalled"]);
    await until(async () => (await delivery(p, "msg_losttask")).status === "succeeded" && (await delivery(p, "msg_stalled")).status === "succeeded");
  });

  it("drops settled deliveries and their attempts after 30 days, keeping recent ones", async () => {
    const { p, t } = await registered();
    const pass = await newPass(p, t, "retention");
    mockReceiver();
    const recent = await testSend(p, "install", pass.id);
    await until(async () => (await delivery(p, recent)).status === "succeeded");
    const ancient = Date.now() - 31 * 24 * 3600 * 1000;
    await env.DB.batch([
      env.DB.prepare(
        `insert into deliveries (id, project_id, pass_id, event, payload, status, is_test, attempt_count, tries, created_at, updated_at, completed_at)
         values ('msg_ancient', ?, ?, 'install', '{}', 'failed', 0, 1, 1, ?, ?, ?)`,
      ).bind(p.id, pass.id, ancient, ancient, ancient),
      env.DB.prepare(`insert into delivery_attempts (id, delivery_id, attempt, at, status_code, duration_ms) values ('atm_ancient', 'msg_ancient', 1, ?, 500, 3)`).bind(ancient),
    ]);
    await cron();
    expect((await call(`/v1/project/${p.id}/callbacks/deliveries/msg_ancient`, { auth: p.auth })).status).toBe(404);
    const attempts = await env.DB.prepare("select count(*) as n from delivery_attempts where delivery_id = 'msg_ancient'").first<{ n: number }>();
    expect(attempts?.n).toBe(0);
    expect((await delivery(p, recent)).status).toBe("succeeded");
  });
});
