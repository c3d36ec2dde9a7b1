/** Template rows. Ownership is checked by the caller against the row's projectId. */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "../client";
import { integrations, templates, type TemplateRecord } from "../schema";

export type TemplateWrite = Pick<TemplateRecord, "name" | "passType" | "fields" | "apple" | "google">;

export async function insertTemplate(db: Db, projectId: string, t: TemplateWrite, now: number): Promise<TemplateRecord> {
  const rows = await db
    .insert(templates)
    .values({ ...t, projectId, createdAt: now, updatedAt: now })
    .returning();
  return rows[0];
}

export async function findTemplate(db: Db, id: number): Promise<TemplateRecord | null> {
  const rows = await db.select().from(templates).where(eq(templates.id, id)).limit(1);
  return rows[0] ?? null;
}

export async function listTemplatesOfProject(db: Db, projectId: string): Promise<TemplateRecord[]> {
  return db.select().from(templates).where(eq(templates.projectId, projectId)).orderBy(asc(templates.id));
}

export async function updateTemplate(db: Db, id: number, t: TemplateWrite, now: number): Promise<TemplateRecord> {
  const rows = await db
    .update(templates)
    .set({ ...t, updatedAt: now })
    .where(eq(templates.id, id))
    .returning();
  return rows[0];
}

/** Deletes a template only when no pass or integration uses it; false otherwise. */
export async function deleteUnusedTemplate(db: Db, id: number): Promise<boolean> {
  const rows = await db
    .delete(templates)
    .where(
      and(
        eq(templates.id, id),
        sql`not exists (select 1 from passes where template_id = ${id})`,
        sql`not exists (select 1 from ${integrations} where template_id = ${id})`,
      ),
    )
    .returning({ id: templates.id });
  return rows.length === 1;
}
