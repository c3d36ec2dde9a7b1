/**
 * Pass reads and the one write batch of a pass change: the pass row and its outbox row (plus a
 * listener receipt when there is one), all or nothing (a D1 batch is one transaction).
 */
import { and, asc, eq, gt, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../client";
import { outbox, passEvents, passes, templates, type PassRecord, type TemplateRecord } from "../schema";

export async function findPassByTarget(db: Db, templateId: number, externalId: string): Promise<PassRecord | null> {
  const rows = await db
    .select()
    .from(passes)
    .where(and(eq(passes.templateId, templateId), eq(passes.externalId, externalId)))
    .limit(1);
  return rows[0] ?? null;
}

export async function findPassById(db: Db, id: number): Promise<PassRecord | null> {
  const rows = await db.select().from(passes).where(eq(passes.id, id)).limit(1);
  return rows[0] ?? null;
}

/** A pass and its template in one read, by id or by serial number (the wallets' lookups). */
export async function findPassWithTemplate(db: Db, by: { passId: number } | { serialNumber: string }): Promise<{ pass: PassRecord; template: TemplateRecord } | null> {
  const rows = await db
    .select({ pass: passes, template: templates })
    .from(passes)
    .innerJoin(templates, eq(passes.templateId, templates.id))
    .where("passId" in by ? eq(passes.id, by.passId) : eq(passes.serialNumber, by.serialNumber))
    .limit(1);
  return rows[0] ?? null;
}

export async function listPassesOfTemplate(db: Db, templateId: number, afterId: number, limit: number) {
  return db
    .select()
    .from(passes)
    .where(and(eq(passes.templateId, templateId), gt(passes.id, afterId)))
    .orderBy(asc(passes.id))
    .limit(limit);
}

export async function countPassesOfTemplate(db: Db, templateId: number): Promise<number> {
  const rows = await db.select({ n: sql<number>`count(*)` }).from(passes).where(eq(passes.templateId, templateId));
  return rows[0]?.n ?? 0;
}

export interface PassWrite {
  pass: PassRecord;
  insert: boolean;
  now: number;
}

/** A SQL expression for the pass's id inside the batch: for an insert it is not known beforehand. */
export function passIdIn(w: PassWrite): SQL | number {
  return w.insert
    ? sql`(select ${passes.id} from ${passes} where ${passes.templateId} = ${w.pass.templateId} and ${passes.externalId} = ${w.pass.externalId})`
    : w.pass.id;
}

/**
 * Writes a pass change atomically with its outbox row and whatever else the caller appends (a
 * listener request's receipt), and returns the stored row and the outbox id. One D1 batch: one
 * round trip, all or nothing.
 */
export async function writePassChange(
  db: Db,
  w: PassWrite,
  extra: readonly BatchItem<"sqlite">[] = [],
): Promise<{ pass: PassRecord; outboxId: number; extraResults: unknown[] }> {
  const { pass } = w;
  const { id: _omit, ...insertable } = pass;
  const main = w.insert
    ? db.insert(passes).values(insertable).returning()
    : db
        .update(passes)
        .set({ status: pass.status, fields: pass.fields, version: pass.version, updatedAt: pass.updatedAt, archivedAt: pass.archivedAt })
        .where(eq(passes.id, pass.id))
        .returning();
  const task = db
    .insert(outbox)
    .values({ projectId: pass.projectId, passId: passIdIn(w) as number, templateId: pass.templateId, version: pass.version, createdAt: w.now })
    .returning({ id: outbox.id });
  const [rows, tasks, ...extraResults] = await db.batch([main, task, ...extra]);
  const stored = (rows as PassRecord[])[0];
  const outboxId = (tasks as { id: number }[])[0]?.id;
  if (!stored || outboxId === undefined) throw new Error("pass write returned no row");
  return { pass: stored, outboxId, extraResults };
}

/** Rows of the retired D1 event log for one pass, oldest first (read once, when its history moves). */
export async function legacyPassEvents(db: Db, passId: number) {
  return db.select().from(passEvents).where(eq(passEvents.passId, passId)).orderBy(asc(passEvents.id));
}

export async function deleteLegacyPassEvents(db: Db, passId: number): Promise<void> {
  await db.delete(passEvents).where(eq(passEvents.passId, passId));
}
