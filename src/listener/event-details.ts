/**
 * @module listener/event-details
 * The part of an inbound event people read and D1 need not hold: the selected headers (credentials
 * redacted), the raw body (none for a refused request: size and digest only), the answer. Kept in R2
 * (`EVENT_LOG`), one object per event at `events/<integrationId>/<id>`, written after the answer (the
 * compact row went into the same D1 batch as the write); R2's lifecycle rule and the cron's retention
 * delete them after 30 days. Rows written before details moved here keep them in `legacy_detail` until
 * the cron moves them, a few at a time.
 */
import { getDb } from "../db/client";
import { clearLegacyEventDetails, legacyEventDetails } from "../db/queries/integrations";
import type { InboundEventRecord } from "../db/schema";
import { createLimiter, OUTBOUND_CONNECTIONS } from "../lib/limit";

export interface EventDetail {
  headers: Record<string, string>;
  contentType: string | null;
  body: string;
  bodyTruncated: boolean;
  bodySha256: string | null;
  response: unknown;
  errorMessage: string | null;
}

export const eventKey = (integrationId: string, id: number) => `events/${integrationId}/${id}`;

/** `evt_` and the row id in base 36: short, ordered like the ids. */
export const formatEventId = (id: number) => `evt_${id.toString(36)}`;

export function parseEventId(s: string): number | null {
  const m = /^evt_([0-9a-z]{1,11})$/.exec(s);
  if (!m) return null;
  const n = parseInt(m[1], 36);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

export async function putDetail(env: Pick<Env, "EVENT_LOG">, integrationId: string, id: number, detail: EventDetail): Promise<void> {
  await env.EVENT_LOG.put(eventKey(integrationId, id), JSON.stringify(detail), { httpMetadata: { contentType: "application/json" } });
}

/** The detail of each row (legacy column first, else R2), null where it is gone. At most 6 R2 reads at once. */
export async function detailsOf(env: Pick<Env, "EVENT_LOG">, rows: readonly InboundEventRecord[]): Promise<(EventDetail | null)[]> {
  const limit = createLimiter(OUTBOUND_CONNECTIONS);
  return Promise.all(
    rows.map((r) =>
      r.legacyDetail
        ? Promise.resolve(r.legacyDetail as unknown as EventDetail)
        : limit(async () => {
            const obj = await env.EVENT_LOG.get(eventKey(r.integrationId, r.id));
            return obj ? ((await obj.json()) as EventDetail) : null;
          }),
    ),
  );
}

/** Deletes the R2 details of purged rows (R2 deletes up to 1000 keys a call). */
export async function deleteDetails(env: Pick<Env, "EVENT_LOG">, rows: readonly { integrationId: string; id: number }[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    await env.EVENT_LOG.delete(rows.slice(i, i + 1000).map((r) => eventKey(r.integrationId, r.id)));
  }
}

export const LEGACY_MOVE_BATCH = 50;

/** Moves a few legacy rows' details from D1 to R2 (cron); returns how many. */
export async function moveLegacyDetails(env: Pick<Env, "DB" | "EVENT_LOG">): Promise<number> {
  const db = getDb(env.DB);
  const rows = await legacyEventDetails(db, LEGACY_MOVE_BATCH);
  for (const r of rows) await putDetail(env, r.integrationId, r.id, r.legacyDetail as unknown as EventDetail);
  await clearLegacyEventDetails(db, rows.map((r) => r.id));
  return rows.length;
}
