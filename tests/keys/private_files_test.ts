/**
 * Private state directories and lock files shared by the key store, the credential cache and
 * the lookup cache: 0700, a file in the way is named, and locked sections take turns.
 * @module
 */

import { assertEquals, assertRejects } from "../support/assert.ts";
import { ensurePrivateDir, NotADirectoryError, withFileLock } from "../../src/private_files.ts";

Deno.test("ensurePrivateDir: creates 0700, tightens 0755, names a file in the way", async () => {
  const root = await Deno.makeTempDir();
  try {
    await ensurePrivateDir(`${root}/a/b`);
    assertEquals((await Deno.stat(`${root}/a/b`)).mode! & 0o777, 0o700);
    await Deno.chmod(`${root}/a/b`, 0o755);
    await ensurePrivateDir(`${root}/a/b`);
    assertEquals((await Deno.stat(`${root}/a/b`)).mode! & 0o777, 0o700);
    await Deno.writeTextFile(`${root}/file`, "x");
    await assertRejects(
      () => ensurePrivateDir(`${root}/file`),
      NotADirectoryError,
      `${root}/file is not a directory`,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("withFileLock: sections take turns; an unopenable lock runs unlocked only if asked", async () => {
  const root = await Deno.makeTempDir();
  try {
    const events: string[] = [];
    const section = (name: string) =>
      withFileLock(`${root}/entry`, async () => {
        events.push(`${name} in`);
        await new Promise((resolve) => setTimeout(resolve, 30));
        events.push(`${name} out`);
        return name;
      });
    assertEquals(await Promise.all([section("a"), section("b")]), ["a", "b"]);
    assertEquals(events, ["a in", "a out", "b in", "b out"]);

    const missing = `${root}/no/such/dir/entry`;
    await assertRejects(
      () => withFileLock(missing, () => Promise.resolve(1)),
      Deno.errors.NotFound,
    );
    const why: string[] = [];
    assertEquals(await withFileLock(missing, () => Promise.resolve(2), (e) => why.push(e.name)), 2);
    assertEquals(why, ["NotFound"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
