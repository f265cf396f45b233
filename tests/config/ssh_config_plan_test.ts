/**
 * Unit tests for the pure managed-block planning in `ssh_config_plan.ts`.
 * @module
 */

import assert from "node:assert/strict";
import {
  BLOCK_END,
  BLOCK_START,
  CREATED_MARKER,
  ManagedBlockError,
  ownedConfigRecordsCreation,
  planInstall,
  planRemove,
  renderIncludeLine,
  renderOwnedConfig,
} from "../../src/config/ssh_config_plan.ts";

const OWNED = "/home/me/.ssh/ssmssh.config";
const INCLUDE = `Include "${OWNED}"`;
const block = (eol = "\n") => [BLOCK_START, INCLUDE, BLOCK_END].join(eol) + eol;

/** Inputs covering the byte-exactness rules. */
const SAMPLES: Record<string, string> = {
  "empty": "",
  "LF": "# my hosts\nHost bastion\n    User alice\n",
  "CRLF": "# my hosts\r\nHost bastion\r\n    User alice\r\n",
  "no trailing newline": "Host bastion\n    User alice",
  "CRLF no trailing newline": "Host bastion\r\n    User alice",
  "BOM": "\uFEFFHost bastion\r\n    User alice\r\n",
  "BOM only": "\uFEFF",
  "blank lines": "\n\n\n",
  "single line": "ServerAliveInterval 30",
  "mixed endings": "Host a\r\n  User x\nHost b\n",
  "whitespace and tabs": "\t# indented comment  \n  Host *   \n\tForwardAgent no\t\n",
  "unicode": "# Zoë's config ✓\nHost 例え\n",
};

for (const [name, original] of Object.entries(SAMPLES)) {
  Deno.test(`planInstall/planRemove round-trip byte for byte: ${name}`, () => {
    const installed = planInstall(original, OWNED);
    assert.equal(installed.changed, true);
    const bom = original.startsWith("\uFEFF") ? "\uFEFF" : "";
    const eol = original.slice(bom.length).match(/\r?\n/)?.[0] ?? "\n";
    assert.equal(installed.text, bom + block(eol) + original.slice(bom.length));

    const again = planInstall(installed.text, OWNED);
    assert.equal(again.changed, false, "idempotent");
    assert.equal(again.text, installed.text);
    assert.deepEqual(again.warnings, []);

    const removed = planRemove(installed.text);
    assert.equal(removed.changed, true);
    assert.equal(removed.text, original);
  });
}

Deno.test("planInstall on a missing file creates just the block; remove gives empty", () => {
  const installed = planInstall(undefined, OWNED);
  assert.deepEqual(installed, { text: block(), changed: true, warnings: [] });
  assert.equal(planRemove(installed.text).text, "");
});

Deno.test("CRLF files get a CRLF block", () => {
  const { text } = planInstall("Host a\r\n", OWNED);
  assert.equal(text, `${BLOCK_START}\r\n${INCLUDE}\r\n${BLOCK_END}\r\nHost a\r\n`);
  assert.ok(!/[^\r]\n/.test(text), "no bare LF");
});

Deno.test("an outdated block is replaced in place, keeping its position and endings", () => {
  const original = "# top comment\r\nServerAliveInterval 30\r\n";
  const old = planInstall(original, "/old/place/ssmssh.config").text;
  const moved = planInstall(old, OWNED);
  assert.equal(moved.changed, true);
  assert.equal(moved.text, block("\r\n") + original);
  assert.equal(planRemove(moved.text).text, original);

  // A block the user put further down stays there, with a warning if it is in a section.
  const userMoved = `Host bastion\n    User alice\n${block()}Host *\n`;
  const outdated = userMoved.replace(OWNED, "/elsewhere.config");
  const result = planInstall(outdated, OWNED, { configPath: "~/.ssh/config" });
  assert.equal(result.text, userMoved);
  assert.equal(result.warnings.length, 1);
  assert.match(result.warnings[0], /~\/\.ssh\/config \(line 3\) is below the Host\/Match line 1/);
});

Deno.test("a block at end of file without final newline is kept that way", () => {
  const text = `Host a\n${block().slice(0, -1)}`;
  const result = planInstall(text.replace(OWNED, "/x"), OWNED);
  assert.equal(result.text, text);
  assert.equal(planRemove(text).text, "Host a\n");
});

Deno.test("older marker wording is recognised and normalised", () => {
  const old = `# >>> ssmssh managed block >>>\n${INCLUDE}\n# <<< ssmssh managed block\nHost a\n`;
  const result = planInstall(old, OWNED);
  assert.equal(result.text, block() + "Host a\n");
  assert.equal(planRemove(old).text, "Host a\n");
});

Deno.test("planRemove without a block changes nothing", () => {
  for (const original of Object.values(SAMPLES)) {
    assert.deepEqual(planRemove(original), { text: original, changed: false, warnings: [] });
  }
});

const damaged: [string, string, RegExp, number][] = [
  [
    "start without end",
    `Host a\n${BLOCK_START}\n${INCLUDE}\nHost b\n`,
    /the ssmssh block starting at line 2 has no end marker/,
    2,
  ],
  [
    "end without start",
    `Host a\n${INCLUDE}\n${BLOCK_END}\n`,
    /end marker at line 3 has no start marker/,
    3,
  ],
  [
    "two starts",
    `${BLOCK_START}\n${BLOCK_START}\n${BLOCK_END}\n`,
    /block starting at line 1 has no end marker \(another start marker follows at line 2\)/,
    1,
  ],
  [
    "two blocks",
    block() + "Host a\n" + block(),
    /more than one ssmssh block \(at lines 1 and 5\)/,
    5,
  ],
];

