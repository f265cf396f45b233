/**
 * Runs a command and reports its peak resident memory (Linux VmHWM), sampled from /proc while it
 * runs. Usage: `deno run -A tests/support/peak_rss.ts OUTFILE -- CMD ARGS…` — stdio is passed
 * through, so it can sit in a ProxyCommand. Writes the peak in KiB to OUTFILE.
 * @module
 */

/** Peak VmHWM (KiB) of `pid` so far, or 0 once it is gone. */
export async function vmHwmKiB(pid: number): Promise<number> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

if (import.meta.main) {
  const [out, dashes, cmd, ...args] = Deno.args;
  if (!out || dashes !== "--" || !cmd) {
    console.error("usage: peak_rss.ts OUTFILE -- CMD ARGS…");
    Deno.exit(2);
  }
  const child = new Deno.Command(cmd, {
    args,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  })
    .spawn();
  // ssh ends its ProxyCommand with SIGHUP: pass it on and still write the result.
  for (const signal of ["SIGHUP", "SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
    });
  }
  let peak = 0;
  const timer = setInterval(async () => {
    peak = Math.max(peak, await vmHwmKiB(child.pid));
  }, 20);
  const status = await child.status;
  clearInterval(timer);
  await Deno.writeTextFile(out, `${peak}\n`);
  Deno.exit(status.code);
}
