/**
 * Pass reads and the one write batch of a pass change: the pass row, its event row and its outbox
 * row, all or nothing (a D1 batch is one transaction).
 */
import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { Db } from "../client";
import { outbox, passEvents, passes, type PassRecord } from "../schema";

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
  action: string;
  source: string;
  changes: Record<string, unknown>;
  outboxId: string;
  now: number;
}

/**
 * Writes a pass change atomically and returns the stored row. For an insert the pass id is not
 * known before the batch runs, so the event and outbox rows find it by (template, externalId).
 */
export async function writePassChange(db: Db, w: PassWrite): Promise<PassRecord> {
  const { pass } = w;
  const passIdRef = w.insert
    ? sql`(select ${passes.id} from ${passes} where ${passes.templateId} = ${pass.templateId} and ${passes.externalId} = ${pass.externalId})`
    : pass.id;
  const { id: _omit, ...insertable } = pass;
  const main = w.insert
    ? db.insert(passes).values(insertable).returning()
    : db
        .update(passes)
        .set({ status: pass.status, fields: pass.fields, version: pass.version, updatedAt: pass.updatedAt, archivedAt: pass.archivedAt })
        .where(eq(passes.id, pass.id))
        .returning();
  const [rows] = await db.batch([
    main,
    db.insert(passEvents).values({
      passId: passIdRef as number,
      version: pass.version,
      kind: "write",
      action: w.action,
      source: w.source,
      changes: w.changes,
      at: w.now,
    }),
    db.insert(outbox).values({
      id: w.outboxId,
      passId: passIdRef as number,
      topic: "pushes",
      version: pass.version,
      state: "pending",
      createdAt: w.now,
    }),
  ]);
  const stored = (rows as PassRecord[])[0];
  if (!stored) throw new Error("pass write returned no row");
  return stored;
}

export async function listPassEvents(db: Db, passId: number) {
  return db.select().from(passEvents).where(eq(passEvents.passId, passId)).orderBy(asc(passEvents.id));
}
