/**
 * Tests for `unifiedDiff`: exact output for typical cases, and correctness
 * checked by applying generated diffs with GNU patch.
 * @module
 */

import assert from "node:assert/strict";
import { planInstall, unifiedDiff } from "../../src/config/ssh_config_plan.ts";

Deno.test("unifiedDiff: equal texts give an empty diff", () => {
  assert.equal(unifiedDiff("/x", "a\nb\n", "a\nb\n"), "");
  assert.equal(unifiedDiff("/x", "", ""), "");
});

Deno.test("unifiedDiff: inserting the block at the top, 3 lines of context", () => {
  const before = "Host a\n    User alice\nHost b\n    User bob\n";
  const after = planInstall(before, "/h/.ssh/ssmssh.config").text;
  assert.equal(
    unifiedDiff("/h/.ssh/config", before, after),
    "--- /h/.ssh/config\n" +
      "+++ /h/.ssh/config\n" +
      "@@ -1,3 +1,6 @@\n" +
      "+# >>> ssmssh managed block: do not edit (remove with `ssmssh config --remove`) >>>\n" +
      '+Include "/h/.ssh/ssmssh.config"\n' +
      "+# <<< ssmssh managed block <<<\n" +
      " Host a\n" +
      "     User alice\n" +
      " Host b\n",
  );
});

Deno.test("unifiedDiff: new file, deleted content, missing final newline", () => {
  assert.equal(unifiedDiff("f", "", "a\nb\n"), "--- f\n+++ f\n@@ -0,0 +1,2 @@\n+a\n+b\n");
  assert.equal(unifiedDiff("f", "a\n", ""), "--- f\n+++ f\n@@ -1,1 +0,0 @@\n-a\n");
  assert.equal(
    unifiedDiff("f", "a\nb", "a\nb\n"),
    "--- f\n+++ f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n",
  );
});

Deno.test("unifiedDiff: separate hunks when changes are far apart, merged when close", () => {
  const lines = Array.from({ length: 20 }, (_, i) => `line${i + 1}\n`);
  const far = [...lines];
  far[1] = "X\n";
  far[18] = "Y\n";
  assert.equal(
    unifiedDiff("f", lines.join(""), far.join("")),
    "--- f\n+++ f\n" +
      "@@ -1,5 +1,5 @@\n line1\n-line2\n+X\n line3\n line4\n line5\n" +
      "@@ -16,5 +16,5 @@\n line16\n line17\n line18\n-line19\n+Y\n line20\n",
  );
  const near = [...lines];
  near[1] = "X\n";
  near[8] = "Y\n"; // 6 unchanged lines between: one hunk, like GNU diff
  const diff = unifiedDiff("f", lines.join(""), near.join(""));
  assert.equal(diff.match(/^@@/gm)?.length, 1);
  assert.match(diff, /^@@ -1,12 \+1,12 @@$/m);
});

/** Small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomText(rand: () => number, base?: string[]): string[] {
  const words = ["Host a", "  User x", "", "# c", "Host b", "  Port 22", "Match all"];
  const pick = () => words[Math.floor(rand() * words.length)] + (rand() < 0.2 ? "\r\n" : "\n");
  const lines = base ? [...base] : Array.from({ length: Math.floor(rand() * 25) }, pick);
  if (base) {
    for (let k = Math.floor(rand() * 6); k > 0; k--) {
      const at = Math.floor(rand() * (lines.length + 1));
      if (rand() < 0.5 && lines.length) lines.splice(at, 1);
      else lines.splice(at, 0, pick());
    }
  }
  if (lines.length && rand() < 0.3) {
    lines[lines.length - 1] = lines[lines.length - 1].replace(/\r?\n$/, "");
  }
  return lines;
}

Deno.test("unifiedDiff output applies cleanly with GNU patch (random cases)", async () => {
  const rand = prng(42);
  const dir = await Deno.makeTempDir({ prefix: "ssmssh-diff-" });
  try {
    for (let n = 0; n < 120; n++) {
      const beforeLines = randomText(rand);
      const before = beforeLines.join("");
      const after = randomText(rand, beforeLines.map((l) => l.endsWith("\n") ? l : l + "\n"))
        .join("");
      const diff = unifiedDiff("target", before, after);
      if (before === after) {
        assert.equal(diff, "");
        continue;
      }
      const target = `${dir}/target`;
      await Deno.writeTextFile(target, before);
      await Deno.writeTextFile(`${dir}/p.diff`, diff);
      const out = await new Deno.Command("patch", {
        args: ["--binary", "--force", "--fuzz=0", "-r", "-", target, `${dir}/p.diff`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const log = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `case ${n}: patch failed: ${log}\n${diff}`);
      assert.doesNotMatch(log, /offset|fuzz/i, `case ${n}: inexact hunk position\n${diff}`);
      let patched = "";
      try {
        patched = await Deno.readTextFile(target);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e; // patch may delete emptied files
      }
      assert.equal(patched, after, `case ${n}:\n${diff}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
