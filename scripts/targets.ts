/**
 * The release targets and the permissions the single binary runs with: network (AWS API and
 * websocket), env (AWS_* settings), read/write (profiles, SSO cache, ~/.ssh, the key store),
 * run (credential_process, ssh) and sys (the SDK reads the OS name and home directory).
 * @module
 */

/** `deno compile --target` values, one per release artifact. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

/** Permissions baked into the compiled binary. */
export const PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-sys",
];
