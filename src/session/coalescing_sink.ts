/**
 * A {@linkcode ByteSink} that joins the writes made while an earlier write is still in flight
 * into one. Downstream data arrives as 1 KiB payloads (spec §9.2); writing each one on its own
 * costs a system call (and, for stdout, a thread hand-off) per KiB. The first write goes out at
 * once, so nothing waits when the output keeps up; each write's promise resolves once its bytes
 * are written, so the data channel still acknowledges only written data (§4.5).
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

/** Joins writes issued while the target is busy into one target write. */
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
    if (!this.#writing) void this.#writeQueued();
    return written;
  }

  /** Resolves once every write made so far has finished, written or failed. */
  flushed(): Promise<void> {
    return this.#lastWritten.then(() => {}, () => {});
  }

  async #writeQueued(): Promise<void> {
    this.#writing = true;
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
