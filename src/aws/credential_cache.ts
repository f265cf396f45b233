/**
 * The credential cache: temporary credentials from an assumed role or from AWS SSO kept between
 * runs, like the AWS CLI's `~/.aws/cli/cache`, so ten `ssh` connections ask for one MFA code.
 * One file per sign-in (`<sha-256 of profile, role, source, MFA device, region…>.json`, 0600, in
 * a 0700 directory), written atomically, reused while it is valid for more than five minutes.
 * Damaged files count as missing. A lock per file makes parallel runs wait for the first one's
 * credentials instead of prompting again. Long-term keys never go here.
 *
 * @example
 * ```ts
 * const dir = credentialCacheDir((name) => Deno.env.get(name));
 * const creds = await cachedCredentials({ dir, key: await cacheKey(["mfa", roleArn]), fetch });
 * ```
 * @module
 */

import { atomicWriteFile, joinPath } from "../config/ssh_config_file.ts";
import type { Logger } from "../log/logger.ts";
import { ensurePrivateDir, withFileLock } from "../private_files.ts";

/** Credentials as the SDK represents them; the cache needs the temporary kind. */
export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
  accountId?: string;
  credentialScope?: string;
}

/** Cached credentials are reused while they stay valid at least this long (the SDK's margin). */
export const REUSE_MARGIN_MS = 5 * 60_000;

/**
 * The per-user cache directory: `$SSMSSH_CACHE_DIR/credentials`, else
 * `%LOCALAPPDATA%\ssmssh\credentials` on Windows, else `$XDG_CACHE_HOME/ssmssh/credentials`,
 * else `~/.cache/ssmssh/credentials`; undefined when none of these is known.
 */
export function credentialCacheDir(
  env: (name: string) => string | undefined,
  os: string = Deno.build.os,
): string | undefined {
  const join = (dir: string, ...names: string[]) =>
    names.reduce((path, name) => joinPath(path, name, os), dir);
  const override = env("SSMSSH_CACHE_DIR");
  if (override) return join(override, "credentials");
  if (os === "windows") {
    const local = env("LOCALAPPDATA");
    return local ? join(local, "ssmssh", "credentials") : undefined;
  }
  const xdg = env("XDG_CACHE_HOME");
  if (xdg) return join(xdg, "ssmssh", "credentials");
  const home = env("HOME");
  return home ? join(home, ".cache", "ssmssh", "credentials") : undefined;
}

/** The file name stem for one sign-in: hex SHA-256 of its identifying parts. */
export async function cacheKey(parts: Array<string | undefined>): Promise<string> {
  const text = JSON.stringify(["ssmssh-credentials-v1", ...parts.map((p) => p ?? null)]);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** What {@linkcode cachedCredentials} needs. */
export interface CachedCredentialsOptions {
  dir: string;
  key: string;
  /** Gets fresh credentials (the SDK: AssumeRole, SSO); called only on a miss, under the lock. */
  fetch(): Promise<TemporaryCredentials>;
  now?: () => number;
  logger?: Logger;
}

/**
 * Returns valid cached credentials for `key`, or fetches, stores and returns new ones. A broken
 * cache (unwritable directory, damaged file) never fails the sign-in: it is bypassed.
 */
export async function cachedCredentials(
  options: CachedCredentialsOptions,
): Promise<TemporaryCredentials> {
  const { dir, key, logger } = options;
  const now = options.now ?? Date.now;
  const path = joinPath(dir, `${key}.json`);
  try {
    await ensurePrivateDir(dir);
  } catch (error) {
    logger?.debug(`credential cache ${dir} unusable (${(error as Error).message}); not cached`);
    return await options.fetch();
  }
  const hit = await readCachedCredentials(path, now());
  if (hit) {
    logger?.debug(`credentials from cache ${path}, valid until ${hit.expiration?.toISOString()}`);
    return hit;
  }
  const unlocked = (error: Error) =>
    logger?.debug(`cannot lock ${path} (${error.message}); continuing without`);
  return await withFileLock(path, async () => {
    // Another run may have signed in while this one waited for the lock.
    const again = await readCachedCredentials(path, now());
    if (again) {
      logger?.debug(`credentials from cache ${path} (written by a parallel run)`);
      return again;
    }
    const fresh = await options.fetch();
    if (isTemporary(fresh)) {
      await writeCachedCredentials(path, fresh).then(
        () =>
          logger?.debug(`credentials cached in ${path} until ${fresh.expiration.toISOString()}`),
        (error) => logger?.debug(`cannot write ${path}: ${(error as Error).message}`),
      );
    }
    return fresh;
  }, unlocked);
}

/** Reads `path`; undefined when missing, damaged, or valid for less than the reuse margin. */
export async function readCachedCredentials(
  path: string,
  now: number,
): Promise<TemporaryCredentials | undefined> {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(await Deno.readTextFile(path));
  } catch {
    return undefined;
  }
  const { accessKeyId, secretAccessKey, sessionToken, expiration, accountId, credentialScope } =
    data ?? {};
  if (
    typeof accessKeyId !== "string" || typeof secretAccessKey !== "string" ||
    typeof sessionToken !== "string" || typeof expiration !== "string" || !accessKeyId ||
    !secretAccessKey || !sessionToken
  ) {
    return undefined;
  }
  const expires = new Date(expiration);
  if (!(expires.getTime() - now > REUSE_MARGIN_MS)) return undefined;
  return {
    accessKeyId,
    secretAccessKey,
    sessionToken,
    expiration: expires,
    ...(typeof accountId === "string" && { accountId }),
    ...(typeof credentialScope === "string" && { credentialScope }),
  };
}

/** Writes temporary credentials to `path` (0600, atomic). */
export async function writeCachedCredentials(
  path: string,
  credentials: TemporaryCredentials & { sessionToken: string; expiration: Date },
): Promise<void> {
  const data = {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
    expiration: credentials.expiration.toISOString(),
    ...(credentials.accountId && { accountId: credentials.accountId }),
    ...(credentials.credentialScope && { credentialScope: credentials.credentialScope }),
  };
  await atomicWriteFile(path, new TextEncoder().encode(JSON.stringify(data) + "\n"), {
    mode: 0o600,
  });
}

/** Only session credentials with an expiry are cached: never long-term keys. */
function isTemporary(
  c: TemporaryCredentials,
): c is TemporaryCredentials & { sessionToken: string; expiration: Date } {
  return !!c.sessionToken && c.expiration instanceof Date && !isNaN(c.expiration.getTime());
}
