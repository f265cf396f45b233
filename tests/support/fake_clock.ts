/**
 * A deterministic {@linkcode Clock} for tests: time moves only when the test says so, and timers
 * fire in due-time order (ties in scheduling order), including timers that other timers schedule
 * while the clock is advancing.
 *
 * @example
 * ```ts
 * const clock = new FakeClock();
 * const channel = new DataChannel({ role: "client", handlers, clock });
 * await clock.advanceAsync(250); // fires the 100 ms and 200 ms resend ticks, settling promises
 * ```
 * @module
 */

import type { Clock, TimerId } from "../../src/datachannel/clock.ts";

interface Timer {
  at: number;
  order: number;
  fn: () => void;
}

/** Waits one real macrotask turn (a 0 ms timer), so queued promise chains run to completion. */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A manually driven clock. `now()` starts at `start` and changes only through `advance*`. */
export class FakeClock implements Clock {
  #now: number;
  #order = 0;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  constructor(start = 0) {
    this.#now = start;
  }

  /** The current fake time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at `now() + ms` (negative delays count as 0). */
  setTimeout(fn: () => void, ms: number): TimerId {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), order: this.#order++, fn });
    return id;
  }

  /** Cancels a timer; unknown or already fired ids are ignored. */
  clearTimeout(id: TimerId): void {
    this.#timers.delete(id as number);
  }

  /** How many timers are scheduled and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms`, synchronously firing every timer due by then, in time order.
   * While a timer runs, `now()` is its due time. Promise continuations do not run in between;
   * use {@linkcode advanceAsync} when the code under test is asynchronous.
   */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (let timer; (timer = this.#takeDue(target));) timer.fn();
    this.#now = target;
  }

  /**
   * Like {@linkcode advance}, but settles pending microtasks and promises (a few real 0 ms
   * macrotask turns) before the first firing, after each firing and at the end.
   */
  async advanceAsync(ms: number, ticks = 3): Promise<void> {
    const target = this.#now + ms;
    await this.flush(ticks);
    for (let timer; (timer = this.#takeDue(target));) {
      timer.fn();
      await this.flush(ticks);
    }
    this.#now = target;
    await this.flush(ticks);
  }

  /** Lets pending promise chains run, without moving fake time: `ticks` real 0 ms turns. */
  async flush(ticks = 3): Promise<void> {
    for (let i = 0; i < ticks; i++) await macrotask();
  }

  /** Removes and returns the earliest timer due at or before `target`, setting `now()` to it. */
  #takeDue(target: number): Timer | undefined {
    let id: number | undefined;
    let next: Timer | undefined;
    for (const [candidateId, timer] of this.#timers) {
      if (timer.at > target) continue;
      if (!next || timer.at < next.at || (timer.at === next.at && timer.order < next.order)) {
        id = candidateId;
        next = timer;
      }
    }
    if (id === undefined || !next) return undefined;
    this.#timers.delete(id);
    this.#now = Math.max(this.#now, next.at);
    return next;
  }
}
