/**
 * @module google/updates
 * How a pass change reaches Google (google-wallet.md §2-§3): a PATCH of the object, and, when a
 * field the design marks `notifyOnChange` changed, a message the holder is notified about. Pure.
 *
 * PATCH semantics: present keys replace, absent keys stay, `null` clears, arrays are replaced whole.
 * `patchBody(after)` without a `before` is the full managed state (every key we own, as a value or
 * null): idempotent and correct even if an earlier push was lost, so it is the safe default for a
 * queue consumer. With a `before` it is only the keys whose values differ.
 *
 * Notifications: Google notifies for a message added with `messageType: TEXT_AND_NOTIFY` through
 * `addMessage`, at most 3 per pass in 24 hours ("You may send a maximum of 3 messages that trigger a
 * push notification in a 24 hour period", Trigger Push Notifications; over quota Google answers
 * QuotaExceededException). We count ourselves and send plain TEXT past the cap. `addMessage` appends
 * and an object holds at most 10 messages, so a PATCH that precedes a new message clears the list:
 * the back of the pass shows the latest change notice only.
 */
import type { FieldValues } from "../db/schema";
import { DAY } from "../lib/time";
import { type Body, type TemplateLike, fieldText } from "./body-parts";
import type { GoogleDesign } from "./design";
import { OBJECT_KEYS } from "./object-body";
import type { GoogleResource } from "./resources";

export const MAX_NOTIFICATIONS_PER_DAY = 3;
export const NOTIFICATION_WINDOW_MS = DAY;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The PATCH body for `after`: full managed state, or only what changed since `before`. */
export function patchBody(resource: GoogleResource, after: Body, before?: Body): Body {
  const out: Body = {};
  for (const key of OBJECT_KEYS[resource]) {
    const next = Object.prototype.hasOwnProperty.call(after, key) ? after[key] : null;
    if (before) {
      const prev = Object.prototype.hasOwnProperty.call(before, key) ? before[key] : null;
      if (same(prev, next)) continue;
    }
    out[key] = next;
  }
  return out;
}

export interface Message {
  id: string;
  header: string;
  body: string;
  messageType: "TEXT" | "TEXT_AND_NOTIFY";
}

/**
 * The notice for a change of `notifyOnChange` fields between two field sets, or null when none of
 * them changed. Its id is derived from the pass version, so a retried push re-sends the same message.
 */
export function changeMessage(template: TemplateLike, design: GoogleDesign, before: FieldValues, after: FieldValues, version: number): Message | null {
  const watched = design.notifyOnChange ?? [];
  const lines: string[] = [];
  for (const key of watched) {
    const a = fieldText(before, key);
    const b = fieldText(after, key);
    if (a === b) continue;
    const label = template.fields.find((f) => f.key === key)?.label ?? key;
    lines.push(b === null ? `${label} removed` : `${label}: ${b}`);
  }
  if (lines.length === 0) return null;
  return { id: `change-v${version}`, header: `${design.title ?? template.name} updated`, body: lines.join("\n"), messageType: "TEXT_AND_NOTIFY" };
}

/**
 * Applies the per-pass daily cap: `sentAt` holds the times (ms) of earlier notifying messages. Returns
 * the message to send (TEXT_AND_NOTIFY within the cap, TEXT beyond it) and the history to store,
 * pruned to the window.
 */
export function applyNotificationCap(message: Message, sentAt: readonly number[], now: number): { message: Message; sentAt: number[] } {
  const recent = sentAt.filter((t) => Number.isFinite(t) && t > now - NOTIFICATION_WINDOW_MS && t <= now);
  if (message.messageType === "TEXT_AND_NOTIFY" && recent.length < MAX_NOTIFICATIONS_PER_DAY) {
    return { message, sentAt: [...recent, now] };
  }
  return { message: { ...message, messageType: "TEXT" }, sentAt: recent };
}

/** When the next notification would be allowed (ms), or `now` if one is allowed already. */
export function nextNotificationAt(sentAt: readonly number[], now: number): number {
  const recent = sentAt.filter((t) => t > now - NOTIFICATION_WINDOW_MS && t <= now).sort((a, b) => a - b);
  if (recent.length < MAX_NOTIFICATIONS_PER_DAY) return now;
  return recent[recent.length - MAX_NOTIFICATIONS_PER_DAY] + NOTIFICATION_WINDOW_MS;
}

export interface ObjectUpdate {
  patch: Body;
  /** To add with `addMessage` after the PATCH, or null. */
  message: Message | null;
  /** The notification history to store for the pass. */
  notifySentAt: number[];
}

/**
 * Everything one pass change sends: the PATCH and, if a watched field changed, the capped message
 * (the PATCH then clears the old messages, see the module header).
 */
export function planObjectUpdate(input: {
  resource: GoogleResource;
  template: TemplateLike;
  design: GoogleDesign;
  after: Body;
  afterFields: FieldValues;
  version: number;
  /** Field values before the change; without them no message is built. */
  beforeFields?: FieldValues;
  /** The object body before the change, for a minimal PATCH; omit for full state. */
  before?: Body;
  notifySentAt: readonly number[];
  now: number;
}): ObjectUpdate {
  const patch = patchBody(input.resource, input.after, input.before);
  const notice = input.beforeFields ? changeMessage(input.template, input.design, input.beforeFields, input.afterFields, input.version) : null;
  if (!notice) return { patch, message: null, notifySentAt: input.notifySentAt.filter((t) => t > input.now - NOTIFICATION_WINDOW_MS) };
  const capped = applyNotificationCap(notice, input.notifySentAt, input.now);
  return { patch: { ...patch, messages: [] }, message: capped.message, notifySentAt: capped.sentAt };
}
