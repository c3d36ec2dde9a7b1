/**
 * @module passes/pass-messages
 * What crosses the pass object's boundary: the outcomes its RPC methods answer, the holder event it
 * takes, the id-only queue messages it sends, and the pass snapshot a callback carries; and the
 * object's own write queue entry and answers.
 */
import type { DeliveryEvent, PassRecord } from "../db/schema";
import type { SerializedAppError } from "../lib/errors";
import { iso } from "../lib/time";
import type { PassCommand, PassTarget } from "./plan-write";
import type { LoggedAnswer, Receipt } from "./receipt";

export const INTERNAL: SerializedAppError = { code: "internal", message: "Internal error.", details: null };
/** The listener's own answer for an unknown URL: its integration was deleted while the request ran. */
export const LISTENER_GONE: SerializedAppError = { code: "not_found", message: "No such listener.", details: null };

/** A write waiting for its group's D1 batch. */
export interface PendingWrite {
  target: PassTarget;
  cmd: PassCommand;
  source: string;
  receipt?: Receipt;
  resolve: (outcome: WriteOutcome) => void;
}

/** Writes per group commit: each adds up to two statements (receipt, idempotency answer) to the batch. */
export const MAX_GROUP = 32;

/** `logged` is the listener answer as recorded with the receipt (absent when there was no receipt, or it could not be written). */
export type WriteOutcome =
  | { ok: true; pass: PassRecord; changed: boolean; created: boolean; logged?: LoggedAnswer }
  | { ok: false; error: SerializedAppError; logged?: LoggedAnswer };

export interface HolderEventInput {
  event: DeliveryEvent;
  platform: "ios" | "android";
  personalization?: Record<string, string>;
  source: string;
  /** A test send: delivered like any other, marked as a test, not logged as a holder event. */
  test?: boolean;
}

export type EmitOutcome = { ok: true; deliveryId: string | null } | { ok: false; error: SerializedAppError };

/**
 * Queue message bodies: ids only, the consumer reloads the row. `attempt` is the attempt the message
 * is for (the row's attempt count + 1 when sent): a duplicate or overtaken message is recognised and
 * dropped. `parked` marks a task the consumer itself moved to the dead-letter queue. `shard` is the
 * D1 shard the row is in (db/shards.ts), absent for shard 0.
 */
export interface DeliveryTask {
  deliveryId: string;
  attempt: number;
  parked?: boolean;
  shard?: number;
}
export interface PushTask {
  outboxId: number;
  shard?: number;
}

/** The pass as it was when the event happened (Airship's callback fields). */
export function snapshot(pass: PassRecord, input: HolderEventInput): Record<string, unknown> {
  const body: Record<string, unknown> = {
    passId: pass.id,
    templateId: pass.templateId,
    serialNumber: pass.serialNumber,
    createdAt: iso(pass.createdAt),
    updatedAt: iso(pass.updatedAt),
    externalId: pass.externalId,
    platform: input.platform,
  };
  if (input.personalization) body.personalization = input.personalization;
  return body;
}
