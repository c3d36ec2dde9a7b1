/**
 * @module listener/event-details
 * The part of an inbound event people read and D1 need not hold: the selected headers (credentials
 * redacted), the raw body (none for a refused request: size and digest only), the answer. Kept in R2
 * (`EVENT_LOG`), one object per event at `events/<integrationId>/<id>`, written after the answer (the
 * compact row went into the same D1 batch as the write); R2's lifecycle rule and the cron's retention
 * delete them after 30 days. Rows written before details moved here keep them in `legacy_detail` until
 * the cron moves them, a few at a time.
 *
 * Object layout: one line of JSON (everything but the body, `v: 2`), a newline, then the body as it
 * came. The body is not JSON-escaped (a body of control characters would grow six-fold), and a list
 * reads only each object's first 64 KiB: the facts and the start of the body.
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

const FORMAT = 2;
/** How much of each object a list reads: bounded memory for a page of 100 events of 256 KiB each. */
export const LIST_READ_BYTES = 64 * 1024;

export async function putDetail(env: Pick<Env, "EVENT_LOG">, integrationId: string, id: number, detail: EventDetail): Promise<void> {
  const { body, ...meta } = detail;
  await env.EVENT_LOG.put(eventKey(integrationId, id), `${JSON.stringify({ v: FORMAT, ...meta })}\n${body}`, { httpMetadata: { contentType: "text/plain; charset=utf-8" } });
}

/** A detail as read back: `complete` is false when a list read only the start of the body. */
export type ReadDetail = EventDetail & { complete: boolean };

/** Parses an object's text; null when the read was cut before the end of the facts line. */
export function decodeDetail(text: string, whole: boolean): ReadDetail | null {
  const nl = text.indexOf("\n");
  if (nl < 0) {
    // No newline: an object written as one JSON document (before this layout), or a facts line longer than the read.
    return whole ? { ...(JSON.parse(text) as EventDetail), complete: true } : null;
  }
  const { v: _v, ...meta } = JSON.parse(text.slice(0, nl)) as Omit<EventDetail, "body"> & { v: number };
  // A cut may split the last character: drop a trailing replacement character rather than show it.
  const body = whole ? text.slice(nl + 1) : text.slice(nl + 1).replace(/\uFFFD$/, "");
  return { ...meta, body, complete: whole };
}

async function readDetail(env: Pick<Env, "EVENT_LOG">, key: string, preview: boolean): Promise<ReadDetail | null> {
  if (preview) {
    const obj = await env.EVENT_LOG.get(key, { range: { offset: 0, length: LIST_READ_BYTES } });
    if (!obj) return null;
    const whole = obj.size <= LIST_READ_BYTES;
    // A facts line longer than the read (not written by today's code, which bounds what it records):
    // the list shows the event without its details rather than reading the whole object.
    return decodeDetail(await obj.text(), whole) ?? { headers: {}, contentType: null, body: "", bodyTruncated: false, bodySha256: null, response: null, errorMessage: null, complete: false };
  }
  const obj = await env.EVENT_LOG.get(key);
  return obj ? decodeDetail(await obj.text(), true) : null;
}

/**
 * The detail of each row (legacy column first, else R2), null where it is gone. At most 6 R2 reads at
 * once; with `preview`, only the start of each object is read (a list).
 */
export async function detailsOf(env: Pick<Env, "EVENT_LOG">, rows: readonly InboundEventRecord[], opts: { preview?: boolean } = {}): Promise<(ReadDetail | null)[]> {
  const limit = createLimiter(OUTBOUND_CONNECTIONS);
  return Promise.all(
    rows.map((r) =>
      r.legacyDetail
        ? Promise.resolve({ ...(r.legacyDetail as unknown as EventDetail), complete: true })
        : limit(() => readDetail(env, eventKey(r.integrationId, r.id), opts.preview ?? false)),
    ),
  );
}

/** Deletes the R2 details of purged rows (R2 deletes up to 1000 keys a call). */
export async function deleteDetails(env: Pick<Env, "EVENT_LOG">, rows: readonly { integrationId: string; id: number }[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    await env.EVENT_LOG.delete(rows.slice(i, i + 1000).map((r) => eventKey(r.integrationId, r.id)));
  }
}

/**
 * Deletes an integration's R2 details once its rows are gone: pages of 1000 keys, at most `maxPages`
 * per call; R2's 30-day lifecycle rule takes whatever is left. Returns whether some are left.
 */
export async function deleteIntegrationDetails(env: Pick<Env, "EVENT_LOG">, integrationId: string, maxPages = 10): Promise<boolean> {
  for (let i = 0; i < maxPages; i++) {
    const page = await env.EVENT_LOG.list({ prefix: `events/${integrationId}/`, limit: 1000 });
    if (page.objects.length) await env.EVENT_LOG.delete(page.objects.map((o) => o.key));
    if (!page.truncated) return false;
  }
  return true;
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
