/**
 * A throwaway real OpenSSH server on a random loopback port, for end-to-end tests and the demo.
 *
 * Everything (host key, client key, config, known_hosts, authorized_keys, pid file) lives in one
 * temp dir that {@linkcode Sshd.stop} removes. Test/demo infrastructure only: not shipped.
 * @module
 */

/** Options for {@linkcode startSshd}. */
export interface SshdOptions {
  /** Extra authorized_keys lines, written after the generated client key's line. */
  authorizedKeys?: string[];
  /** Authorize the generated client key from the start (default true). */
  authorizeClientKey?: boolean;
  /** sshd LogLevel, e.g. "INFO" (default) or "DEBUG3". */
  logLevel?: string;
}

/** Where a started sshd listens, who may log in, and the files that go with it. */
export interface SshdInfo {
  /** Port sshd listens on (127.0.0.1 only). */
  port: number;
  /** OS user to log in as (the current user). */
  user: string;
  /** Temp dir holding every file below; removed by `stop()`. */
  dir: string;
  /** Server host public key, `ssh-ed25519 AAAA…` (no comment). */
  hostPublicKey: string;
  /** known_hosts file listing the host key for every name (`* ssh-ed25519 AAAA…`). */
  knownHostsFile: string;
  /** ed25519 private key (no passphrase); see `authorizeClientKey`. */
  clientKeyFile: string;
  /** The client's public key line, `ssh-ed25519 AAAA… comment`. */
  clientPublicKey: string;
  /** The file sshd's AuthorizedKeysFile points to. */
  authorizedKeysFile: string;
  /**
   * Directory of per-user key files, `<dir>/<os user>`, that sshd also reads: where the
   * emulator's EC2 Instance Connect puts pushed keys, like the real instance's metadata.
   */
  instanceConnectDir: string;
}

/** A running sshd child process; stop it with `stop()` or `await using`. */
export interface Sshd extends SshdInfo, AsyncDisposable {
  /** Appends one line to the authorized_keys file. */
  addAuthorizedKey(line: string): Promise<void>;
  /** Removes every authorized_keys line equal to `line` (ignoring surrounding whitespace). */
  removeAuthorizedKey(line: string): Promise<void>;
  /** sshd's stderr (its log, since it runs with `-D -e`) so far. */
  logs(): string;
  /** Kills sshd, waits for it and removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

const INSTALL_HINT =
  "install it with `apt-get install openssh-server openssh-client` (Debian/Ubuntu)";
const SSHD_PATHS = ["/usr/sbin/sshd", "/usr/local/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"];
const SFTP_PATHS = ["/usr/lib/openssh", "/usr/libexec/openssh", "/usr/libexec", "/usr/lib/ssh"]
  .map((d) => `${d}/sftp-server`);
const READY_TIMEOUT_MS = 10_000;
const decoder = new TextDecoder();

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const p of paths) {
    try {
      if ((await Deno.stat(p)).isFile) return p;
    } catch { /* not there */ }
  }
  return undefined;
}

