/**
 * Google Wallet pushes end to end (issue 14 §2, §3, §7; google-wallet.md §1-§3): a template save
 * writes its class (insert; 409 -> update), a pass create inserts its object, every change PATCHes
 * it with the state for its status, watched fields notify within Google's daily cap, a template edit
 * re-shows its objects. Access tokens are checked with jose against the service account's public
 * key and reused. The queue consumer is also driven directly: 429/5xx retries with the delay asked
 * of the queue, other 4xx fail the job with Google's message, the dead-letter consumer keeps the
 * failed record. Google is the shared fake (scripts/lib/google-fake-core.ts) behind a fetch spy.
 */
import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { decodeJwt, jwtVerify } from "jose";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { FakeRequestLog } from "../scripts/lib/google-fake-core";
import { consumeGoogleDeadLetters, consumeGoogleSync } from "../src/google";
import { passSubject, requestWalletPush, templateSubject, type WalletTask } from "../src/passes";
import { call, newPass, newProject, workerEnv } from "./support/http";
import { classIdOf, googleJob, googleObjectRow, googleProject, googleWorld, EMAIL, objectIdOf, type GoogleWorld } from "./support/google";
import { until } from "./support/receiver";

let w: GoogleWorld & { install: () => void };

beforeAll(async () => {
  w = await googleWorld();
});
beforeEach(() => w.install());
afterEach(() => vi.restoreAllMocks());

const requestsFor = (id: string): FakeRequestLog[] => w.fake.requests.filter((r) => r.path.includes(encodeURIComponent(id)) || (r.body as { id?: string } | null)?.id === id);
const objectOf = (projectId: string, passId: number) => w.fake.object("loyaltyObject", objectIdOf(projectId, passId));
const done = async (subject: string) => until(async () => (await googleJob(subject))?.state === "done");

/** A task for a job recorded without sending a message, so the test drives the consumer itself. */
async function dueTask(projectId: string, subject: string): Promise<WalletTask> {
  const noQueue = { send: async () => undefined, sendBatch: async () => undefined } as unknown as Queue;
  await requestWalletPush(workerEnv, noQueue, { wallet: "google", subject, projectId, wantedAt: Date.now() + 1 });
  return { wallet: "google", subject };
}

