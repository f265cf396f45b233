/**
 * Checks the generated files against the real OpenSSH client: `ssh -G`
 * (configuration dump) and an actual connection attempt whose ProxyCommand
 * records the arguments it was started with.
 *
 * `ssh -F <file>` reads only that file (not ~/.ssh/config nor the system
 * config), which is why the Include line carries an absolute path.
 * @module
 */

import assert from "node:assert/strict";
import { buildProxyCommand } from "../../src/config/proxy_command.ts";
import { installSshConfig } from "../../src/config/ssh_config_file.ts";

const HOST = "i-0123456789abcdef0";

/** Runs ssh with the given arguments; returns exit code and output. */
async function ssh(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command("ssh", {
    args,
    env: { SHELL: "/bin/sh", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Sets up an ssh dir (with awkward characters) holding a user config plus our files. */
async function setup(root: string) {
  const sshDir = `${root}/my .ssh [test]`;
  await Deno.mkdir(sshDir, { mode: 0o700 });
  const userConfig = "# user's own settings\r\nHost example.com\r\n    User alice\r\n" +
    "Host *\r\n    ServerAliveInterval 42\r\n";
  await Deno.writeTextFile(`${sshDir}/config`, userConfig);
  const program = `${root}/bin dir/ssmssh`;
  await Deno.mkdir(`${root}/bin dir`);
  await Deno.writeTextFile(
    program,
    '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "$ARGS_OUT"\nexit 1\n',
  );
  await Deno.chmod(program, 0o755);
  const proxyCommand = buildProxyCommand(
    [program, "proxy", "%h", "--port", "%p", "--user", "%r"],
    "posix",
  );
  await installSshConfig({
    sshDir,
    owned: { hostPatterns: ["i-*", "mi-*"], proxyCommand, user: "ec2-user" },
  });
  return { sshDir, config: `${sshDir}/config`, proxyCommand };
}

Deno.test("ssh -G sees our ProxyCommand and User for instance ids only", async () => {
  const root = await Deno.makeTempDir({ prefix: "ssmssh-openssh-" });
  try {
    const { config, proxyCommand } = await setup(root);
    assert.match(proxyCommand, /^"[^"]+\/bin dir\/ssmssh" proxy '%h' --port %p --user '%r'$/);

    const matched = await ssh(["-F", config, "-G", `ec2-user@${HOST}`]);
    assert.equal(matched.code, 0, matched.stderr);
    const lines = matched.stdout.split("\n");
    assert.ok(lines.includes(`proxycommand ${proxyCommand}`), matched.stdout);
    assert.ok(lines.includes("user ec2-user"), matched.stdout);
    assert.ok(lines.includes(`hostname ${HOST}`), matched.stdout);
    assert.ok(lines.includes("serveraliveinterval 42"), "user's settings still apply");

    const defaultUser = await ssh(["-F", config, "-G", "mi-0123456789abcdef0"]);
    assert.ok(defaultUser.stdout.split("\n").includes("user ec2-user"), defaultUser.stdout);

    const other = await ssh(["-F", config, "-G", "example.com"]);
    assert.equal(other.code, 0, other.stderr);
    assert.doesNotMatch(other.stdout, /^proxycommand /m);
    assert.match(other.stdout, /^user alice$/m);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ssh runs the ProxyCommand with the expanded host, port and user", async () => {
  const root = await Deno.makeTempDir({ prefix: "ssmssh-openssh-" });
  try {
    const { config } = await setup(root);
    const argsOut = `${root}/args.txt`;
    const opts = [
      "-F",
      config,
      "-o",
      "BatchMode=yes",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "StrictHostKeyChecking=no",
    ];
    const run = await ssh([...opts, `ec2-user@${HOST}`, "true"], { ARGS_OUT: argsOut });
    assert.notEqual(run.code, 0, "the fake proxy closes the connection");
    assert.deepEqual(
      (await Deno.readTextFile(argsOut)).split("\n"),
      ["proxy", HOST, "--port", "22", "--user", "ec2-user", ""],
    );

    // A hostile host name must not run a command. Patched OpenSSH (>= 9.6 and distribution
    // backports) already rejects it; the sh-level proof of our quoting is in proxy_command_test.
    const pwned = `${root}/pwned`;
    await ssh([...opts, `i-1$(touch '${pwned}')`, "true"], { ARGS_OUT: argsOut });
    await assert.rejects(Deno.stat(pwned), Deno.errors.NotFound);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
