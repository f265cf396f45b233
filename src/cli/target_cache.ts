/**
 * A short-lived, per-user cache of name lookups, so ten connections to `web-1` in a row cost one
 * ssm:DescribeInstanceInformation call. One JSON file (0600, in a 0700 directory, replaced
 * atomically), entries keyed by scope (region, profile, endpoint) and query. A missing, damaged or
 * unwritable cache is never an error: it is ignored and rewritten.
 *
 * @example
 * ```ts
 * const cache = new TargetCache({ dir: "/home/me/.cache/ssmssh", ttlMs: 60_000 });
 * await cache.put("us-east-1|default|tag:Name=web-1", [{ id: "i-0123456789abcdef0", pingStatus: "Online" }]);
 * await cache.get("us-east-1|default|tag:Name=web-1"); // the same list, for 60 s
 * ```
 * @module
 */

import { atomicWriteFile, joinPath } from "../config/ssh_config_file.ts";

/** An instance a query matched, as much as resolution needs. */
export interface CachedMatch {
  id: string;
  pingStatus: string;
}

/** Where the cache lives and how long entries stay fresh. */
export interface TargetCacheOptions {
  dir: string;
  ttlMs: number;
  now?: () => number;
}

/** How long a lookup is reused unless SSMSSH_CACHE_SECONDS says otherwise. */
export const DEFAULT_CACHE_TTL_MS = 60_000;
const FILE_NAME = "targets.json";
const FORMAT = 1;

interface CacheFile {
  version: typeof FORMAT;
  entries: Record<string, { at: number; matches: CachedMatch[] }>;
}

/**
 * The cache directory (the same root as the credential cache): SSMSSH_CACHE_DIR, else
 * `%LOCALAPPDATA%\ssmssh` on Windows, else `$XDG_CACHE_HOME/ssmssh` or `~/.cache/ssmssh`.
 * Undefined when none is known (the cache is then off).
 */
export function defaultCacheDir(
  env: (name: string) => string | undefined,
  os: string = Deno.build.os,
): string | undefined {
  const override = env("SSMSSH_CACHE_DIR");
  if (override) return override;
  if (os === "windows") {
    const base = env("LOCALAPPDATA");
    return base ? joinPath(base, "ssmssh", os) : undefined;
  }
  const xdg = env("XDG_CACHE_HOME");
  if (xdg) return joinPath(xdg, "ssmssh", os);
  const home = env("HOME");
  return home ? joinPath(joinPath(home, ".cache", os), "ssmssh", os) : undefined;
}

/** Cache settings from the environment; undefined when SSMSSH_CACHE_SECONDS=0 turns it off. */
export function cacheOptionsFromEnv(
  env: (name: string) => string | undefined,
): TargetCacheOptions | undefined {
  const seconds = env("SSMSSH_CACHE_SECONDS");
  const ttlMs = seconds && /^\d+$/.test(seconds) ? Number(seconds) * 1000 : DEFAULT_CACHE_TTL_MS;
  const dir = defaultCacheDir(env);
  return ttlMs > 0 && dir ? { dir, ttlMs } : undefined;
}

/** The lookup cache file. */
export class TargetCache {
  readonly path: string;
  readonly #dir: string;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: TargetCacheOptions) {
    this.#dir = options.dir;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
    this.path = joinPath(options.dir, FILE_NAME);
  }

  /** The matches stored for `key` if still fresh. */
  async get(key: string): Promise<CachedMatch[] | undefined> {
    const entry = (await this.#read()).entries[key];
    const age = this.#now() - (entry?.at ?? -Infinity);
    return age >= 0 && age < this.#ttlMs ? entry!.matches : undefined;
  }

  /** Stores `matches` for `key`, dropping stale entries. Never throws. */
  async put(key: string, matches: CachedMatch[]): Promise<void> {
    await this.#update((entries) => {
      entries[key] = { at: this.#now(), matches };
    });
  }

  /** Forgets `key` (its instance turned out to be unusable). Never throws. */
  async delete(key: string): Promise<void> {
    await this.#update((entries) => {
      delete entries[key];
    });
  }

  async #update(change: (entries: CacheFile["entries"]) => void): Promise<void> {
    try {
      const { entries } = await this.#read();
      const now = this.#now();
      for (const [key, entry] of Object.entries(entries)) {
        if (!(now - entry.at >= 0 && now - entry.at < this.#ttlMs)) delete entries[key];
      }
      change(entries);
      await ensurePrivateDir(this.#dir);
      const file: CacheFile = { version: FORMAT, entries };
      await atomicWriteFile(this.path, new TextEncoder().encode(JSON.stringify(file)), {
        mode: 0o600,
      });
    } catch {
      // A cache that cannot be written only costs a lookup next time.
    }
  }

  async #read(): Promise<CacheFile> {
    try {
      return parseCacheFile(await Deno.readTextFile(this.path));
    } catch {
      return { version: FORMAT, entries: {} };
    }
  }
}

/** Parses the file, keeping only well-formed entries; anything else reads as empty. */
function parseCacheFile(text: string): CacheFile {
  const entries: CacheFile["entries"] = {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { version: FORMAT, entries };
  }
  const raw = (data as Partial<CacheFile> | null)?.entries;
  if ((data as Partial<CacheFile> | null)?.version !== FORMAT || !raw || typeof raw !== "object") {
    return { version: FORMAT, entries };
  }
  for (const [key, entry] of Object.entries(raw)) {
    if (
      typeof entry?.at === "number" && Array.isArray(entry.matches) &&
      entry.matches.every((m) => typeof m?.id === "string" && typeof m?.pingStatus === "string")
    ) {
      entries[key] = {
        at: entry.at,
        matches: entry.matches.map((m) => ({ id: m.id, pingStatus: m.pingStatus })),
      };
    }
  }
  return { version: FORMAT, entries };
}

/** Creates `dir` as 0700 if it does not exist; an existing directory is left as it is. */
async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    if ((await Deno.stat(dir)).isDirectory) return;
  } catch {
    // Not there yet.
  }
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  if (Deno.build.os !== "windows") await Deno.chmod(dir, 0o700);
}
