/** Template rows. Ownership is checked by the caller against the row's projectId. */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "../client";
import { integrations, outbox, templates, type TemplateRecord } from "../schema";
import { templateChangeTask } from "./outbox";

export type TemplateWrite = Pick<TemplateRecord, "name" | "passType" | "fields" | "apple" | "google">;

/** Inserts a template and its wallet change task in one batch. */
export async function insertTemplate(db: Db, projectId: string, t: TemplateWrite, now: number): Promise<{ row: TemplateRecord; outboxId: number }> {
  const [rows, tasks] = await db.batch([
    db
      .insert(templates)
      .values({ ...t, projectId, createdAt: now, updatedAt: now })
      .returning(),
    db
      .insert(outbox)
      .values({ projectId, templateId: sql`last_insert_rowid()` as unknown as number, version: now, createdAt: now })
      .returning({ id: outbox.id }),
  ]);
  return { row: rows[0], outboxId: tasks[0].id };
}

export async function findTemplate(db: Db, id: number): Promise<TemplateRecord | null> {
  const rows = await db.select().from(templates).where(eq(templates.id, id)).limit(1);
  return rows[0] ?? null;
}

export async function listTemplatesOfProject(db: Db, projectId: string): Promise<TemplateRecord[]> {
  return db.select().from(templates).where(eq(templates.projectId, projectId)).orderBy(asc(templates.id));
}

/** Updates a template and writes its wallet change task in one batch. */
export async function updateTemplate(db: Db, id: number, projectId: string, t: TemplateWrite, now: number): Promise<{ row: TemplateRecord; outboxId: number }> {
  const [rows, tasks] = await db.batch([
    db
      .update(templates)
      .set({ ...t, updatedAt: now })
      .where(eq(templates.id, id))
      .returning(),
    templateChangeTask(db, { projectId, templateId: id, updatedAt: now }),
  ]);
  return { row: rows[0], outboxId: tasks[0].id };
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
