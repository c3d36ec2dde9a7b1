/**
 * @module callbacks/retry
 * When to try a failed callback again. The schedule is Svix's (https://docs.svix.com/retries):
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after each failure, so 8 attempts in all, with ±20 %
 * jitter so a receiver's outage does not turn into a thundering herd on recovery. A `Retry-After`
 * (RFC 9110 §10.2.3) on 429 or 503 can stretch a delay, within a cap. Delays are Cloudflare Queues
 * `delaySeconds`, so never more than 24 h. Pure: the clock and the random number are passed in.
 */

/** Seconds to wait after the 1st, 2nd, … failed attempt (Svix's schedule). */
export const DEFAULT_RETRY_SCHEDULE: readonly number[] = Object.freeze([5, 300, 1800, 7200, 18000, 36000, 36000]);
/** Cloudflare Queues accept `delaySeconds` up to 24 h. */
export const MAX_QUEUE_DELAY_SECONDS = 86_400;
/** The longest a receiver's `Retry-After` can hold a delivery back. */
export const RETRY_AFTER_CAP_SECONDS = 6 * 3600;
/** Each delay is spread uniformly over ±20 % of its schedule entry. */
export const JITTER = 0.2;
export const MAX_SCHEDULE_ENTRIES = 20;

export type RetryDecision = { retry: true; delaySeconds: number } | { retry: false };

/**
 * Parses `CALLBACK_RETRY_SCHEDULE`: comma-separated non-negative integer seconds, 1 to 20 entries.
 * Empty or unset means the default schedule. Throws on anything else, so a bad deployment fails loudly.
 */
export function parseRetrySchedule(raw: string | undefined | null): number[] {
  if (raw == null || raw.trim() === "") return [...DEFAULT_RETRY_SCHEDULE];
  const parts = raw.split(",").map((p) => p.trim());
  if (parts.length > MAX_SCHEDULE_ENTRIES) {
    throw new Error(`CALLBACK_RETRY_SCHEDULE has ${parts.length} entries; at most ${MAX_SCHEDULE_ENTRIES} are allowed`);
  }
  return parts.map((p) => {
    if (!/^\d{1,9}$/.test(p)) {
      throw new Error(`CALLBACK_RETRY_SCHEDULE must be comma-separated non-negative integer seconds (e.g. "5,300,1800"); got "${raw}"`);
    }
    return Number(p);
  });
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const IMF_FIXDATE = /^[a-z]{3}, (\d{2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) gmt$/; // Sun, 06 Nov 1994 08:49:37 GMT
const RFC850_DATE = /^[a-z]{6,9}, (\d{2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) gmt$/; // Sunday, 06-Nov-94 08:49:37 GMT
const ASCTIME_DATE = /^[a-z]{3} ([a-z]{3}) ( \d|\d{2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/; // Sun Nov  6 08:49:37 1994

/**
 * A `Retry-After` value as whole seconds from `nowMs` (rounded up, never negative), or null when it is
 * absent or malformed. Accepts delta-seconds and the three HTTP-date forms of RFC 9110 §5.6.7.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value == null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const dateMs = parseHttpDate(v.toLowerCase(), nowMs);
  if (dateMs === null) return null;
  return Math.max(0, Math.ceil((dateMs - nowMs) / 1000));
}

function parseHttpDate(v: string, nowMs: number): number | null {
  let day: string, mon: string, year: number, h: string, m: string, s: string;
  let match: RegExpExecArray | null;
  if ((match = IMF_FIXDATE.exec(v))) {
    [, day, mon, , h, m, s] = match;
    year = Number(match[3]);
  } else if ((match = RFC850_DATE.exec(v))) {
    [, day, mon, , h, m, s] = match;
    // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is in the past century.
    year = 2000 + Number(match[3]);
    if (year > new Date(nowMs).getUTCFullYear() + 50) year -= 100;
  } else if ((match = ASCTIME_DATE.exec(v))) {
    [, mon, day, h, m, s] = match;
    year = Number(match[6]);
  } else {
    return null;
  }
  const month = MONTHS.indexOf(mon);
  const [dd, hh, mm, ss] = [Number(day.trim()), Number(h), Number(m), Number(s)];
  if (month < 0 || dd < 1 || dd > 31 || hh > 23 || mm > 59 || ss > 60) return null;
  return Date.UTC(year, month, dd, hh, mm, ss);
}

/**
 * Whether and when to try again after a failed attempt. `tries` counts the attempts already made in
 * this run (at least 1); after `schedule.length` retries there are no more, so a run makes
 * `1 + schedule.length` attempts. The delay is the schedule entry with ±`JITTER` (`random` in [0, 1),
 * 0.5 meaning none), stretched to the receiver's `Retry-After` on 429 and 503 (capped at
 * `RETRY_AFTER_CAP_SECONDS`), rounded and clamped to [0, `MAX_QUEUE_DELAY_SECONDS`].
 * 410 Gone (stop for good) is the caller's business.
 */
export function nextRetry(input: {
  schedule: readonly number[];
  tries: number;
  statusCode: number | null;
  retryAfterSeconds: number | null;
  random: number;
}): RetryDecision {
  const { schedule, tries, statusCode, retryAfterSeconds } = input;
  if (!Number.isInteger(tries) || tries < 1) throw new RangeError(`tries must be an integer >= 1; got ${tries}`);
  if (tries > schedule.length) return { retry: false };

  const random = Math.min(Math.max(Number.isFinite(input.random) ? input.random : 0.5, 0), 1);
  let delay = schedule[tries - 1] * (1 + JITTER * (2 * random - 1));
  if ((statusCode === 429 || statusCode === 503) && retryAfterSeconds != null) {
    delay = Math.max(delay, Math.min(retryAfterSeconds, RETRY_AFTER_CAP_SECONDS));
  }
  return { retry: true, delaySeconds: Math.min(Math.max(Math.round(delay), 0), MAX_QUEUE_DELAY_SECONDS) };
}
