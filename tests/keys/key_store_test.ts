import { assert, assertEquals, assertRejects } from "../support/assert.ts";
import { keyFileName, prepareKey, reapExpiredKeys } from "../../src/keys/key_store.ts";
import { SsmsshError } from "../../src/errors.ts";

const TARGET = "i-0123456789abcdef0";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir();
  try {
    await fn(`${root}/keys`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function recorder() {
  const pushes: string[] = [];
  return { pushes, push: (line: string) => Promise.resolve(void pushes.push(line)) };
}

Deno.test("a new key is pushed, written 0600 in a 0700 dir, and accepted by ssh-keygen", async () => {
  await withDir(async (dir) => {
    const { pushes, push } = recorder();
    const key = await prepareKey({ dir, user: "ec2-user", target: TARGET, push });
    assertEquals(key.action, "created");
    assertEquals(pushes, [key.publicKeyLine]);
    assertEquals(key.path, `${dir}/ec2-user@${TARGET}`);
    assertEquals((await Deno.stat(dir)).mode! & 0o777, 0o700);
    assertEquals((await Deno.stat(key.path)).mode! & 0o777, 0o600);
    const derived = await new Deno.Command("ssh-keygen", { args: ["-y", "-f", key.path] }).output();
    assertEquals(
      new TextDecoder().decode(derived.stdout).split(" ").slice(0, 2),
      key.publicKeyLine.split(" ").slice(0, 2),
    );
  });
});

Deno.test("inside the reuse window the key is reused without a push", async () => {
  await withDir(async (dir) => {
    const { pushes, push } = recorder();
    let now = 1_000_000;
    const first = await prepareKey({ dir, user: "ec2-user", target: TARGET, push, now: () => now });
    now += 39_000;
    const second = await prepareKey({
      dir,
      user: "ec2-user",
      target: TARGET,
      push,
      now: () => now,
    });
    assertEquals(second.action, "reused");
    assertEquals(second.publicKeyLine, first.publicKeyLine);
    assertEquals(pushes.length, 1);
  });
});

Deno.test("an older key is pushed again, never replaced (ssh may have loaded it already)", async () => {
  await withDir(async (dir) => {
    const { pushes, push } = recorder();
    let now = 1_000_000;
    const first = await prepareKey({ dir, user: "ec2-user", target: TARGET, push, now: () => now });
    const bytes = await Deno.readFile(first.path);
    now += 10 * 60_000;
    const again = await prepareKey({ dir, user: "ec2-user", target: TARGET, push, now: () => now });
    assertEquals(again.action, "repushed");
    assertEquals(pushes, [first.publicKeyLine, first.publicKeyLine]);
    assertEquals(await Deno.readFile(first.path), bytes);
    assertEquals(again.expiresAt, now + 60_000);
  });
});

Deno.test("an unreadable key file is replaced by a new key", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(`${dir}/ec2-user@${TARGET}`, "garbage");
    const { push } = recorder();
    const key = await prepareKey({ dir, user: "ec2-user", target: TARGET, push });
    assertEquals(key.action, "created");
    assert((await Deno.readTextFile(key.path)).startsWith("-----BEGIN OPENSSH PRIVATE KEY-----"));
  });
});

Deno.test("ten concurrent preparations push once and share one key", async () => {
  await withDir(async (dir) => {
    const { pushes, push } = recorder();
    const keys = await Promise.all(
      Array.from({ length: 10 }, () => prepareKey({ dir, user: "ec2-user", target: TARGET, push })),
    );
    assertEquals(pushes.length, 1);
    assertEquals(new Set(keys.map((k) => k.publicKeyLine)).size, 1);
    assertEquals(keys.filter((k) => k.action === "created").length, 1);
  });
});

Deno.test("a failed push writes no key", async () => {
  await withDir(async (dir) => {
    const failing = () => Promise.reject(new SsmsshError("access-denied", "denied", "allow it"));
    await assertRejects(
      () => prepareKey({ dir, user: "ec2-user", target: TARGET, push: failing }),
      SsmsshError,
    );
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
    assertEquals(names.filter((n) => !n.endsWith(".lock")), []);
  });
});

Deno.test("reaping deletes expired keys only", async () => {
  await withDir(async (dir) => {
    const { push } = recorder();
    const old = await prepareKey({ dir, user: "ec2-user", target: TARGET, push, now: () => 0 });
    const fresh = await prepareKey({
      dir,
      user: "ubuntu",
      target: TARGET,
      push,
      now: () => 100_000,
    });
    assertEquals(await reapExpiredKeys(dir, () => 100_001), [`ec2-user@${TARGET}`]);
    await assertRejects(() => Deno.stat(old.path), Deno.errors.NotFound);
    assert((await Deno.stat(fresh.path)).isFile);
    assertEquals(await reapExpiredKeys(`${dir}/missing`), []);
  });
});

Deno.test("user names that are not OS user names are refused", () => {
  for (const bad of ["", "a b", "../x", "x;y", "-rf"]) {
    let threw = false;
    try {
      keyFileName(bad, TARGET);
    } catch (error) {
      threw = error instanceof SsmsshError && error.kind === "usage";
    }
    assert(threw, bad);
  }
});

Deno.test("a file where the key directory should be is a config error naming it", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(dir);
    await Deno.writeTextFile(`${dir}/keys`, "not a directory");
    const { pushes, push } = recorder();
    const error = await assertRejects(
      () => prepareKey({ dir: `${dir}/keys`, user: "ec2-user", target: TARGET, push }),
      SsmsshError,
      `${dir}/keys is not a directory`,
    );
    assertEquals([error.kind, error.hint, pushes.length], [
      "config",
      "Remove it or pass another --key-dir",
      0,
    ]);
  });
});
