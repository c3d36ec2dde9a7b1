/**
 * @module listener/event-log
 * The inbound event log: every listener request is recorded (a compact row in D1: outcome, pass,
 * keys) with a selection of its headers (secrets redacted), its raw body up to the size limit and the
 * answer beside it in R2 (event-details.ts). Listing is newest first and shows the start of each body;
 * one event shows all of it; a replay runs a logged body through the integration's *current* mapping.
 */
import { getDb } from "../db/client";
import { deleteInboundEventsUpTo, dueInboundEvents, findInboundEvent, latestInboundEvents, listInboundEvents } from "../db/queries/integrations";
import { settleKeyAlone, writeReceipt, type ReceiptAnswer } from "../db/queries/receipts";
import { PURGE_BUDGET_MS, PURGE_CHUNK, PURGE_MAX_CHUNKS, type PurgeOptions } from "../db/queries/retention";
import type { InboundEventRecord, IntegrationRecord } from "../db/schema";
import { AppError, isAppError } from "../lib/errors";
import { logError } from "../lib/log";
import { pageOf } from "../lib/pagination";
import { DAY, iso } from "../lib/time";
import { ownedTemplate, type PassScope } from "../passes";
import { newDraft, receiptRow, type EventDraft } from "./draft";
import { deleteDetails, detailsOf, formatEventId, parseEventId, putDetail, type ReadDetail } from "./event-details";
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

/** Writes a request's receipt when the pass's object did not (nothing reached a pass, or it failed). */
export async function logEvent(env: Pick<Env, "DB">, draft: EventDraft, outcome: Outcome): Promise<void> {
  if (draft.logged) return;
  draft.eventId = await writeReceipt(getDb(env.DB), receiptRow(draft), answerOf(outcome));
}

/** For a request that is not logged: records or releases the idempotency key it claimed, if any. */
export async function settleUnloggedKey(env: Pick<Env, "DB">, draft: EventDraft, outcome: Outcome): Promise<void> {
  if (draft.logged || !draft.claimed) return;
  await settleKeyAlone(getDb(env.DB), draft.claimed, answerOf(outcome));
}

function answerOf(outcome: Outcome): ReceiptAnswer {
  return {
    status: outcome.status,
    body: outcome.body,
    errorCode: outcome.error?.code ?? null,
    errorMessage: outcome.error?.message ?? null,
    passId: outcome.passId ?? null,
    passVersion: outcome.passVersion ?? null,
  };
}

