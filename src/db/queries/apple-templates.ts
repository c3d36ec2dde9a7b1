/**
 * Apple's per-template rows (schema/apple.ts): template images, `apple_templates` (images_changed_at
 * and the fan-out's progress, its cursor moved by compare-and-set) and holders' personalization.
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../client";
import { applePersonalizations, appleTemplateImages, appleTemplates, type AppleTemplateRecord } from "../schema";

const touchImages = (db: Db, templateId: number, projectId: string, now: number) =>
  db
    .insert(appleTemplates)
    .values({ templateId, projectId, imagesChangedAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: appleTemplates.templateId,
      set: { imagesChangedAt: sql`max(${appleTemplates.imagesChangedAt} + 1, excluded.images_changed_at)`, updatedAt: now },
    });

export interface ImageWrite {
  name: string;
  data: string;
  bytes: number;
  sha1: string;
  width: number;
  height: number;
}

/** Stores images (replacing same-named ones) and moves the template's images_changed_at on. */
export async function putTemplateImages(db: Db, templateId: number, projectId: string, images: ImageWrite[], now: number): Promise<void> {
  if (!images.length) return;
  const writes = images.map((i) =>
    db
      .insert(appleTemplateImages)
      .values({ templateId, ...i, updatedAt: now })
      .onConflictDoUpdate({
        target: [appleTemplateImages.templateId, appleTemplateImages.name],
        set: { data: i.data, bytes: i.bytes, sha1: i.sha1, width: i.width, height: i.height, updatedAt: now },
      }),
  );
  await db.batch([touchImages(db, templateId, projectId, now), ...writes]);
}

export async function deleteTemplateImage(db: Db, templateId: number, projectId: string, name: string, now: number): Promise<boolean> {
  const deleted = await db
    .delete(appleTemplateImages)
    .where(and(eq(appleTemplateImages.templateId, templateId), eq(appleTemplateImages.name, name)))
    .returning({ name: appleTemplateImages.name });
  if (deleted.length) await touchImages(db, templateId, projectId, now);
  return deleted.length === 1;
}

/** Names and sizes, never the bytes. */
export async function listTemplateImages(db: Db, templateId: number) {
  return db
    .select({
      name: appleTemplateImages.name,
      bytes: appleTemplateImages.bytes,
      sha1: appleTemplateImages.sha1,
      width: appleTemplateImages.width,
      height: appleTemplateImages.height,
      updatedAt: appleTemplateImages.updatedAt,
    })
    .from(appleTemplateImages)
    .where(eq(appleTemplateImages.templateId, templateId))
    .orderBy(asc(appleTemplateImages.name));
}

/** The bytes (base64) of a template's images, for a bundle; `names` narrows to some. */
export async function loadTemplateImages(db: Db, templateId: number, names?: string[]): Promise<{ name: string; data: string }[]> {
  const where = names ? and(eq(appleTemplateImages.templateId, templateId), inArray(appleTemplateImages.name, names)) : eq(appleTemplateImages.templateId, templateId);
  return db.select({ name: appleTemplateImages.name, data: appleTemplateImages.data }).from(appleTemplateImages).where(where);
}

// --- per-template state and fan-out ------------------------------------------------------------------

export async function findAppleTemplate(db: Db, templateId: number): Promise<AppleTemplateRecord | null> {
  const rows = await db.select().from(appleTemplates).where(eq(appleTemplates.templateId, templateId)).limit(1);
  return rows[0] ?? null;
}

/** What, besides the pass and template rows, moves a pass's Last-Modified: images and personalization. */
export async function passExtras(db: Db, passId: number, templateId: number): Promise<{ imagesChangedAt: number; personalizedAt: number | null }> {
  const [t, p] = await db.batch([
    db.select({ at: appleTemplates.imagesChangedAt }).from(appleTemplates).where(eq(appleTemplates.templateId, templateId)).limit(1),
    db.select({ at: applePersonalizations.personalizedAt }).from(applePersonalizations).where(eq(applePersonalizations.passId, passId)).limit(1),
  ]);
  return { imagesChangedAt: t[0]?.at ?? 0, personalizedAt: p[0]?.at ?? null };
}

