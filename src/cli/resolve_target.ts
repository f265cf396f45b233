/**
 * Turns what the user typed into one instance id: ids (`i-…`, `mi-…`) as they are; a name
 * (`web-1`, the Name tag) or `tag:Key=Value` through ssm:DescribeInstanceInformation, with a
 * short-lived cache so repeated connections cost one lookup. No match or several matches are
 * target errors that list what was found and say what to do.
 *
 * @example
 * ```ts
 * const resolver = awsTargetResolver(aws, { pick: "first", targetCache: targetCacheSettings(env) });
 * const target = await resolver.resolve(parseTargetQuery("web-1"));
 * // { id: "i-0123456789abcdef0", kind: "ec2", host: "web-1", source: "lookup" }
 * ```
 * @module
 */

import { SsmsshError } from "../errors.ts";
import { parseTarget, type Target } from "./target.ts";
import type { AwsContext } from "../aws/aws_context.ts";
import { toSsmsshError } from "../aws/aws_errors.ts";
import { describeManagedInstances, type InstanceFilter } from "../aws/instances.ts";
import {
  type CachedMatch,
  cacheOptionsFromEnv,
  TargetCache,
  type TargetCacheOptions,
} from "./target_cache.ts";

/** What the user typed, understood: an id, or a tag to look up (a bare name is tag Name). */
export type TargetQuery =
  | { kind: "id"; target: Target }
  | { kind: "tag"; key: string; value: string; text: string };

/** How to choose among several matches: `first` takes the first online one, by id. */
export type PickStrategy = "first";

/** A target with its instance id. */
export interface ResolvedTarget extends Target {
  /** The host as given (ssh's %h); names the key file. */
  host: string;
  source: "id" | "lookup" | "cache";
}

/** Cache settings plus what else tells one AWS account and endpoint from another. */
export interface TargetCacheSettings extends TargetCacheOptions {
  /** AWS_PROFILE, used when no --profile is given. */
  profile?: string;
  /** AWS_ENDPOINT_URL_SSM or AWS_ENDPOINT_URL, if set. */
  endpoint?: string;
}

/** Cache settings from the environment (SSMSSH_CACHE_DIR, SSMSSH_CACHE_SECONDS, AWS_*). */
export function targetCacheSettings(
  env: (name: string) => string | undefined,
): TargetCacheSettings | undefined {
  const options = cacheOptionsFromEnv(env);
  if (!options) return undefined;
  const endpoint = env("AWS_ENDPOINT_URL_SSM") || env("AWS_ENDPOINT_URL") || undefined;
  return { ...options, profile: env("AWS_PROFILE") || undefined, endpoint };
}

/** What a {@linkcode TargetResolver} needs. */
export interface ResolverOptions {
  pick?: PickStrategy;
  /** Instances matching one filter (DescribeInstanceInformation). */
  lookup(filter: InstanceFilter): Promise<CachedMatch[]>;
  /** The region the lookup runs in, for messages and the cache key. */
  region(): Promise<string>;
  cache?: TargetCache;
  /** Tells accounts and endpoints apart in cache keys (profile, endpoint). */
  scope?: string;
}

/** Looks like an id, not a name: a mistyped id is a usage error, not a lookup. */
const ID_LIKE = /^m?i-[0-9a-f]+$/;
/** Characters AWS allows in tag keys and values (no `;`, quotes or shell syntax). */
const TAG_TEXT = /^[\p{L}\p{N}\p{Zs}_.:/=+\-@]+$/u;
const SHOWN_MATCHES = 5;

/** Parses a target: an id, `tag:Key=Value`, or a name. Throws a usage error for anything else. */
export function parseTargetQuery(text: string): TargetQuery {
  const trimmed = text.trim();
  if (ID_LIKE.test(trimmed.toLowerCase())) {
    return { kind: "id", target: parseTarget(trimmed) };
  }
  if (trimmed.startsWith("tag:")) {
    const [key, ...rest] = trimmed.slice(4).split("=");
    const value = rest.join("=");
    if (validTag(key, 128) && validTag(value, 256)) {
      return { kind: "tag", key, value, text: trimmed };
    }
    throw new SsmsshError(
      "usage",
      `${JSON.stringify(text)} is not a tag target`,
      "Use tag:Key=Value, e.g. tag:Env=prod",
    );
  }
  if (validTag(trimmed, 256)) return { kind: "tag", key: "Name", value: trimmed, text: trimmed };
  throw new SsmsshError(
    "usage",
    `${JSON.stringify(text)} is not an instance id or an instance name`,
    "Use an instance id like i-0123456789abcdef0 (mi-… for managed nodes), " +
      "a Name tag like web-1, or tag:Key=Value",
  );
}

