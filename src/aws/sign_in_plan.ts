/**
 * What a sign-in will do, read from the same shared config files the SDK reads: which profile,
 * what kind (assume-role, SSO, credential_process, static keys…), whether its credentials may be
 * cached, and how to fix it when it fails (`aws sso login --sso-session corp`). The kinds follow
 * the SDK's own order (credential-provider-ini's resolveProfileData).
 *
 * @example
 * ```ts
 * const plan = await signInPlan({ profile: "admin" }, (name) => Deno.env.get(name));
 * plan.kind; // "assume-role"
 * ```
 * @module
 */

import { parseKnownFiles } from "@smithy/core/config";
import type { AwsOptions } from "./aws_context.ts";
import { SsmsshError } from "../errors.ts";
import { firstLine } from "./aws_errors.ts";

/** How a profile gets its credentials. */
export type ProfileKind =
  | "environment"
  | "assume-role"
  | "static"
  | "web-identity"
  | "process"
  | "sso"
  | "missing"
  | "other";

/** The sign-in of one run. */
export interface SignInPlan {
  /** The profile the SDK resolves; undefined when AWS_ACCESS_KEY_ID/… in the environment win. */
  profile?: string;
  /** Named by --profile or AWS_PROFILE (not the implicit "default"). */
  explicit: boolean;
  kind: ProfileKind;
  /** Assumed-role and SSO role credentials are temporary and cached; nothing else is. */
  cacheable: boolean;
  /** What identifies these credentials (hashed into the cache file name). */
  cacheKey: Array<string | undefined>;
  /** The profile's own settings (no secrets are read from it here). */
  settings: Record<string, string | undefined>;
  /** `aws sso login …` for the SSO profile this sign-in depends on, if any. */
  ssoLogin?: string;
}

/** Reads the shared config files and decides how `options` will sign in. */
export async function signInPlan(
  options: AwsOptions,
  env: (name: string) => string | undefined,
): Promise<SignInPlan> {
  const named = options.profile || env("AWS_PROFILE") || undefined;
  if (!named && env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY")) {
    return { explicit: false, kind: "environment", cacheable: false, cacheKey: [], settings: {} };
  }
  const profile = named ?? "default";
  let profiles: Record<string, Record<string, string | undefined>> = {};
  try {
    profiles = await parseKnownFiles({ profile });
  } catch {
    // Unreadable files: the SDK reports them when it reads them itself.
  }
  const settings = profiles[profile] ?? {};
  const kind = profiles[profile] ? profileKind(settings) : "missing";
  const cacheable = kind === "assume-role" || kind === "sso";
  const s = settings;
  return {
    profile,
    explicit: !!named,
    kind,
    cacheable,
    cacheKey: cacheable
      ? [
        profile,
        s.role_arn,
        s.source_profile,
        s.credential_source,
        s.mfa_serial,
        s.external_id,
        s.role_session_name,
        s.duration_seconds,
        s.sso_session,
        s.sso_start_url,
        s.sso_account_id,
        s.sso_role_name,
        s.region ?? options.region ?? env("AWS_REGION") ?? env("AWS_DEFAULT_REGION"),
        env("AWS_ENDPOINT_URL_STS"),
        env("AWS_ENDPOINT_URL_SSO"),
        env("AWS_ENDPOINT_URL"),
      ]
      : [],
    settings,
    ssoLogin: ssoLoginCommand(profiles, profile),
  };
}

/** The kind the SDK will use for a profile section (first match wins, as in the SDK). */
export function profileKind(s: Record<string, string | undefined>): ProfileKind {
  const hasSource = typeof s.source_profile === "string";
  const hasCredentialSource = typeof s.credential_source === "string";
  if (typeof s.role_arn === "string" && hasSource !== hasCredentialSource) return "assume-role";
  if (typeof s.aws_access_key_id === "string" && typeof s.aws_secret_access_key === "string") {
    return "static";
  }
  if (typeof s.web_identity_token_file === "string" && typeof s.role_arn === "string") {
    return "web-identity";
  }
  if (typeof s.credential_process === "string") return "process";
  if (
    ["sso_start_url", "sso_account_id", "sso_session", "sso_region", "sso_role_name"].some((k) =>
      typeof s[k] === "string"
    )
  ) {
    return "sso";
  }
  return "other";
}

