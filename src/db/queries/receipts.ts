/**
 * A listener request's receipt: its compact inbound event row and, when it claimed an idempotency
 * key, the key's recorded answer. Written in the same D1 batch as the pass change it caused (by the
 * pass's Durable Object), or on their own when the request changed nothing; either way one round trip,
 * and a logged request and its write land together or not at all. The request's headers, body and the
 * answer itself go to R2 afterwards (listener/event-log.ts).
 *
 * For a create the pass id is not known before the batch runs: `passIdRef` then finds it by
 * (template, externalId) inside the batch, and the stored answer gets it with `json_set`.
 */
import { and, eq, sql, type SQL } from "drizzle-orm";
import type { Db } from "../client";
import { idempotencyKeys, inboundEvents } from "../schema";

export interface ReceiptRow {
  integrationId: string;
  receivedAt: number;
  idempotencyKey: string | null;
  bodyBytes: number | null;
  replayOf: number | null;
  duplicateOf: number | null;
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

/**
 * Which listener answers a repeat gets back for 24 hours: successes, and refusals that depend on the
 * body alone (400 invalid, 413 too large, 415 wrong type). Answers that depend on the pass's state or
 * on load (404 not yet created, 409, 410, 429, 5xx) release the key, so the sender's retry runs again
 * once the state allows it.
 */
export function keepsAnswer(status: number): boolean {
  return status < 400 || status === 400 || status === 413 || status === 415;
}

/**
 * The statements of a receipt, to run alone or appended to a pass change's batch. The first returns
 * the event's id; the key's record takes it with `last_insert_rowid()`, so they must stay adjacent.
 */
export function receiptStatements(db: Db, row: ReceiptRow, answer: ReceiptAnswer, passIdRef?: SQL) {
  const event = db
    .insert(inboundEvents)
    .values({
      integrationId: row.integrationId,
      receivedAt: row.receivedAt,
      statusCode: answer.status,
      errorCode: answer.errorCode,
      passId: (passIdRef ?? answer.passId) as number | null,
      passVersion: answer.passVersion,
      idempotencyKey: row.idempotencyKey,
      bodyBytes: row.bodyBytes,
      replayOf: row.replayOf,
      duplicateOf: row.duplicateOf,
    })
    .returning({ id: inboundEvents.id });
  if (!row.claimed) return [event] as const;
  return [event, keyRecord(db, row.claimed, answer, passIdRef, sql`cast(last_insert_rowid() as text)`)] as const;
}

/**
 * What becomes of a claimed key once the request is answered: the answer is kept for repeats, or the
 * key is released (see `keepsAnswer`). `ref` is the first request's event id, when it was logged.
 */
function keyRecord(db: Db, claimed: { scope: string; key: string }, answer: ReceiptAnswer, passIdRef: SQL | undefined, ref: SQL | null) {
  const json = JSON.stringify(answer.body);
  const response = passIdRef ? sql`json_set(${json}, '$.passId', ${passIdRef})` : json;
  const key = and(eq(idempotencyKeys.scope, claimed.scope), eq(idempotencyKeys.key, claimed.key));
  return !keepsAnswer(answer.status)
    ? db.delete(idempotencyKeys).where(and(key, eq(idempotencyKeys.state, "processing")))
    : db
        .update(idempotencyKeys)
        .set({ state: "done", responseStatus: answer.status, responseBody: response as string, sealed: false, ref: ref as unknown as string | null })
        .where(key);
}

/**
 * Settles a claimed key for a request that left no event row (its log budget was spent, or the log
 * write failed): without this the key would stay `processing` and the sender's retry would get a 409
 * for a minute instead of running again or getting the answer.
 */
export async function settleKeyAlone(db: Db, claimed: { scope: string; key: string }, answer: ReceiptAnswer): Promise<void> {
  await keyRecord(db, claimed, answer, undefined, null);
}

/** Several receipts (requests that changed nothing) in one batch. Returns their event ids, in order. */
export async function writeReceipts(db: Db, items: readonly { row: ReceiptRow; answer: ReceiptAnswer }[]): Promise<number[]> {
  const stmts = items.map((i) => [...receiptStatements(db, i.row, i.answer)]);
  const [first, ...rest] = stmts.flat();
  const results = await db.batch([first, ...rest]);
  let at = 0;
  return stmts.map((group) => {
    const id = (results[at] as { id: number }[])[0].id;
    at += group.length;
    return id;
  });
}

/** A receipt on its own (the request changed no pass): one batch. Returns the event's id. */
export async function writeReceipt(db: Db, row: ReceiptRow, answer: ReceiptAnswer): Promise<number> {
  const [first, ...rest] = receiptStatements(db, row, answer);
  const [inserted] = await db.batch([first, ...rest]);
  return (inserted as { id: number }[])[0].id;
}
