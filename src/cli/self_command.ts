/**
 * How to run this same ssmssh again from ssh's ProxyCommand or a helper process: the compiled
 * binary runs itself; a source or bundle run runs `deno run <permissions> <entry>` the same way.
 *
 * @example
 * ```ts
 * const argv = [...selfArgv(), "proxy", "%h", "--port", "%p"];
 * ```
 * @module
 */

/** Permissions the binary is compiled with and source runs use (see README: Install). */
export const PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-sys",
];

/** argv that starts this ssmssh (absolute paths). */
export function selfArgv(): string[] {
  if (Deno.build.standalone) return [Deno.execPath()];
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    ...PERMISSIONS,
    pathFromFileUrl(Deno.mainModule),
  ];
}

/** Converts a file: URL to a native path (drive letters on Windows). */
export function pathFromFileUrl(url: string, os: string = Deno.build.os): string {
  const parsed = new URL(url);
  if (parsed.protocol !== "file:") throw new Error(`Cannot run ${url}: not a local file`);
  const path = decodeURIComponent(parsed.pathname);
  return os === "windows" ? path.replace(/^\/([A-Za-z]:)/, "$1").replaceAll("/", "\\") : path;
}
