/**
 * Private per-user state (keys, cached credentials, lookups): a 0700 directory, and an exclusive
 * lock file so that parallel ssmssh runs (ssh starts one per connection) take turns.
 *
 * @example
 * ```ts
 * await ensurePrivateDir(dir);
 * const value = await withFileLock(`${dir}/entry`, async () => await readOrCreate());
 * ```
 * @module
 */

/** A path that should be a directory is something else. */
export class NotADirectoryError extends Error {
  override name = "NotADirectoryError";
}

/** Creates `dir` (and its parents) as 0700, and takes group and other access off an existing one. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error; // a file in the way, say
  }
  const info = await Deno.stat(dir);
  if (!info.isDirectory) throw new NotADirectoryError(`${dir} is not a directory`);
  if (Deno.build.os !== "windows" && (info.mode ?? 0) & 0o077) await Deno.chmod(dir, 0o700);
}

/**
 * Runs `fn` holding an exclusive lock on `<path>.lock` (created 0600). If the lock file cannot be
 * opened, throws, unless `unlocked` is given: then it is told why and `fn` runs without the lock.
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  unlocked?: (error: Error) => void,
): Promise<T> {
  let lock: Deno.FsFile;
  try {
    lock = await Deno.open(`${path}.lock`, { create: true, write: true, mode: 0o600 });
  } catch (error) {
    if (!unlocked) throw error;
    unlocked(error as Error);
    return await fn();
  }
  using _ = lock;
  await lock.lock(true);
  try {
    return await fn();
  } finally {
    await lock.unlock().catch(() => {}); // closing the file releases it anyway
  }
}