for (const [name, text, message, line] of damaged) {
  Deno.test(`a damaged block is an error, never a guess: ${name}`, () => {
    const check = (e: unknown) => {
      assert.ok(e instanceof ManagedBlockError);
      assert.match(e.message, /^Cannot update \/u\/\.ssh\/config: /);
      assert.match(e.message, message);
      assert.match(e.message, /Nothing was changed\.\nHint: /);
      assert.equal(e.line, line);
      return true;
    };
    assert.throws(() => planInstall(text, OWNED, { configPath: "/u/.ssh/config" }), check);
    assert.throws(() => planRemove(text, { configPath: "/u/.ssh/config" }), check);
  });
}

Deno.test("renderIncludeLine: absolute paths, quoting, glob escapes, Windows", () => {
  assert.equal(renderIncludeLine("/a b/.ssh/x.config"), 'Include "/a b/.ssh/x.config"');
  assert.equal(renderIncludeLine("/h/we[ir]d*?/c"), 'Include "/h/we\\[ir]d\\*\\?/c"');
  assert.equal(
    renderIncludeLine("C:\\Users\\Zoë O'Neil\\.ssh\\ssmssh.config"),
    `Include "C:/Users/Zoë O'Neil/.ssh/ssmssh.config"`,
  );
  assert.equal(renderIncludeLine("\\\\srv\\home\\.ssh\\s"), 'Include "//srv/home/.ssh/s"');
  for (const bad of ["relative/x", "~/.ssh/x", '/a"b', "/a\nb", "/a\\b", "C:\\a[1]\\x"]) {
    assert.throws(() => renderIncludeLine(bad), /Cannot reference/, bad);
  }
  assert.throws(() => planInstall("", "relative"), /must be absolute/);
});

Deno.test("renderOwnedConfig renders the documented layout", () => {
  const text = renderOwnedConfig({
    hostPatterns: ["i-*", "mi-*"],
    proxyCommand: '"/path with space/ssmssh" proxy %h --port %p --user %r',
    user: "ec2-user",
  });
  assert.equal(
    text,
    "# Generated by ssmssh. Changes are overwritten by `ssmssh config`.\n" +
      "Host i-* mi-*\n" +
      '    ProxyCommand "/path with space/ssmssh" proxy %h --port %p --user %r\n' +
      "    User ec2-user\n",
  );
  assert.equal(ownedConfigRecordsCreation(text), false);
});

Deno.test("renderOwnedConfig: defaults, identity file, extra options, created marker", () => {
  const text = renderOwnedConfig({
    hostPatterns: [],
    proxyCommand: "ssmssh proxy '%h'",
    identityFile: "~/.ssh/ssmssh keys/%h",
    extraOptions: [["StrictHostKeyChecking", "accept-new"], ["ServerAliveInterval", "30"]],
    createdSshConfig: true,
  });
  assert.equal(
    text,
    "# Generated by ssmssh. Changes are overwritten by `ssmssh config`.\n" +
      CREATED_MARKER + "\n" +
      "Host i-* mi-*\n" +
      "    ProxyCommand ssmssh proxy '%h'\n" +
      '    IdentityFile "~/.ssh/ssmssh keys/%h"\n' +
      "    StrictHostKeyChecking accept-new\n" +
      "    ServerAliveInterval 30\n",
  );
  assert.equal(ownedConfigRecordsCreation(text), true);
  assert.match(
    renderOwnedConfig({ hostPatterns: ["i-*"], proxyCommand: "x", identityFile: "~/.ssh/id" }),
    /^ {4}IdentityFile ~\/\.ssh\/id$/m,
  );
});

Deno.test("renderOwnedConfig rejects values that would corrupt the file", () => {
  const base = { hostPatterns: ["i-*"], proxyCommand: "ssmssh proxy %h" };
  const bad: [Partial<Parameters<typeof renderOwnedConfig>[0]>, RegExp][] = [
    [{ hostPatterns: ["i-* x"] }, /Invalid host pattern/],
    [{ hostPatterns: ['"i-*"'] }, /Invalid host pattern/],
    [{ proxyCommand: "a\nHost *" }, /Invalid ProxyCommand/],
    [{ proxyCommand: " " }, /Invalid ProxyCommand/],
    [{ user: "ec2 user" }, /Invalid user name/],
    [{ user: "%u" }, /Invalid user name/],
    [{ identityFile: 'a"b' }, /Cannot write IdentityFile/],
    [{ identityFile: "C:\\keys\\" }, /Cannot write IdentityFile/],
    [{ extraOptions: [["Host", "x"]] }, /Invalid ssh option keyword/],
    [{ extraOptions: [["Include", "/etc/x"]] }, /Invalid ssh option keyword/],
    [{ extraOptions: [["User", "a\nHost *"]] }, /Invalid value/],
  ];
  for (const [override, message] of bad) {
    assert.throws(() => renderOwnedConfig({ ...base, ...override }), message);
  }
});
