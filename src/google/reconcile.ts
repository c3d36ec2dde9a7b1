/**
 * @module google/reconcile
 * The probe behind the reconciliation job (google-wallet.md §3 "hasUsers", §5 "never make callbacks
 * the only source of truth"): for passes that have a save link but no recorded install, read each
 * object and report which ones a holder has saved. Choosing the candidates, recording installs and
 * emitting each missed install once are the caller's (D1) business. Sequential and bounded: one
 * request at a time, at most `max` per run, and a rate-limit answer ends the run early.
 */
import type { GoogleResource } from "./resources";
import { objectHasUsers, type WalletClient } from "./wallet-api";

export interface SaveProbeCandidate {
  passId: number;
  resource: GoogleResource;
  objectId: string;
}

export interface SaveProbeResult {
  /** Saved by someone (hasUsers): emit a missed install for each, once. */
  saved: number[];
  /** Exists, nobody saved it yet. */
  notSaved: number[];
  /** Google has no such object (never inserted, or inserted under another issuer). */
  missing: number[];
  /** Not probed this run (bound reached, or Google asked us to slow down). */
  deferred: number[];
  failed: { passId: number; message: string }[];
}

export async function probeSaves(client: Pick<WalletClient, "getObject">, candidates: readonly SaveProbeCandidate[], opts: { max: number }): Promise<SaveProbeResult> {
  const out: SaveProbeResult = { saved: [], notSaved: [], missing: [], deferred: [], failed: [] };
  let stopped = false;
  for (const [i, c] of candidates.entries()) {
    if (stopped || i >= opts.max) {
      out.deferred.push(c.passId);
      continue;
    }
    const r = await client.getObject(c.resource, c.objectId);
    if (r.kind === "ok") (objectHasUsers(r.body) ? out.saved : out.notSaved).push(c.passId);
    else if (r.kind === "not_found") out.missing.push(c.passId);
    else if (r.kind === "retryable") {
      stopped = true;
      out.deferred.push(c.passId);
    } else out.failed.push({ passId: c.passId, message: r.message });
  }
  return out;
}
