/**
 * The data channel (spec §4–§6): sequence numbers, acknowledgements, the reorder buffer,
 * retransmission with an RTT-based timeout, and back-pressure when the send window is full.
 * It sees the transport only as a {@linkcode FrameSink} and time only through a {@linkcode Clock}.
 * The same class plays the client (sends `input_stream_data`) or the agent (sends
 * `output_stream_data`), so the emulator exercises identical sequencing rules.
 *
 * @example
 * ```ts
 * const channel = new DataChannel({ role: "client", handlers: { onMessage: (type, payload) => {} } });
 * channel.attach({ sendBinary: (frame) => socket.send(frame) });
 * socket.onmessage = (e) => channel.receive(new Uint8Array(e.data));
 * await channel.send(PayloadType.Output, bytes);
 * ```
 * @module
 */

import {
  type ClientMessage,
  decodeClientMessage,
  encodeClientMessage,
  validationError,
} from "../protocol/client_message.ts";
import { HeaderFlags, MessageType, PayloadType } from "../protocol/message_type.ts";
import {
  type ChannelClosedPayload,
  decodeAcknowledge,
  decodeChannelClosed,
  encodeAcknowledge,
} from "../protocol/payloads.ts";
import { type Clock, epochMillis, systemClock, type TimerId } from "./clock.ts";
import { RttEstimator } from "./rtt_estimator.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import { ProtocolError } from "../protocol/protocol_error.ts";

/** Where encoded frames go: the current websocket. Throws if it cannot send. */
export interface FrameSink {
  sendBinary(frame: Uint8Array): void;
}

/** What the session layer above the channel handles. */
export interface DataChannelHandlers {
  /** An in-order sequenced message. Data is acknowledged only after this resolves. */
  onMessage(payloadType: number, payload: Uint8Array, sequenceNumber: number): Promise<void> | void;
  onChannelClosed?(closed: Partial<ChannelClosedPayload>): void;
  /** The channel failed for good (a handler threw, or resends ran out). */
  onError?(error: Error): void;
}

/** Tunables; the defaults follow the reference client except where noted. */
export interface DataChannelOptions {
  role: "client" | "agent";
  handlers: DataChannelHandlers;
  clock?: Clock;
  logger?: Logger;
  /**
   * Sequence numbers in flight, from the oldest unacknowledged message on, before `send` waits
   * (back-pressure, never dropping). Counted as a span, not as unacknowledged messages: acks of
   * messages past a gap must not let the sender run ahead until the peer's reorder buffer
   * (10000 messages, spec §5.1) is full, or every early arrival after that is dropped.
   */
  sendWindow?: number;
  reorderCapacity?: number;
  resendTickMs?: number;
  maxResendAttempts?: number;
  /** Messages resent per tick at most, so a reconnect does not flood the socket at once. */
  resendBurst?: number;
  newMessageId?: () => string;
}

interface Unacknowledged {
  frame: Uint8Array;
  lastSent: number;
  attempts: number;
}

/** Counters for tests, logs and benchmarks. */
export interface DataChannelStats {
  sent: number;
  resent: number;
  received: number;
  duplicates: number;
  reordered: number;
  dropped: number;
}

/** Window slots that must be free before a sender blocked on a full window resumes. */
const RESUME_BURST = 64;

/** One side of a Session Manager data channel. */
export class DataChannel {
  readonly rtt = new RttEstimator();
  readonly stats: DataChannelStats = {
    sent: 0,
    resent: 0,
    received: 0,
    duplicates: 0,
    reordered: 0,
    dropped: 0,
  };
  state: "open" | "closed" = "open";
  /** True between pause_publication and start_publication: nothing is sent. */
  paused = false;

  readonly #role: "client" | "agent";
  readonly #handlers: DataChannelHandlers;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #sendWindow: number;
  readonly #reorderCapacity: number;
  readonly #resendTickMs: number;
  readonly #maxResendAttempts: number;
  readonly #resendBurst: number;
  readonly #newMessageId: () => string;
  #sink: FrameSink | undefined;
  #nextSequenceNumber = 0;
  #expectedSequenceNumber = 0;
  readonly #outgoing = new Map<number, Unacknowledged>();
  /** The highest sequence number the peer acknowledged, and when an ack last arrived. */
  #highestAcknowledged = -1;
  #lastAcknowledgedAt = -Infinity;
  readonly #reorder = new Map<number, ClientMessage>();
  readonly #inbox: Uint8Array[] = [];
  #processing = false;
  #waiters: Array<() => void> = [];
  /** Sends waiting for room in the window; later sends queue behind them. */
  #blockedSenders = 0;
  /** See #burstOpen. */
  #bursting = false;
  #timer: TimerId | undefined;

