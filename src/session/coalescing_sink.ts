/**
 * A {@linkcode ByteSink} that joins writes into as few target writes as possible: writes made in
 * the same task (every message of one websocket read is handled in one) go out together once
 * that task's synchronous work is done, and writes made while an earlier write is in flight
 * join the next one. Downstream data arrives as 1 KiB payloads (spec §9.2); writing each one on
 * its own costs a system call (and, for stdout, a thread hand-off) per KiB. Nothing waits for a
 * timer, so an interactive keystroke goes out as soon as it is handled; each write's promise
 * resolves once its bytes are written, so the data channel still acknowledges only written data
 * (§4.5).
 *
 * @example
 * ```ts
 * const writer = Deno.stdout.writable.getWriter();
 * const stdout = new CoalescingSink({ write: (bytes) => writer.write(bytes) });
 * await stdout.write(payload); // resolves once payload (and whatever joined it) is written
 * ```
 * @module
 */

import type { ByteSink } from "./port_session.ts";
import { concatBytes } from "../bytes.ts";

/** Joins writes issued in one task, or while the target is busy, into one target write. */
export class CoalescingSink implements ByteSink {
  readonly #target: ByteSink;
  #queued: Uint8Array[] = [];
  #queuedWritten: PromiseWithResolvers<void> | undefined;
  /** The latest batch; batches finish in order, so once it settles every write has. */
  #lastWritten: Promise<void> = Promise.resolve();
  #writing = false;

  constructor(target: ByteSink) {
    this.#target = target;
  }

  /** Queues `bytes`; resolves once they are written, rejects if that write fails. */
  write(bytes: Uint8Array): Promise<void> {
    this.#queued.push(bytes);
    this.#queuedWritten ??= Promise.withResolvers<void>();
    const written = this.#queuedWritten.promise;
    this.#lastWritten = written;
    if (!this.#writing) {
      this.#writing = true;
      queueMicrotask(() => void this.#writeQueued());
    }
    return written;
  }

  /** Resolves once every write made so far has finished, written or failed. */
  flushed(): Promise<void> {
    return this.#lastWritten.then(() => {}, () => {});
  }

  async #writeQueued(): Promise<void> {
    while (this.#queued.length > 0) {
      const chunks = this.#queued;
      const written = this.#queuedWritten!;
      this.#queued = [];
      this.#queuedWritten = undefined;
      try {
        await this.#target.write(chunks.length === 1 ? chunks[0] : concatBytes(chunks));
        written.resolve();
      } catch (error) {
        written.reject(error);
      }
    }
    this.#writing = false;
  }
}
