/**
 * The injected logger: every human message goes to stderr (or a file), never to stdout,
 * which carries SSH bytes only. Never pass tokens or key material to it.
 *
 * @example
 * ```ts
 * const log = stderrLogger("debug");
 * log.debug("dialing data channel");
 * ```
 * @module
 */

/** Log levels, most verbose first. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** A leveled logger. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

/** A logger that writes whole lines to a sink (stderr by default) at or above `level`. */
export function stderrLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => Deno.stderr.writeSync(new TextEncoder().encode(line)),
): Logger {
  const at = (wanted: LogLevel) => (message: string) => {
    if (RANK[wanted] >= RANK[level]) {
      const label = wanted === "info"
        ? ""
        : wanted === "debug"
        ? `debug: [${Math.round(performance.now())} ms] `
        : `${wanted}: `;
      write(`ssmssh: ${label}${message}\n`);
    }
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** A logger that sends every line to each of `loggers`. */
export function teeLogger(...loggers: Logger[]): Logger {
  return {
    debug: (m) => loggers.forEach((l) => l.debug(m)),
    info: (m) => loggers.forEach((l) => l.info(m)),
    warn: (m) => loggers.forEach((l) => l.warn(m)),
    error: (m) => loggers.forEach((l) => l.error(m)),
  };
}

/** A debug-level logger appending timestamped lines to `path` (created 0600). */
export function fileLogger(path: string): Logger {
  const encoder = new TextEncoder();
  const file = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
  return stderrLogger("debug", (line) => {
    file.writeSync(encoder.encode(`${new Date().toISOString()} [${Deno.pid}] ${line}`));
  });
}

/** A logger that drops everything. */
export const silentLogger: Logger = stderrLogger("silent", () => {});
