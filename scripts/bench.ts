/**
 * `deno task bench`: what ssmssh costs compared with plain ssh, measured side by side in one run
 * on this machine (timings are noisy on shared machines: read the ratios). Through the local
 * emulator and a real sshd on loopback:
 *   (a) connection setup: `ssh … true` via ssmssh vs direct ssh (and via a plain Deno TCP pipe,
 *       which isolates the cost of starting a Deno process from the protocol's);
 *   (b) scp throughput up and down via ssmssh vs direct, unpaced, and down with agent-like
 *       pacing (1 ms per chunk of at most 1 KiB);
 *   (c) peak memory (VmHWM) of the proxy process during the transfers.
 * Prints a table and writes docs/PERFORMANCE.md.
 * @module
 */

import { cpuUsage } from "node:process";
import { startEmulator } from "../emulator/server.ts";
import { sshClientArgs, startSshd } from "../emulator/sshd.ts";
import {
  productArgv,
  proxyCommand,
  randomBytes,
  runCommand,
  shellQuote,
} from "../tests/support/product.ts";

const INSTANCE = "i-0123456789abcdef0";
const MB = 1024 * 1024;
const SETUP_RUNS = Number(Deno.env.get("BENCH_SETUP_RUNS") ?? 15);
const TRANSFER_MB = Number(Deno.env.get("BENCH_TRANSFER_MB") ?? 50);
const PACED_MB = Number(Deno.env.get("BENCH_PACED_MB") ?? 8);
const TRANSFER_RUNS = Number(Deno.env.get("BENCH_TRANSFER_RUNS") ?? 3);
const PIPE = new URL("../tests/support/tcp_pipe.ts", import.meta.url).pathname;
const PEAK = new URL("../tests/support/peak_rss.ts", import.meta.url).pathname;

await using sshd = await startSshd();
await using emulator = await startEmulator();
const work = await Deno.makeTempDir({ prefix: "ssmssh-bench-" });
await Deno.chmod(work, 0o755);
const base = ["-p", String(sshd.port), ...sshClientArgs(sshd, INSTANCE)];
const routes = {
  direct: ["-o", "HostName=127.0.0.1"],
  pipe: [
    "-o",
    `ProxyCommand=${
      [Deno.execPath(), "run", "--quiet", "--allow-net", PIPE, "127.0.0.1", "%p"].map(shellQuote)
        .join(" ")
    }`,
  ],
  ssmssh: ["-o", `ProxyCommand=${proxyCommand()}`],
};
type Route = keyof typeof routes;

