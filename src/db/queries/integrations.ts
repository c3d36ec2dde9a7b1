/** Integrations and their inbound event log. */
import { and, desc, eq, lt, or } from "drizzle-orm";
import type { Db } from "../client";
import { inboundEvents, integrations, type InboundEventRecord, type IntegrationRecord } from "../schema";
import { deleteInChunks, type PurgeResult } from "./retention";

export async function insertIntegration(db: Db, row: IntegrationRecord): Promise<IntegrationRecord> {
  const rows = await db.insert(integrations).values(row).returning();
  return rows[0];
}

export async function findIntegration(db: Db, id: string): Promise<IntegrationRecord | null> {
  const rows = await db.select().from(integrations).where(eq(integrations.id, id)).limit(1);
  return rows[0] ?? null;
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

export async function findInboundEvent(db: Db, integrationId: string, id: string): Promise<InboundEventRecord | null> {
  const rows = await db
    .select()
    .from(inboundEvents)
    .where(and(eq(inboundEvents.integrationId, integrationId), eq(inboundEvents.id, id)))
    .limit(1);
  return rows[0] ?? null;
}

/** Newest first; the cursor is the (receivedAt, id) of the last row of the previous page. */
export async function listInboundEvents(db: Db, integrationId: string, before: { at: number; id: string } | null, limit: number) {
  const page = before
    ? or(lt(inboundEvents.receivedAt, before.at), and(eq(inboundEvents.receivedAt, before.at), lt(inboundEvents.id, before.id)))
    : undefined;
  return db
    .select()
    .from(inboundEvents)
    .where(and(eq(inboundEvents.integrationId, integrationId), page))
    .orderBy(desc(inboundEvents.receivedAt), desc(inboundEvents.id))
    .limit(limit);
}

/** Drops log rows received before `before` (retention), in bounded chunks. */
export async function purgeInboundEvents(db: Db, before: number, opts?: { chunk?: number; maxChunks?: number }): Promise<PurgeResult> {
  return deleteInChunks(db, inboundEvents, lt(inboundEvents.receivedAt, before), opts);
}
