/**
 * The release targets. The permissions the binary runs with live in src/cli/self_command.ts:
 * network (AWS API and websocket), env (AWS_* settings), read/write (profiles, SSO cache,
 * ~/.ssh, the key store), run (credential_process, ssh) and sys (the SDK reads the OS name).
 * @module
 */

export { PERMISSIONS, V8_FLAGS } from "../src/cli/self_command.ts";

/** `deno compile --target` values, one per release artifact. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;
