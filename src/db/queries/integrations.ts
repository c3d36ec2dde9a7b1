/** Integrations and their inbound event log. */
import { and, desc, eq, inArray, isNotNull, lt, lte, sql } from "drizzle-orm";
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
 * The oldest log rows received before `before` (retention), at most `limit`. Ids grow with time, so
 * the due rows are the lowest ids: the walk goes up the primary key and stops at the first row kept.
 */
export async function dueInboundEvents(db: Db, before: number, limit: number): Promise<{ integrationId: string; id: number }[]> {
  return db
    .select({ integrationId: inboundEvents.integrationId, id: inboundEvents.id })
    .from(inboundEvents)
    .where(sql`${inboundEvents.id} < coalesce((select id from ${inboundEvents} where received_at >= ${before} order by id limit 1), 9007199254740991)`)
    .orderBy(inboundEvents.id)
    .limit(limit);
}

/** Drops the log rows up to `lastId` (a chunk `dueInboundEvents` returned, after their details went). */
export async function deleteInboundEventsUpTo(db: Db, lastId: number): Promise<void> {
  await db.delete(inboundEvents).where(lte(inboundEvents.id, lastId));
}

/** The latest row of each integration, one statement per 90 ids (D1 binds at most 100). */
export async function latestInboundEvents(db: Db, integrationIds: readonly string[]): Promise<InboundEventRecord[]> {
  const out: InboundEventRecord[] = [];
  for (let i = 0; i < integrationIds.length; i += 90) {
    const ids = integrationIds.slice(i, i + 90);
    const latest = db
      .select({ id: sql<number>`max(${inboundEvents.id})` })
      .from(inboundEvents)
      .where(inArray(inboundEvents.integrationId, ids))
      .groupBy(inboundEvents.integrationId);
    out.push(...(await db.select().from(inboundEvents).where(inArray(inboundEvents.id, latest))));
  }
  return out;
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
