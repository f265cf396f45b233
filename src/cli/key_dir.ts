/**
 * Where the ephemeral key store lives: `<ssh dir>/ssmssh/keys`, next to the config it serves.
 *
 * @example
 * ```ts
 * keyDirFor("/home/me/.ssh"); // "/home/me/.ssh/ssmssh/keys"
 * ```
 * @module
 */

import { joinPath } from "../config/ssh_config_file.ts";

/** Where the key store lives for an ssh directory (next to the config it serves). */
export function keyDirFor(sshDir: string): string {
  return joinPath(joinPath(sshDir, "ssmssh"), "keys");
}
