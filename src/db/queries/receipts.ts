/**
 * A listener request's receipt: its inbound event row and, when it claimed an idempotency key, the
 * key's recorded answer. Written in the same D1 batch as the pass change it caused (by the pass's
 * Durable Object), or on their own when the request changed nothing; either way one round trip, and a
 * logged request and its write land together or not at all.
 *
 * For a create the pass id is not known before the batch runs: `passIdRef` then finds it by
 * (template, externalId) inside the batch, and the stored answer gets it with `json_set`.
 */
import { and, eq, sql, type SQL } from "drizzle-orm";
import type { Db } from "../client";
import { idempotencyKeys, inboundEvents } from "../schema";

export interface ReceiptRow {
  eventId: string;
  integrationId: string;
  receivedAt: number;
  headers: Record<string, string>;
  contentType: string | null;
  /** Empty for a request refused before processing. */
  body: string;
  bodyTruncated: boolean;
  bodyBytes: number | null;
  bodySha256: string | null;
  idempotencyKey: string | null;
  replayOf: string | null;
  duplicateOf: string | null;
  /** The idempotency key this request claimed, to record the answer under. */
  claimed: { scope: string; key: string } | null;
}

export interface ReceiptAnswer {
  status: number;
  body: unknown;
  errorCode: string | null;
  errorMessage: string | null;
  passId: number | null;
  passVersion: number | null;
}

/** The statements of a receipt, to run alone or appended to a pass change's batch. */
export function receiptStatements(db: Db, row: ReceiptRow, answer: ReceiptAnswer, passIdRef?: SQL) {
  const json = JSON.stringify(answer.body);
  const response = passIdRef ? sql`json_set(${json}, '$.passId', ${passIdRef})` : json;
  const event = db.insert(inboundEvents).values({
    id: row.eventId,
    integrationId: row.integrationId,
    receivedAt: row.receivedAt,
    headers: row.headers,
    contentType: row.contentType,
    body: row.body,
    bodyTruncated: row.bodyTruncated,
    bodyBytes: row.bodyBytes,
    bodySha256: row.bodySha256,
    idempotencyKey: row.idempotencyKey,
    statusCode: answer.status,
    response: response as unknown,
    errorCode: answer.errorCode,
    errorMessage: answer.errorMessage,
    passId: (passIdRef ?? answer.passId) as number | null,
    passVersion: answer.passVersion,
    replayOf: row.replayOf,
    duplicateOf: row.duplicateOf,
  });
  if (!row.claimed) return [event] as const;
  // A 5xx answer releases the key (the sender retries); any other answer is kept for 24 h.
  const key = and(eq(idempotencyKeys.scope, row.claimed.scope), eq(idempotencyKeys.key, row.claimed.key));
  const record =
    answer.status >= 500
      ? db.delete(idempotencyKeys).where(and(key, eq(idempotencyKeys.state, "processing")))
      : db
          .update(idempotencyKeys)
          .set({ state: "done", responseStatus: answer.status, responseBody: response as string, sealed: false, ref: row.eventId })
          .where(key);
  return [event, record] as const;
}

/** A receipt on its own (the request changed no pass): one batch. */
export async function writeReceipt(db: Db, row: ReceiptRow, answer: ReceiptAnswer): Promise<void> {
  const [first, ...rest] = receiptStatements(db, row, answer);
  await db.batch([first, ...rest]);
}
