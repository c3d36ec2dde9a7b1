/**
 * The cron's wallet-job sweep against the consumers' backoff (passes/wallet-jobs.ts): a job whose
 * consumer asked the queue for a retry in an hour (Google's Retry-After, APNs's backoff) is not re-sent
 * while that retry is pending, and is re-sent once the retry is 15 minutes overdue (its message was
 * lost); a job whose first message was lost is re-sent 15 minutes after it was sent, a fan-out 15
 * minutes after it handed on its last page. The consumers run
 * for real against Google's fake and APNs's fake at the fetch boundary; the sweep takes the clock and
 * fake queues that record what it sends.
 */
import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { consumeApplePushes } from "../src/apple";
import { consumeGoogleSync } from "../src/google";
import { continueWalletPush, passSubject, requestWalletPush, sweepWalletJobs, templateSubject, type WalletTask } from "../src/passes";
import { fixture, goodCredentials, identity } from "./support/apple-fixtures";
import { APNS_HOST, appleProject, mockNetwork, register, settled, TOKENS } from "./support/apple-web";
import { googleJob, googleProject, googleWorld, objectIdOf } from "./support/google";
import { call, newPass, workerEnv } from "./support/http";
import { until } from "./support/receiver";

afterEach(() => vi.restoreAllMocks());

type WalletName = WalletTask["wallet"];

const MINUTE = 60_000;

/** Queues that record what the sweep sends, by wallet. */
function recordingQueues() {
  const sent: WalletTask[] = [];
  const queue = { send: async (t: WalletTask) => void sent.push(t), sendBatch: async (b: { body: WalletTask }[]) => void sent.push(...b.map((m) => m.body)) } as unknown as Queue;
  const queues: Record<WalletName, Queue> = { apple: queue, google: queue };
  return { sent, queues };
}

/** Whether a sweep at `at` re-sends the subject. */
async function sweepResends(wallet: WalletName, subject: string, at: number): Promise<boolean> {
  const { sent, queues } = recordingQueues();
  await sweepWalletJobs(workerEnv, queues, at);
  return sent.some((t) => t.wallet === wallet && t.subject === subject);
}

const noQueue = { send: async () => undefined, sendBatch: async () => undefined } as unknown as Queue;

describe("the sweep leaves a consumer's backoff alone", () => {
  it("Google: a retry asked for in an hour (Retry-After) is not re-sent at 16 minutes, and is at 1 h 16 min", async () => {
    const w = await googleWorld();
    w.install();
    const { p, t } = await googleProject(w);
    const pass = await newPass(p, t, "sweep-google", { name: "Ada" });
    await until(async () => (await googleJob(passSubject(pass.id)))?.state === "done");
    const subject = passSubject(pass.id);
    const task: WalletTask = { wallet: "google", subject };
    const t0 = Date.now();
    // A change whose message the test delivers itself; Google is rate limiting for an hour.
    await requestWalletPush(workerEnv, noQueue, { wallet: "google", subject, projectId: p.id, wantedAt: t0 + 1 }, t0);
    const patchOf = new RegExp(`loyaltyObject/${objectIdOf(p.id, pass.id).replace(/\./g, "\\.")}$`);
    w.fake.failNext("PATCH", patchOf, () => {
      const r = w.fake.googleError(429, "Quota exceeded for quota metric 'Write requests'", "rateLimitExceeded", "RESOURCE_EXHAUSTED");
      r.headers.set("retry-after", "3600");
      return r;
    });
    const batch = createMessageBatch<WalletTask>("passhook-google", [{ id: "m1", timestamp: new Date(t0), attempts: 1, body: task }]);
    const retry = vi.spyOn(batch.messages[0], "retry");
    await consumeGoogleSync(batch, workerEnv, { random: () => 0.5, now: () => t0 });
    expect(retry).toHaveBeenCalledWith({ delaySeconds: 3600 });
    expect(await googleJob(subject)).toMatchObject({ state: "pending", attempts: 1 });

    expect(await sweepResends("google", subject, t0 + 16 * MINUTE)).toBe(false);
    expect(await sweepResends("google", subject, t0 + 60 * MINUTE + 14 * MINUTE)).toBe(false);
    // The retry never came (its message was lost): re-sent once, then not again at once.
    expect(await sweepResends("google", subject, t0 + 60 * MINUTE + 16 * MINUTE)).toBe(true);
    expect(await sweepResends("google", subject, t0 + 60 * MINUTE + 17 * MINUTE)).toBe(false);
  });

  it("Apple: an APNs backoff of an hour is not re-sent at 16 minutes, and is at 1 h 16 min", async () => {
    mockNetwork();
    const a = await appleProject({ apns: false });
    const pass = await newPass(a.p, a.templateId, "sweep-apple");
    expect(await register(pass.serialNumber, "dev-down", TOKENS.down)).toBe(201);
    await call(`/v1/pass/${pass.id}`, { method: "PUT", auth: a.p.auth, body: { fields: { points: 1 } } }); // owed a push; no APNs key yet, so no job
    await settled();
    const apns = { keyId: identity.apnsKeyId, teamId: identity.apnsTeamId, privateKeyPem: fixture("apns.p8"), host: APNS_HOST };
    expect((await call(`/v1/project/${a.p.id}/credentials/apple`, { method: "PUT", auth: a.p.auth, body: { ...goodCredentials(), apns } })).status).toBe(200);
    const subject = passSubject(pass.id);
    const t0 = Date.now();
    await requestWalletPush(workerEnv, noQueue, { wallet: "apple", subject, projectId: a.p.id, wantedAt: t0 }, t0);

    // Tenth delivery of a message against an APNs that answers 5xx: the backoff is at its 1 h cap.
    const batch = createMessageBatch<WalletTask>("passhook-apple", [{ id: "a10", timestamp: new Date(t0), attempts: 10, body: { wallet: "apple", subject } }]);
    const retry = vi.spyOn(batch.messages[0], "retry");
    await consumeApplePushes(batch, workerEnv);
    expect(retry).toHaveBeenCalledWith({ delaySeconds: 3600 });

    expect(await sweepResends("apple", subject, t0 + 16 * MINUTE)).toBe(false);
    expect(await sweepResends("apple", subject, t0 + 60 * MINUTE + 16 * MINUTE)).toBe(true);
  });

  it("a job whose first message was lost is re-sent 15 minutes after it was sent", async () => {
    const subject = passSubject(987_654);
    const t0 = Date.now();
    await requestWalletPush(workerEnv, noQueue, { wallet: "google", subject, projectId: "prj_lost", wantedAt: t0 }, t0);
    expect(await sweepResends("google", subject, t0 + 14 * MINUTE)).toBe(false);
    expect(await sweepResends("google", subject, t0 + 16 * MINUTE)).toBe(true);
  });

  it("a fan-out still handing on pages (continueWalletPush) is not re-sent", async () => {
    const subject = templateSubject(987_655);
    const t0 = Date.now();
    await requestWalletPush(workerEnv, noQueue, { wallet: "google", subject, projectId: "prj_fan", wantedAt: t0 }, t0);
    await continueWalletPush(workerEnv, noQueue, { wallet: "google", subject }, t0 + 10 * MINUTE);
    expect(await sweepResends("google", subject, t0 + 16 * MINUTE)).toBe(false);
    expect(await sweepResends("google", subject, t0 + 26 * MINUTE)).toBe(true);
  });
});
