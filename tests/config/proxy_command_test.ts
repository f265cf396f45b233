/**
 * Tests for ProxyCommand quoting, including running the result through real
 * shells the way OpenSSH does (`$SHELL -c "exec <expanded command>"`).
 * @module
 */

import assert from "node:assert/strict";
import {
  buildProxyCommand,
  ProxyCommandError,
  quoteForSshConfig,
} from "../../src/config/proxy_command.ts";

Deno.test("quoteForSshConfig (posix): bare, double, single quotes; % doubled", () => {
  const cases: [string, string][] = [
    ["/usr/local/bin/ssmssh", "/usr/local/bin/ssmssh"],
    ["--port=22", '"--port=22"'],
    ["/path with space/ssmssh", '"/path with space/ssmssh"'],
    ["/home/o'neil/ssmssh", `"/home/o'neil/ssmssh"`],
    ["/opt/$dir/ssmssh", "'/opt/$dir/ssmssh'"],
    ['/opt/a"b', `'/opt/a"b'`],
    ["/opt/100%/ssmssh", "/opt/100%%/ssmssh"],
    ["/opt/100% sure/x", '"/opt/100%% sure/x"'],
    ["~/bin/x", '"~/bin/x"'],
    ["#x", '"#x"'],
    ["", '""'],
    ["Zoë", '"Zoë"'],
  ];
  for (const [arg, expected] of cases) assert.equal(quoteForSshConfig(arg, "posix"), expected);
});

Deno.test("quoteForSshConfig rejects what cannot be written safely", () => {
  const bad: [string, "posix" | "windows"][] = [
    ["/a'b/$c", "posix"],
    ["/a\\b/`c`", "posix"],
    ["/a\nb", "posix"],
    ["/a\tb", "windows"],
    ['C:\\a"b', "windows"],
  ];
  for (const [arg, platform] of bad) {
    assert.throws(() => quoteForSshConfig(arg, platform), ProxyCommandError, arg);
  }
});

Deno.test("quoteForSshConfig (windows): double quotes, trailing backslashes doubled", () => {
  assert.equal(
    quoteForSshConfig("C:\\Program Files\\ssmssh\\ssmssh.exe", "windows"),
    '"C:\\Program Files\\ssmssh\\ssmssh.exe"',
  );
  assert.equal(quoteForSshConfig("C:\\tools\\ssmssh.exe", "windows"), '"C:\\tools\\ssmssh.exe"');
  assert.equal(quoteForSshConfig("C:/tools/ssmssh.exe", "windows"), "C:/tools/ssmssh.exe");
  assert.equal(quoteForSshConfig("C:\\my dir\\", "windows"), '"C:\\my dir\\\\"');
  assert.equal(quoteForSshConfig("50% off", "windows"), '"50%% off"');
});

Deno.test("buildProxyCommand: tokens kept (name tokens quoted), literals quoted", () => {
  const argv = ["/path with space/ssmssh", "proxy", "%h", "--port", "%p", "--user", "%r"];
  assert.equal(
    buildProxyCommand(argv, "posix"),
    `"/path with space/ssmssh" proxy '%h' --port %p --user '%r'`,
  );
  assert.equal(
    buildProxyCommand(["C:\\Program Files\\ssmssh.exe", "proxy", "%h", "--port", "%p"], "windows"),
    '"C:\\Program Files\\ssmssh.exe" proxy "%h" --port %p',
  );
  assert.equal(buildProxyCommand(["/bin/x", "--a=%p"], "posix"), '/bin/x "--a=%%p"');
});

Deno.test("buildProxyCommand rejects empty argv, token program, relative Windows path", () => {
  assert.throws(() => buildProxyCommand([], "posix"), ProxyCommandError);
  assert.throws(() => buildProxyCommand([""], "posix"), ProxyCommandError);
  assert.throws(() => buildProxyCommand(["%h"], "posix"), ProxyCommandError);
  assert.throws(() => buildProxyCommand(["ssmssh.exe", "proxy"], "windows"), /must be absolute/);
});

/** Expands ssh tokens as OpenSSH's percent_expand does. */
function expandTokens(command: string, values: Record<string, string>): string {
  return command.replace(/%(.)/g, (_, c: string) => (c === "%" ? "%" : values[c]));
}

/** Writes a script at `dir/name` that prints each argument on its own line. */
async function writeArgPrinter(dir: string, name: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, '#!/bin/sh\nfor a in "$@"; do printf "[%s]\\n" "$a"; done\n');
  await Deno.chmod(path, 0o755);
  return path;
}

Deno.test("ProxyCommand values run correctly through sh and bash", async () => {
  const root = await Deno.makeTempDir({ prefix: "ssmssh-quote-" });
  try {
    const dirs = [
      "plain",
      "with space",
      "it's here",
      "dollar $HOME and `x`",
      'quote " and $(id)',
      "100% sure; rm -rf * #",
      "tab-free ~ & | < > ( ) { } [ ] * ? !",
    ];
    const host = "i-0123456789abcdef0";
    const values = { h: host, n: host, p: "22", r: "ec2-user", k: host };
    for (const dir of dirs) {
      const program = await writeArgPrinter(`${root}/${dir}`, "ssmssh");
      const literal = `${dir}/x`;
      const argv = [program, "proxy", "%h", "--port", "%p", "--user", "%r", literal, "50%"];
      const command = expandTokens(buildProxyCommand(argv, "posix"), values);
      for (const shell of ["/bin/sh", "/bin/bash"]) {
        const out = await new Deno.Command(shell, {
          args: ["-c", `exec ${command}`],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(out.code, 0, `${shell} ${command}: ${new TextDecoder().decode(out.stderr)}`);
        assert.equal(
          new TextDecoder().decode(out.stdout),
          ["proxy", host, "--port", "22", "--user", "ec2-user", literal, "50%"]
            .map((a) => `[${a}]\n`).join(""),
          `${shell}: ${command}`,
        );
      }
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a hostile host name cannot inject shell commands through '%h'", async () => {
  const root = await Deno.makeTempDir({ prefix: "ssmssh-inject-" });
  try {
    const program = await writeArgPrinter(root, "ssmssh");
    const host = `i-1$(touch ${root}/pwned)\`touch ${root}/pwned\`;touch ${root}/pwned`;
    const command = expandTokens(buildProxyCommand([program, "%h"], "posix"), { h: host });
    const out = await new Deno.Command("/bin/sh", { args: ["-c", `exec ${command}`] }).output();
    assert.equal(out.code, 0);
    await assert.rejects(Deno.stat(`${root}/pwned`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
