/**
 * Where credentials come from: the SDK's default chain (environment, profiles, SSO,
 * credential_process, container and instance roles), as the AWS CLI resolves them.
 *
 * @example
 * ```ts
 * const credentials = credentialProvider({ profile: "dev" });
 * ```
 * @module
 */

import { defaultProvider } from "@aws-sdk/credential-provider-node";
import type { AwsOptions } from "./aws_context.ts";

/** One credential provider, shared by every client of a run. */
export function credentialProvider(options: AwsOptions) {
  return defaultProvider({ profile: options.profile });
}
