/**
 * @module callbacks/deliveries
 * The delivery log API (after Svix): list newest first with a status filter, one delivery with its
 * attempts, resend one, recover every failed one since a time; and the test send, a real signed
 * delivery through the same pipeline, marked as a test. Resends go back through the pass's
 * Durable Object so per-pass order still holds.
 */
import { getDb } from "../db/client";
import { failedDeliveriesSince, findCallbackSettings, findDeliveryWithPass, listAttempts, listDeliveries } from "../db/queries/callbacks";
import type { DeliveryRecord, DeliveryStatus } from "../db/schema";
import { AppError, notFound } from "../lib/errors";
import { decodeTimeCursor, pageOf } from "../lib/pagination";
import { iso, isoOrNull } from "../lib/time";
import { emitHolderEvent, getPass, requeueDeliveries, type PassScope } from "../passes";
import { callbackBody, callbackPath } from "./payload";

type DeliveryEnv = PassScope["env"];

export function deliveryView(d: DeliveryRecord) {
  return {
    id: d.id,
    event: d.event,
    passId: d.passId,
    path: callbackPath(d.event, d.passId),
    body: callbackBody(d.event, d.payload),
    status: d.status,
    test: d.isTest,
    attempts: d.attemptCount,
    nextAttemptAt: d.status === "pending" ? isoOrNull(d.nextAttemptAt) : null,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
    completedAt: isoOrNull(d.completedAt),
    deadLetteredAt: isoOrNull(d.deadLetteredAt),
  };
}

export async function listProjectDeliveries(env: DeliveryEnv, projectId: string, q: { status?: DeliveryStatus; cursor?: string; limit: number }) {
  const rows = await listDeliveries(getDb(env.DB), projectId, q.status, decodeTimeCursor(q.cursor, "msg"), q.limit + 1);
  const { page, nextCursor } = pageOf(rows, q.limit, (d) => `${d.createdAt}.${d.id}`);
  return { deliveries: page.map(deliveryView), nextCursor };
}

async function owned(env: DeliveryEnv, projectId: string, deliveryId: string) {
  const found = await findDeliveryWithPass(getDb(env.DB), deliveryId);
  if (!found || found.delivery.projectId !== projectId) throw notFound("Delivery");
  return found;
}

export async function getDelivery(env: DeliveryEnv, projectId: string, deliveryId: string) {
  const { delivery } = await owned(env, projectId, deliveryId);
  const attempts = await listAttempts(getDb(env.DB), deliveryId);
  return {
    ...deliveryView(delivery),
    attemptLog: attempts.map((a) => ({
      attempt: a.attempt,
      at: iso(a.at),
      statusCode: a.statusCode,
      durationMs: a.durationMs,
      response: a.responseSnippet,
      error: a.error,
    })),
  };
}

/** Sends a settled delivery again, with a fresh retry schedule and the same webhook-id. */
export async function resendDelivery(env: DeliveryEnv, projectId: string, deliveryId: string) {
  const { delivery, templateId, externalId } = await owned(env, projectId, deliveryId);
  if (delivery.status === "waiting" || delivery.status === "pending") {
    throw new AppError("conflict", `This delivery is already ${delivery.status}; it will be sent.`);
  }
  await requeueDeliveries(env, { templateId, externalId }, delivery.passId, [deliveryId]);
  return getDelivery(env, projectId, deliveryId);
}

export const RECOVER_LIMIT = 1000;

/** Resends every failed delivery created since `since` (at most 1,000 a call), pass by pass in order. */
export async function recoverDeliveries(env: DeliveryEnv, projectId: string, since: number) {
  const rows = await failedDeliveriesSince(getDb(env.DB), projectId, since, RECOVER_LIMIT);
  const byPass = new Map<number, { templateId: number; externalId: string; ids: string[] }>();
  for (const r of rows) {
    const entry = byPass.get(r.passId) ?? { templateId: r.templateId, externalId: r.externalId, ids: [] };
    entry.ids.push(r.id);
    byPass.set(r.passId, entry);
  }
  let recovered = 0;
  for (const [passId, e] of byPass) recovered += await requeueDeliveries(env, e, passId, e.ids);
  return { recovered, more: rows.length === RECOVER_LIMIT };
}

const TEST_PERSONALIZATION = {
  fullName: "Test Holder",
  givenName: "Test",
  familyName: "Holder",
  emailAddress: "holder@example.com",
  phoneNumber: "+15550100",
  postalCode: "94103",
};

/** A real, signed delivery for one of the project's passes, marked as a test. */
export async function testSend(env: DeliveryEnv, projectId: string, input: { event: "install" | "uninstall" | "personalize"; passId: number; platform?: "ios" | "android" }) {
  if (!(await findCallbackSettings(getDb(env.DB), projectId))) throw notFound("Callback registration");
  await getPass({ env, projectId }, { passId: input.passId });
  const deliveryId = await emitHolderEvent(env, input.passId, {
    event: input.event,
    platform: input.platform ?? "ios",
    personalization: input.event === "personalize" ? TEST_PERSONALIZATION : undefined,
    source: "test",
    test: true,
  });
  return { deliveryId, test: true };
}
