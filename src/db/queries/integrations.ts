/** Integrations and their inbound event log. */
import { and, desc, eq, inArray, isNotNull, lt, sql } from "drizzle-orm";
import type { Db } from "../client";
import { inboundEvents, integrations, type InboundEventRecord, type IntegrationRecord } from "../schema";

export async function insertIntegration(db: Db, row: IntegrationRecord): Promise<IntegrationRecord> {
  const rows = await db.insert(integrations).values(row).returning();
  return rows[0];
}

export async function findIntegration(db: Db, id: string): Promise<IntegrationRecord | null> {
  const rows = await db.select().from(integrations).where(eq(integrations.id, id)).limit(1);
  return rows[0] ?? null;
}

export async function integrationExists(db: Db, id: string): Promise<boolean> {
  const rows = await db.select({ id: integrations.id }).from(integrations).where(eq(integrations.id, id)).limit(1);
  return rows.length > 0;
}

export async function findIntegrationByTokenHash(db: Db, tokenHash: string): Promise<IntegrationRecord | null> {
  const rows = await db.select().from(integrations).where(eq(integrations.tokenHash, tokenHash)).limit(1);
  return rows[0] ?? null;
}

export async function listIntegrationsOfProject(db: Db, projectId: string): Promise<IntegrationRecord[]> {
  return db.select().from(integrations).where(eq(integrations.projectId, projectId)).orderBy(integrations.createdAt);
}

export async function updateIntegration(db: Db, id: string, patch: Partial<IntegrationRecord>): Promise<IntegrationRecord> {
  const rows = await db.update(integrations).set(patch).where(eq(integrations.id, id)).returning();
  return rows[0];
}

export async function deleteIntegration(db: Db, id: string): Promise<void> {
  await db.delete(integrations).where(eq(integrations.id, id));
}

export async function findInboundEvent(db: Db, integrationId: string, id: number): Promise<InboundEventRecord | null> {
  const rows = await db
    .select()
    .from(inboundEvents)
    .where(and(eq(inboundEvents.integrationId, integrationId), eq(inboundEvents.id, id)))
    .limit(1);
  return rows[0] ?? null;
}

/** Newest first (ids grow with time); `beforeId` is the last id of the previous page. */
export async function listInboundEvents(db: Db, integrationId: string, beforeId: number | null, limit: number) {
  return db
    .select()
    .from(inboundEvents)
    .where(and(eq(inboundEvents.integrationId, integrationId), beforeId === null ? undefined : lt(inboundEvents.id, beforeId)))
    .orderBy(desc(inboundEvents.id))
    .limit(limit);
}

/**
 * Drops log rows received before `before` (retention), in bounded chunks, and returns which went so
 * their R2 details can go too. Ids grow with time, so the due rows are the lowest ids: each chunk
 * walks the primary key from the start and stops at the first row still kept.
 */
export async function purgeInboundEvents(
  db: Db,
  before: number,
  opts: { chunk?: number; maxChunks?: number } = {},
): Promise<{ deleted: { integrationId: string; id: number }[]; more: boolean }> {
  const chunk = opts.chunk ?? 500;
  const maxChunks = opts.maxChunks ?? 20;
  const deleted: { integrationId: string; id: number }[] = [];
  for (let i = 0; i < maxChunks; i++) {
    const rows = await db
      .delete(inboundEvents)
      .where(
        sql`${inboundEvents.id} in (select id from ${inboundEvents} where id < coalesce((select id from ${inboundEvents} where received_at >= ${before} order by id limit 1), 9007199254740991) order by id limit ${chunk})`,
      )
      .returning({ integrationId: inboundEvents.integrationId, id: inboundEvents.id });
    deleted.push(...rows);
    if (rows.length < chunk) return { deleted, more: false };
  }
  return { deleted, more: true };
}

/** Rows whose details still sit in D1 (written before details moved to R2), a few at a time. */
export async function legacyEventDetails(db: Db, limit: number) {
  return db
    .select({ id: inboundEvents.id, integrationId: inboundEvents.integrationId, legacyDetail: inboundEvents.legacyDetail })
    .from(inboundEvents)
    .where(isNotNull(inboundEvents.legacyDetail))
    .limit(limit);
}

export async function clearLegacyEventDetails(db: Db, ids: number[]): Promise<void> {
  if (!ids.length) return;
  await db.update(inboundEvents).set({ legacyDetail: null }).where(inArray(inboundEvents.id, ids));
}
