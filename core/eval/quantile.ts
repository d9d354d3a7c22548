/**
 * @file Quantile of an ascending-sorted array by linear interpolation (numpy's default), so
 * quantile(sorted, 0.5) is the median; NaN for an empty array.
 */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const x = p * (n - 1);
  const i = Math.floor(x);
  return sorted[i] + (sorted[Math.min(i + 1, n - 1)] - sorted[i]) * (x - i);
}