function batchOf(task: WalletTask, attempts = 1) {
  const batch = createMessageBatch<WalletTask>("passhook-google", [{ id: `m-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body: task }]);
  return { batch, retry: vi.spyOn(batch.messages[0], "retry"), ack: vi.spyOn(batch.messages[0], "ack") };
}

describe("classes", () => {
  it("a template save inserts its class; a later save updates it after Google's 409", async () => {
    const { p, t } = await googleProject(w);
    const classId = classIdOf(p.id, t);
    await until(() => w.fake.object("loyaltyClass", classId) !== undefined);
    await done(templateSubject(t));
    const cls = w.fake.object("loyaltyClass", classId)!;
    expect(cls).toMatchObject({ issuerName: "Demo Shop", programName: "Loyalty", reviewStatus: "UNDER_REVIEW", callbackOptions: { url: "https://passhook.test/google/callback" } });
    expect(cls.programLogo).toMatchObject({ sourceUri: { uri: "https://passhook.test/static/google/default-logo.png" } });

    const r = await call(`/v1/template/${t}`, {
      method: "PUT",
      auth: p.auth,
      body: { name: "Gold club", passType: "loyalty", fields: [{ key: "name", label: "Member", type: "text", required: true }], google: { hexBackgroundColor: "#112233" } },
    });
    expect(r.status).toBe(200);
    await until(() => w.fake.object("loyaltyClass", classId)?.programName === "Gold club");
    const writes = requestsFor(classId).map((q) => `${q.method} ${q.status}`);
    expect(writes).toEqual(["POST 200", "POST 409", "PUT 200"]);
    expect(w.fake.object("loyaltyClass", classId)).toMatchObject({ hexBackgroundColor: "#112233", reviewStatus: "UNDER_REVIEW" });
  });

  it("refuses a google design that names a missing field, with its path, and writes nothing", async () => {
    const { p } = await googleProject(w);
    const before = w.fake.requests.length;
    const r = await call(`/v1/project/${p.id}/templates`, {
      auth: p.auth,
      body: { name: "Bad", passType: "loyalty", fields: [{ key: "name", label: "Name", type: "text" }], google: { loyalty: { pointsField: "points" }, __proto__: { x: 1 } } },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.details.issues.map((i: { path: string }) => i.path)).toContain("google.loyalty.pointsField");
    const hostile = await call(`/v1/project/${p.id}/templates`, {
      auth: p.auth,
      raw: JSON.stringify({ name: "Bad", passType: "loyalty", fields: [], google: JSON.parse('{"constructor": {"x": 1}}') }),
      headers: { "content-type": "application/json" },
    });
    expect(hostile.status).toBe(400);
    expect((await call(`/v1/project/${p.id}/templates`, { auth: p.auth })).body.templates).toHaveLength(1);
    expect(w.fake.requests.length).toBe(before);
  });
});

describe("objects", () => {
  it("a pass create inserts its object; each status change PATCHes the mapped state", async () => {
    const { p, t } = await googleProject(w);
    const cases: { to: string; state: string }[] = [
      { to: "expired", state: "EXPIRED" },
      { to: "voided", state: "INACTIVE" },
      { to: "redeemed", state: "COMPLETED" },
      { to: "archived", state: "INACTIVE" },
    ];
    for (const c of cases) {
      const pass = await newPass(p, t, `state-${c.to}`, { name: "Ada", points: 5 });
      const id = objectIdOf(p.id, pass.id);
      await until(() => objectOf(p.id, pass.id)?.state === "ACTIVE");
      await done(passSubject(pass.id));
      expect(requestsFor(id)[0]).toMatchObject({ method: "POST", status: 200 });
      expect(objectOf(p.id, pass.id)).toMatchObject({ classId: classIdOf(p.id, t), textModulesData: expect.arrayContaining([{ id: "points", header: "Points", body: "5" }]) });

      const r = c.to === "archived" ? await call(`/v1/pass/${pass.id}`, { method: "DELETE", auth: p.auth }) : await call(`/v1/pass/${pass.id}/status`, { auth: p.auth, body: { status: c.to } });
      expect(r.status).toBe(200);
      await until(() => objectOf(p.id, pass.id)?.state === c.state);
      const patch = requestsFor(id).find((q) => q.method === "PATCH" && (q.body as { state?: string }).state === c.state);
      expect(patch, c.to).toMatchObject({ status: 200 });
      await done(passSubject(pass.id));
    }
    // expired -> active again.
    const back = await newPass(p, t, "state-back", { name: "Bo" });
    await until(() => objectOf(p.id, back.id)?.state === "ACTIVE");
    await call(`/v1/pass/${back.id}/status`, { auth: p.auth, body: { status: "expired" } });
    await until(() => objectOf(p.id, back.id)?.state === "EXPIRED");
    await done(passSubject(back.id));
    await call(`/v1/pass/${back.id}/status`, { auth: p.auth, body: { status: "active" } });
    await until(() => objectOf(p.id, back.id)?.state === "ACTIVE");
  });

  it("a field change PATCHes the current state; watched fields notify, at most 3 times a day", async () => {
    const { p, t } = await googleProject(w, {
      template: {
        name: "Points card",
        passType: "loyalty",
        fields: [
          { key: "name", label: "Member", type: "text", required: true },
          { key: "points", label: "Points", type: "number", default: 0 },
          { key: "tier", label: "Tier", type: "text" },
        ],
        google: { loyalty: { accountNameField: "name", pointsField: "points" }, notifyOnChange: ["points"] },
      },
    });
    const pass = await newPass(p, t, "notify-1", { name: "Ada", points: 10 });
    const id = objectIdOf(p.id, pass.id);
    await until(() => objectOf(p.id, pass.id) !== undefined);
    await done(passSubject(pass.id));

    // A field nobody watches: a PATCH, no message.
    await call(`/v1/pass/${pass.id}`, { method: "PUT", auth: p.auth, body: { fields: { tier: "gold" } } });
    await until(() => JSON.stringify(objectOf(p.id, pass.id)?.textModulesData ?? []).includes("gold"));
    await done(passSubject(pass.id));
    expect(requestsFor(id).filter((q) => q.path.endsWith("/addMessage"))).toHaveLength(0);

    for (const points of [20, 30, 40, 50]) {
      await call(`/v1/pass/${pass.id}`, { method: "PUT", auth: p.auth, body: { fields: { points } } });
      await until(() => (objectOf(p.id, pass.id)?.loyaltyPoints as { balance: { int: number } } | undefined)?.balance.int === points);
      await done(passSubject(pass.id));
    }
    const messages = requestsFor(id)
      .filter((q) => q.path.endsWith("/addMessage"))
      .map((q) => (q.body as { message: { messageType: string; body: string } }).message);
    expect(messages.map((m) => m.messageType)).toEqual(["TEXT_AND_NOTIFY", "TEXT_AND_NOTIFY", "TEXT_AND_NOTIFY", "TEXT"]);
    expect(messages.map((m) => m.body)).toEqual(["Points: 20", "Points: 30", "Points: 40", "Points: 50"]);
    // Each PATCH before a message clears the old ones: the pass shows the latest notice only.
    expect(objectOf(p.id, pass.id)?.messages).toHaveLength(1);
    const row = await googleObjectRow(pass.id);
    expect(JSON.parse(String(row?.notify_sent_at))).toHaveLength(3);
  });

  it("falls back to a plain message when Google refuses the notification (QuotaExceededException)", async () => {
    const { p, t } = await googleProject(w, {
      template: { name: "Quota card", passType: "loyalty", fields: [{ key: "name", label: "Member", type: "text" }, { key: "points", label: "Points", type: "number" }], google: { notifyOnChange: ["points"] } },
    });
    const pass = await newPass(p, t, "quota-1", { name: "Ada", points: 1 });
    await done(passSubject(pass.id));
    const id = objectIdOf(p.id, pass.id);
    w.fake.failNext("POST", new RegExp(`${id.replace(/\./g, "\\.")}/addMessage$`), () =>
      w.fake.googleError(429, "QuotaExceededException: notification quota for this object exhausted", "quotaExceeded", "RESOURCE_EXHAUSTED"),
    );
    await call(`/v1/pass/${pass.id}`, { method: "PUT", auth: p.auth, body: { fields: { points: 2 } } });
    await until(async () => (await googleObjectRow(pass.id))?.pushed_version === 2);
    const adds = requestsFor(id).filter((q) => q.path.endsWith("/addMessage"));
    expect(adds.map((q) => [(q.body as { message: { messageType: string } }).message.messageType, q.status])).toEqual([
      ["TEXT_AND_NOTIFY", 429],
      ["TEXT", 200],
    ]);
    expect(JSON.parse(String((await googleObjectRow(pass.id))?.notify_sent_at))).toEqual([]);
  });

  it("rapid changes coalesce: the pushes end on the pass's latest state", async () => {
    const { p, t } = await googleProject(w);
    const pass = await newPass(p, t, "burst-1", { name: "Ada", points: 0 });
    await Promise.all(Array.from({ length: 8 }, (_, i) => call(`/v1/pass/${pass.id}`, { method: "PUT", auth: p.auth, body: { fields: { counter: i + 1 } } })));
    const latest = (await call(`/v1/pass/${pass.id}`, { auth: p.auth })).body;
    await until(async () => (await googleJob(passSubject(pass.id)))?.state === "done" && (await googleObjectRow(pass.id))?.pushed_version === latest.version);
    const counter = (objectOf(p.id, pass.id)?.textModulesData as { id: string; body: string }[]).find((m) => m.id === "counter");
    expect(counter?.body).toBe(String(latest.fields.counter));
  });

  it("a template edit re-shows the template's objects (new labels reach every pass)", async () => {
    const { p, t } = await googleProject(w);
    const passes = await Promise.all([1, 2, 3].map((i) => newPass(p, t, `relabel-${i}`, { name: `N${i}`, tier: "gold" })));
    for (const pass of passes) await until(async () => (await googleObjectRow(pass.id))?.inserted_at != null);
    const fields = [
      { key: "name", label: "Member", type: "text", required: true },
      { key: "tier", label: "Status level", type: "text" },
    ];
    expect((await call(`/v1/template/${t}`, { method: "PUT", auth: p.auth, body: { name: "Loyalty", passType: "loyalty", fields } })).status).toBe(200);
    for (const pass of passes) {
      await until(() => JSON.stringify(objectOf(p.id, pass.id)?.textModulesData ?? []).includes("Status level"));
    }
  });

  it("a template fan-out pages through one D1 batch and one queue batch per page; a late duplicate of a page message runs no page twice", async () => {
    const { p, t } = await googleProject(w);
    await done(templateSubject(t));
    // 250 passes whose objects Google has (rows written directly: the fan-out only reads them).
    const base = 900_000 + Math.floor(Math.random() * 1000) * 1000;
    const ids = Array.from({ length: 250 }, (_, i) => base + i + 1);
    const now = Date.now();
    await env.DB.batch(
      ids.flatMap((id) => [
        env.DB.prepare(
          "insert into passes (id, project_id, template_id, external_id, serial_number, authentication_token, status, fields, version, created_at, updated_at) values (?, ?, ?, ?, ?, 'unused-token-unused-1', 'active', '{}', 1, ?, ?)",
        ).bind(id, p.id, t, `fan-${id}`, `fan-serial-${id}`, now, now),
        env.DB.prepare("insert into google_objects (pass_id, project_id, template_id, inserted_at, created_at, updated_at) values (?, ?, ?, ?, ?, ?)").bind(id, p.id, t, now, now, now),
      ]),
    );
    const task = await dueTask(p.id, templateSubject(t));

    /** A GOOGLE_QUEUE that records what each message hands on; `gate` holds its sends until released. */
    const handed: string[] = [];
    const calls = { send: 0, sendBatch: 0 };
    function queue(gate?: Promise<void>) {
      return {
        send: async (m: WalletTask) => {
          calls.send++;
          await gate;
          handed.push(m.subject);
        },
        sendBatch: async (b: { body: WalletTask }[]) => {
          calls.sendBatch++;
          await gate;
          handed.push(...b.map((m) => m.body.subject));
        },
      } as unknown as Queue;
    }
    const deliver = (q: Queue) => {
      const { batch, ack } = batchOf(task);
      return { run: consumeGoogleSync(batch, { ...env, GOOGLE_QUEUE: q }), ack };
    };

    // The message and its duplicate (the sweep's re-send) both start from the first page; the first
    // is held after reading the cursor, while the duplicate's chain moves on to the second page.
    let release!: () => void;
    const late = deliver(queue(new Promise<void>((r) => (release = r))));
    await until(() => calls.sendBatch + calls.send > 0);
    await deliver(queue()).run; // page 1, then "continue"
    expect(handed.filter((s) => s === task.subject)).toHaveLength(1);
    await deliver(queue()).run; // the continued message: page 2
    release();
    await late.run;
    expect(late.ack).toHaveBeenCalled();
    // The chain runs to the end.
    for (let i = 0; i < 5 && (await googleJob(task.subject))?.state === "pending"; i++) await deliver(queue()).run;
    expect((await googleJob(task.subject))?.state).toBe("done");

    const perPass = new Map<string, number>();
    for (const s of handed.filter((s) => s.startsWith("p:"))) perPass.set(s, (perPass.get(s) ?? 0) + 1);
    expect(perPass.size).toBe(250);
    // Only the held page can come twice (its requests were made before it was held); no later page does.
    const twice = [...perPass].filter(([, n]) => n > 1).map(([s]) => Number(s.slice(2)));
    expect(twice.every((id) => id <= ids[99])).toBe(true);
    expect([...perPass.values()].every((n) => n <= 2)).toBe(true);
    // One queue batch per page, never one send per pass.
    expect(calls.send).toBeLessThanOrEqual(3);
  });

  it("a project without Google credentials records no Google work", async () => {
    const p = await newProject();
    const t = (await call(`/v1/project/${p.id}/templates`, { auth: p.auth, body: { name: "L", passType: "loyalty", fields: [{ key: "name", label: "N", type: "text" }] } })).body.id;
    const pass = await newPass(p, t, "none-1", { name: "x" });
    // The pushes consumer has handed the change on once the outbox row is gone.
    await until(async () => (await env.DB.prepare("select count(*) as n from outbox where pass_id = ?").bind(pass.id).first<{ n: number }>())?.n === 0);
    expect(await googleJob(passSubject(pass.id))).toBeNull();
    expect(await googleJob(templateSubject(t))).toBeNull();
  });
});

describe("access tokens", () => {
  it("asserts with RS256 (verified with the service account's public key) and reuses one token for many pushes", async () => {
    const { p, t } = await googleProject(w);
    const pass1 = await newPass(p, t, "tok-1");
    const pass2 = await newPass(p, t, "tok-2");
    await done(passSubject(pass1.id));
    await done(passSubject(pass2.id));
    await call(`/v1/pass/${pass1.id}`, { method: "PUT", auth: p.auth, body: { fields: { points: 9 } } });
    await until(async () => (await googleJob(passSubject(pass1.id)))?.state === "done" && (await googleObjectRow(pass1.id))?.pushed_version === 2);

    const ours = w.googleCalls.filter((c) => c.url.includes(p.id) || c.body.includes(p.id));
    expect(ours.length).toBeGreaterThanOrEqual(4);
    const bearers = new Set(ours.map((c) => c.auth));
    expect(bearers.size).toBe(1);
    expect([...bearers][0]).toMatch(/^Bearer ya29\.fake-/);

    const tokenCalls = w.googleCalls.filter((c) => c.url === env.GOOGLE_OAUTH_TOKEN_URL);
    expect(tokenCalls.length).toBeGreaterThan(0);
    const form = new URLSearchParams(tokenCalls.at(-1)!.body);
    expect(form.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    const assertion = form.get("assertion")!;
    const { payload, protectedHeader } = await jwtVerify(assertion, w.publicKey, { algorithms: ["RS256"], audience: env.GOOGLE_OAUTH_TOKEN_URL, issuer: EMAIL });
    expect(protectedHeader).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(payload.scope).toBe("https://www.googleapis.com/auth/wallet_object.issuer");
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(decodeJwt(assertion).sub).toBeUndefined();
  });
});

describe("the consumer's answers to Google", () => {
  async function insertedPass(externalId: string) {
    const { p, t } = await googleProject(w);
    const pass = await newPass(p, t, externalId, { name: "Ada" });
    // Settled: no message of the pipeline's own can run beside the test's direct calls.
    await done(passSubject(pass.id));
    await done(templateSubject(t));
    return { p, t, pass, task: await dueTask(p.id, passSubject(pass.id)), patchOf: new RegExp(`loyaltyObject/${objectIdOf(p.id, pass.id).replace(/\./g, "\\.")}$`) };
  }
  const delayOf = (retry: ReturnType<typeof batchOf>["retry"]) => (retry.mock.calls[0] as unknown as [{ delaySeconds: number }])[0].delaySeconds;

  it("retries 5xx and 429 with a growing delay asked of the queue, honouring Retry-After", async () => {
    const { pass, task, patchOf } = await insertedPass("retry-1");
    const delays: number[] = [];
    for (const attempts of [1, 2, 3]) {
      w.fake.failNext("PATCH", patchOf, () => w.fake.googleError(503, "Backend Error", "backendError", "UNAVAILABLE"));
      const { batch, retry, ack } = batchOf(task, attempts);
      await consumeGoogleSync(batch, workerEnv, { random: () => 0.5 });
      expect(ack).not.toHaveBeenCalled();
      delays.push(delayOf(retry));
    }
    expect(delays).toEqual([10, 20, 40]);
    let job = await googleJob(passSubject(pass.id));
    expect(job).toMatchObject({ state: "pending", attempts: 3 });
    expect(job?.last_error).toContain("Backend Error");

    w.fake.failNext("PATCH", patchOf, () => {
      const r = w.fake.googleError(429, "Quota exceeded for quota metric 'Write requests'", "rateLimitExceeded", "RESOURCE_EXHAUSTED");
      r.headers.set("retry-after", "120");
      return r;
    });
    const limited = batchOf(task, 1);
    await consumeGoogleSync(limited.batch, workerEnv, { random: () => 0.5 });
    expect(delayOf(limited.retry)).toBe(120);

    // Google recovers: the next delivery of the message shows the pass and settles the job.
    const ok = batchOf(task, 5);
    await consumeGoogleSync(ok.batch, workerEnv, { random: () => 0.5 });
    expect(ok.ack).toHaveBeenCalled();
    job = await googleJob(passSubject(pass.id));
    expect(job).toMatchObject({ state: "done", attempts: 0, last_error: null });
  });

  it("fails the job with Google's message on another 4xx, and acks", async () => {
    const { pass, task, patchOf } = await insertedPass("refused-1");
    w.fake.failNext("PATCH", patchOf, () => w.fake.googleError(400, "Invalid barcode value: too long for QR_CODE", "invalidResource", "INVALID_ARGUMENT"));
    const { batch, retry, ack } = batchOf(task);
    await consumeGoogleSync(batch, workerEnv, { random: () => 0.5 });
    expect(ack).toHaveBeenCalled();
    expect(retry).not.toHaveBeenCalled();
    const job = await googleJob(passSubject(pass.id));
    expect(job?.state).toBe("failed");
    expect(job?.last_error).toBe("Google answered 400: Invalid barcode value: too long for QR_CODE");
  });

  it("the dead-letter consumer marks an exhausted push failed and keeps its record; a later change revives it", async () => {
    const { p, pass, task, patchOf } = await insertedPass("dlq-1");
    w.fake.failNext("PATCH", patchOf, () => w.fake.googleError(500, "Internal error encountered.", "backendError", "INTERNAL"));
    await consumeGoogleSync(batchOf(task, 20).batch, workerEnv, { random: () => 0.5 });
    const dead = createMessageBatch<WalletTask>("passhook-google-dlq", [{ id: "d1", timestamp: new Date(), attempts: 1, body: task }]);
    const ack = vi.spyOn(dead.messages[0], "ack");
    await consumeGoogleDeadLetters(dead, workerEnv);
    expect(ack).toHaveBeenCalled();
    const job = await googleJob(passSubject(pass.id));
    expect(job?.state).toBe("failed");
    expect(job?.last_error).toBe("retries exhausted: Google answered 500: Internal error encountered.");

    await call(`/v1/pass/${pass.id}/status`, { auth: p.auth, body: { status: "expired" } });
    await until(() => objectOf(p.id, pass.id)?.state === "EXPIRED");
    await done(passSubject(pass.id));
  });

  it("fails with a clear error when PUBLIC_URL is not set, or the credentials are gone", async () => {
    const { p, pass, task } = await insertedPass("nourl-1");
    await consumeGoogleSync(batchOf(task).batch, { ...workerEnv, PUBLIC_URL: "" });
    expect((await googleJob(passSubject(pass.id)))?.last_error).toMatch(/^PUBLIC_URL is not set/);

    const again = await dueTask(p.id, passSubject(pass.id));
    expect((await call(`/v1/project/${p.id}/credentials/google`, { method: "DELETE", auth: p.auth })).status).toBe(204);
    await consumeGoogleSync(batchOf(again).batch, workerEnv);
    expect(await googleJob(passSubject(pass.id))).toMatchObject({ state: "failed", last_error: "the project has no Google Wallet credentials" });
  });

  it("inserts again when the object is gone at Google (404 on PATCH)", async () => {
    const { p, pass, task } = await insertedPass("gone-1");
    w.fake.store.get("loyaltyObject")!.delete(objectIdOf(p.id, pass.id));
    const { batch, ack } = batchOf(task);
    await consumeGoogleSync(batch, workerEnv);
    expect(ack).toHaveBeenCalled();
    expect(objectOf(p.id, pass.id)).toMatchObject({ state: "ACTIVE" });
    expect(requestsFor(objectIdOf(p.id, pass.id)).slice(-2).map((q) => `${q.method} ${q.status}`)).toEqual(["PATCH 404", "POST 200"]);
  });
});
