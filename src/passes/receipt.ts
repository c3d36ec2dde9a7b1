/**
 * @module passes/receipt
 * What a listener request leaves behind when it reaches a pass: its inbound event row and the answer
 * under its idempotency key, written by the pass's Durable Object in the same D1 batch as the change
 * (or alone when nothing changed). The object completes the answer with the outcome: the pass's id,
 * status and version, or the error. Pure.
 */
import type { ReceiptAnswer, ReceiptRow } from "../db/queries/receipts";
import type { PassRecord } from "../db/schema";
import { ERROR_STATUS, type SerializedAppError } from "../lib/errors";

export type { ReceiptAnswer, ReceiptRow };

/** An answer as recorded with its receipt, and the id of the inbound event row it went in. */
export interface LoggedAnswer extends ReceiptAnswer {
  eventId: number;
}

export interface Receipt extends ReceiptRow {
  /** The parts of the answer the caller knows: the sender's pass-id, the action, the keys it ignored. */
  answer: { externalId: string; action: string; ignoredFields: string[] };
}

export function successAnswer(receipt: Receipt, pass: PassRecord, created: boolean): ReceiptAnswer {
  const { action, ignoredFields } = receipt.answer;
  return {
    status: created ? 201 : 200,
    body: { passId: pass.id, externalId: pass.externalId, action, status: pass.status, version: pass.version, ignoredFields },
    errorCode: null,
    errorMessage: null,
    passId: pass.id,
    passVersion: pass.version,
  };
}

export function errorAnswer(error: SerializedAppError): ReceiptAnswer {
  return {
    status: ERROR_STATUS[error.code],
    body: { error: { code: error.code, message: error.message, details: error.details } },
    errorCode: error.code,
    errorMessage: error.message,
    passId: null,
    passVersion: null,
  };
}
