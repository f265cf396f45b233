/**
 * The MFA prompt: what it writes to the terminal, what it accepts, and how it fails without one.
 */

import { assertEquals, assertRejects } from "../support/assert.ts";
import { askMfaCode, fileTerminal, type Terminal } from "../../src/cli/terminal_prompt.ts";
import { SsmsshError } from "../../src/errors.ts";

const REQUEST = { profile: "mfa", serial: "arn:aws:iam::123456789012:mfa/alice" };
const PROMPT = `MFA code for ${REQUEST.serial}: `;

/** A terminal that answers `lines` in turn and records what was written. */
function fakeTerminal(lines: Array<string | undefined>) {
  const written: string[] = [];
  let disposed = false;
  const terminal: Terminal = {
    write: (text) => Promise.resolve(void written.push(text)),
    readLine: () => Promise.resolve(lines.shift()),
    [Symbol.dispose]: () => void (disposed = true),
  };
  return { open: () => terminal, written, disposed: () => disposed };
}

Deno.test("a 6-digit code is returned; the prompt names the device", async () => {
  const t = fakeTerminal([" 123456 "]);
  assertEquals(await askMfaCode(REQUEST, { open: t.open }), "123456");
  assertEquals(t.written, [PROMPT]);
  assertEquals(t.disposed(), true, "the terminal is closed again");
});

Deno.test("a malformed code is asked again, up to three times", async () => {
  const t = fakeTerminal(["12345", "abcdef", "654321"]);
  assertEquals(await askMfaCode(REQUEST, { open: t.open }), "654321");
  const again = "An MFA code is 6 digits; try again.\n";
  assertEquals(t.written, [PROMPT, again, PROMPT, again, PROMPT]);

  const bad = fakeTerminal(["1", "22", "333", "444444"]);
  const error = await assertRejects(
    () => askMfaCode(REQUEST, { open: bad.open }),
    SsmsshError,
    "no valid MFA code after 3 tries",
  );
  assertEquals(error.kind, "credentials");
  assertEquals(bad.written.filter((w) => w === PROMPT).length, 3);
});

Deno.test("end of input (Ctrl-D) stops asking", async () => {
  const t = fakeTerminal([undefined]);
  const error = await assertRejects(
    () => askMfaCode(REQUEST, { open: t.open }),
    SsmsshError,
    "profile mfa: no MFA code was entered",
  );
  assertEquals(error.kind, "credentials");
});

Deno.test("no terminal: a credentials error naming the profile, with what to do in CI", async () => {
  const error = await assertRejects(
    () => askMfaCode(REQUEST, { open: () => undefined }),
    SsmsshError,
    "profile mfa needs an MFA code but there is no terminal to ask for it",
  );
  assertEquals(error.kind, "credentials");
  assertEquals(error.hint.includes("aws configure export-credentials --profile mfa"), true);
  assertEquals(error.hint.includes("OIDC"), true);
});

Deno.test("an interrupt (Ctrl-C) ends a prompt that waits for input", async () => {
  const abort = new AbortController();
  const terminal: Terminal = {
    write: () => Promise.resolve(),
    readLine: () => new Promise(() => {}), // the user never answers
    [Symbol.dispose]: () => {},
  };
  setTimeout(() => abort.abort(), 20);
  await assertRejects(
    () => askMfaCode(REQUEST, { open: () => terminal, signal: abort.signal }),
    SsmsshError,
    "interrupted while waiting for the MFA code",
  );
});

Deno.test("fileTerminal reads lines (LF or CRLF) and writes the prompt to its output file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/in`, "12\r\n123456\n");
    const input = await Deno.open(`${dir}/in`, { read: true });
    const output = await Deno.open(`${dir}/out`, { write: true, create: true });
    const terminal = fileTerminal(input, output);
    assertEquals(await askMfaCode(REQUEST, { open: () => terminal }), "123456");
    assertEquals(
      await Deno.readTextFile(`${dir}/out`),
      `${PROMPT}An MFA code is 6 digits; try again.\n${PROMPT}`,
    );

    await Deno.writeTextFile(`${dir}/lines`, "a\r\nb\n\nlast");
    using lines = fileTerminal(await Deno.open(`${dir}/lines`), output);
    for (const expected of ["a", "b", "", "last", undefined]) {
      assertEquals(await lines.readLine(), expected);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
