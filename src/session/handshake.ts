/**
 * The client side of the handshake (spec §7): answer a HandshakeRequest with one
 * ProcessedClientAction per requested action. Pure.
 *
 * @example
 * ```ts
 * const { response, sessionType } = answerHandshake(request, "1.2.677.0");
 * ```
 * @module
 */

import {
  ActionStatus,
  type HandshakeRequestPayload,
  type HandshakeResponsePayload,
  type ProcessedClientAction,
} from "../protocol/payloads.ts";

/** The client version advertised to the agent (spec §11 item 1: a real 4-part release). */
export const CLIENT_VERSION = "1.2.677.0";

const SESSION_TYPES = ["Port", "Standard_Stream", "InteractiveCommands", "NonInteractiveCommands"];

/** The response to send and what the agent asked for. */
export interface HandshakeAnswer {
  response: HandshakeResponsePayload;
  sessionType: string | undefined;
  properties: unknown;
}

/** Builds the HandshakeResponse. Only the Port session type is accepted by ssmssh. */
export function answerHandshake(
  request: HandshakeRequestPayload,
  clientVersion = CLIENT_VERSION,
): HandshakeAnswer {
  const errors: string[] = [];
  let sessionType: string | undefined;
  let properties: unknown;
  const processed = request.RequestedClientActions.map((action): ProcessedClientAction => {
    if (action.ActionType === "SessionType") {
      const params = (action.ActionParameters ?? {}) as Record<string, unknown>;
      const type = String(params.SessionType ?? "");
      if (type === "Port") {
        sessionType = type;
        properties = params.Properties;
        return success(action.ActionType);
      }
      const error = SESSION_TYPES.includes(type)
        ? `Session type ${type} is not supported by ssmssh; use a Port document`
        : `Unknown session type ${type}`;
      errors.push(error);
      return failed(
        action.ActionType,
        ActionStatus.Failed,
        `Failed to process action SessionType: ${error}`,
      );
    }
    const error = `Unsupported action ${action.ActionType}`;
    errors.push(error);
    return failed(action.ActionType, ActionStatus.Unsupported, error);
  });
  return {
    response: {
      ClientVersion: clientVersion,
      ProcessedClientActions: processed,
      Errors: errors.length > 0 ? errors : null,
    },
    sessionType,
    properties,
  };
}

function success(actionType: string): ProcessedClientAction {
  return {
    ActionType: actionType,
    ActionStatus: ActionStatus.Success,
    ActionResult: null,
    Error: "",
  };
}

function failed(actionType: string, status: number, error: string): ProcessedClientAction {
  return { ActionType: actionType, ActionStatus: status, ActionResult: null, Error: error };
}
