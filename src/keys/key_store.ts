/**
 * The ephemeral key store: one Ed25519 key per (OS user, instance), pushed with EC2 Instance
 * Connect and kept in a per-user directory (0700) as `<user>@<instance>` (0600), the file ssh's
 * `IdentityFile <dir>/%r@%h` names.
 *
 * Why these rules: ssh loads the public half of an existing IdentityFile when it starts, before
 * the ProxyCommand has done anything, and signs with the private half later. So a key file must
 * never change under a running ssh: an existing key is re-pushed (valid 60 s again), never
 * replaced; a new key is written only where no file exists, which ssh then reads lazily at
 * authentication. Pushes for one file are serialized with a lock, so ten parallel connections
 * push once and share the key. Keys are deleted once their last push has expired.
 *
 * @example
 * ```ts
 * const key = await prepareKey({ dir, user: "ec2-user", target: "i-0123456789abcdef0", push });
 * // key.path is the private key file; key.expiresAt is when its last push lapses
 * ```
 * @module
 */

import {
  decodeOpenSshPrivateKey,
  encodePublicKeyLine,
  generateEd25519KeyPair,
} from "./ed25519_key.ts";
import { atomicWriteFile, joinPath } from "../config/ssh_config_file.ts";
import { SsmsshError } from "../errors.ts";
import { ensurePrivateDir, NotADirectoryError, withFileLock } from "../private_files.ts";

/** How long EC2 Instance Connect accepts a pushed key. */
export const PUSH_VALIDITY_MS = 60_000;
/** A key pushed less than this long ago is reused without another push. */
export const REUSE_WINDOW_MS = 40_000;

/** Where a usable key is and until when its push is valid. */
export interface PreparedKey {
  path: string;
  publicKeyLine: string;
  pushedAt: number;
  expiresAt: number;
  /** What was done: a new key pushed, an existing key pushed again, or reused as it is. */
  action: "created" | "repushed" | "reused";
}

/** What {@linkcode prepareKey} needs. */
export interface PrepareKeyOptions {
  dir: string;
  user: string;
  target: string;
  /** Pushes the public key line (SendSSHPublicKey). */
  push(publicKeyLine: string): Promise<void>;
  now?: () => number;
  validityMs?: number;
}

interface KeyMeta {
  pushedAt: number;
  validityMs: number;
}

const USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;

/** The key file name for a user and target, as ssh's `%r@%h` expands it. */
export function keyFileName(user: string, target: string): string {
  if (!USER.test(user)) {
    throw new SsmsshError(
      "usage",
      `"${user}" is not a valid OS user name`,
      "Pass --user, e.g. --user ec2-user",
    );
  }
  return `${user}@${target}`;
}

/** Returns a key for `user@target` whose push is valid now, pushing only when needed. */
export async function prepareKey(options: PrepareKeyOptions): Promise<PreparedKey> {
  const now = options.now ?? Date.now;
  const validityMs = options.validityMs ?? PUSH_VALIDITY_MS;
  await ensureKeyDir(options.dir);
  const path = joinPath(options.dir, keyFileName(options.user, options.target));
  return await withFileLock(path, async () => {
    const existing = await readKey(path);
    if (existing) {
      if (
        existing.meta &&
        now() - existing.meta.pushedAt < Math.min(REUSE_WINDOW_MS, validityMs * 2 / 3)
      ) {
        const pushedAt = existing.meta.pushedAt;
        return {
          path,
          publicKeyLine: existing.publicKeyLine,
          pushedAt,
          expiresAt: pushedAt + validityMs,
          action: "reused",
        };
      }
      await options.push(existing.publicKeyLine);
      const pushedAt = now();
      await writeMeta(path, { pushedAt, validityMs });
      return {
        path,
        publicKeyLine: existing.publicKeyLine,
        pushedAt,
        expiresAt: pushedAt + validityMs,
        action: "repushed",
      };
    }
    const pair = await generateEd25519KeyPair(`ssmssh ${options.user}@${options.target}`);
    await options.push(pair.publicKeyLine);
    const pushedAt = now();
    await writeMeta(path, { pushedAt, validityMs });
    await atomicWriteFile(path, new TextEncoder().encode(pair.privateKeyPem), { mode: 0o600 });
    return {
      path,
      publicKeyLine: pair.publicKeyLine,
      pushedAt,
      expiresAt: pushedAt + validityMs,
      action: "created",
    };
  });
}

/** Deletes every key in `dir` whose last push has expired; returns the names removed. */
export async function reapExpiredKeys(
  dir: string,
  now: () => number = Date.now,
): Promise<string[]> {
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return removed;
    throw error;
  }
  for (const entry of entries) {
    if (!entry.isFile || !entry.name.endsWith(".json")) continue;
    const path = joinPath(dir, entry.name.slice(0, -".json".length));
    const gone = await withFileLock(path, async () => {
      const meta = await readMeta(path);
      if (meta && now() < meta.pushedAt + meta.validityMs) return false;
      await removeIfExists(path);
      await removeIfExists(`${path}.json`);
      return true;
    });
    if (gone) removed.push(entry.name.slice(0, -".json".length));
  }
  return removed;
}

async function readKey(
  path: string,
): Promise<{ publicKeyLine: string; meta?: KeyMeta } | undefined> {
  let pem: string;
  try {
    pem = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    const key = decodeOpenSshPrivateKey(pem);
    return {
      publicKeyLine: encodePublicKeyLine(key.publicKey, key.comment),
      meta: await readMeta(path),
    };
  } catch {
    return undefined; // unreadable to ssh as well: safe to replace
  }
}

async function readMeta(path: string): Promise<KeyMeta | undefined> {
  try {
    const meta = JSON.parse(await Deno.readTextFile(`${path}.json`));
    if (typeof meta.pushedAt === "number" && typeof meta.validityMs === "number") return meta;
  } catch {
    // missing or damaged: treated as never pushed
  }
  return undefined;
}

async function writeMeta(path: string, meta: KeyMeta): Promise<void> {
  await atomicWriteFile(`${path}.json`, new TextEncoder().encode(JSON.stringify(meta) + "\n"), {
    mode: 0o600,
  });
}

/** The key directory, 0700; a file in its place is a config error the user can fix. */
async function ensureKeyDir(dir: string): Promise<void> {
  try {
    await ensurePrivateDir(dir);
  } catch (error) {
    if (!(error instanceof NotADirectoryError)) throw error;
    throw new SsmsshError("config", error.message, "Remove it or pass another --key-dir");
  }
}

async function removeIfExists(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
