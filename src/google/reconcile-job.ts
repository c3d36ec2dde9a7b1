/**
 * @module google/reconcile-job
 * The cron job behind "Google calls back best-effort" (google-wallet.md §5: callbacks have stopped
 * silently before; never make them the only source of truth). Each run takes at most 50 passes
 * that were handed a save link in the last 30 days, are not installed and were never deleted, least
 * recently checked first and not checked in the last hour, reads their objects (`hasUsers`,
 * reconcile.ts probeSaves) and emits each missed install once: the install is claimed in D1 first
 * (one caller wins), so neither a later run nor the late callback for the same save emits it again.
 * A link unused for 30 days is not probed any more (a new link for the pass starts the 30 days
 * again): without the cut-off every link ever issued would be probed hourly forever. A deleted pass
 * is never probed (whether `hasUsers` turns false after a delete is not documented). A probe Google
 * rate-limits ends that project's share of the run; the rest wait for the next run.
 */
import { getDb } from "../db/client";
import { claimReconciledInstall, markObjectsChecked, releaseReconciledInstall, unsavedObjects } from "../db/queries/google";
import type { GoogleObjectRecord } from "../db/schema";
import { logError } from "../lib/log";
import { DAY, HOUR } from "../lib/time";
import { emitHolderEvent } from "../passes";
import { clientFor, googleAccount, type GoogleEnv } from "./account";
import { googleObjectId } from "./ids";
import { probeSaves, type SaveProbeCandidate } from "./reconcile";
import { loadTemplateSubject, type TemplateSubject } from "./subject";

export const RECONCILE_PER_RUN = 50;
export const RECHECK_AFTER_MS = HOUR;
/** How long after its last save link a pass is probed. */
export const PROBE_FOR_MS = 30 * DAY;

export interface ReconcileReport {
  probed: number;
  installs: number[];
}

export async function reconcileGoogleSaves(env: GoogleEnv & Pick<Env, "PASS_OBJECT">, now = Date.now(), max = RECONCILE_PER_RUN): Promise<ReconcileReport> {
  const db = getDb(env.DB);
  const rows = await unsavedObjects(db, now - RECHECK_AFTER_MS, max, now - PROBE_FOR_MS);
  const byProject = new Map<string, GoogleObjectRecord[]>();
  for (const r of rows) byProject.set(r.projectId, [...(byProject.get(r.projectId) ?? []), r]);
  const report: ReconcileReport = { probed: 0, installs: [] };

  for (const [projectId, objects] of byProject) {
    const account = await googleAccount(env, projectId);
    if (!account) {
      // No credentials any more: nothing can be probed; look again in an hour.
      await markObjectsChecked(db, objects.map((o) => o.passId), now);
      continue;
    }
    const templates = new Map<number, TemplateSubject | null>();
    const candidates: SaveProbeCandidate[] = [];
    const skipped: number[] = [];
    for (const o of objects) {
      if (!templates.has(o.templateId)) templates.set(o.templateId, await loadTemplateSubject({ env, projectId }, o.templateId).catch(() => null));
      const t = templates.get(o.templateId);
      if (!t) skipped.push(o.passId);
      else candidates.push({ passId: o.passId, resource: t.resource, objectId: googleObjectId(account.secret.issuerId, projectId, o.passId) });
    }
    const result = await probeSaves(clientFor(account), candidates, { max: candidates.length });
    const probed = [...result.saved, ...result.notSaved, ...result.missing, ...result.failed.map((f) => f.passId)];
    report.probed += probed.length;
    await markObjectsChecked(db, [...probed, ...skipped], now);
    for (const f of result.failed) console.log(JSON.stringify({ msg: "google reconciliation probe failed", passId: f.passId, reason: f.message }));

    for (const passId of result.saved) {
      if (!(await claimReconciledInstall(db, passId, now))) continue; // a callback or another run got there first
      try {
        await emitHolderEvent(env, passId, { event: "install", platform: "android", source: "google" });
        report.installs.push(passId);
      } catch (e) {
        logError("google reconciliation could not emit an install; the next run retries", e, { passId });
        await releaseReconciledInstall(db, passId, now).catch(() => undefined);
      }
    }
  }
  return report;
}
