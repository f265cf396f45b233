/**
 * MessageType strings and PayloadType numbers of the data channel (spec §3.4, §9.4).
 * @module
 */

/** The MessageType header strings (padded to 32 bytes with spaces on the wire). */
export const MessageType = {
  InputStreamData: "input_stream_data",
  OutputStreamData: "output_stream_data",
  Acknowledge: "acknowledge",
  ChannelClosed: "channel_closed",
  StartPublication: "start_publication",
  PausePublication: "pause_publication",
} as const;

/** PayloadType values carried in the header of sequenced messages. */
export const PayloadType = {
  Null: 0,
  Output: 1,
  Error: 2,
  Size: 3,
  Parameter: 4,
  HandshakeRequest: 5,
  HandshakeResponse: 6,
  HandshakeComplete: 7,
  EncChallengeRequest: 8,
  EncChallengeResponse: 9,
  Flag: 10,
  StdErr: 11,
  ExitCode: 12,
} as const;

/** Flag payload values (PayloadType 10, a 4-byte big-endian uint32). */
export const PayloadTypeFlag = {
  DisconnectToPort: 1,
  TerminateSession: 2,
  ConnectToPortError: 3,
} as const;

/** Header Flags values (spec §3.3); no receiver reads them, we mimic the reference. */
export const HeaderFlags = { None: 0n, Syn: 1n, SynFin: 3n } as const;

/** Payloads of stream messages never exceed this many bytes (spec §5.1, §11 item 4). */
export const STREAM_DATA_PAYLOAD_SIZE = 1024;
