/**
 * `ssmssh completions`: scripts generated from the real command tree, checked in the real shells
 * where they exist here (bash and fish functionally, zsh for syntax).
 */

import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { productArgv, runCommand } from "../support/product.ts";

async function script(shell: string): Promise<string> {
  const [cmd, ...args] = productArgv();
  const r = await runCommand(cmd, [...args, "completions", shell]);
  assertEquals(r.code, 0, r.stderr);
  return r.stdout;
}

async function withFile<T>(text: string, fn: (path: string) => Promise<T>): Promise<T> {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, text);
    return await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("bash: subcommands, per-command options and shell names complete", async () => {
  await withFile(await script("bash"), async (path) => {
    const complete = async (words: string[]) => {
      const r = await runCommand("bash", [
        "-c",
        `source '${path}'
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}
_ssmssh; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ]);
      assertEquals(r.stderr, "");
      return r.stdout.trim().split("\n").filter(Boolean).sort();
    };
    assertEquals(await complete(["ssmssh", "co"]), ["completions", "config"]);
    assertEquals(await complete(["ssmssh", "proxy", "--re"]), ["--reason", "--region"]);
    assertEquals(await complete(["ssmssh", "completions", ""]), [
      "bash",
      "fish",
      "powershell",
      "zsh",
    ]);
    assertEquals(await complete(["ssmssh", "keys", ""]), ["reap"]);
  });
});

Deno.test("fish: complete -C lists commands and options with descriptions", async () => {
  await withFile(await script("fish"), async (path) => {
    const r = await runCommand("fish", [
      "-c",
      `source '${path}'; complete -C 'ssmssh pro'; complete -C 'ssmssh config --dry'`,
    ]);
    assertEquals(r.stderr, "");
    assertStringIncludes(r.stdout, "proxy\tact as an OpenSSH ProxyCommand");
    assertStringIncludes(r.stdout, "--dry-run\tshow the exact changes");
  });
});

Deno.test("zsh: the script parses and defines _ssmssh", async () => {
  await withFile(await script("zsh"), async (path) => {
    const syntax = await runCommand("zsh", ["-n", path]);
    assertEquals(syntax, { code: 0, stdout: "", stderr: "" });
    const r = await runCommand("zsh", [
      "-c",
      `autoload -U compinit && compinit -u; source '${path}'; whence -w _ssmssh`,
    ]);
    assertStringIncludes(r.stdout, "_ssmssh: function");
  });
});

Deno.test("powershell: a native argument completer listing every command", async () => {
  const text = await script("powershell");
  assertStringIncludes(text, "Register-ArgumentCompleter -Native -CommandName ssmssh, ssmssh.exe");
  for (const name of ["proxy", "config", "ssh", "keys", "completions"]) {
    assert(text.includes(`'${name}' = @(`), name);
  }
});

Deno.test("an unknown shell is a usage error (exit 2) with a hint", async () => {
  const [cmd, ...args] = productArgv();
  const r = await runCommand(cmd, [...args, "completions", "tcsh"]);
  assertEquals(r.code, 2);
  const lines = r.stderr.trimEnd().split("\n");
  assertEquals(lines.length, 2);
  assertStringIncludes(lines[0], "ssmssh: command-argument value 'tcsh' is invalid");
  assertStringIncludes(lines[1], "hint: ");
});
