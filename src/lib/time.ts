/**
 * @module lib/time
 * Time is stored as integer milliseconds and shown as ISO 8601 UTC with milliseconds
 * (Airship's callback format, e.g. `2020-09-11T22:47:22.000Z`).
 */
export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null | undefined): string | null => (ms == null ? null : iso(ms));

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
