/**
 * @module lib/limit
 * At most `n` tasks at once. A Worker invocation has 6 simultaneous outbound connections; further
 * fetches wait inside the runtime with their timeout already running, so a slow receiver would make
 * other tenants' requests time out before they started. Running at most 6 fetches ourselves means a
 * request's timeout starts when the request does.
 */
export const OUTBOUND_CONNECTIONS = 6;

export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function createLimiter(n: number): Limiter {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    // A finishing task hands its slot straight to the next waiter, so a newcomer cannot slip in between.
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