  constructor(options: DataChannelOptions) {
    this.#role = options.role;
    this.#handlers = options.handlers;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger;
    this.#sendWindow = options.sendWindow ?? 4096;
    this.#reorderCapacity = options.reorderCapacity ?? 10000;
    this.#resendTickMs = options.resendTickMs ?? 100;
    this.#maxResendAttempts = options.maxResendAttempts ?? 3000;
    this.#resendBurst = options.resendBurst ?? 256;
    this.#newMessageId = options.newMessageId ?? (() => crypto.randomUUID());
    this.#scheduleTick();
  }

  get #outgoingType(): string {
    return this.#role === "client" ? MessageType.InputStreamData : MessageType.OutputStreamData;
  }

  get #incomingType(): string {
    return this.#role === "client" ? MessageType.OutputStreamData : MessageType.InputStreamData;
  }

  /** Sequence numbers from the oldest unacknowledged message to the next one to send. */
  get #inFlight(): number {
    const oldest = this.#outgoing.keys().next(); // insertion order is sequence order
    return oldest.done ? 0 : this.#nextSequenceNumber - oldest.value;
  }

  /** Messages sent but not yet acknowledged. */
  get unacknowledged(): number {
    return this.#outgoing.size;
  }

  /** Uses a new socket; everything unacknowledged is sent again on it (spec §10.2 step 5). */
  attach(sink: FrameSink): void {
    this.#sink = sink;
    this.#resume();
  }

  /** Forgets the socket; sends are buffered (up to the window) until the next attach. */
  detach(): void {
    this.#sink = undefined;
  }

  /** Feeds one inbound websocket frame. Processing is sequential and asynchronous. */
  receive(frame: Uint8Array): void {
    if (this.state === "closed") return;
    this.#inbox.push(frame);
    if (!this.#processing) void this.#processInbox();
  }

  /**
   * Sends one sequenced message. Waits while the send window is full; never drops.
   * Rejects only if the channel is closed.
   */
  async send(payloadType: number, payload: Uint8Array): Promise<void> {
    if (this.sendNow(payloadType, payload)) return;
    this.#blockedSenders++;
    try {
      while (this.state === "open" && !this.#burstOpen()) {
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
      }
    } finally {
      this.#blockedSenders--;
    }
    this.#transmit(payloadType, payload);
  }

  /**
   * Whether senders that waited for a full window may go. Resuming at every single ack would
   * send one frame per websocket write, which costs more than the frame itself; so a burst opens
   * once RESUME_BURST slots (a quarter of a small window) are free, and stays open, for every
   * waiting sender in turn, until the window is full again.
   */
  #burstOpen(): boolean {
    const inFlight = this.#inFlight;
    const burst = Math.min(RESUME_BURST, Math.ceil(this.#sendWindow / 4));
    if (inFlight <= this.#sendWindow - burst) this.#bursting = true;
    if (inFlight >= this.#sendWindow) this.#bursting = false;
    return this.#bursting;
  }

  /**
   * Sends one sequenced message at once if the send window has room and no earlier send is
   * waiting; otherwise sends nothing and returns false (then use `send`). A caller with many
   * chunks sends them in one synchronous run this way, so they leave in one websocket write.
   * Throws if the channel is closed.
   */
  sendNow(payloadType: number, payload: Uint8Array): boolean {
    if (payload.length === 0) throw new ProtocolError("Cannot send an empty stream payload");
    if (this.state === "open" && (this.#blockedSenders > 0 || this.#inFlight >= this.#sendWindow)) {
      return false;
    }
    this.#transmit(payloadType, payload);
    return true;
  }

  #transmit(payloadType: number, payload: Uint8Array): void {
    if (this.state === "closed") throw new Error("Cannot send: the data channel is closed");
    const sequenceNumber = this.#nextSequenceNumber++;
    const frame = encodeClientMessage({
      messageType: this.#outgoingType,
      createdDate: epochMillis(),
      sequenceNumber,
      flags: this.#role === "agent" && sequenceNumber === 0 ? HeaderFlags.Syn : HeaderFlags.None,
      messageId: this.#newMessageId(),
      payloadType,
      payload,
    });
    // Buffer before writing, so even an instant ack finds its message (spec §4.5).
    this.#outgoing.set(sequenceNumber, { frame, lastSent: this.#clock.now(), attempts: 0 });
    this.stats.sent++;
    if (!this.paused) this.#write(frame);
  }

  /**
   * Resolves true once every sent message is acknowledged; false when no acknowledgement has
   * arrived for `idleMs` (each ack restarts that wait) or after `capMs` in all. A slow but
   * progressing peer is waited for; a silent one is not.
   */
  async drain(idleMs: number, capMs = 60_000): Promise<boolean> {
    const cap = this.#clock.now() + capMs;
    let deadline = Math.min(cap, this.#clock.now() + idleMs);
    let remaining = this.#outgoing.size;
    while (this.#outgoing.size > 0 && this.state === "open") {
      if (this.#outgoing.size < remaining) {
        remaining = this.#outgoing.size;
        deadline = Math.min(cap, this.#clock.now() + idleMs);
      }
      const left = deadline - this.#clock.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = this.#clock.setTimeout(resolve, left);
        this.#waiters.push(() => {
          this.#clock.clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.#outgoing.size === 0;
  }

  /** Resolves once every frame received so far has been processed. */
  async idle(): Promise<void> {
    while (this.#processing) await new Promise((resolve) => setTimeout(resolve, 1));
  }

  /** Stops timers and wakes every waiter; later sends reject. */
  close(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#wakeWaiters();
    this.#reorder.clear();
  }

  async #processInbox(): Promise<void> {
    this.#processing = true;
    try {
      let frame: Uint8Array | undefined;
      while (this.state === "open" && (frame = this.#inbox.shift()) !== undefined) {
        const handshake = this.#process(frame);
        if (handshake) await handshake;
      }
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.#processing = false;
    }
  }

  /** Handles one frame; returns a promise only while a handshake message is being handled. */
  #process(frame: Uint8Array): Promise<void> | void {
    let message: ClientMessage;
    try {
      message = decodeClientMessage(frame);
    } catch (error) {
      this.#drop(`malformed frame (${(error as Error).message})`);
      return;
    }
    const invalid = validationError(message);
    if (invalid) return this.#drop(`${message.messageType} #${message.sequenceNumber}: ${invalid}`);
    switch (message.messageType) {
      case this.#incomingType:
        return this.#receiveSequenced(message);
      case MessageType.Acknowledge:
        return this.#receiveAcknowledge(message);
      case MessageType.ChannelClosed:
        return this.#receiveChannelClosed(message);
      case MessageType.PausePublication:
        this.paused = true;
        return;
      case MessageType.StartPublication:
        return this.#resume();
      default:
        this.#log.debug(`ignoring message of type ${JSON.stringify(message.messageType)}`);
    }
  }

  #receiveSequenced(message: ClientMessage): Promise<void> | void {
    this.stats.received++;
    const seq = message.sequenceNumber;
    if (seq < this.#expectedSequenceNumber) {
      this.stats.duplicates++;
      return this.#acknowledge(message); // re-ack, as the agent does (spec §4.3)
    }
    if (seq > this.#expectedSequenceNumber) {
      if (this.#reorder.size >= this.#reorderCapacity) return this.#drop(`reorder buffer full`);
      this.stats.reordered++;
      this.#reorder.set(seq, message);
      return this.#acknowledge(message);
    }
    if (isHandshake(message.payloadType)) this.#acknowledge(message); // ack first (§4.3)
    return this.#deliverFrom(message, !isHandshake(message.payloadType));
  }

  /**
   * Hands `message`, then the buffered messages that follow it, to the session. Data is acked
   * once its handler resolves (written, then acked: §4.5), but the next message is handled
   * meanwhile, so a slow output sees many writes at once and can join them. Buffered messages
   * were acked on arrival. A handshake message is handled alone: the rest waits for its handler.
   */
  #deliverFrom(message: ClientMessage | undefined, acknowledge: boolean): Promise<void> | void {
    for (; message; message = this.#reorder.get(this.#expectedSequenceNumber)) {
      this.#reorder.delete(message.sequenceNumber); // if it was buffered
      this.#expectedSequenceNumber = message.sequenceNumber + 1;
      const { payloadType, payload, sequenceNumber } = message;
      const handled = this.#handlers.onMessage(payloadType, payload, sequenceNumber);
      if (isHandshake(payloadType) && handled) {
        return handled.then(() => this.#deliverFrom(this.#reorder.get(sequenceNumber + 1), false));
      }
      this.#afterHandled(message, handled, acknowledge);
      acknowledge = false;
    }
  }

  /** Acks `message` (if asked) once its handler is done; a handler failure ends the channel. */
  #afterHandled(message: ClientMessage, handled: Promise<void> | void, acknowledge: boolean): void {
    if (!handled) {
      if (acknowledge) this.#acknowledge(message);
      return;
    }
    // Keep only what the ack needs, not the payload: the payload is a view into a whole
    // websocket read, which would stay allocated for as long as the output takes to write.
    const { messageType, messageId, sequenceNumber } = message;
    handled.then(() => {
      if (acknowledge && this.state === "open") {
        this.#acknowledge({ messageType, messageId, sequenceNumber });
      }
    }, (error) => this.#fail(error instanceof Error ? error : new Error(String(error))));
  }

  #receiveAcknowledge(message: ClientMessage): void {
    let seq: number;
    try {
      seq = decodeAcknowledge(message.payload).AcknowledgedMessageSequenceNumber;
    } catch (error) {
      return this.#drop((error as Error).message);
    }
    this.#lastAcknowledgedAt = this.#clock.now();
    this.#highestAcknowledged = Math.max(this.#highestAcknowledged, seq);
    const entry = this.#outgoing.get(seq);
    if (!entry) return;
    // Karn's rule: a retransmitted message gives an ambiguous sample, so skip it. So is one that
    // attach() marked for resending (lastSent = -Infinity) but the burst limit has not reached
    // yet; sampling it would make the estimate Infinity for good.
    if (entry.attempts === 0 && Number.isFinite(entry.lastSent)) {
      this.rtt.sample(this.#clock.now() - entry.lastSent);
    }
    this.#outgoing.delete(seq);
    this.#wakeWaiters();
  }

  #receiveChannelClosed(message: ClientMessage): void {
    let closed: Partial<ChannelClosedPayload> = {};
    try {
      closed = decodeChannelClosed(message.payload);
    } catch (error) {
      this.#log.debug(`channel_closed with unreadable payload: ${(error as Error).message}`);
    }
    this.#handlers.onChannelClosed?.(closed);
  }

  #acknowledge(message: Pick<ClientMessage, "messageType" | "messageId" | "sequenceNumber">): void {
    const payload = encodeAcknowledge({
      AcknowledgedMessageType: message.messageType,
      AcknowledgedMessageId: message.messageId,
      AcknowledgedMessageSequenceNumber: message.sequenceNumber,
      IsSequentialMessage: true,
    });
    this.#write(encodeClientMessage({
      messageType: MessageType.Acknowledge,
      createdDate: epochMillis(),
      sequenceNumber: 0,
      flags: HeaderFlags.SynFin,
      messageId: this.#newMessageId(),
      payloadType: PayloadType.Null,
      payload,
    }));
  }

  #write(frame: Uint8Array): void {
    if (!this.#sink) return;
    try {
      this.#sink.sendBinary(frame);
    } catch (error) {
      // The message stays buffered and goes out again after a reconnect.
      this.#log.debug(`send failed: ${(error as Error).message}`);
    }
  }

  #scheduleTick(): void {
    this.#timer = this.#clock.setTimeout(() => {
      if (this.state === "closed") return;
      this.#resendDue();
      // #resendDue may have closed the channel (resends ran out): then schedule nothing more.
      if (this.state === "open") this.#scheduleTick();
    }, this.#resendTickMs);
  }

  /** Resends, oldest first, every message presumed lost (spec §5.3, agent-style). */
  #resendDue(): void {
    if (!this.#sink || this.paused || this.state === "closed") return;
    const now = this.#clock.now();
    let budget = this.#resendBurst;
    let oldest = true;
    for (const [seq, entry] of this.#outgoing) {
      if (budget === 0) break;
      const lost = this.#presumedLost(seq, entry, now, oldest);
      oldest = false;
      if (!lost) continue;
      if (entry.attempts >= this.#maxResendAttempts) {
        return this.#fail(new Error("Cannot deliver data: the peer stopped acknowledging it"));
      }
      entry.attempts++;
      entry.lastSent = now;
      this.stats.resent++;
      budget--;
      this.#write(entry.frame);
    }
  }

  /** After a new socket or a pause: everything unacknowledged may be lost, so send it again. */
  #resume(): void {
    this.paused = false;
    for (const entry of this.#outgoing.values()) entry.lastSent = -Infinity;
    this.#resendDue();
  }

  /**
   * Whether to resend a message. The websocket is one TCP stream, so on a live socket an overdue
   * message whose successors are not acknowledged either is queued (behind a busy peer or a slow
   * ssh), not lost, and resending it would only lengthen the queue. So once its RTO has passed a
   * message counts as lost if the peer acknowledged a later one (RACK, RFC 8985); if no ack at
   * all came for an RTO, only the oldest is resent, as a probe (as TCP does on a timeout).
   * Messages marked by #resume (lastSent = -Infinity) go out again at once.
   */
  #presumedLost(seq: number, entry: Unacknowledged, now: number, oldest: boolean): boolean {
    if (now - entry.lastSent <= this.rtt.rto) return false;
    if (entry.lastSent === -Infinity || this.#highestAcknowledged > seq) return true;
    return oldest && now - this.#lastAcknowledgedAt > this.rtt.rto;
  }

  #drop(reason: string): void {
    this.stats.dropped++;
    this.#log.debug(`dropped inbound frame: ${reason}`);
  }

  #fail(error: Error): void {
    if (this.state === "closed") return;
    this.close();
    this.#handlers.onError?.(error);
  }

  #wakeWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

function isHandshake(payloadType: number): boolean {
  return payloadType === PayloadType.HandshakeRequest ||
    payloadType === PayloadType.HandshakeComplete ||
    payloadType === PayloadType.EncChallengeRequest;
}
