/**
 * Signing in like the AWS CLI: the SDK's default chain (environment, profiles, SSO,
 * assume-role with `source_profile`/`credential_source`, `credential_process`, web identity,
 * container and instance roles), with three additions:
 * - an MFA prompt for `mfa_serial` profiles (injected; the CLI asks on the terminal);
 * - a cache of assumed-role and SSO role credentials between runs ({@linkcode cachedCredentials});
 * - errors that say which profile failed and the exact command that fixes it
 *   (`aws sso login --profile dev`).
 *
 * @example
 * ```ts
 * const credentials = credentialProvider({ profile: "dev" }, { askMfaCode, cacheDir });
 * ```
 * @module
 */

import { defaultProvider } from "@aws-sdk/credential-provider-node";
import type { AwsOptions } from "./aws_context.ts";
import { SsmsshError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import {
  cachedCredentials,
  cacheKey,
  REUSE_MARGIN_MS,
  type TemporaryCredentials,
} from "./credential_cache.ts";
import { type SignInPlan, signInPlan, toSignInError } from "./sign_in_plan.ts";

/** How a sign-in reaches the user and the disk; every field is optional. */
export interface SignIn {
  /** Asks for the current code of an MFA device; without it, MFA profiles fail clearly. */
  askMfaCode?(request: { profile: string; serial: string }): Promise<string>;
  /** Where assumed-role and SSO credentials are cached between runs; undefined: no cache. */
  cacheDir?: string;
  env?(name: string): string | undefined;
  logger?: Logger;
  now?(): number;
}

/** What the SDK's clients call for credentials. */
export type CredentialProvider = (
  identityProperties?: Record<string, unknown>,
) => Promise<TemporaryCredentials>;

/** One credential provider, shared by every client of a run: one prompt, one sign-in. */
export function credentialProvider(options: AwsOptions, signIn: SignIn = {}): CredentialProvider {
  const env = signIn.env ?? ((name: string) => Deno.env.get(name));
  const now = signIn.now ?? Date.now;
  let planned: Promise<SignInPlan> | undefined;
  const plan = () => planned ??= signInPlan(options, env);
  const details: string[] = [];
  const sdk = defaultProvider({
    profile: options.profile,
    logger: sdkLogger(signIn.logger, details),
    mfaCodeProvider: async (serial: string) => {
      const profile = (await plan()).profile ?? "default";
      if (!signIn.askMfaCode) return noPrompt(profile);
      return await signIn.askMfaCode({ profile, serial });
    },
  });

  const resolve = async (properties?: Record<string, unknown>) => {
    const current = await plan();
    // This provider decides when to refresh; the SDK's own memo would hand back old credentials.
    const fetch = () => sdk({ ...properties, forceRefresh: true });
    details.length = 0;
    try {
      if (current.cacheable && signIn.cacheDir) {
        return await cachedCredentials({
          dir: signIn.cacheDir,
          key: await cacheKey(current.cacheKey),
          fetch,
          now,
          logger: signIn.logger,
        });
      }
      return await fetch();
    } catch (error) {
      throw toSignInError(error, current, details);
    }
  };

  // Kept for the run and refreshed near expiry; short-lived credentials (under ten minutes) are
  // still used for the first half of their life rather than fetched again for every request.
  let credentials: TemporaryCredentials | undefined;
  let refreshAt = 0;
  let inFlight: Promise<TemporaryCredentials> | undefined;
  return async (properties) => {
    if (credentials && now() < refreshAt) return credentials;
    inFlight ??= resolve(properties).then((c) => {
      const expiresAt = c.expiration?.getTime() ?? Infinity;
      refreshAt = expiresAt - Math.min(REUSE_MARGIN_MS, (expiresAt - now()) / 2);
      return (credentials = c);
    }).finally(() => {
      inFlight = undefined;
    });
    return await inFlight;
  };
}

function noPrompt(profile: string): never {
  throw new SsmsshError(
    "credentials",
    `profile ${profile} needs an MFA code but nothing can ask for it`,
    "Run ssmssh from a terminal, or use credentials without MFA",
  );
}

/**
 * The SDK's own debug lines go to our debug log (they carry no secrets); the messages of
 * provider errors are kept in `details`, since the chain's last error hides them.
 */
function sdkLogger(logger: Logger | undefined, details: string[]) {
  const line = (parts: unknown[]) => parts.map(String).join(" ");
  const debug = (...parts: unknown[]) => {
    const text = line(parts);
    const failed = /^@smithy\/property-provider (?:->|\(!\)) ([^]*)$/.exec(text);
    if (failed) details.push(failed[1]);
    logger?.debug(text);
  };
  return {
    debug,
    info: debug,
    warn: (...parts: unknown[]) => logger?.warn(line(parts)),
    error: debug,
  };
}
