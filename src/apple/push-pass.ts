/**
 * @module apple/push-pass
 * One pass's push (apple-wallet.md §5): an APNs request per registration still owed one
 * (`pushed_tag < tag`), topic = the pass type id, body `{}`, the project's ES256 provider token
 * (reused until ~50 minutes old, apns-token.ts). What APNs answers decides the rest (apns.ts, §5.4):
 * 200 marks the registration pushed; BadDeviceToken / Unregistered / 410 remove it (not when the device
 * registered again after APNs gave up on it); ExpiredProviderToken mints a new token and sends once
 * more; bad credentials, or a stored APNs host the configuration no longer allows, fail the job;
 * 429 / 5xx / no answer retry the job later, and only the registrations still owed a push are sent
 * again. Sends that have not begun by the consumer's deadline are deferred (not a failure).
 */
import { getDb } from "../db/client";
import { deleteDeadRegistration, markPushed, registrationsToPush } from "../db/queries/apple-registrations";
import type { AppleRegistrationRecord } from "../db/schema";
import type { Limiter } from "../lib/limit";
import { logError } from "../lib/log";
import { walletPass } from "../passes";
import { buildPushRequest, classifyApnsResponse, classifyTransportFailure, type ApnsOutcome } from "./apns";
import { invalidateProviderToken, providerToken, type ApnsTokenKey } from "./apns-token";
import type { ApnsTransport } from "./apns-transport";
import { normaliseApnsHost } from "./certificates";
import { allowCustomApnsHost, PUBLIC_URL_MISSING } from "./config";
import { apnsKey, loadAppleCredentials } from "./credentials";
import { lastDeviceGone, MAX_REGISTRATIONS_PER_PASS, type WebServiceEnv } from "./web-service";

export type PushResult =
  | { kind: "done"; pushed: number; removed: number }
  | { kind: "retry"; delaySeconds: number; reason: string }
  /** The invocation's time ran out before every send began: the rest go in a new message, not a failure. */
  | { kind: "deferred"; delaySeconds: number; reason: string }
  | { kind: "failed"; reason: string };

/** A deferred pass is sent again after this many seconds. */
export const DEFERRED_DELAY_SECONDS = 5;

export interface PushContext {
  env: WebServiceEnv & Pick<Env, "PUBLIC_URL" | "ALLOW_CUSTOM_APNS_HOST">;
  transport: ApnsTransport;
  /** This message's share of the invocation's 6 connections (push-slots.ts). */
  limit: Limiter;
  /** The message's earlier tries (0 on the first), for the backoff. */
  attempt: number;
  now: number;
  /** No send starts once `clock()` reaches this (the consumer's time budget); the rest are deferred. */
  deadline: number;
  clock: () => number;
}

type SendOutcome = ApnsOutcome | { action: "deferred" };

/** Pushes pass `passId` to every device still owed a push. */
export async function pushPass(ctx: PushContext, passId: number): Promise<PushResult> {
  const { env } = ctx;
  const wp = await walletPass(env, { passId });
  if (!wp) return { kind: "done", pushed: 0, removed: 0 };
  if (!env.PUBLIC_URL) return { kind: "failed", reason: PUBLIC_URL_MISSING };
  const creds = await loadAppleCredentials(env, wp.pass.projectId);
  const key = creds ? apnsKey(creds) : null;
  if (!key) return { kind: "failed", reason: "The project has no Apple credentials with an APNs key (apns in PUT /v1/project/{id}/credentials/apple)." };
  // Credentials stored under an older, looser rule (or with the development flag since turned off).
  const host = normaliseApnsHost(key.host, allowCustomApnsHost(env));
  if (!host.ok) return { kind: "failed", reason: `The project's APNs host is not allowed: apns.host ${host.error}. PUT the Apple credentials again.` };
  const db = getDb(env.DB);
  const regs = await registrationsToPush(db, passId, MAX_REGISTRATIONS_PER_PASS);
  if (!regs.length) return { kind: "done", pushed: 0, removed: 0 };

  const send = (r: AppleRegistrationRecord) => (ctx.clock() >= ctx.deadline ? Promise.resolve<SendOutcome>({ action: "deferred" }) : sendOne(ctx, key, r));
  const outcomes = await Promise.all(regs.map((r) => ctx.limit(() => send(r))));
  const pushed = regs.filter((_, i) => outcomes[i].action === "done" || outcomes[i].action === "bug");
  await markPushed(db, pushed);
  let removed = 0;
  for (const [i, o] of outcomes.entries()) {
    if (o.action === "bug") logError("APNs refused a push as malformed (passhook bug)", new Error(o.reason), { passId });
    if (o.action !== "remove_registration") continue;
    if (o.alert) logError("APNs: device token not for this topic", new Error(o.reason), { passId, topic: regs[i].passTypeId });
    const gone = await deleteDeadRegistration(db, { ...regs[i], pushToken: regs[i].pushToken, passId }, o.unregisteredAt);
    if (gone.removed) removed++;
    // The registration is gone either way; a failed event is logged rather than retried (a retry would find no device).
    if (gone.removed && gone.count === 0) await lastDeviceGone(env, passId).catch((e) => logError("apple uninstall after a dead token not emitted", e, { passId }));
  }
  const refused = outcomes.find((o) => o.action === "credentials_invalid");
  if (refused) return { kind: "failed", reason: `APNs refused the project's credentials: ${refused.reason}` };
  const rejected = outcomes.find((o) => o.action === "refused");
  if (rejected) return { kind: "failed", reason: `The push will never be accepted as sent: ${rejected.reason}` };
  const retries = outcomes.filter((o): o is Extract<ApnsOutcome, { action: "retry" }> => o.action === "retry");
  if (retries.length) return { kind: "retry", delaySeconds: Math.max(...retries.map((r) => r.delaySeconds)), reason: `${retries.length} of ${regs.length} pushes not accepted: ${retries[0].reason}` };
  const deferred = outcomes.filter((o) => o.action === "deferred").length;
  if (deferred) return { kind: "deferred", delaySeconds: DEFERRED_DELAY_SECONDS, reason: `${deferred} of ${regs.length} pushes left for a later run (the invocation's time budget was used up)` };
  return { kind: "done", pushed: pushed.length, removed };
}

/** One device; after ExpiredProviderToken a fresh token and one more try (a second expiry retries later). */
async function sendOne(ctx: PushContext, key: ApnsTokenKey & { host: string }, reg: AppleRegistrationRecord): Promise<ApnsOutcome> {
  let outcome = await attempt(ctx, key, reg, await providerToken(key, ctx.now));
  if (outcome.o.action === "refresh_token_and_retry") {
    await invalidateProviderToken(key, outcome.jwt);
    outcome = await attempt(ctx, key, reg, await providerToken(key, ctx.now));
    if (outcome.o.action === "refresh_token_and_retry") return { action: "retry", reason: "ExpiredProviderToken after a refresh", delaySeconds: 60 };
  }
  return outcome.o;
}

async function attempt(ctx: PushContext, key: ApnsTokenKey & { host: string }, reg: AppleRegistrationRecord, jwt: string): Promise<{ o: ApnsOutcome; jwt: string }> {
  const req = buildPushRequest({ host: key.host, deviceToken: reg.pushToken, passTypeIdentifier: reg.passTypeId, jwt, now: ctx.now });
  try {
    const res = await ctx.transport.send(req);
    return { o: classifyApnsResponse(res.status, res.body, ctx.attempt), jwt };
  } catch (e) {
    return { o: classifyTransportFailure(e, ctx.attempt), jwt };
  }
}
