/**
 * @module callbacks/payload
 * What a delivery sends (pure): Airship's wallet callback contract. Path by event —
 * `{baseUrl}/v1/pass/install`, `/v1/pass/uninstall`, `/v1/pass/{passId}/personalize` — and a body of
 * exactly the 7 callback fields (passId and templateId integers, dates ISO 8601 UTC with
 * milliseconds); personalize is the callback object *and* the personalization object (Airship's
 * schema is an all-of), so the holder's fields sit beside the 7 without overriding them.
 */
import type { DeliveryEvent } from "../db/schema";

export const CALLBACK_FIELDS = ["passId", "templateId", "serialNumber", "createdAt", "updatedAt", "externalId", "platform"] as const;

export function callbackPath(event: DeliveryEvent, passId: number): string {
  return event === "personalize" ? `/v1/pass/${passId}/personalize` : `/v1/pass/${event}`;
}

/** The JSON body from the event snapshot the pass's Durable Object stored. */
export function callbackBody(event: DeliveryEvent, snapshot: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const k of CALLBACK_FIELDS) body[k] = snapshot[k] ?? null;
  if (event === "personalize" && snapshot.personalization && typeof snapshot.personalization === "object") {
    for (const [k, v] of Object.entries(snapshot.personalization as Record<string, unknown>)) if (!(k in body)) body[k] = v;
  }
  return body;
}

export function callbackUrl(baseUrl: string, event: DeliveryEvent, passId: number): string {
  return `${baseUrl.replace(/\/+$/, "")}${callbackPath(event, passId)}`;
}
