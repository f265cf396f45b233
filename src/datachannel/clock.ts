/**
 * Time as a dependency, so retransmission runs in fake time in tests.
 * @module
 */

/** An opaque timer handle. */
export type TimerId = unknown;

/** A source of time and timers. */
export interface Clock {
  /** Milliseconds, monotonic enough for RTT measurement. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as number),
};

/** Wall-clock milliseconds for the CreatedDate header field. */
export function epochMillis(): number {
  return Date.now();
}
