/**
 * @module lib/backoff
 * How long a queue message waits after *our own* failure (D1, a Durable Object or a queue send threw
 * while handling it): exponential from 30 s, doubling, capped at 2 hours, ±20 % jitter. With the
 * consumers' `max_retries = 30` a message keeps being retried for about two days before it is
 * dead-lettered, so an outage of ours of minutes or hours delays work and never fails it. (The receiver's
 * own retry schedule, in callbacks/retry.ts, is separate: only attempts against the receiver decide that
 * a delivery failed.) Pure: the random number is passed in.
 */
export const CRASH_RETRY_BASE_SECONDS = 30;
export const CRASH_RETRY_CAP_SECONDS = 2 * 3600;
const JITTER = 0.2;

/** `attempts` is the message's delivery count so far (Queues' `msg.attempts`, 1 on the first delivery). */
export function crashRetryDelay(attempts: number, random: number): number {
  const n = Math.max(1, Math.floor(Number.isFinite(attempts) ? attempts : 1));
  const base = Math.min(CRASH_RETRY_BASE_SECONDS * 2 ** Math.min(n - 1, 30), CRASH_RETRY_CAP_SECONDS);
  const r = Math.min(Math.max(Number.isFinite(random) ? random : 0.5, 0), 1);
  return Math.round(base * (1 + JITTER * (2 * r - 1)));
}
