/**
 * @module passes/pass-messages
 * What crosses the pass object's boundary: the outcomes its RPC methods answer, the holder event it
 * takes, the id-only queue messages it sends, and the pass snapshot a callback carries.
 */
import type { DeliveryEvent, PassRecord } from "../db/schema";
import type { SerializedAppError } from "../lib/errors";
import { iso } from "../lib/time";
import type { LoggedAnswer } from "./receipt";

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
