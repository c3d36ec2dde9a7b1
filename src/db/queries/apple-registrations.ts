/**
 * Apple device registrations and the update-tag counter (schema/apple.ts). Statements that must agree
 * run in one D1 batch (one transaction): the counter, the registrations it stamps, and the counts that
 * decide install / uninstall are read and written together.
 */
import { and, asc, eq, gt, lte, sql } from "drizzle-orm";
import type { Db } from "../client";
import { appleCounters, applePassTypeShards, appleRegistrations, templates, type AppleRegistrationRecord } from "../schema";

export interface RegistrationKey {
  deviceLibraryId: string;
  passTypeId: string;
  serialNumber: string;
}

const TAG = "tag";
const keyIs = (k: RegistrationKey) =>
  and(eq(appleRegistrations.deviceLibraryId, k.deviceLibraryId), eq(appleRegistrations.passTypeId, k.passTypeId), eq(appleRegistrations.serialNumber, k.serialNumber));

/**
 * Advances the update-tag counter to max(value + 1, now): strictly increasing, and close to the
 * clock in milliseconds. Runs inside a batch, before the statements that read it.
 */
function bumpTag(db: Db, now: number) {
  return db
    .insert(appleCounters)
    .values({ name: TAG, value: now })
    .onConflictDoUpdate({ target: appleCounters.name, set: { value: sql`max(${appleCounters.value} + 1, excluded.value)` } });
}
const currentTag = sql<number>`(select ${appleCounters.value} from ${appleCounters} where ${appleCounters.name} = ${TAG})`;

function countOfPass(db: Db, passId: number) {
  return db.select({ n: sql<number>`count(*)` }).from(appleRegistrations).where(eq(appleRegistrations.passId, passId));
}

export async function findRegistration(db: Db, k: RegistrationKey): Promise<AppleRegistrationRecord | null> {
  const rows = await db.select().from(appleRegistrations).where(keyIs(k)).limit(1);
  return rows[0] ?? null;
}

/**
 * Registers a device for a pass. A new row gets a fresh tag (so the device's next "what changed"
 * lists the pass once: a change between download and registration is not missed) and counts as
 * pushed. A known row keeps its tag and takes the newest push token. Beyond `maxPerPass` rows the
 * least recently registered go. Returns whether the row is new and how many the pass has now.
 */
export async function upsertRegistration(
  db: Db,
  r: RegistrationKey & { pushToken: string; passId: number; templateId: number; projectId: string },
  now: number,
  maxPerPass: number,
): Promise<{ created: boolean; count: number }> {
  const [, inserted, , , count] = await db.batch([
    bumpTag(db, now),
    db
      .insert(appleRegistrations)
      .values({ ...r, tag: currentTag, pushedTag: currentTag, createdAt: now, updatedAt: now })
      .onConflictDoNothing()
      .returning({ passId: appleRegistrations.passId }),
    // A device registering again (a new push token, a reinstall) refreshes the row.
    db.update(appleRegistrations).set({ pushToken: r.pushToken, updatedAt: now }).where(keyIs(r)),
    db
      .delete(appleRegistrations)
      .where(
        sql`rowid in (select rowid from ${appleRegistrations} where ${appleRegistrations.passId} = ${r.passId} order by ${appleRegistrations.updatedAt} desc limit -1 offset ${maxPerPass})`,
      ),
    countOfPass(db, r.passId),
  ]);
  return { created: inserted.length === 1, count: count[0]?.n ?? 0 };
}

/** Removes a registration; `removed` is the row there was (or null), `count` what the pass has left. */
export async function deleteRegistration(db: Db, k: RegistrationKey, passId: number): Promise<{ removed: AppleRegistrationRecord | null; count: number }> {
  const [deleted, count] = await db.batch([db.delete(appleRegistrations).where(keyIs(k)).returning(), countOfPass(db, passId)]);
  return { removed: deleted[0] ?? null, count: count[0]?.n ?? 0 };
}

/** Puts a removed registration back as it was (undoing an unregistration whose event failed). */
export async function restoreRegistration(db: Db, row: AppleRegistrationRecord): Promise<void> {
  await db.insert(appleRegistrations).values(row).onConflictDoNothing();
}

/**
 * Removes a registration APNs called dead, unless the device registered again since: another push
 * token, or (for a 410 with a timestamp) a registration newer than the moment APNs gave up on it.
 */
export async function deleteDeadRegistration(
  db: Db,
  k: RegistrationKey & { pushToken: string; passId: number },
  unregisteredAt: number | undefined,
): Promise<{ removed: boolean; count: number }> {
  const stale = and(keyIs(k), eq(appleRegistrations.pushToken, k.pushToken), unregisteredAt === undefined ? undefined : lte(appleRegistrations.updatedAt, unregisteredAt));
  const [deleted, count] = await db.batch([db.delete(appleRegistrations).where(stale).returning({ passId: appleRegistrations.passId }), countOfPass(db, k.passId)]);
  return { removed: deleted.length === 1, count: count[0]?.n ?? 0 };
}

