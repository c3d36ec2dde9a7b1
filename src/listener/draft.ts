/**
 * @module listener/draft
 * A listener request on its way into the event log.
 */
import type { ReceiptRow } from "../db/queries/receipts";

/**
 * A request on its way into the log: the receipt row (passes/receipt.ts), its details (kept in R2)
 * and what the listener tracks about it. The pass's Durable Object writes the receipt with the change
 * it causes (`logged`); otherwise the listener writes it (`logEvent`). Either way `eventId` is then
 * set, and `storeDetails` puts the details beside the row.
 */
export interface EventDraft extends ReceiptRow {
  headers: Record<string, string>;
  contentType: string | null;
  body: string;
  bodyTruncated: boolean;
  bodySha256: string | null;
  /** Refused before processing (signature, size, rate limit) or a replay: only the body's size and digest are kept. */
  rejected?: boolean;
  /** Why a signature was refused, for the log line (never the signature itself). */
  refusal?: string;
  /** The pass's Durable Object wrote the receipt together with the change. */
  logged?: boolean;
  /** The inbound event row's id, once written. */
  eventId?: number;
}

export function newDraft(integrationId: string, receivedAt: number, fields: Partial<EventDraft> = {}): EventDraft {
  return {
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

/** The receipt row of a draft (what D1 keeps). */
export function receiptRow(d: EventDraft): ReceiptRow {
  return {
    integrationId: d.integrationId,
    receivedAt: d.receivedAt,
    idempotencyKey: d.idempotencyKey,
    bodyBytes: d.bodyBytes,
    replayOf: d.replayOf,
    duplicateOf: d.duplicateOf,
    claimed: d.claimed,
  };
}

