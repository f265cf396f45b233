/**
 * The emulator's STS: AssumeRole (with an MFA check) and GetCallerIdentity over STS's Query
 * protocol (form-encoded POSTs to `/`, XML answers); the AWS SSO portal's GetRoleCredentials
 * (`GET /federation/credentials`), which hands out role credentials the same way; and a check
 * that SSM requests are signed with credentials it issued. Point the SDK at it with
 * AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL_SSO. Test/demo infrastructure only: credentials are
 * random strings, signatures are not verified.
 *
 * @example
 * ```ts
 * const sts = new StsEmulator({ mfaCode: "123456" }, (operation, input) => calls.push(...));
 * if (isStsRequest(request)) return await sts.handle(request);
 * ```
 * @module
 */

/** Options of the emulator's STS (EmulatorOptions.sts). */
export interface StsOptions {
  /** The one MFA code AssumeRole accepts when the request carries a SerialNumber. */
  mfaCode?: string;
  /** Lifetime of issued credentials (default: the request's DurationSeconds, else 3600). */
  durationSeconds?: number;
  /** SSM and Instance Connect answer UnrecognizedClientException unless signed by STS's keys. */
  requireIssuedCredentials?: boolean;
  /** The SSO access token GetRoleCredentials accepts (default: any). */
  ssoAccessToken?: string;
}

/** Credentials AssumeRole handed out. */
export interface IssuedCredentials {
  accessKeyId: string;
  sessionToken: string;
  roleArn: string;
  sessionName: string;
  expiresAt: number;
}

/** Receives each call: "STS.AssumeRole", its form fields (TokenCode included), the signer. */
export type StsRecorder = (
  operation: string,
  input: Record<string, unknown>,
  accessKeyId: string | undefined,
) => void;

const NS = "https://sts.amazonaws.com/doc/2011-06-15/";
const ACCOUNT = "123456789012";
const MFA_FAILED = "MultiFactorAuthentication failed with invalid MFA one time pass code.";

/** STS speaks the Query protocol: form-encoded POSTs; SSM's JSON has an X-Amz-Target. */
export function isStsRequest(request: Request): boolean {
  return request.method === "POST" && !request.headers.get("x-amz-target") &&
    (request.headers.get("content-type") ?? "").startsWith("application/x-www-form-urlencoded");
}

/** The SSO portal's GetRoleCredentials (the SDK's SSO provider calls it with the SSO token). */
export function isSsoPortalRequest(request: Request): boolean {
  return request.method === "GET" && new URL(request.url).pathname === "/federation/credentials";
}

/** The access key id in a SigV4 Authorization header (`Credential=<id>/<date>/…`). */
export function signingAccessKeyId(request: Request): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(request.headers.get("authorization") ?? "")?.[1];
}

/** AssumeRole and GetCallerIdentity, with the credentials handed out so far. */
export class StsEmulator {
  /** Issued credentials by access key id. */
  readonly issued = new Map<string, IssuedCredentials>();
  readonly #options: StsOptions;
  readonly #record: StsRecorder;

  constructor(
    options: StsOptions,
    record: StsRecorder,
  ) {
    this.#options = options;
    this.#record = record;
  }