function validTag(text: string, max: number): boolean {
  return text.length > 0 && text.length <= max && TAG_TEXT.test(text);
}

/** Resolves targets to instance ids, through the cache when it is on. */
export class TargetResolver {
  readonly #options: ResolverOptions;

  constructor(options: ResolverOptions) {
    this.#options = options;
  }

  /** The one instance `query` names; ids need no lookup. */
  async resolve(query: TargetQuery): Promise<ResolvedTarget> {
    if (query.kind === "id") return { ...query.target, host: query.target.id, source: "id" };
    const key = await this.#cacheKey(query);
    const cached = key ? await this.#options.cache!.get(key) : undefined;
    const matches = cached ??
      await this.#options.lookup({ Key: `tag:${query.key}`, Values: [query.value] });
    if (matches.length === 0) {
      const region = await this.#options.region();
      const what = query.key === "Name"
        ? `is named "${query.value}"`
        : `has the tag ${query.key}=${query.value}`;
      throw new SsmsshError(
        "target",
        `No SSM-managed instance in ${region} ${what}`,
        "Check the name and the region (--region); `ssmssh list` shows managed instances " +
          "and their names",
      );
    }
    if (!cached && key) await this.#options.cache!.put(key, matches);
    const chosen = choose(query, matches, this.#options.pick);
    return {
      ...parseTarget(chosen.id),
      host: query.text,
      source: cached ? "cache" : "lookup",
    };
  }

  /** Drops a cached lookup whose instance could not be reached, so the next run looks again. */
  async forget(query: TargetQuery): Promise<void> {
    const key = await this.#cacheKey(query).catch(() => undefined);
    if (key) await this.#options.cache!.delete(key);
  }

  async #cacheKey(query: TargetQuery): Promise<string | undefined> {
    if (!this.#options.cache || query.kind === "id") return undefined;
    const region = await this.#options.region();
    return JSON.stringify([region, this.#options.scope ?? "", query.key, query.value]);
  }
}

/** The single match, or the pick among several; several without a pick is an error. */
function choose(
  query: Extract<TargetQuery, { kind: "tag" }>,
  matches: CachedMatch[],
  pick: PickStrategy | undefined,
): CachedMatch {
  const sorted = [...matches].sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  if (sorted.length === 1) return sorted[0];
  if (pick === "first") return sorted.find((m) => m.pingStatus === "Online") ?? sorted[0];
  const shown = sorted.slice(0, SHOWN_MATCHES).map((m) => `${m.id} (${m.pingStatus || "?"})`);
  if (sorted.length > SHOWN_MATCHES) shown.push(`and ${sorted.length - SHOWN_MATCHES} more`);
  throw new SsmsshError(
    "target",
    `"${query.text}" matches ${sorted.length} instances: ${shown.join(", ")}`,
    "Connect by instance id, or pass --pick first to take the first online one (by id)",
  );
}

/**
 * The key file name part for `target` (ssh's `%h`). Throws a usage error when the host cannot
 * be part of a file name here, since ssh could not find such a key either.
 */
export function keyHostFor(target: ResolvedTarget, os: string = Deno.build.os): string {
  const unsafe = os === "windows" ? /[\\/:]/ : /\//;
  if (!unsafe.test(target.host)) return target.host;
  throw new SsmsshError(
    "usage",
    `Cannot push a key for "${target.host}": the name cannot be part of a key file name`,
    `Connect by instance id (${target.id}), or pass --no-push-key and use your own key`,
  );
}

/** Settings of {@linkcode awsTargetResolver}. */
export interface AwsResolverSettings {
  pick?: PickStrategy;
  /** --profile, if given. */
  profile?: string;
  /** Undefined: no cache. */
  targetCache?: TargetCacheSettings;
}

/** A resolver that looks names up with the context's SSM client. */
export function awsTargetResolver(
  aws: AwsContext,
  settings: AwsResolverSettings,
): TargetResolver {
  const cache = settings.targetCache;
  return new TargetResolver({
    pick: settings.pick,
    lookup: async (filter) => {
      const instances = await describeManagedInstances(aws.ssm, [filter]);
      return instances.map(({ id, pingStatus }) => ({ id, pingStatus }));
    },
    region: async () => {
      try {
        return await aws.ssm.config.region();
      } catch (error) {
        throw toSsmsshError(error, { action: "ssm:DescribeInstanceInformation" });
      }
    },
    cache: cache ? new TargetCache(cache) : undefined,
    scope: JSON.stringify([settings.profile ?? cache?.profile ?? "default", cache?.endpoint ?? ""]),
  });
}