/** Milliseconds until `program` exits (what a user waits for), not until its pipes close. */
async function timed(
  args: string[],
  program = "ssh",
  env: Record<string, string> = {},
): Promise<number> {
  const started = performance.now();
  const child = new Deno.Command(program, {
    args,
    env: { DENO_NO_UPDATE_CHECK: "1", ...emulator.env, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  const status = await child.status;
  const elapsed = performance.now() - started;
  const { stderr } = await output;
  if (!status.success) throw new Error(`${program} failed: ${new TextDecoder().decode(stderr)}`);
  return elapsed;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// (a) setup, alternating routes so noise hits all of them alike.
const setup: Record<Route, number[]> = { direct: [], pipe: [], ssmssh: [] };
for (let i = 0; i < SETUP_RUNS; i++) {
  for (const route of Object.keys(routes) as Route[]) {
    setup[route].push(await timed([...routes[route], ...base, INSTANCE, "true"]));
  }
}

// (b) + (c) transfers, with the proxy wrapped to record its peak memory and its CPU time.
await Deno.writeFile(`${work}/up.bin`, randomBytes(TRANSFER_MB * MB));
const peaks: number[] = [];
const measured = (label: string) => {
  const out = `${work}/peak-${label}`;
  const argv = [
    Deno.execPath(),
    "run",
    "--quiet",
    "--allow-all",
    PEAK,
    out,
    "--",
    ...productArgv(),
    "proxy",
    "%h",
    "--port",
    "%p",
    "--no-push-key",
  ];
  return { out, option: ["-o", `ProxyCommand=${argv.map(shellQuote).join(" ")}`] };
};
async function scp(route: string[], from: string, to: string, env = {}): Promise<number> {
  const args = ["-q", ...route, ...base.map((a) => a === "-p" ? "-P" : a), from, to];
  return await timed(args, "scp", env);
}
/** CPU per 1 KiB message, in µs, of the proxy (from its debug log) and of the emulator. */
const cpu: Record<string, { proxy: number[]; emulator: number[] }> = {};
/** MB/s of the data phase: the route's median connection setup is taken off the scp time. */
async function transfer(
  label: string,
  route: string[],
  megabytes: number,
  direction: "up" | "down",
  setupMs: number,
) {
  const remote = `${INSTANCE}:${work}/remote-${label}.bin`;
  const local = `${work}/up.bin`;
  if (direction === "down" && megabytes !== TRANSFER_MB) {
    await Deno.writeFile(`${work}/remote-${label}.bin`, randomBytes(megabytes * MB));
  } else if (direction === "down") await Deno.copyFile(local, `${work}/remote-${label}.bin`);
  const log = `${work}/log-${label}`;
  const emulatorBefore = cpuUsage();
  const ms = direction === "up"
    ? await scp(route, local, remote, { SSMSSH_LOG_FILE: log })
    : await scp(route, remote, `${work}/down-${label}.bin`, { SSMSSH_LOG_FILE: log });
  const emulatorCpu = cpuUsage(emulatorBefore);
  const proxyMs = await readProxyCpu(log);
  if (proxyMs !== undefined) {
    const messages = (megabytes * MB) / 1024;
    const entry = cpu[direction] ??= { proxy: [], emulator: [] };
    entry.proxy.push((proxyMs * 1000) / messages);
    entry.emulator.push((emulatorCpu.user + emulatorCpu.system) / messages);
  }
  return (megabytes * MB) / 1e6 / (Math.max(1, ms - setupMs) / 1000);
}
/** The proxy's CPU time (ms) from its session-end debug line, once it has been written. */
async function readProxyCpu(log: string): Promise<number | undefined> {
  for (let i = 0; i < 100; i++) {
    const text = await Deno.readTextFile(log).catch(() => "");
    const match = / (\d+) ms CPU/.exec(text);
    if (match) return Number(match[1]);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}
async function readPeak(path: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    try {
      return Number(await Deno.readTextFile(path));
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`no peak memory recorded in ${path}`);
}
const rates: Record<string, number> = {};
for (const direction of ["up", "down"] as const) {
  const direct: number[] = [];
  const viaSsmssh: number[] = [];
  // Alternating routes, so that noise hits both alike; the median run of each is reported.
  for (let run = 0; run < TRANSFER_RUNS; run++) {
    const label = `${direction}-${run}`;
    direct.push(
      await transfer(`d-${label}`, routes.direct, TRANSFER_MB, direction, median(setup.direct)),
    );
    const m = measured(label);
    viaSsmssh.push(
      await transfer(`s-${label}`, m.option, TRANSFER_MB, direction, median(setup.ssmssh)),
    );
    peaks.push(await readPeak(m.out));
  }
  rates[`direct ${direction}`] = median(direct);
  rates[`ssmssh ${direction}`] = median(viaSsmssh);
}
emulator.faults.paceMsPerChunk = 1;
const pacedMeasure = measured("paced");
rates["ssmssh down paced"] = await transfer(
  "paced",
  pacedMeasure.option,
  PACED_MB,
  "down",
  median(setup.ssmssh),
);
peaks.push(await readPeak(pacedMeasure.out));
emulator.faults.paceMsPerChunk = 0;
await Deno.remove(work, { recursive: true });

const paceLimit = 1024 / 1e6 * 1000; // MB/s: one 1 KiB chunk per millisecond
const rows = [
  ["connection setup, direct ssh (median)", `${median(setup.direct).toFixed(0)} ms`],
  ["connection setup, ssh via plain Deno TCP pipe", `${median(setup.pipe).toFixed(0)} ms`],
  ["connection setup, ssh via ssmssh", `${median(setup.ssmssh).toFixed(0)} ms`],
  [
    "setup overhead of ssmssh over direct ssh",
    `${(median(setup.ssmssh) - median(setup.direct)).toFixed(0)} ms (target < 150 ms)`,
  ],
  [
    "setup overhead of ssmssh over the Deno pipe",
    `${(median(setup.ssmssh) - median(setup.pipe)).toFixed(0)} ms`,
  ],
  [`scp up ${TRANSFER_MB} MB, direct`, `${rates["direct up"].toFixed(1)} MB/s`],
  [
    `scp up ${TRANSFER_MB} MB, via ssmssh`,
    `${rates["ssmssh up"].toFixed(1)} MB/s (${
      pct(rates["ssmssh up"] / rates["direct up"])
    } of direct; target ≥ 30 MB/s)`,
  ],
  [`scp down ${TRANSFER_MB} MB, direct`, `${rates["direct down"].toFixed(1)} MB/s`],
  [
    `scp down ${TRANSFER_MB} MB, via ssmssh`,
    `${rates["ssmssh down"].toFixed(1)} MB/s (${
      pct(rates["ssmssh down"] / rates["direct down"])
    } of direct; target ≥ 30 MB/s)`,
  ],
  [
    `scp down ${PACED_MB} MB, via ssmssh, agent pacing`,
    `${rates["ssmssh down paced"].toFixed(2)} MB/s = ${
      pct(rates["ssmssh down paced"] / paceLimit)
    } of the ${paceLimit.toFixed(3)} MB/s pacing limit (target ≥ 95%)`,
  ],
  ...(["up", "down"] as const).flatMap((direction) =>
    cpu[direction]
      ? [[
        `CPU per 1 KiB message, ${direction}: proxy / emulator (median)`,
        `${median(cpu[direction].proxy).toFixed(1)} µs / ${
          median(cpu[direction].emulator).toFixed(1)
        } µs`,
      ]]
      : []
  ),
  ["peak RSS of the proxy process", `${(Math.max(...peaks) / 1024).toFixed(0)} MB`],
];
const table = ["| measure | result |", "| --- | --- |", ...rows.map(([a, b]) => `| ${a} | ${b} |`)]
  .join("\n");
console.log(table);

const cpuModel = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.+)/)?.[1] ??
  "unknown";
const sshVersion = (await runCommand("ssh", ["-V"])).stderr.trim();
await Deno.mkdir("docs", { recursive: true });
await Deno.writeTextFile(
  "docs/PERFORMANCE.md",
  `# Performance

Measured by \`deno task bench\` on ${
    new Date().toISOString().slice(0, 10)
  }: ${navigator.hardwareConcurrency} cores (${cpuModel}),
${
    Math.round(Deno.systemMemoryInfo().total / 2 ** 30)
  } GiB, Deno ${Deno.version.deno}, ${sshVersion}. The machine is shared and
noisy: compare rows measured in the same run, not runs with each other.

${table}

## Method

- Everything runs on loopback: the built-in Session Manager emulator (SSM API, data-channel
  websocket and an agent that forwards to a TCP port) and a real OpenSSH sshd. "Direct" is plain
  ssh to that sshd; "via ssmssh" runs \`deno run main.ts proxy\` as the ProxyCommand, exactly as a
  source install would (the compiled binary runs the same code). The emulator's agent runs in the
  benchmark's own process and uses the same data-channel code, so it shares the two cores; it
  serves the websocket with its own small server that, like a production endpoint, handles every
  frame of a socket read at once and writes the frames of one burst together.
- Setup: ${SETUP_RUNS} runs of \`ssh host true\` per route, alternating routes, median of the time
  until ssh exits (what a user waits for; the proxy may take a few ms more to close).
  The "plain Deno TCP pipe" route is a ProxyCommand that only copies bytes, so the difference
  between it and ssmssh is what StartSession, the websocket and the handshake cost, while the
  difference between it and direct ssh is the cost of starting a Deno process.
- Throughput: \`scp\` (SFTP) of ${TRANSFER_MB} MB of random data; MB = 10^6 bytes; the route's
  median connection setup time (above) is taken off each scp time, so the figure is the data phase.
  ${TRANSFER_RUNS} runs per direction, alternating direct and ssmssh; the median run is reported.
  Direct ssh moves 50 MB in a fraction of a second, so its figure (and the "% of direct") is coarse;
  it is there as a ceiling, not a precise ratio. Paced: the agent
  sleeps so that chunk i leaves no earlier than start + i ms, as the real agent's 1 ms sleep per
  1 KiB chunk does; the limit is 1.024 MB/s.
- CPU: the proxy's own user + system time (its \`-v\` session-end line, start-up included) and
  the emulator's (the benchmark process), divided by the number of 1 KiB messages; this is the
  cost that decides throughput when, as here, ssh, sshd, the proxy and the emulator share two
  cores. The real agent and service run elsewhere and cost the client machine nothing.
- Peak memory: VmHWM of the proxy process, sampled from /proc every 20 ms.
`,
);
await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", "docs/PERFORMANCE.md"] })
  .output();
console.log("\nwrote docs/PERFORMANCE.md");

function pct(x: number): string {
  return `${(x * 100).toFixed(0)}%`;
}