/** Puts the request's details in R2 beside its row (a refused request or a replay keeps no body). */
export async function storeDetails(env: Pick<Env, "EVENT_LOG">, draft: EventDraft, outcome: Outcome): Promise<void> {
  if (draft.eventId === undefined) return;
  await putDetail(env, draft.integrationId, draft.eventId, {
    headers: draft.headers,
    contentType: draft.contentType,
    body: draft.rejected ? "" : draft.body,
    bodyTruncated: draft.bodyTruncated,
    bodySha256: draft.bodySha256,
    response: outcome.body,
    errorMessage: outcome.error?.message ?? null,
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

export function eventView(e: InboundEventRecord, d: ReadDetail | null) {
  return {
    id: formatEventId(e.id),
    integrationId: e.integrationId,
    receivedAt: iso(e.receivedAt),
    headers: d?.headers ?? null,
    contentType: d?.contentType ?? null,
    body: d?.body ?? null,
    /** False in a list when only the start of a long body is shown: GET the event for all of it. */
    bodyComplete: d?.complete ?? true,
    bodyTruncated: d?.bodyTruncated ?? false,
    bodyBytes: e.bodyBytes,
    bodySha256: d?.bodySha256 ?? null,
    idempotencyKey: e.idempotencyKey,
    statusCode: e.statusCode,
    response: d?.response ?? null,
    error: e.errorCode ? { code: e.errorCode, message: d?.errorMessage ?? null } : null,
    passId: e.passId,
    passVersion: e.passVersion,
    replayOf: e.replayOf === null ? null : formatEventId(e.replayOf),
    duplicateOf: e.duplicateOf === null ? null : formatEventId(e.duplicateOf),
    /** False when the details are gone (their write failed): the row's facts remain. */
    detailsKept: d !== null,
  };
}

type LogScope = IntegrationScope & { env: Pick<Env, "EVENT_LOG"> };

/**
 * A page of the log. The API reads each body's first 64 KiB (`bodyComplete` says when it was cut); the
 * dashboard asks for whole bodies (25 a page) because it redacts sensitive keys, which needs the JSON.
 */
export async function listEvents(scope: LogScope, integrationId: string, cursor: string | undefined, limit: number, opts: { wholeBodies?: boolean } = {}) {
  await ownedIntegration(scope, integrationId);
  const before = cursor === undefined ? null : parseEventId(cursor);
  if (cursor !== undefined && before === null) throw new AppError("bad_request", "The cursor is not valid.");
  const rows = await listInboundEvents(getDb(scope.env.DB), integrationId, before, limit + 1);
  const { page, nextCursor } = pageOf(rows, limit, (e) => formatEventId(e.id));
  const details = await detailsOf(scope.env, page, { preview: !opts.wholeBodies });
  return { events: page.map((e, i) => eventView(e, details[i])), nextCursor };
}

/** One event with its whole body. */
export async function getEvent(scope: LogScope, integrationId: string, eventId: string) {
  await ownedIntegration(scope, integrationId);
  const id = parseEventId(eventId);
  const row = id === null ? null : await findInboundEvent(getDb(scope.env.DB), integrationId, id);
  if (!row) throw new AppError("not_found", "Event not found.");
  const [detail] = await detailsOf(scope.env, [row]);
  return eventView(row, detail);
}

/** The latest event of each integration (facts only, no R2 read): one D1 query per 90 integrations. */
export async function latestEvents(scope: IntegrationScope, integrationIds: readonly string[]) {
  const rows = await latestInboundEvents(getDb(scope.env.DB), integrationIds);
  return new Map(rows.map((e) => [e.integrationId, { id: formatEventId(e.id), receivedAt: iso(e.receivedAt), statusCode: e.statusCode, errorCode: e.errorCode }]));
}

/** Statuses refused before the body was processed: there is nothing trustworthy to replay. */
const NOT_REPLAYABLE = new Set([401, 413, 429]);

export async function replayEvent(scope: LogScope & { env: PassScope["env"] }, integrationId: string, eventId: string, now = Date.now()) {
  const { row: integration } = await ownedIntegration(scope, integrationId);
  const db = getDb(scope.env.DB);
  const id = parseEventId(eventId);
  const original = id === null ? null : await findInboundEvent(db, integrationId, id);
  if (!original) throw new AppError("not_found", "Event not found.");
  const [detail] = await detailsOf(scope.env, [original]);
  if (NOT_REPLAYABLE.has(original.statusCode) || original.duplicateOf !== null || !detail || detail.bodyTruncated || (detail.body === "" && (original.bodyBytes ?? 0) > 0)) {
    throw new AppError("not_replayable", "This event was refused before processing (signature, size or rate limit), answered from an earlier one, or its body is no longer kept; there is no trusted body to replay.");
  }
  const draft = newDraft(integrationId, now, {
    headers: detail.headers,
    contentType: detail.contentType,
    body: detail.body,
    bodyBytes: original.bodyBytes,
    bodySha256: detail.bodySha256,
    replayOf: original.id,
  });
  const outcome = await outcomeOf(async () => {
    const template = await ownedTemplate(scope, integration.templateId);
    return processPayload(scope.env, integration as IntegrationRecord, template, draft);
  }, "replay");
  await logEvent(scope.env, draft, outcome);
  await storeDetails(scope.env, draft, outcome);
  const stored = await findInboundEvent(db, integrationId, draft.eventId!);
  const [storedDetail] = await detailsOf(scope.env, [stored!]);
  return eventView(stored!, storedDetail);
}

/** How long the inbound event log keeps a request (and so how far back a replay can reach). */
export const EVENT_RETENTION = 30 * DAY;

/** The configured retention (`EVENT_LOG_RETENTION_DAYS`, whole days 1-30); anything else means 30. */
export function eventRetention(env: Partial<Pick<Env, "EVENT_LOG_RETENTION_DAYS">>): number {
  const days = Number(env.EVENT_LOG_RETENTION_DAYS);
  return Number.isInteger(days) && days >= 1 && days <= 30 ? days * DAY : EVENT_RETENTION;
}

/**
 * Retention, in bounded chunks: each chunk's R2 details go first, then its rows, so a failed R2 delete
 * leaves rows to try again next run rather than objects nothing points at.
 */
export async function purgeOldEvents(env: Pick<Env, "DB" | "EVENT_LOG"> & Partial<Pick<Env, "EVENT_LOG_RETENTION_DAYS">>, now = Date.now(), opts: PurgeOptions = {}) {
  const db = getDb(env.DB);
  const chunk = opts.chunk ?? PURGE_CHUNK;
  const maxChunks = opts.maxChunks ?? PURGE_MAX_CHUNKS;
  const until = Date.now() + (opts.budgetMs ?? PURGE_BUDGET_MS);
  let deleted = 0;
  for (let i = 0; i < maxChunks && (i === 0 || Date.now() < until); i++) {
    const due = await dueInboundEvents(db, now - eventRetention(env), chunk);
    if (!due.length) return { deleted, more: false };
    await deleteDetails(env, due);
    await deleteInboundEventsUpTo(db, due[due.length - 1].id);
    deleted += due.length;
    if (due.length < chunk) return { deleted, more: false };
  }
  return { deleted, more: true };
}
