/**
 * Which region a run uses and where it came from, decided the way the AWS SDK for JavaScript
 * decides it: `--region`, then AWS_REGION, then `region` in the profile (--profile, AWS_PROFILE
 * or `default`) of the shared config files. Unlike the AWS CLI, the SDK does not read
 * AWS_DEFAULT_REGION; it is reported so that `ssmssh doctor` can say so.
 *
 * @example
 * ```ts
 * const facts = await regionFacts({ profile: "dev" }, (name) => Deno.env.get(name));
 * // { region: "eu-west-1", source: "profile", profile: "dev" }
 * ```
 * @module
 */

import { parseKnownFiles } from "@smithy/core/config";
import type { AwsOptions } from "./aws_context.ts";

/** Where a region setting was found. */
export type RegionSource = "--region" | "AWS_REGION" | "profile";

/** The region of a run, where it came from, and what else was set. */
export interface RegionFacts {
  /** Undefined when none is configured (every AWS call would fail). */
  region?: string;
  source?: RegionSource;
  /** The profile whose `region` was consulted. */
  profile: string;
  /** AWS_DEFAULT_REGION, if set: the AWS CLI reads it, the SDK (and so ssmssh) does not. */
  defaultRegionEnv?: string;
}

/** Resolves the region like the SDK's region provider chain; reads the shared config files. */
export async function regionFacts(
  options: Pick<AwsOptions, "region" | "profile">,
  env: (name: string) => string | undefined,
): Promise<RegionFacts> {
  const profile = options.profile || env("AWS_PROFILE") || "default";
  const defaultRegionEnv = env("AWS_DEFAULT_REGION") || undefined;
  const common = { profile, ...(defaultRegionEnv ? { defaultRegionEnv } : {}) };
  if (options.region) return { region: options.region, source: "--region", ...common };
  const fromEnv = env("AWS_REGION");
  if (fromEnv) return { region: fromEnv, source: "AWS_REGION", ...common };
  let fromProfile: string | undefined;
  try {
    fromProfile = (await parseKnownFiles({ profile }))[profile]?.region || undefined;
  } catch {
    // Unreadable config files: no region from them (the SDK fails the same way).
  }
  return fromProfile ? { region: fromProfile, source: "profile", ...common } : common;
}
