/**
 * Google Wallet bookkeeping (schema/google.ts): object and class state, save-link and install
 * records, callback nonces. Writes are single-row upserts or compare-and-set updates, so concurrent
 * consumers, callbacks and the reconciliation job agree without reading first; the read-then-writes
 * (a save or delete callback learning whether the pass was installed) run as one D1 batch, which is
 * a transaction.
 */
import { and, asc, eq, gt, gte, inArray, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "../client";
import { googleCallbackNonces, googleClasses, googleObjects, type FieldValues, type GoogleClassRecord, type GoogleObjectRecord } from "../schema";
import { chunks, IDS_PER_STATEMENT } from "./deliveries";

export interface ObjectKey {
  passId: number;
  projectId: string;
  templateId: number;
}

export async function findGoogleObject(db: Db, passId: number): Promise<GoogleObjectRecord | null> {
  const rows = await db.select().from(googleObjects).where(eq(googleObjects.passId, passId)).limit(1);
  return rows[0] ?? null;
}

const fresh = (k: ObjectKey, now: number) => ({ passId: k.passId, projectId: k.projectId, templateId: k.templateId, createdAt: now, updatedAt: now });

/**
 * Records that Google accepted the pass as of `version`: the object exists, and (unless a newer
 * version was recorded meanwhile by a concurrent push) the fields and notification history shown.
 */
export async function recordObjectPushed(db: Db, k: ObjectKey & { version: number; fields: FieldValues; notifySentAt: number[]; now: number }): Promise<void> {
  const newer = sql`(${googleObjects.pushedVersion} is null or ${googleObjects.pushedVersion} <= ${k.version})`;
  await db
    .insert(googleObjects)
    .values({ ...fresh(k, k.now), insertedAt: k.now, pushedVersion: k.version, pushedFields: k.fields, notifySentAt: k.notifySentAt })
    .onConflictDoUpdate({
      target: googleObjects.passId,
      set: {
        insertedAt: sql`coalesce(${googleObjects.insertedAt}, excluded.inserted_at)`,
        pushedVersion: sql`case when ${newer} then excluded.pushed_version else ${googleObjects.pushedVersion} end`,
        pushedFields: sql`case when ${newer} then excluded.pushed_fields else ${googleObjects.pushedFields} end`,
        notifySentAt: sql`case when ${newer} then excluded.notify_sent_at else ${googleObjects.notifySentAt} end`,
        updatedAt: k.now,
      },
    });
}

/** The object exists at Google (inserted, or a 409 said so), without a pushed state. */
export async function recordObjectExists(db: Db, k: ObjectKey & { now: number }): Promise<void> {
  await db
    .insert(googleObjects)
    .values({ ...fresh(k, k.now), insertedAt: k.now })
    .onConflictDoUpdate({ target: googleObjects.passId, set: { insertedAt: sql`coalesce(${googleObjects.insertedAt}, excluded.inserted_at)`, updatedAt: k.now } });
}

/** A save link was handed out: the latest time is kept (reconciliation probes for 30 days after it). */
export async function recordLinkIssued(db: Db, k: ObjectKey & { now: number }): Promise<void> {
  await db
    .insert(googleObjects)
    .values({ ...fresh(k, k.now), linkIssuedAt: k.now })
    .onConflictDoUpdate({ target: googleObjects.passId, set: { linkIssuedAt: sql`max(coalesce(${googleObjects.linkIssuedAt}, 0), excluded.link_issued_at)`, updatedAt: k.now } });
}

/**
 * A verified save callback: the pass is installed from now on. `wasInstalled` says it already was
 * (a second save without a delete between: the caller emits nothing), `reconciled` that the install
 * was the reconciliation job's, which this callback confirms. The read and the write are one D1 batch
 * (a transaction), so of two concurrent saves exactly one finds the pass not installed.
 */
export async function recordSaveCallback(db: Db, k: ObjectKey & { now: number }): Promise<{ wasInstalled: boolean; reconciled: boolean }> {
  const [before] = await db.batch([
    db.select({ installedAt: googleObjects.installedAt, reconciled: googleObjects.reconciledInstall }).from(googleObjects).where(eq(googleObjects.passId, k.passId)),
    db
      .insert(googleObjects)
      .values({ ...fresh(k, k.now), installedAt: k.now })
      .onConflictDoUpdate({
        target: googleObjects.passId,
        set: { installedAt: sql`coalesce(${googleObjects.installedAt}, excluded.installed_at)`, reconciledInstall: false, updatedAt: k.now },
      }),
  ]);
  return { wasInstalled: before[0]?.installedAt != null, reconciled: before[0]?.reconciled === true };
}

/** Undoes `recordSaveCallback`'s install (at `installedAt`) when its event could not be emitted. */
export async function undoSaveCallback(db: Db, passId: number, installedAt: number, now: number): Promise<void> {
  await db
    .update(googleObjects)
    .set({ installedAt: null, updatedAt: now })
    .where(and(eq(googleObjects.passId, passId), eq(googleObjects.installedAt, installedAt), eq(googleObjects.reconciledInstall, false)));
}

/**
 * A verified delete callback: the pass is not installed any more, and reconciliation leaves it alone.
 * `installedAt` is the install it ends (null: it was not installed, the caller emits nothing).
 */
export async function recordDeleteCallback(db: Db, passId: number, now: number): Promise<{ installedAt: number | null }> {
  const [before] = await db.batch([
    db.select({ installedAt: googleObjects.installedAt }).from(googleObjects).where(eq(googleObjects.passId, passId)),
    db.update(googleObjects).set({ installedAt: null, uninstalledAt: now, reconciledInstall: false, updatedAt: now }).where(eq(googleObjects.passId, passId)),
  ]);
  return { installedAt: before[0]?.installedAt ?? null };
}

/** Undoes `recordDeleteCallback` (made at `now`) when its uninstall could not be emitted. */
export async function undoDeleteCallback(db: Db, passId: number, installedAt: number, now: number): Promise<void> {
  await db
    .update(googleObjects)
    .set({ installedAt })
    .where(and(eq(googleObjects.passId, passId), isNull(googleObjects.installedAt), eq(googleObjects.uninstalledAt, now)));
}

/**
 * Passes to probe: a save link handed out since `linkedSince`, never installed nor deleted, not
 * probed since `before`; least recently probed first. Reads the passes linked since `linkedSince`
 * only (a range of google_objects_probe_idx), so old links cost nothing.
 */
export async function unsavedObjects(db: Db, before: number, limit: number, linkedSince: number): Promise<GoogleObjectRecord[]> {
  return db
    .select()
    .from(googleObjects)
    .where(
      and(
        isNotNull(googleObjects.linkIssuedAt),
        gte(googleObjects.linkIssuedAt, linkedSince),
        isNull(googleObjects.installedAt),
        isNull(googleObjects.uninstalledAt),
        or(isNull(googleObjects.checkedAt), lt(googleObjects.checkedAt, before)),
      ),
    )
    .orderBy(asc(googleObjects.checkedAt))
    .limit(limit);
}

export async function markObjectsChecked(db: Db, passIds: number[], now: number): Promise<void> {
  const parts = chunks(passIds, IDS_PER_STATEMENT);
  if (parts.length === 0) return;
  const [first, ...rest] = parts.map((ids) => db.update(googleObjects).set({ checkedAt: now }).where(inArray(googleObjects.passId, ids)));
  await db.batch([first, ...rest]);
}

/** Claims a missed install for the reconciliation job: true for exactly one caller. */
export async function claimReconciledInstall(db: Db, passId: number, now: number): Promise<boolean> {
  const rows = await db
    .update(googleObjects)
    .set({ installedAt: now, reconciledInstall: true, checkedAt: now, updatedAt: now })
    .where(and(eq(googleObjects.passId, passId), isNull(googleObjects.installedAt), isNull(googleObjects.uninstalledAt)))
    .returning({ passId: googleObjects.passId });
  return rows.length === 1;
}

/** Undoes a claim whose install could not be emitted, so a later run tries again. */
export async function releaseReconciledInstall(db: Db, passId: number, now: number): Promise<void> {
  await db
    .update(googleObjects)
    .set({ installedAt: null, reconciledInstall: false, updatedAt: now })
    .where(and(eq(googleObjects.passId, passId), eq(googleObjects.reconciledInstall, true)));
}

/** Inserted objects of a template after `afterPassId`, by pass id (a template edit re-shows them). */
export async function insertedObjectsOfTemplate(db: Db, templateId: number, afterPassId: number, limit: number): Promise<number[]> {
  const rows = await db
    .select({ passId: googleObjects.passId })
    .from(googleObjects)
    .where(and(eq(googleObjects.templateId, templateId), isNotNull(googleObjects.insertedAt), gt(googleObjects.passId, afterPassId)))
    .orderBy(asc(googleObjects.passId))
    .limit(limit);
  return rows.map((r) => r.passId);
}

/** After the issuer id changed: nothing of this project exists under the new issuer yet. */
export async function forgetInsertedForProject(db: Db, projectId: string, now: number): Promise<void> {
  await db.batch([
    db.update(googleObjects).set({ insertedAt: null, updatedAt: now }).where(eq(googleObjects.projectId, projectId)),
    db.update(googleClasses).set({ insertedAt: null, pushedAt: 0, fanoutAt: 0, fanoutAfter: 0, updatedAt: now }).where(eq(googleClasses.projectId, projectId)),
  ]);
}

// --- classes ---------------------------------------------------------------------------------------

export async function findGoogleClass(db: Db, templateId: number): Promise<GoogleClassRecord | null> {
  const rows = await db.select().from(googleClasses).where(eq(googleClasses.templateId, templateId)).limit(1);
  return rows[0] ?? null;
}

/** Google accepted the class as of the template's `pushedAt` (its updatedAt). */
export async function recordClassPushed(db: Db, c: { templateId: number; projectId: string; pushedAt: number; now: number }): Promise<void> {
  await db
    .insert(googleClasses)
    .values({ templateId: c.templateId, projectId: c.projectId, insertedAt: c.now, pushedAt: c.pushedAt, updatedAt: c.now })
    .onConflictDoUpdate({
      target: googleClasses.templateId,
      set: {
        insertedAt: sql`coalesce(${googleClasses.insertedAt}, excluded.inserted_at)`,
        pushedAt: sql`max(${googleClasses.pushedAt}, excluded.pushed_at)`,
        updatedAt: c.now,
      },
    });
}

type FanoutCursor = { at: number; after: number };

/**
 * Moves the cursor of the re-showing of a template version's objects from `from` (what the caller
 * read) to `to`, only if no other message moved it meanwhile (compare-and-set): when two messages of
 * one template job meet, one takes each page and the other stops, and a late one never moves the
 * cursor back. Returns whether this caller moved it.
 */
export async function advanceFanout(db: Db, f: { templateId: number; from: FanoutCursor; to: FanoutCursor; now: number }): Promise<boolean> {
  const rows = await db
    .update(googleClasses)
    .set({ fanoutAt: f.to.at, fanoutAfter: f.to.after, updatedAt: f.now })
    .where(and(eq(googleClasses.templateId, f.templateId), eq(googleClasses.fanoutAt, f.from.at), eq(googleClasses.fanoutAfter, f.from.after)))
    .returning({ templateId: googleClasses.templateId });
  return rows.length === 1;
}

// --- callback nonces -------------------------------------------------------------------------------

/** Claims a callback nonce; false when it was seen before (a duplicate delivery or a replay). */
export async function claimNonce(db: Db, n: { nonce: string; passId: number; eventType: string; now: number }): Promise<boolean> {
  const rows = await db
    .insert(googleCallbackNonces)
    .values({ nonce: n.nonce, passId: n.passId, eventType: n.eventType, receivedAt: n.now })
    .onConflictDoNothing()
    .returning({ nonce: googleCallbackNonces.nonce });
  return rows.length === 1;
}

/** Gives a nonce back when its event could not be emitted, so Google's retry is handled. */
export async function releaseNonce(db: Db, nonce: string): Promise<void> {
  await db.delete(googleCallbackNonces).where(eq(googleCallbackNonces.nonce, nonce));
}

/** Deletes at most `limit` nonces received before `before`, through the received_at index. */
export async function purgeNonces(db: Db, before: number, limit: number): Promise<number> {
  const rows = await db
    .delete(googleCallbackNonces)
    .where(
      inArray(
        googleCallbackNonces.nonce,
        db.select({ nonce: googleCallbackNonces.nonce }).from(googleCallbackNonces).where(lt(googleCallbackNonces.receivedAt, before)).limit(limit),
      ),
    )
    .returning({ nonce: googleCallbackNonces.nonce });
  return rows.length;
}