/**
 * Starts (or restarts) a template's fan-out for the edit at `wantedAt`, unless one for that edit or a
 * later one has started. Returns the run number, or null when there was nothing to start.
 */
export async function startFanout(db: Db, f: { templateId: number; projectId: string; wantedAt: number; total: number; now: number }): Promise<number | null> {
  const rows = await db
    .insert(appleTemplates)
    .values({
      templateId: f.templateId,
      projectId: f.projectId,
      fanoutState: "running",
      fanoutRun: 1,
      fanoutWantedAt: f.wantedAt,
      fanoutTotal: f.total,
      fanoutStartedAt: f.now,
      updatedAt: f.now,
    })
    .onConflictDoUpdate({
      target: appleTemplates.templateId,
      set: {
        fanoutState: "running",
        fanoutRun: sql`${appleTemplates.fanoutRun} + 1`,
        fanoutWantedAt: f.wantedAt,
        fanoutCursor: 0,
        fanoutDone: 0,
        fanoutTotal: f.total,
        fanoutError: null,
        fanoutStartedAt: f.now,
        fanoutFinishedAt: null,
        updatedAt: f.now,
      },
      setWhere: sql`${appleTemplates.fanoutWantedAt} < ${f.wantedAt}`,
    })
    .returning({ run: appleTemplates.fanoutRun });
  return rows[0]?.run ?? null;
}

/** Moves a run's cursor from `from` to `to` (compare-and-set: one message wins each page). */
export async function advanceFanout(db: Db, a: { templateId: number; run: number; from: number; to: number; handed: number; finished: boolean; now: number }): Promise<boolean> {
  const rows = await db
    .update(appleTemplates)
    .set({
      fanoutCursor: a.to,
      fanoutDone: sql`${appleTemplates.fanoutDone} + ${a.handed}`,
      // A page can find passes registered after the count: never show more done than total.
      fanoutTotal: sql`max(${appleTemplates.fanoutTotal}, ${appleTemplates.fanoutDone} + ${a.handed})`,
      ...(a.finished ? { fanoutState: "done" as const, fanoutFinishedAt: a.now } : {}),
      updatedAt: a.now,
    })
    .where(and(eq(appleTemplates.templateId, a.templateId), eq(appleTemplates.fanoutRun, a.run), eq(appleTemplates.fanoutCursor, a.from), eq(appleTemplates.fanoutState, "running")))
    .returning({ run: appleTemplates.fanoutRun });
  return rows.length === 1;
}

export async function failFanout(db: Db, templateId: number, error: string, now: number): Promise<void> {
  await db
    .update(appleTemplates)
    .set({ fanoutState: "failed", fanoutError: error, fanoutFinishedAt: now, updatedAt: now })
    .where(and(eq(appleTemplates.templateId, templateId), eq(appleTemplates.fanoutState, "running")));
}

// --- personalization ---------------------------------------------------------------------------------

export async function findPersonalization(db: Db, passId: number) {
  const rows = await db.select().from(applePersonalizations).where(eq(applePersonalizations.passId, passId)).limit(1);
  return rows[0] ?? null;
}

/** Stores a holder's sign-up once; false when the pass was personalized already. */
export async function insertPersonalization(db: Db, row: typeof applePersonalizations.$inferInsert): Promise<boolean> {
  const rows = await db.insert(applePersonalizations).values(row).onConflictDoNothing().returning({ passId: applePersonalizations.passId });
  return rows.length === 1;
}

export async function deletePersonalization(db: Db, passId: number): Promise<void> {
  await db.delete(applePersonalizations).where(eq(applePersonalizations.passId, passId));
}
