/**
 * Agent-like pacing for the emulator. The agent sleeps 1 ms after each chunk it reads from the
 * target port, which caps a session at about 1 KiB per ms. A timer sleep per chunk would cap it
 * lower here, since setTimeout(1) often sleeps longer than 1 ms; this token bucket keeps the
 * average at exactly `msPerChunk` per chunk: it sleeps only while ahead of schedule, and a late
 * wake-up is made up by the next chunks. Test/demo infrastructure only.
 *
 * @example
 * ```ts
 * const pacer = new Pacer(1);
 * for (const chunk of chunks) {
 *   await channel.send(PayloadType.Output, chunk);
 *   await pacer.paced(); // on average 1 ms per chunk
 * }
 * ```
 * @module
 */

/** Spaces chunks `msPerChunk` apart on average; 0 means no pacing. */
export class Pacer {
  readonly msPerChunk: number;
  /** How many chunks late the schedule may fall (and then catch up in a burst), at most. */
  readonly maxLateChunks: number;
  #due = -Infinity;

  constructor(msPerChunk: number, maxLateChunks = 8) {
    this.msPerChunk = msPerChunk;
    this.maxLateChunks = maxLateChunks;
  }

  /** Call after each chunk: resolves when the next chunk may go. */
  async paced(): Promise<void> {
    if (this.msPerChunk <= 0) return;
    const now = performance.now();
    const earliest = now - this.maxLateChunks * this.msPerChunk; // after idle: no long burst
    this.#due = Math.max(this.#due, earliest) + this.msPerChunk;
    const ahead = this.#due - now;
    if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead));
  }
}
