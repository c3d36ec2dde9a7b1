/**
 * @module listener/event-log
 * The inbound event log: every listener request is recorded with a selection of its headers (secrets
 * redacted), its raw body up to the size limit, the outcome and the pass it touched. Listing is
 * newest first; a replay runs a logged body through the integration's *current* mapping.
 */
import { getDb } from "../db/client";
import { findInboundEvent, listInboundEvents, purgeInboundEvents } from "../db/queries/integrations";
import { writeReceipt, type ReceiptRow } from "../db/queries/receipts";
import type { InboundEventRecord, IntegrationRecord } from "../db/schema";
import { AppError, isAppError } from "../lib/errors";
import { newId } from "../lib/ids";
import { logError } from "../lib/log";
import { decodeTimeCursor, pageOf } from "../lib/pagination";
import { DAY, iso } from "../lib/time";
import { ownedTemplate, type PassScope } from "../passes";
import { ownedIntegration, type IntegrationScope } from "./integrations";
import { errorOutcome, processPayload, type Outcome } from "./process";

/** Headers worth keeping for debugging; signatures and credentials are recorded as present only. */
const KEPT = ["content-type", "content-length", "user-agent", "webhook-id", "webhook-timestamp", "idempotency-key", "x-request-id"];
const REDACTED = ["authorization", "webhook-signature", "x-passhook-signature", "cookie"];

export function selectHeaders(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of KEPT) {
    const v = h.get(name);
    if (v !== null) out[name] = v.slice(0, 512);
  }
  for (const name of REDACTED) if (h.has(name)) out[name] = "[redacted]";
  return out;
}

/**
 * A request on its way into the log: the receipt row (passes/receipt.ts) plus what the listener
 * tracks about it. The pass's Durable Object writes the receipt with the change it causes (`logged`);
 * otherwise the listener writes it (`logEvent`).
 */
export interface EventDraft extends ReceiptRow {
  /** Refused before processing (signature, size, rate limit): only the body's size and digest are kept. */
  rejected?: boolean;
  /** Why a signature was refused, for the log line (never the signature itself). */
  refusal?: string;
  /** The pass's Durable Object wrote the receipt together with the change. */
  logged?: boolean;
}

export function newDraft(integrationId: string, receivedAt: number, fields: Partial<EventDraft> = {}): EventDraft {
  return {
    eventId: newId("inboundEvent"),
    integrationId,
    receivedAt,
    headers: {},
    contentType: null,
    body: "",
    bodyTruncated: false,
    bodyBytes: null,
    bodySha256: null,
    idempotencyKey: null,
    replayOf: null,
    duplicateOf: null,
    claimed: null,
    ...fields,
  };
}

/** The receipt row of a draft: a refused request keeps no body. */
export function receiptRow(draft: EventDraft): ReceiptRow {
  const { rejected, refusal: _r, logged: _l, ...row } = draft;
  return rejected ? { ...row, body: "" } : row;
}

/** Writes a request's receipt when the pass's object did not (nothing reached a pass, or it failed). */
export async function logEvent(env: Pick<Env, "DB">, draft: EventDraft, outcome: Outcome): Promise<void> {
  if (draft.logged) return;
  await writeReceipt(getDb(env.DB), receiptRow(draft), {
    status: outcome.status,
    body: outcome.body,
    errorCode: outcome.error?.code ?? null,
    errorMessage: outcome.error?.message ?? null,
    passId: outcome.passId ?? null,
    passVersion: outcome.passVersion ?? null,
  });
}

/** Runs `fn`, turning an AppError into its outcome; other errors become a generic, logged 500. */
export async function outcomeOf(fn: () => Promise<Outcome>, where: string): Promise<Outcome> {
  try {
    return await fn();
  } catch (e) {
    if (isAppError(e)) return errorOutcome(e);
    logError("listener failure", e, { where });
    return errorOutcome(new AppError("internal", "Internal error."));
  }
}

export function eventView(e: InboundEventRecord) {
  return {
    id: e.id,
    integrationId: e.integrationId,
    receivedAt: iso(e.receivedAt),
    headers: e.headers,
    contentType: e.contentType,
    body: e.body,
    bodyTruncated: e.bodyTruncated,
    bodyBytes: e.bodyBytes,
    bodySha256: e.bodySha256,
    idempotencyKey: e.idempotencyKey,
    statusCode: e.statusCode,
    response: e.response,
    error: e.errorCode ? { code: e.errorCode, message: e.errorMessage } : null,
    passId: e.passId,
    passVersion: e.passVersion,
    replayOf: e.replayOf,
    duplicateOf: e.duplicateOf,
  };
}

export async function listEvents(scope: IntegrationScope, integrationId: string, cursor: string | undefined, limit: number) {
  await ownedIntegration(scope, integrationId);
  const rows = await listInboundEvents(getDb(scope.env.DB), integrationId, decodeTimeCursor(cursor, "evt"), limit + 1);
  const { page, nextCursor } = pageOf(rows, limit, (e) => `${e.receivedAt}.${e.id}`);
  return { events: page.map(eventView), nextCursor };
}

/** Statuses refused before the body was processed: there is nothing trustworthy to replay. */
const NOT_REPLAYABLE = new Set([401, 413, 429]);

export async function replayEvent(scope: IntegrationScope & { env: PassScope["env"] }, integrationId: string, eventId: string, now = Date.now()) {
  const { row: integration } = await ownedIntegration(scope, integrationId);
  const db = getDb(scope.env.DB);
  const original = await findInboundEvent(db, integrationId, eventId);
  if (!original) throw new AppError("not_found", "Event not found.");
  if (NOT_REPLAYABLE.has(original.statusCode) || original.bodyTruncated || (original.body === "" && (original.bodyBytes ?? 0) > 0)) {
    throw new AppError("not_replayable", "This event was refused before processing (signature, size or rate limit); there is no trusted body to replay.");
  }
  const draft = newDraft(integrationId, now, {
    headers: original.headers,
    contentType: original.contentType,
    body: original.body,
    bodyBytes: original.bodyBytes,
    bodySha256: original.bodySha256,
    replayOf: original.id,
  });
  const outcome = await outcomeOf(async () => {
    const template = await ownedTemplate(scope, integration.templateId);
    return processPayload(scope.env, integration as IntegrationRecord, template, draft);
  }, "replay");
  await logEvent(scope.env, draft, outcome);
  const stored = await findInboundEvent(db, integrationId, draft.eventId);
  return eventView(stored!);
}

/** How long the inbound event log keeps a request (and so how far back a replay can reach). */
export const EVENT_RETENTION = 30 * DAY;

export async function purgeOldEvents(env: Pick<Env, "DB">, now = Date.now()) {
  return purgeInboundEvents(getDb(env.DB), now - EVENT_RETENTION);
}
