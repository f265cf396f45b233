/**
 * The local Session Manager emulator: a loopback HTTP server that answers the SSM and EC2
 * Instance Connect JSON APIs, and a second port, as ssmmessages is a host of its own, that serves
 * the data-channel websocket with our own RFC 6455 code (ws_server.ts: every frame of one read in
 * one burst, every frame of a burst in one write), where {@linkcode AgentSession} plays the agent;
 * STS's form-encoded POSTs go to {@linkcode StsEmulator}. Point the SDK at it with
 * AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT, AWS_ENDPOINT_URL_STS (and _SSO)
 * ({@linkcode Emulator.env}). Test/demo infrastructure only.
 *
 * @example
 * ```ts
 * await using emulator = await startEmulator();
 * const env = emulator.env; // AWS_ENDPOINT_URL_SSM=http://127.0.0.1:…, fake credentials, region
 * ```
 * @module
 */

import { AgentSession } from "./agent.ts";
import { openStreamListener } from "./stream_listener.ts";
import { httpAnswer, type ReadHead } from "./http_head.ts";
import { isWebSocketUpgrade, upgradeAnswer } from "./ws_handshake.ts";
import { ServerWebSocket } from "./ws_server.ts";
import { writeAll } from "../src/bytes.ts";
import type { Faults } from "./faults.ts";
import { ApiError, handleApiRequest, type Operation } from "./ssm_api.ts";
import { InstanceConnectKeys } from "./instance_connect.ts";
import { type EmulatorInstance, inventoryOperations, onlineInstanceIds } from "./inventory.ts";
import {
  isSsoPortalRequest,
  isStsRequest,
  signingAccessKeyId,
  StsEmulator,
  type StsOptions,
} from "./sts.ts";

/** Options of {@linkcode startEmulator}. */
export interface EmulatorOptions {
  /** Fault injection applied to every session; can be changed later through `emulator.faults`. */
  faults?: Faults;
  /** Instances that exist and are online. Undefined: every well-formed id is online. */
  onlineInstances?: string[];
  /**
   * Instances registered with SSM, for DescribeInstanceInformation and the tagging API's
   * GetResources; unless `onlineInstances` is given, the Online ones are those that accept sessions.
   */
  instances?: EmulatorInstance[];
  /** Operations (e.g. "AmazonSSM.StartSession") that answer AccessDeniedException. */
  denied?: string[];
  agentVersion?: string;
  /** Where the agent really connects for a port (e.g. 22 → a test sshd's random port). */
  portMap?: Record<number, number>;
  /** Serve https/wss with this certificate and key (PEM) instead of http/ws. */
  tls?: { cert: string; key: string };
  /** Base of the StreamUrl handed out (default: this server); lets tests hand out a dead URL. */
  streamUrlBase?: string;
  /**
   * EC2 Instance Connect: where pushed keys go (a harness sshd's `instanceConnectDir`) and how
   * long they stay (default 60 s). Without it, SendSSHPublicKey succeeds and stores nothing.
   */
  instanceConnect?: { keysDir: string; windowMs?: number };
  /** STS (AssumeRole with MFA, GetCallerIdentity) and the SSO portal; see StsOptions. */
  sts?: StsOptions;
}

/** A session as the emulator's service side sees it. */
export interface EmulatorSession {
  sessionId: string;
  target: string;
  documentName: string;
  reason?: string;
  streamUrl: string;
  tokens: Set<string>;
  agent: AgentSession;
  terminated: boolean;
}

/** A running emulator. */
export interface Emulator extends AsyncDisposable {
  url: string;
  /** The API's port. */
  port: number;
  /** The data-channel websocket's port (StreamUrl), unless `streamUrlBase` points elsewhere. */
  streamPort: number;
  /** Environment for an ssmssh process that should use this emulator. */
  env: Record<string, string>;
  faults: Faults;
  sessions: Map<string, EmulatorSession>;
  /** Keys pushed with SendSSHPublicKey, when `instanceConnect` is set. */
  instanceConnect?: InstanceConnectKeys;
  /** The STS side: credentials issued by AssumeRole. */
  sts: StsEmulator;
  /** Every API call received, in order (operation, input, and the access key that signed it). */
  calls: Array<{ operation: string; input: Record<string, unknown>; accessKeyId?: string }>;
  /** Resolves when `count` sessions have ended. */
  stop(): Promise<void>;
}

