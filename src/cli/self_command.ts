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

/**
 * V8 heap limits: garbage is collected early instead of letting the heap grow, which keeps a
 * 200 MB transfer near 105 MB peak RSS instead of 200 MB (see docs/PERFORMANCE.md).
 */
export const V8_FLAGS = "--v8-flags=--max-old-space-size=96,--max-semi-space-size=1";

/** argv that starts this ssmssh (absolute paths). */
export function selfArgv(): string[] {
  if (Deno.build.standalone) return [Deno.execPath()];
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    V8_FLAGS,
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
