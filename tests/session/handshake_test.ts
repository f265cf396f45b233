/**
 * answerHandshake (spec §7.2): one ProcessedClientAction per requested action, the byte-exact
 * HandshakeResponse of the reference for a Port session, and refusals for everything else.
 * @module
 */

import { assert, assertEquals } from "../support/assert.ts";
import { answerHandshake, CLIENT_VERSION } from "../../src/session/handshake.ts";
import {
  ActionStatus,
  encodeHandshakeResponse,
  type HandshakeRequestPayload,
} from "../../src/protocol/payloads.ts";

const decoder = new TextDecoder();

function request(...actions: HandshakeRequestPayload["RequestedClientActions"]) {
  return { AgentVersion: "3.3.987.0", RequestedClientActions: actions };
}

const sessionType = (type: string, properties: unknown = { portNumber: "22" }) => ({
  ActionType: "SessionType",
  ActionParameters: { SessionType: type, Properties: properties },
});

Deno.test("handshake: a Port session succeeds and the response is byte-exact (§7.2)", () => {
  const answer = answerHandshake(request(sessionType("Port")));
  assertEquals(answer.sessionType, "Port");
  assertEquals(answer.properties, { portNumber: "22" });
  assertEquals(answer.response.ProcessedClientActions[0].ActionStatus, ActionStatus.Success);
  assertEquals(
    decoder.decode(encodeHandshakeResponse(answer.response)),
    `{"ClientVersion":"1.2.677.0","ProcessedClientActions":[{"ActionType":"SessionType",` +
      `"ActionStatus":1,"ActionResult":null,"Error":""}],"Errors":null}`,
  );
});

Deno.test("handshake: the default ClientVersion is a real 4-part release; it can be overridden", () => {
  assertEquals(CLIENT_VERSION, "1.2.677.0");
  assertEquals(answerHandshake(request(sessionType("Port"))).response.ClientVersion, "1.2.677.0");
  const custom = answerHandshake(request(sessionType("Port")), "9.9.9.9");
  assertEquals(custom.response.ClientVersion, "9.9.9.9");
});

Deno.test("handshake: Port properties of any shape are kept as they came", () => {
  const properties = { portNumber: "2222", type: "LocalPortForwarding", extra: [1, { a: null }] };
  const answer = answerHandshake(request(sessionType("Port", properties)));
  assertEquals(answer.properties, properties);
  assertEquals(answer.response.Errors, null);
});

Deno.test("handshake: unknown action types are Unsupported (3) with an Error, not status 0", () => {
  const answer = answerHandshake(request(
    sessionType("Port"),
    { ActionType: "KMSEncryption", ActionParameters: { KMSKeyId: "arn:aws:kms:key" } },
    { ActionType: "SomethingNew" },
  ));
  assertEquals(answer.sessionType, "Port", "the SessionType action still succeeds");
  const [port, kms, other] = answer.response.ProcessedClientActions;
  assertEquals(port.ActionStatus, ActionStatus.Success);
  for (const [action, type] of [[kms, "KMSEncryption"], [other, "SomethingNew"]] as const) {
    assertEquals(action.ActionType, type);
    assertEquals(action.ActionStatus, ActionStatus.Unsupported);
    assertEquals(action.ActionStatus, 3);
    assertEquals(action.ActionResult, null);
    assert(action.Error.includes(type), action.Error);
  }
  assertEquals(answer.response.Errors?.length, 2);
});

for (const shell of ["Standard_Stream", "InteractiveCommands", "NonInteractiveCommands"]) {
  Deno.test(`handshake: shell session type ${shell} is Failed (2) with an error`, () => {
    const answer = answerHandshake(request(sessionType(shell, {})));
    assertEquals(answer.sessionType, undefined, "ssmssh only runs Port sessions");
    const [action] = answer.response.ProcessedClientActions;
    assertEquals(action.ActionType, "SessionType");
    assertEquals(action.ActionStatus, ActionStatus.Failed);
    assertEquals(action.ActionStatus, 2);
    assert(action.Error.startsWith("Failed to process action SessionType: "), action.Error);
    assert(action.Error.includes(shell), action.Error);
    assertEquals(answer.response.Errors?.length, 1);
    assert(answer.response.Errors![0].includes(shell));
  });
}

Deno.test("handshake: an unknown session type fails as the reference words it", () => {
  const answer = answerHandshake(request(sessionType("Teleport")));
  assertEquals(answer.sessionType, undefined);
  const [action] = answer.response.ProcessedClientActions;
  assertEquals(action.ActionStatus, ActionStatus.Failed);
  assertEquals(action.Error, "Failed to process action SessionType: Unknown session type Teleport");
  assertEquals(answer.response.Errors, ["Unknown session type Teleport"]);
});

Deno.test("handshake: a SessionType action without parameters fails, it does not throw", () => {
  const answer = answerHandshake(request({ ActionType: "SessionType" }));
  assertEquals(answer.sessionType, undefined);
  assertEquals(answer.response.ProcessedClientActions[0].ActionStatus, ActionStatus.Failed);
});

Deno.test("handshake: no requested actions give ProcessedClientActions [] and Errors null", () => {
  const answer = answerHandshake(request());
  assertEquals(answer.sessionType, undefined);
  assertEquals(answer.response.ProcessedClientActions, []);
  assertEquals(answer.response.Errors, null);
  assertEquals(
    decoder.decode(encodeHandshakeResponse(answer.response)),
    `{"ClientVersion":"1.2.677.0","ProcessedClientActions":[],"Errors":null}`,
  );
});
