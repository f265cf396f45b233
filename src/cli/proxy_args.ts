/**
 * The command line of `ssmssh proxy`: its options (one table, which commander's `proxy` command
 * is also built from), and a parser for the lines ssh runs, so that a connection need not load
 * commander. It reads what commander reads and gives the same values; anything else (help, an
 * unknown or combined option, a missing or extra argument, a bad choice) it leaves to commander,
 * which says what is wrong exactly as it always does.
 *
 * @example
 * ```ts
 * const args = parseProxyArgs(["i-0123456789abcdef0", "--port", "22", "--user", "ubuntu"]);
 * // { target: "i-0123456789abcdef0", values: { port: "22", user: "ubuntu", pushKey: true, … } }
 * const options = proxyOptions(args!, (name) => Deno.env.get(name));
 * ```
 * @module
 */

import { keyDirFor } from "./key_dir.ts";
import { defaultSshDir } from "../config/ssh_config_file.ts";
import type { CommandContext } from "./context.ts";
import { type ProxyOptions, runProxy } from "./proxy.ts";
import { targetCacheSettings } from "./resolve_target.ts";
import { parsePort } from "./target.ts";

/** One option of `ssmssh proxy`, as commander declares it. */
export interface ProxyOptionSpec {
  /** Commander's flags: `-p, --port <port>`, `--no-push-key`, `-v, --verbose`. */
  flags: string;
  description: string;
  defaultValue?: string;
  choices?: string[];
}

/** The options of `ssmssh proxy`, in the order `--help` lists them. */
export const PROXY_OPTIONS: readonly ProxyOptionSpec[] = [
  {
    flags: "-p, --port <port>",
    description: "port sshd listens on, on the instance",
    defaultValue: "22",
  },
  {
    flags: "--user <name>",
    description: "OS user the pushed key is for (pass %r)",
    defaultValue: "ec2-user",
  },
  { flags: "--no-push-key", description: "do not push an ephemeral key with EC2 Instance Connect" },
  { flags: "--key-dir <dir>", description: "ephemeral key store (default ~/.ssh/ssmssh/keys)" },
  { flags: "--region <region>", description: "AWS region (default: AWS_REGION or the profile's)" },
  { flags: "--profile <profile>", description: "AWS profile (default: AWS_PROFILE or default)" },
  {
    flags: "--document <name>",
    description: "Session document",
    defaultValue: "AWS-StartSSHSession",
  },
  { flags: "--reason <text>", description: "reason recorded with the session, for audit trails" },
  {
    flags: "--pick <which>",
    description: "several instances with the name: take the first online one",
    choices: ["first"],
  },
  { flags: "-v, --verbose", description: "write diagnostics to stderr" },
];

/** Option values by commander's attribute name (`keyDir`, `pushKey`), as commander gives them. */
export type ProxyOptionValues = Record<string, string | boolean | undefined>;

/** A parsed `ssmssh proxy` command line. */
export interface ProxyArgs {
  target: string;
  values: ProxyOptionValues;
}

/** One option as the parser sees it: commander's attribute name and how values are given. */
interface Flag {
  short?: string;
  long: string;
  /** Commander's attribute name: `--key-dir` is `keyDir`, `--no-push-key` is `pushKey`. */
  name: string;
  takesValue: boolean;
  negate: boolean;
  defaultValue?: string;
  choices?: string[];
}

const FLAG_LIST: readonly Flag[] = PROXY_OPTIONS.map((spec) => {
  const [, short, long, value] = /^(?:(-\w), )?(--[\w-]+)( <\w+>)?$/.exec(spec.flags)!;
  const negate = long.startsWith("--no-");
  const name = camelCase(long.slice(negate ? 5 : 2));
  return { ...spec, short, long, name, takesValue: value !== undefined, negate };
});

const FLAGS: ReadonlyMap<string, Flag> = new Map(
  FLAG_LIST.flatMap((flag) =>
    (flag.short ? [flag.long, flag.short] : [flag.long]).map((name) => [name, flag] as const)
  ),
);

/**
 * Parses the arguments after `proxy` the way commander does, for the forms ssh runs: one target,
 * known options as `--name value`, `--name=value` or `-p value`, flags on their own. Returns
 * undefined for anything else, for commander to parse and report.
 */
export function parseProxyArgs(args: string[]): ProxyArgs | undefined {
  const values: ProxyOptionValues = {};
  for (const flag of FLAG_LIST) {
    if (flag.negate) values[flag.name] = true;
    else if (flag.defaultValue !== undefined) values[flag.name] = flag.defaultValue;
  }
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg.length < 2 || !arg.startsWith("-")) {
      operands.push(arg);
      continue;
    }
    const equals = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = FLAGS.get(equals > 0 ? arg.slice(0, equals) : arg);
    if (!flag || (equals > 0 && !flag.takesValue)) return undefined;
    if (!flag.takesValue) {
      values[flag.name] = !flag.negate;
      continue;
    }
    // Like commander, a value is taken as it is, even when it starts with a dash.
    const value = equals > 0 ? arg.slice(equals + 1) : args[++i];
    if (value === undefined || (flag.choices && !flag.choices.includes(value))) return undefined;
    values[flag.name] = value;
  }
  return operands.length === 1 ? { target: operands[0], values } : undefined;
}

/** Runs `ssmssh proxy` for a parsed command line; resolves its exit code. */
export async function runProxyArgs(args: ProxyArgs, ctx: CommandContext): Promise<number> {
  const options = proxyOptions(args, ctx.deps.env);
  return await runProxy(options, { ...ctx.deps, logger: ctx.logger(args.values.verbose === true) });
}

/** The options of a proxy run from its command line and the environment. */
export function proxyOptions(
  args: ProxyArgs,
  env: (name: string) => string | undefined,
): ProxyOptions {
  const { target, values } = args;
  const text = (name: string) => values[name] as string | undefined;
  const validity = Number(env("SSMSSH_PUSH_VALIDITY_SECONDS"));
  return {
    target,
    port: parsePort(text("port")!),
    user: text("user")!,
    pushKey: values.pushKey as boolean,
    keyDir: text("keyDir") ?? keyDirFor(defaultSshDir()),
    keyValidityMs: validity > 0 ? validity * 1000 : undefined,
    region: text("region"),
    profile: text("profile"),
    caBundle: env("AWS_CA_BUNDLE") || undefined,
    document: text("document"),
    reason: text("reason"),
    pick: text("pick") as ProxyOptions["pick"],
    targetCache: targetCacheSettings(env),
  };
}

function camelCase(name: string): string {
  return name.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase());
}
