/**
 * The emulator's AWS JSON 1.1 API: ssm StartSession, ResumeSession, TerminateSession and
 * EC2 Instance Connect SendSSHPublicKey, dispatched on X-Amz-Target. Signatures are not checked
 * (the SDK signs; the emulator only records that an Authorization header was present).
 * @module
 */

/** An AWS-style error answer. */
export class ApiError extends Error {
  constructor(readonly type: string, message: string, readonly status = 400) {
    super(message);
  }
}

/** An operation handler: JSON in, JSON out, or throws ApiError. */
export type Operation = (input: Record<string, unknown>) => Promise<unknown> | unknown;

/** Answers one API request from a table of operations keyed by X-Amz-Target. */
export async function handleApiRequest(
  request: Request,
  operations: Record<string, Operation>,
  onCall: (target: string, input: Record<string, unknown>) => void,
): Promise<Response> {
  const target = request.headers.get("x-amz-target") ?? operationFromRestPath(request);
  let input: Record<string, unknown> = {};
  try {
    const text = await request.text();
    input = text ? JSON.parse(text) : {};
  } catch {
    return errorResponse(new ApiError("SerializationException", "Cannot parse the request body"));
  }
  const operation = target ? operations[target] : undefined;
  if (!operation) {
    return errorResponse(new ApiError("UnknownOperationException", `Unknown operation ${target}`));
  }
  if (!request.headers.get("authorization")) {
    return errorResponse(
      new ApiError("MissingAuthenticationTokenException", "Request is not signed", 403),
    );
  }
  onCall(target!, input);
  try {
    const output = await operation(input);
    return new Response(JSON.stringify(output ?? {}), {
      headers: { "content-type": "application/x-amz-json-1.1" },
    });
  } catch (error) {
    if (error instanceof ApiError) return errorResponse(error);
    return errorResponse(new ApiError("InternalServerError", String(error), 500));
  }
}

function operationFromRestPath(request: Request): string | undefined {
  // EC2 Instance Connect uses JSON 1.1 with X-Amz-Target too; this is only a fallback.
  const path = new URL(request.url).pathname;
  return path === "/" ? undefined : path.slice(1);
}

function errorResponse(error: ApiError): Response {
  return new Response(JSON.stringify({ __type: error.type, message: error.message }), {
    status: error.status,
    headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": error.type },
  });
}