/** Returns the path of the sshd binary, or undefined if OpenSSH server is not installed. */
export function findSshd(): Promise<string | undefined> {
  return firstExisting(SSHD_PATHS);
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdin: "null" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${decoder.decode(out.stderr)}`);
  }
  return decoder.decode(out.stdout);
}

/** Parses `OpenSSH_9.8p1` from `sshd -V` into 98 (major*10+minor); 0 if unknown. */
async function sshdVersion(sshd: string): Promise<number> {
  const out = await new Deno.Command(sshd, { args: ["-V"], stdin: "null" }).output();
  const m = /OpenSSH_(\d+)\.(\d+)/.exec(decoder.decode(out.stderr) + decoder.decode(out.stdout));
  return m ? Number(m[1]) * 10 + Number(m[2]) : 0;
}

async function keygen(file: string, comment: string): Promise<string> {
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
  return (await Deno.readTextFile(`${file}.pub`)).trim();
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** True if `port` accepts a connection that sends an `SSH-2.0` banner within 2 s. */
async function bannerOk(port: number): Promise<boolean> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port }).catch(() => undefined);
  if (!conn) return false;
  const timer = setTimeout(() => conn.close(), 2000);
  let text = "";
  try {
    const buf = new Uint8Array(256);
    for (let n; !text.includes("\n") && (n = await conn.read(buf)) !== null;) {
      text += decoder.decode(buf.subarray(0, n));
    }
    conn.close();
  } catch { /* closed by the timer, or reset */ }
  clearTimeout(timer);
  return text.startsWith("SSH-2.0");
}

function sshdConfig(o: Record<string, string>): string {
  return Object.entries(o).map(([k, v]) => `${k} ${v}\n`).join("");
}

/**
 * Starts a real sshd on a free 127.0.0.1 port and waits until it sends its SSH banner.
 * Throws if sshd is not installed (with install instructions) or exits early (with its log).
 */
export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  const sshd = await findSshd();
  if (!sshd) throw new Error(`OpenSSH server (sshd) not found: ${INSTALL_HINT}`);
  if (Deno.uid() === 0) await Deno.mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const dir = await Deno.makeTempDir({ prefix: "ssmssh-sshd-" });
  try {
    const user = Deno.env.get("USER") || (await run("id", ["-un"])).trim();
    const hostPublicKey = (await keygen(`${dir}/host_ed25519`, "sshd-harness-host"))
      .split(" ").slice(0, 2).join(" ");
    const clientPublicKey = await keygen(`${dir}/client_ed25519`, "sshd-harness-client");
    const info = {
      user,
      dir,
      hostPublicKey,
      clientPublicKey,
      knownHostsFile: `${dir}/known_hosts`,
      clientKeyFile: `${dir}/client_ed25519`,
      authorizedKeysFile: `${dir}/authorized_keys`,
      instanceConnectDir: `${dir}/instance-connect`,
    };
    // sshd reads authorized keys as the logging-in user: let other users traverse and read them.
    await Deno.chmod(dir, 0o711);
    await Deno.mkdir(info.instanceConnectDir, { mode: 0o755 });
    await Deno.chmod(info.instanceConnectDir, 0o755);
    await Deno.writeTextFile(info.knownHostsFile, knownHostsLine(hostPublicKey) + "\n");
    const lines = [
      ...(opts.authorizeClientKey ?? true ? [clientPublicKey] : []),
      ...(opts.authorizedKeys ?? []),
    ];
    await Deno.writeTextFile(info.authorizedKeysFile, lines.map((l) => l + "\n").join(""), {
      mode: 0o644,
    });
    const sftp = (await firstExisting(SFTP_PATHS)) ?? "internal-sftp";
    const version = await sshdVersion(sshd);
    const base = {
      ListenAddress: "127.0.0.1",
      HostKey: `${dir}/host_ed25519`,
      PidFile: `${dir}/sshd.pid`,
      AuthorizedKeysFile: `${info.authorizedKeysFile} ${info.instanceConnectDir}/%u`,
      PasswordAuthentication: "no",
      KbdInteractiveAuthentication: "no",
      PubkeyAuthentication: "yes",
      PermitRootLogin: "prohibit-password",
      StrictModes: "no",
      // Root: no PAM needed. Non-root sshd cannot read /etc/shadow, so without PAM it calls every
      // account "locked"; with PAM (its setgid helper) the account check works.
      UsePAM: Deno.uid() === 0 ? "no" : "yes",
      LogLevel: opts.logLevel ?? "INFO",
      Subsystem: `sftp ${sftp}`,
      // OpenSSH >= 9.8 would otherwise penalise (refuse) our many short-lived loopback clients.
      ...(version >= 98 ? { PerSourcePenalties: "no" } : {}),
    };
    let lastError = "";
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = freePort();
      await Deno.writeTextFile(`${dir}/sshd_config`, sshdConfig({ Port: String(port), ...base }));
      const proc = await launch(sshd, `${dir}/sshd_config`, port);
      if (typeof proc !== "string") return handle({ ...info, port }, proc);
      lastError = proc;
      if (!/Address already in use|Cannot bind/i.test(proc)) break;
    }
    throw new Error(lastError);
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}

interface Proc {
  child: Deno.ChildProcess;
  /** Resolves once sshd exited and its stderr was read to the end. */
  done: Promise<void>;
  logs(): string;
}

/** Spawns sshd and waits for its banner; returns an error message if it never gets ready. */
async function launch(sshd: string, config: string, port: number): Promise<Proc | string> {
  const child = new Deno.Command(sshd, {
    args: ["-D", "-e", "-f", config],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const drained = child.stderr.pipeThrough(new TextDecoderStream())
    .pipeTo(new WritableStream({ write: (s) => void (log += s) }))
    .catch(() => {});
  let exited = false;
  const done = Promise.all([child.status.finally(() => exited = true), drained]).then(() => {});
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!exited && Date.now() < deadline) {
    if (await bannerOk(port)) return { child, done, logs: () => log };
    await new Promise((r) => setTimeout(r, 20));
  }
  const why = exited ? "exited early" : "was not ready in time";
  if (!exited) child.kill("SIGTERM");
  await done;
  return `sshd (${sshd} -D -e -f ${config}) ${why}:\n${log}`;
}

/** Direct children of `pid`, read from /proc (empty where there is no /proc). */
async function childPids(pid: number): Promise<number[]> {
  const pids: number[] = [];
  try {
    for await (const e of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      const stat = await Deno.readTextFile(`/proc/${e.name}/stat`).catch(() => "");
      // Format: "pid (comm) state ppid ..."; comm may contain spaces, so split after ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) pids.push(Number(e.name));
    }
  } catch { /* no /proc */ }
  return pids;
}

function handle(info: SshdInfo, proc: Proc): Sshd {
  const { authorizedKeysFile } = info;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      // The listener's SIGTERM does not end per-connection children; end those first (Linux).
      for (const pid of [...await childPids(proc.child.pid), proc.child.pid]) {
        try {
          Deno.kill(pid, "SIGTERM");
        } catch { /* already exited */ }
      }
      await proc.done;
      await Deno.remove(info.dir, { recursive: true }).catch(() => {});
    })();
  return {
    ...info,
    addAuthorizedKey: (line) =>
      Deno.writeTextFile(authorizedKeysFile, line.trim() + "\n", { append: true }),
    async removeAuthorizedKey(line) {
      const kept = (await Deno.readTextFile(authorizedKeysFile)).split("\n")
        .filter((l) => l.trim() !== "" && l.trim() !== line.trim());
      const tmp = `${authorizedKeysFile}.tmp`;
      await Deno.writeTextFile(tmp, kept.map((l) => l + "\n").join(""));
      await Deno.rename(tmp, authorizedKeysFile);
    },
    logs: proc.logs,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** A known_hosts line for `hostPublicKey` matching the given host patterns (default: any host). */
export function knownHostsLine(hostPublicKey: string, patterns: string[] = ["*"]): string {
  return `${patterns.join(",")} ${hostPublicKey}`;
}

/**
 * ssh/scp options that log in to `sshd` trusting only its host key, under `HostKeyAlias=hostAlias`.
 * Uses `-o User=` (not `-l`) so the same list works for scp. Add the host and any ProxyCommand.
 */
export function sshClientArgs(sshd: SshdInfo, hostAlias: string): string[] {
  return [
    "-F",
    "/dev/null",
    ...[
      `UserKnownHostsFile=${sshd.knownHostsFile}`,
      "GlobalKnownHostsFile=/dev/null",
      "StrictHostKeyChecking=yes",
      "UpdateHostKeys=no",
      `HostKeyAlias=${hostAlias}`,
      `IdentityFile=${sshd.clientKeyFile}`,
      "IdentitiesOnly=yes",
      "IdentityAgent=none",
      "BatchMode=yes",
      "LogLevel=ERROR",
      `User=${sshd.user}`,
    ].flatMap((o) => ["-o", o]),
  ];
}
