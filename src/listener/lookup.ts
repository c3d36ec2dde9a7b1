/**
 * @module listener/lookup
 * Finds the integration behind a listener URL by the SHA-256 of its token, through a short
 * per-isolate cache so a warm request reads nothing from D1 before its write.
 *
 * How long a disabled, rotated or deleted URL can keep working: up to `LOOKUP_CACHE_MS` (5 s), in an
 * isolate that saw the URL just before the change; in the isolate that made the change, not at all
 * (the integration verbs forget the entry). Only found integrations are cached, so a flood of made-up
 * tokens cannot push real ones out.
 */
import { getDb } from "../db/client";
import { findIntegrationByTokenHash } from "../db/queries/integrations";
import type { IntegrationRecord } from "../db/schema";
import { TtlCache } from "../lib/ttl-cache";

export const LOOKUP_CACHE_MS = 5_000;
const byTokenHash = new TtlCache<string, IntegrationRecord>(LOOKUP_CACHE_MS);

export async function findListenerIntegration(env: Pick<Env, "DB">, tokenHash: string, now: number): Promise<IntegrationRecord | null> {
  const hit = byTokenHash.get(tokenHash, now);
  if (hit) return hit;
  const row = await findIntegrationByTokenHash(getDb(env.DB), tokenHash);
  if (row) byTokenHash.set(tokenHash, row, now);
  return row;
}

/** Called by every verb that changes or removes an integration. */
export function forgetIntegration(id: string): void {
  byTokenHash.forgetWhere((row) => row.id === id);
}
