/**
 * Fault injection for the emulator's data-channel websocket. A {@linkcode FrameFilter} sees every
 * frame in one direction and returns what to deliver instead: nothing (drop), the frame, a copy
 * (duplicate), a damaged copy (corrupt), or frames held back and released later (reorder).
 * Test infrastructure only.
 *
 * @example
 * ```ts
 * const emulator = await startEmulator({
 *   faults: { toClient: chain(reorderEvery(7), duplicateEvery(5), delayEvery(13, 300)) },
 * });
 * ```
 * @module
 */

import { decodeClientMessage } from "../src/protocol/client_message.ts";

/** Metadata about the frame being filtered. */
export interface FrameInfo {
  /** 0-based count of frames seen in this direction, over the whole session. */
  index: number;
  messageType: string;
  payloadType: number;
  sequenceNumber: number;
}

/** A frame to deliver after `delayMs` (a late frame). */
export interface LateFrame {
  frame: Uint8Array;
  delayMs: number;
}

/** Maps one frame to the frames to deliver: now (bytes) or later ({@linkcode LateFrame}). */
export type FrameFilter = (frame: Uint8Array, info: FrameInfo) => Array<Uint8Array | LateFrame>;

/** Delivers filtered frames: bytes at once, late frames after their delay. */
export function deliverFiltered(
  frames: Array<Uint8Array | LateFrame>,
  send: (frame: Uint8Array) => void,
): void {
  for (const f of frames) {
    if (f instanceof Uint8Array) send(f);
    else setTimeout(() => send(f.frame), f.delayMs);
  }
}

/** What the emulator does to a session's traffic. */
export interface Faults {
  /** Frames from the service/agent to the client. */
  toClient?: FrameFilter;
  /** Frames from the client to the service/agent. */
  fromClient?: FrameFilter;
  /** Close the client's websocket after it has been sent this many frames (each once). */
  dropSocketAfterFrames?: number[];
  /** Agent-like pacing: this long per 1 KiB chunk from the target port, on average (pacer.ts). */
  paceMsPerChunk?: number;
}

/** Describes a frame for filters; unparseable frames get type "?". */
export function frameInfo(frame: Uint8Array, index: number): FrameInfo {
  try {
    const m = decodeClientMessage(frame);
    return {
      index,
      messageType: m.messageType,
      payloadType: m.payloadType,
      sequenceNumber: m.sequenceNumber,
    };
  } catch {
    return { index, messageType: "?", payloadType: -1, sequenceNumber: -1 };
  }
}

const isData = (info: FrameInfo) => info.messageType.endsWith("_stream_data");

/** Applies filters left to right. */
export function chain(...filters: FrameFilter[]): FrameFilter {
  return (frame, info) =>
    filters.reduce<Array<Uint8Array | LateFrame>>(
      (frames, filter) =>
        frames.flatMap((f) => f instanceof Uint8Array ? filter(f, frameInfo(f, info.index)) : [f] // already late: passed on as it is
        ),
      [frame],
    );
}

/** Delivers every n-th data frame `delayMs` late (after frames sent later). */
export function delayEvery(n: number, delayMs: number): FrameFilter {
  let count = 0;
  return (frame, info) => isData(info) && ++count % n === 0 ? [{ frame, delayMs }] : [frame];
}

/** Sends every n-th stream data frame twice. */
export function duplicateEvery(n: number): FrameFilter {
  let count = 0;
  return (frame, info) => isData(info) && ++count % n === 0 ? [frame, frame.slice()] : [frame];
}

/** Delivers a damaged copy (payload byte flipped, digest now wrong) of every n-th data frame. */
export function corruptEvery(n: number): FrameFilter {
  let count = 0;
  return (frame, info) => {
    if (!isData(info) || ++count % n !== 0 || frame.length <= 120) return [frame];
    const bad = frame.slice();
    bad[bad.length - 1] ^= 0xff;
    return [bad];
  };
}

/** Holds every n-th data frame back and delivers it after the next data frame (reordering). */
export function reorderEvery(n: number): FrameFilter {
  let count = 0;
  let held: Uint8Array | undefined;
  return (frame, info) => {
    if (!isData(info)) return [frame];
    if (held) {
      const out = [frame, held];
      held = undefined;
      return out;
    }
    if (++count % n === 0) {
      held = frame;
      return [];
    }
    return [frame];
  };
}

/** Drops every n-th acknowledge frame (the peer must resend, then gets re-acked). */
export function dropAcksEvery(n: number): FrameFilter {
  let count = 0;
  return (frame, info) => info.messageType === "acknowledge" && ++count % n === 0 ? [] : [frame];
}

/** Delivers `garbage` frames (random bytes, truncated headers) before real ones, every n-th. */
export function injectGarbageEvery(n: number, make: () => Uint8Array): FrameFilter {
  let count = 0;
  return (frame) => ++count % n === 0 ? [make(), frame] : [frame];
}