  /** Answers one Query-protocol request. */
  async handle(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text());
    const action = form.get("Action") ?? "";
    const input: Record<string, unknown> = {};
    for (const [name, value] of form) {
      if (name !== "Action" && name !== "Version") input[name] = value;
    }
    if (!request.headers.get("authorization")) {
      return errorXml(403, "MissingAuthenticationToken", "Request is missing Authentication Token");
    }
    this.#record(`STS.${action}`, input, signingAccessKeyId(request));
    if (action === "AssumeRole") return this.#assumeRole(form);
    if (action === "GetCallerIdentity") return this.#callerIdentity(signingAccessKeyId(request));
    return errorXml(
      400,
      "InvalidAction",
      `Could not find operation ${action} for version 2011-06-15`,
    );
  }

  /** Answers GetRoleCredentials: role credentials for account_id/role_name. */
  handleSsoPortal(request: Request): Response {
    const query = new URL(request.url).searchParams;
    const accountId = query.get("account_id") ?? "";
    const roleName = query.get("role_name") ?? "";
    this.#record("SSO.GetRoleCredentials", { accountId, roleName }, undefined);
    const expected = this.#options.ssoAccessToken;
    const token = request.headers.get("x-amz-sso_bearer_token");
    if (!token || (expected !== undefined && token !== expected)) {
      const type = "UnauthorizedException";
      return new Response(JSON.stringify({ message: "Session token not found or invalid" }), {
        status: 401,
        headers: { "content-type": "application/json", "x-amzn-errortype": type },
      });
    }
    const issued = this.#issue(`arn:aws:iam::${accountId}:role/${roleName}`, "sso", 3600);
    return Response.json({
      roleCredentials: {
        accessKeyId: issued.accessKeyId,
        secretAccessKey: issued.secretAccessKey,
        sessionToken: issued.sessionToken,
        expiration: issued.expiresAt,
      },
    });
  }

  /** True when `request` is signed with an unexpired access key and session token STS issued. */
  accepts(request: Request): boolean {
    const issued = this.issued.get(signingAccessKeyId(request) ?? "");
    return !!issued && issued.expiresAt > Date.now() &&
      request.headers.get("x-amz-security-token") === issued.sessionToken;
  }

  /** The JSON 1.1 error SSM gives for credentials it does not know. */
  rejectUnissued(): Response {
    const type = "UnrecognizedClientException";
    return new Response(
      JSON.stringify({
        __type: type,
        message: "The security token included in the request is invalid.",
      }),
      {
        status: 400,
        headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": type },
      },
    );
  }

  #assumeRole(form: URLSearchParams): Response {
    const roleArn = form.get("RoleArn") ?? "";
    const sessionName = form.get("RoleSessionName") ?? "";
    if (!/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(roleArn) || !sessionName) {
      return errorXml(400, "ValidationError", "RoleArn and RoleSessionName are required");
    }
    const serial = form.get("SerialNumber");
    const expected = this.#options.mfaCode;
    if (expected !== undefined && !serial) {
      return errorXml(
        403,
        "AccessDenied",
        `User: arn:aws:iam::${ACCOUNT}:user/emulated is not authorized to perform: ` +
          `sts:AssumeRole on resource: ${roleArn}`,
      );
    }
    if (serial && expected !== undefined && form.get("TokenCode") !== expected) {
      return errorXml(403, "AccessDenied", MFA_FAILED);
    }
    const credentials = this.#issue(
      roleArn,
      sessionName,
      Number(form.get("DurationSeconds") ?? 3600),
    );
    const roleName = roleArn.split("/").pop();
    return okXml(
      "AssumeRole",
      `<AssumedRoleUser><Arn>arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/${
        escapeXml(sessionName)
      }</Arn><AssumedRoleId>AROAEMULATOR:${escapeXml(sessionName)}</AssumedRoleId>` +
        `</AssumedRoleUser><Credentials><AccessKeyId>${credentials.accessKeyId}</AccessKeyId>` +
        `<SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey>` +
        `<SessionToken>${credentials.sessionToken}</SessionToken>` +
        `<Expiration>${new Date(credentials.expiresAt).toISOString()}</Expiration></Credentials>`,
    );
  }

  #issue(roleArn: string, sessionName: string, requestedSeconds: number) {
    const seconds = this.#options.durationSeconds ?? requestedSeconds;
    const credentials: IssuedCredentials = {
      accessKeyId: `ASIA${randomToken(16).toUpperCase()}`,
      sessionToken: randomToken(64),
      roleArn,
      sessionName,
      expiresAt: Date.now() + seconds * 1000,
    };
    this.issued.set(credentials.accessKeyId, credentials);
    return { ...credentials, secretAccessKey: randomToken(40) };
  }

  #callerIdentity(accessKeyId: string | undefined): Response {
    const issued = this.issued.get(accessKeyId ?? "");
    const arn = issued
      ? `arn:aws:sts::${ACCOUNT}:assumed-role/${issued.roleArn.split("/").pop()}/${
        escapeXml(issued.sessionName)
      }`
      : `arn:aws:iam::${ACCOUNT}:user/emulated`;
    return okXml(
      "GetCallerIdentity",
      `<Arn>${arn}</Arn><UserId>${escapeXml(accessKeyId ?? "")}</UserId>` +
        `<Account>${ACCOUNT}</Account>`,
    );
  }
}

function okXml(action: string, result: string): Response {
  const body = `<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>${crypto.randomUUID()}</RequestId></ResponseMetadata>` +
    `</${action}Response>`;
  return new Response(body, { headers: { "content-type": "text/xml" } });
}

function errorXml(status: number, code: string, message: string): Response {
  const body = `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error>` +
    `<RequestId>${crypto.randomUUID()}</RequestId></ErrorResponse>`;
  return new Response(body, { status, headers: { "content-type": "text/xml" } });
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function randomToken(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}