/** Serials of one device and pass type whose tag is past `since`, oldest tag first (§1.3). */
export async function serialsChangedSince(db: Db, deviceLibraryId: string, passTypeId: string, since: number, limit: number) {
  return db
    .select({ serialNumber: appleRegistrations.serialNumber, tag: appleRegistrations.tag })
    .from(appleRegistrations)
    .where(and(eq(appleRegistrations.deviceLibraryId, deviceLibraryId), eq(appleRegistrations.passTypeId, passTypeId), gt(appleRegistrations.tag, since)))
    .orderBy(asc(appleRegistrations.tag))
    .limit(limit);
}

/** Stamps every registration of a pass with a new tag; returns how many there are. */
export async function touchPass(db: Db, passId: number, now: number): Promise<number> {
  const [, rows] = await db.batch([
    bumpTag(db, now),
    db.update(appleRegistrations).set({ tag: currentTag }).where(eq(appleRegistrations.passId, passId)).returning({ passId: appleRegistrations.passId }),
  ]);
  return rows.length;
}

/** Registrations of a pass still owed a push (`pushed_tag < tag`). */
export async function registrationsToPush(db: Db, passId: number, limit: number): Promise<AppleRegistrationRecord[]> {
  return db
    .select()
    .from(appleRegistrations)
    .where(and(eq(appleRegistrations.passId, passId), sql`${appleRegistrations.pushedTag} < ${appleRegistrations.tag}`))
    .limit(limit);
}

/** Records pushes APNs accepted: each registration's `pushed_tag` moves up to the tag that was pushed. */
export async function markPushed(db: Db, pushed: (RegistrationKey & { tag: number })[]): Promise<void> {
  if (!pushed.length) return;
  const [first, ...rest] = pushed.map((p) => db.update(appleRegistrations).set({ pushedTag: sql`max(${appleRegistrations.pushedTag}, ${p.tag})` }).where(keyIs(p)));
  await db.batch([first, ...rest]);
}

/**
 * Whether a device is registered for any of the project's passes under `passTypeId`. Through the
 * templates' project index and the registrations' template index (registrations have no project index).
 */
export async function projectHasRegistrations(db: Db, projectId: string, passTypeId: string): Promise<boolean> {
  const rows = await db
    .select({ passId: appleRegistrations.passId })
    .from(templates)
    .innerJoin(appleRegistrations, eq(appleRegistrations.templateId, templates.id))
    .where(and(eq(templates.projectId, projectId), eq(appleRegistrations.passTypeId, passTypeId)))
    .limit(1);
  return rows.length === 1;
}

export async function templateHasRegistrations(db: Db, templateId: number): Promise<boolean> {
  const rows = await db.select({ passId: appleRegistrations.passId }).from(appleRegistrations).where(eq(appleRegistrations.templateId, templateId)).limit(1);
  return rows.length === 1;
}

export async function countTemplatePassesWithDevices(db: Db, templateId: number): Promise<number> {
  const rows = await db.select({ n: sql<number>`count(distinct ${appleRegistrations.passId})` }).from(appleRegistrations).where(eq(appleRegistrations.templateId, templateId));
  return rows[0]?.n ?? 0;
}

/** The next page of a template's passes with devices, by pass id, stamping their registrations with a new tag. */
export async function claimTemplatePage(db: Db, templateId: number, afterPassId: number, limit: number, now: number): Promise<number[]> {
  const page = await db
    .selectDistinct({ passId: appleRegistrations.passId })
    .from(appleRegistrations)
    .where(and(eq(appleRegistrations.templateId, templateId), gt(appleRegistrations.passId, afterPassId)))
    .orderBy(asc(appleRegistrations.passId))
    .limit(limit);
  const ids = page.map((p) => p.passId);
  if (!ids.length) return ids;
  const last = ids[ids.length - 1];
  await db.batch([
    bumpTag(db, now),
    db
      .update(appleRegistrations)
      .set({ tag: currentTag })
      .where(and(eq(appleRegistrations.templateId, templateId), gt(appleRegistrations.passId, afterPassId), lte(appleRegistrations.passId, last))),
  ]);
  return ids;
}

/** Notes that a pass type has a project in `shard` (in the directory; a repeat changes nothing). */
export async function addPassTypeShard(db: Db, passTypeId: string, shard: number, now: number): Promise<void> {
  await db.insert(applePassTypeShards).values({ passTypeId, shard, createdAt: now }).onConflictDoNothing();
}

/** The shards where a pass type has a project, lowest first (empty: none recorded). */
export async function passTypeShards(db: Db, passTypeId: string): Promise<number[]> {
  const rows = await db.select({ shard: applePassTypeShards.shard }).from(applePassTypeShards).where(eq(applePassTypeShards.passTypeId, passTypeId)).orderBy(asc(applePassTypeShards.shard));
  return rows.map((r) => r.shard);
}
