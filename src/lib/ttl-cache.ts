/**
 * @module lib/ttl-cache
 * A small per-isolate cache: entries live `ttlMs`, the oldest go first beyond `max`. Used for the
 * lookups every listener request makes (integration by token hash, its template), so a warm request
 * reads nothing from D1 before its one write. How stale an entry may be is the TTL; the verbs that
 * change what is cached forget it in their own isolate at once. The clock is passed in.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { at: number; value: V }>();

  constructor(
    private readonly ttlMs: number,
    private readonly max = 1000,
  ) {}

  get(key: K, now: number): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (now - e.at >= this.ttlMs || now < e.at) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: K, value: V, now: number): void {
    this.entries.delete(key);
    this.entries.set(key, { at: now, value });
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Forgets every entry whose value matches. */
  forgetWhere(match: (value: V) => boolean): void {
    for (const [k, e] of this.entries) if (match(e.value)) this.entries.delete(k);
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * A lookup cached per isolate, with "not found" answers kept apart: lookups of made-up keys (a forged
 * callback names any project it likes; an unauthenticated Apple call any pass type) then push out
 * other misses only, never a real entry.
 */
export class LookupCache<K, V> {
  private readonly found: TtlCache<K, V>;
  private readonly missing: TtlCache<K, true>;

  constructor(ttlMs: number, max = 1000) {
    this.found = new TtlCache<K, V>(ttlMs, max);
    this.missing = new TtlCache<K, true>(ttlMs, max);
  }

  /** The cached answer for `key`, else `load`'s (null: not found), cached. */
  async get(key: K, now: number, load: () => Promise<V | null>): Promise<V | null> {
    const hit = this.found.get(key, now);
    if (hit !== undefined) return hit;
    if (this.missing.get(key, now)) return null;
    const value = await load();
    if (value === null) this.missing.set(key, true, now);
    else this.found.set(key, value, now);
    return value;
  }

  delete(key: K): void {
    this.found.delete(key);
    this.missing.delete(key);
  }
}