const ID = /^(i-([0-9a-f]{8}|[0-9a-f]{17})|mi-[0-9a-f]{17})$/;
const PORT_DOCUMENTS = ["AWS-StartSSHSession", "AWS-StartPortForwardingSession"];

/** Starts the emulator on 127.0.0.1 and a random port. */
export function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const sessions = new Map<string, EmulatorSession>();
  const calls: Emulator["calls"] = [];
  const faults: Faults = options.faults ?? {};
  const online = options.onlineInstances
    ? new Set(options.onlineInstances)
    : options.instances
    ? new Set(onlineInstanceIds(options.instances))
    : undefined;
  const denied = new Set(options.denied ?? []);
  const instanceConnect = options.instanceConnect
    ? new InstanceConnectKeys(options.instanceConnect.keysDir, options.instanceConnect.windowMs)
    : undefined;
  const sts = new StsEmulator(
    options.sts ?? {},
    (operation, input, accessKeyId) => calls.push({ operation, input, accessKeyId }),
  );
  let baseUrl = "";
  let wsBase = "";

  const newSession = (target: string, documentName: string, port: number, reason?: string) => {
    const sessionId = `ssmssh-${crypto.randomUUID().replaceAll("-", "").slice(0, 17)}`;
    const token = crypto.randomUUID() + crypto.randomUUID();
    const streamUrl =
      `${wsBase}/v1/data-channel/${sessionId}?role=publish_subscribe&cell-number=AAAA`;
    const session: EmulatorSession = {
      sessionId,
      target,
      documentName,
      reason,
      streamUrl,
      tokens: new Set([token]),
      terminated: false,
      agent: new AgentSession({
        sessionId,
        target,
        portNumber: port,
        faults,
        agentVersion: options.agentVersion ?? "3.3.987.0",
        onEnd: () => {
          session.terminated = true;
        },
      }),
    };
    sessions.set(sessionId, session);
    return { SessionId: sessionId, StreamUrl: streamUrl, TokenValue: token };
  };

  const guard = (operation: string, fn: Operation): Operation => (input) => {
    if (denied.has(operation)) {
      throw new ApiError(
        "AccessDeniedException",
        `User: arn:aws:iam::123456789012:user/emulated is not authorized to perform: ${
          operation.replace("AmazonSSM.", "ssm:").replace(
            "AWSEC2InstanceConnectService.",
            "ec2-instance-connect:",
          ).replace("ResourceGroupsTaggingAPI_20170126.", "tag:")
        }`,
      );
    }
    return fn(input);
  };

  const operations: Record<string, Operation> = {
    "AmazonSSM.StartSession": (input) => {
      const target = String(input.Target ?? "");
      if (!ID.test(target)) throw new ApiError("ValidationException", `Invalid target ${target}`);
      if (online && !online.has(target)) {
        throw new ApiError("TargetNotConnected", `${target} is not connected.`);
      }
      const documentName = String(input.DocumentName ?? "SSM-SessionManagerRunShell");
      if (!PORT_DOCUMENTS.includes(documentName)) {
        throw new ApiError("InvalidDocument", `Document ${documentName} is not supported here`);
      }
      const params = (input.Parameters ?? {}) as Record<string, string[]>;
      const asked = Number(params.portNumber?.[0] ?? "22");
      const port = options.portMap?.[asked] ?? asked;
      return newSession(target, documentName, port, input.Reason as string | undefined);
    },
    "AmazonSSM.ResumeSession": (input) => {
      const session = sessions.get(String(input.SessionId));
      if (!session) throw new ApiError("DoesNotExistException", "Session does not exist");
      if (session.terminated) return { SessionId: session.sessionId };
      const token = crypto.randomUUID() + crypto.randomUUID();
      session.tokens.add(token);
      const streamUrl = session.streamUrl.replace("cell-number=AAAA", "cell-number=BBBB");
      return { SessionId: session.sessionId, StreamUrl: streamUrl, TokenValue: token };
    },
    "AmazonSSM.TerminateSession": (input) => {
      const session = sessions.get(String(input.SessionId));
      session?.agent.terminate();
      return { SessionId: input.SessionId };
    },
    "AWSEC2InstanceConnectService.SendSSHPublicKey": async (input) => {
      const target = String(input.InstanceId ?? "");
      if (!/^i-/.test(target)) {
        throw new ApiError("InvalidArgsException", `Invalid instance ${target}`);
      }
      const osUser = String(input.InstanceOSUser ?? "");
      const key = String(input.SSHPublicKey ?? "");
      if (!/^ssh-(ed25519|rsa) [A-Za-z0-9+/=]+( .*)?$/.test(key)) {
        throw new ApiError("InvalidArgsException", "SSHPublicKey is not an OpenSSH public key");
      }
      if (online && !online.has(target)) {
        throw new ApiError("EC2InstanceNotFoundException", `Instance ${target} not found`);
      }
      await instanceConnect?.push(target, osUser, key).catch((e) => {
        throw new ApiError("InvalidArgsException", String(e.message));
      });
      return { RequestId: crypto.randomUUID(), Success: true };
    },
    ...inventoryOperations(options.instances ?? []),
  };
  for (const name of Object.keys(operations)) operations[name] = guard(name, operations[name]);

  const listen = { hostname: "127.0.0.1", port: 0, onListen: () => {}, ...options.tls };
  const api = Deno.serve(listen, (request) => {
    if (isStsRequest(request)) return sts.handle(request);
    if (isSsoPortalRequest(request)) return sts.handleSsoPortal(request);
    if (options.sts?.requireIssuedCredentials && !sts.accepts(request)) return sts.rejectUnissued();
    const accessKeyId = signingAccessKeyId(request);
    return handleApiRequest(
      request,
      operations,
      (operation, input) => calls.push({ operation, input, accessKeyId }),
    );
  });
  /** Open data-channel sockets, each with the promise of its end. */
  const sockets = new Map<ServerWebSocket, Promise<void>>();
  const streams = openStreamListener({
    tls: options.tls,
    onConnection: (conn, read) => openDataChannel(conn, read, sessions, sockets),
  });
  const port = api.addr.port;
  const secure = options.tls ? "s" : "";
  baseUrl = `http${secure}://127.0.0.1:${port}`;
  wsBase = options.streamUrlBase ?? `ws${secure}://127.0.0.1:${streams.port}`;

  const stop = async () => {
    for (const session of sessions.values()) session.agent.terminate("emulator stopped");
    for (const socket of sockets.keys()) socket.close(1001, "emulator stopped"); // not attached
    instanceConnect?.stop();
    await Promise.all(sockets.values()); // closing handshakes, each bounded by a timeout
    await streams.close();
    await api.shutdown();
  };
  return Promise.resolve({
    url: baseUrl,
    port,
    streamPort: streams.port,
    faults,
    sessions,
    calls,
    instanceConnect,
    sts,
    env: {
      AWS_ENDPOINT_URL_SSM: baseUrl,
      AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT: baseUrl,
      AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API: baseUrl,
      AWS_ENDPOINT_URL_STS: baseUrl,
      AWS_ENDPOINT_URL_SSO: baseUrl,
      AWS_ACCESS_KEY_ID: "AKIAEMULATOR00000000",
      AWS_SECRET_ACCESS_KEY: "emulator-secret-key",
      AWS_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
    },
    stop,
    [Symbol.asyncDispose]: stop,
  });
}

