/** A time window is [from, to) with from < to; anything else is the caller's defect, not an empty answer. */
export function assertWindow(from: Date, to: Date): void {
  if (!(from.getTime() < to.getTime())) throw new RangeError(`window must have from < to (got ${from.toISOString()} .. ${to.toISOString()})`);
}