/** `aws sso login` for `profile` or the SSO profile its source_profile chain leads to. */
function ssoLoginCommand(
  profiles: Record<string, Record<string, string | undefined>>,
  profile: string,
): string | undefined {
  let name: string | undefined = profile;
  for (let hop = 0; name && profiles[name] && hop < 5; hop++) {
    const s: Record<string, string | undefined> = profiles[name];
    if (profileKind(s) === "sso") {
      return s.sso_session
        ? `aws sso login --sso-session ${s.sso_session}`
        : `aws sso login --profile ${name}`;
    }
    name = s.source_profile === name ? undefined : s.source_profile;
  }
  return undefined;
}

/**
 * Turns a failed sign-in into an SsmsshError naming the profile and the fix; errors it does not
 * recognise are returned unchanged for {@linkcode toSsmsshError} to map with the call's context.
 * `details` are messages the SDK's providers gave on the way (the last error hides them).
 */
export function toSignInError(error: unknown, plan: SignInPlan, details: string[] = []): unknown {
  if (error instanceof SsmsshError) return error;
  const e = error as { name?: string; message?: string; $metadata?: unknown };
  const name = e?.name ?? "";
  const message = String(e?.message ?? error);
  const profile = plan.profile ?? "default";
  const providerError = name === "CredentialsProviderError" || name === "TokenProviderError";
  const options = { cause: error };
  if (NETWORK.test(message) || (name === "TimeoutError" && !e?.$metadata)) {
    return new SsmsshError(
      "connection",
      `Cannot sign in with profile ${profile}: AWS cannot be reached (${firstLine(message)})`,
      "Check the network, the region, and HTTPS_PROXY if you are behind a proxy",
      options,
    );
  }
  // The SDK's SSO messages all say "run aws sso login"; the portal says UnauthorizedException.
  if (plan.ssoLogin && providerError && /aws sso login|UnauthorizedException/i.test(message)) {
    return new SsmsshError(
      "credentials",
      `Cannot sign in with profile ${profile}: its AWS SSO session has expired or was not started`,
      `Run \`${plan.ssoLogin}\` and try again`,
      options,
    );
  }
  if (plan.kind === "assume-role" && e?.$metadata && /AccessDenied/.test(name)) {
    if (/MultiFactorAuthentication/i.test(message)) {
      return new SsmsshError(
        "credentials",
        `Cannot sign in with profile ${profile}: AWS STS rejected the MFA code for ` +
          `${plan.settings.mfa_serial ?? "its MFA device"}`,
        `Enter the code your device shows now; check that mfa_serial in profile ${profile} ` +
          "names that device",
        options,
      );
    }
    const role = plan.settings.role_arn;
    return new SsmsshError(
      "access-denied",
      `Access denied: you are not allowed sts:AssumeRole on ${role} (${firstLine(message)})`,
      `Allow sts:AssumeRole on ${role} for the source identity, and check the role's trust policy`,
      options,
    );
  }
  if (plan.kind === "process" && providerError) {
    const detail = details.find((d) => /credential_process|Command failed/i.test(d)) ?? message;
    return new SsmsshError(
      "credentials",
      `Cannot sign in with profile ${profile}: its credential_process failed: ${firstLine(detail)}`,
      `Run it by hand to see why: ${plan.settings.credential_process}`,
      options,
    );
  }
  if (plan.kind === "missing" && plan.explicit && providerError) {
    return new SsmsshError(
      "credentials",
      `Cannot sign in: profile ${profile} is not in your AWS config or credentials file`,
      `Check the name (--profile, AWS_PROFILE), or create it: \`aws configure --profile ${profile}\``,
      options,
    );
  }
  return error;
}

const NETWORK =
  /ECONNREFUSED|ENOTFOUND|ECONNRESET|EAI_AGAIN|getaddrinfo|fetch failed|connection refused|dns error|timed out/i;
