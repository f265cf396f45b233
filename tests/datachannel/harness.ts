/**
 * Shared fixtures for the DataChannel tests: a recording sink, inbound frame builders, and a
 * channel wired to a {@linkcode FakeClock}.
 * @module
 */

import {
  type ClientMessage,
  decodeClientMessage,
  encodeClientMessage,
} from "../../src/protocol/client_message.ts";
import { HeaderFlags, MessageType, PayloadType } from "../../src/protocol/message_type.ts";
import {
  type AcknowledgeContent,
  decodeAcknowledge,
  encodeAcknowledge,
  encodeJson,
} from "../../src/protocol/payloads.ts";
import {
  DataChannel,
  type DataChannelOptions,
  type FrameSink,
} from "../../src/datachannel/data_channel.ts";
import type { ChannelClosedPayload } from "../../src/protocol/payloads.ts";
import { FakeClock } from "../support/fake_clock.ts";

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const untext = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A FrameSink that keeps a copy of every frame written to it. */
export class RecordingSink implements FrameSink {
  frames: Uint8Array[] = [];

  sendBinary(frame: Uint8Array): void {
    this.frames.push(frame.slice());
  }

  /** Every frame, decoded. */
  get messages(): ClientMessage[] {
    return this.frames.map((f) => decodeClientMessage(f));
  }

  /** The sequence numbers acknowledged so far, in the order the acks were written. */
  get ackedSeqs(): number[] {
    return this.acks.map((a) => a.AcknowledgedMessageSequenceNumber);
  }

  /** The decoded payloads of every acknowledge frame written. */
  get acks(): AcknowledgeContent[] {
    return this.messages
      .filter((m) => m.messageType === MessageType.Acknowledge)
      .map((m) => decodeAcknowledge(m.payload));
  }

  /** The sequenced (non-ack) frames written, as raw bytes. */
  get dataFrames(): Uint8Array[] {
    return this.frames.filter((f) => decodeClientMessage(f).messageType !== "acknowledge");
  }
}

/** Options for building an inbound frame. */
export interface InboundOptions {
  messageType?: string;
  payloadType?: number;
  messageId?: string;
  createdDate?: number;
  flags?: bigint;
}

/** An inbound sequenced frame (output_stream_data by default, as the agent sends it). */
export function inbound(seq: number, payload: string | Uint8Array, o: InboundOptions = {}) {
  return encodeClientMessage({
    messageType: o.messageType ?? MessageType.OutputStreamData,
    createdDate: o.createdDate ?? Date.now(),
    sequenceNumber: seq,
    flags: o.flags ?? (seq === 0 ? HeaderFlags.Syn : HeaderFlags.None),
    messageId: o.messageId ?? crypto.randomUUID(),
    payloadType: o.payloadType ?? PayloadType.Output,
    payload: typeof payload === "string" ? text(payload) : payload,
  });
}

/** An inbound acknowledge for our message `seq` (input_stream_data by default). */
export function ackFor(seq: number, ackedType: string = MessageType.InputStreamData): Uint8Array {
  return encodeClientMessage({
    messageType: MessageType.Acknowledge,
    createdDate: Date.now(),
    sequenceNumber: 0,
    flags: HeaderFlags.SynFin,
    messageId: crypto.randomUUID(),
    payloadType: PayloadType.Null,
    payload: encodeAcknowledge({
      AcknowledgedMessageType: ackedType,
      AcknowledgedMessageId: crypto.randomUUID(),
      AcknowledgedMessageSequenceNumber: seq,
      IsSequentialMessage: true,
    }),
  });
}

/** An unsequenced control frame (publication or channel_closed). */
export function control(messageType: string, payload: Uint8Array, createdDate = Date.now()) {
  return encodeClientMessage({
    messageType,
    createdDate,
    sequenceNumber: 0,
    flags: HeaderFlags.SynFin,
    messageId: crypto.randomUUID(),
    payloadType: PayloadType.Null,
    payload,
  });
}

/** A channel_closed frame as MGS sends it (§9.6). */
export function channelClosed(output: string, sessionId = "user-0123456789abcdef0") {
  const payload: ChannelClosedPayload = {
    MessageId: crypto.randomUUID(),
    CreatedDate: String(Date.now()),
    DestinationId: "i-0123456789abcdef0",
    SessionId: sessionId,
    MessageType: "channel_closed",
    SchemaVersion: 1,
    Output: output,
  };
  return control(MessageType.ChannelClosed, encodeJson(payload));
}

/** One call of the onMessage handler. */
export interface Delivery {
  payloadType: number;
  text: string;
  seq: number;
}

/** Everything a test needs: the channel, its fake clock, its sink and what the handlers saw. */
export interface Harness {
  channel: DataChannel;
  clock: FakeClock;
  sink: RecordingSink;
  delivered: Delivery[];
  errors: Error[];
  closed: Array<Partial<ChannelClosedPayload>>;
  /** Feeds frames and lets the channel's asynchronous processing finish. */
  feed(...frames: Uint8Array[]): Promise<void>;
}

type SetupOptions = Partial<Omit<DataChannelOptions, "handlers" | "clock">> & {
  onMessage?: DataChannelOptions["handlers"]["onMessage"];
};

/** A channel (client role by default) attached to a RecordingSink and driven by a FakeClock. */
export function setup(options: SetupOptions = {}): Harness {
  const clock = new FakeClock(1_000_000);
  const sink = new RecordingSink();
  const delivered: Delivery[] = [];
  const errors: Error[] = [];
  const closed: Array<Partial<ChannelClosedPayload>> = [];
  const { onMessage, ...rest } = options;
  const channel = new DataChannel({
    role: "client",
    ...rest,
    clock,
    handlers: {
      onMessage: (payloadType, payload, seq) => {
        delivered.push({ payloadType, text: untext(payload), seq });
        return onMessage?.(payloadType, payload, seq);
      },
      onChannelClosed: (c) => closed.push(c),
      onError: (e) => errors.push(e),
    },
  });
  channel.attach(sink);
  const feed = async (...frames: Uint8Array[]) => {
    for (const frame of frames) channel.receive(frame);
    await clock.flush();
  };
  return { channel, clock, sink, delivered, errors, closed, feed };
}

/** A promise with its resolve and reject exposed. */
export function deferred(): {
  promise: Promise<void>;
  resolve: () => void;
  reject(e: Error): void;
} {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
