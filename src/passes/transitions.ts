/**
 * @module passes/transitions
 * The pass status state machine (pure). Archiving is not a status: it is allowed from any status and
 * sets `archivedAt`; an archived pass refuses every later write (410).
 *
 * | from \ to | active | expired | voided | redeemed |
 * |-----------|--------|---------|--------|----------|
 * | active    | no-op  | yes     | yes    | yes      |
 * | expired   | yes    | no-op   | yes    | no       |
 * | voided    | no     | no      | no-op  | no       |
 * | redeemed  | no     | no      | no     | no-op    |
 *
 * Why: an expired membership can be renewed (expired -> active) or cancelled (-> voided); voided and
 * redeemed are final, as in Google Wallet where Inactive/Completed objects are not revived. Setting
 * the current status again is a no-op, so a retried webhook does not fail.
 */
import type { PassStatus } from "../db/schema";

export const PASS_STATUSES = ["active", "expired", "voided", "redeemed"] as const satisfies readonly PassStatus[];

const ALLOWED: Record<PassStatus, readonly PassStatus[]> = {
  active: ["expired", "voided", "redeemed"],
  expired: ["active", "voided"],
  voided: [],
  redeemed: [],
};

export type TransitionVerdict = "noop" | "allowed" | "illegal";

export function checkTransition(from: PassStatus, to: PassStatus): TransitionVerdict {
  if (from === to) return "noop";
  return ALLOWED[from].includes(to) ? "allowed" : "illegal";
}

export function allowedTargets(from: PassStatus): readonly PassStatus[] {
  return ALLOWED[from];
}