/** Serves one data-channel connection until it closes. */
async function openDataChannel(
  conn: Deno.Conn,
  { head, rest }: ReadHead,
  sessions: Map<string, EmulatorSession>,
  sockets: Map<ServerWebSocket, Promise<void>>,
): Promise<void> {
  const path = new URL(head.target, "http://host").pathname;
  const session = path.startsWith("/v1/data-channel/")
    ? sessions.get(path.slice("/v1/data-channel/".length))
    : undefined;
  if (!isWebSocketUpgrade(head)) {
    return await writeAll(conn, httpAnswer(400, "websocket upgrade required"));
  }
  if (!session || session.terminated) {
    return await writeAll(conn, httpAnswer(404, "no such session"));
  }
  const answer = upgradeAnswer(head);
  await writeAll(conn, answer.bytes);
  if (!answer.accepted) return;
  const socket = new ServerWebSocket(conn, rest);
  socket.onmessage = (data) => {
    // The first frame must be OpenDataChannelInput (text) with a token of this session.
    let token = "";
    try {
      token = String(JSON.parse(String(data)).TokenValue ?? "");
    } catch {
      // not JSON: refused below
    }
    if (typeof data !== "string" || !session.tokens.has(token)) {
      socket.close(4001, "invalid token");
      return;
    }
    session.agent.attach(socket);
  };
  const run = socket.run();
  sockets.set(socket, run);
  try {
    await run;
  } finally {
    sockets.delete(socket);
  }
}
