/** Percentile of a sorted array (nearest rank). */
export function percentile(sorted, p) {
  if (!sorted.length) return null;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[k];
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function summarize(latencies) {
  const s = Float64Array.from(latencies).sort();
  return { count: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), p999: percentile(s, 99.9), max: s.length ? s[s.length - 1] : null };
}

/** The run whose req/s is the median of `runs` (odd count: a real run, not an average). */
export function medianRun(runs, key = "rps") {
  const sorted = [...runs].sort((a, b) => a[key] - b[key]);
  return sorted[(sorted.length - 1) >> 1];
}

export const round = (x, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? null : Number(x.toFixed(digits)));
