/**
 * The credential cache: where it lives, what it reuses, what it refuses, and that parallel
 * sign-ins fetch once.
 */

import { assert, assertEquals } from "../support/assert.ts";
import {
  cachedCredentials,
  cacheKey,
  credentialCacheDir,
  readCachedCredentials,
  REUSE_MARGIN_MS,
  type TemporaryCredentials,
} from "../../src/aws/credential_cache.ts";

const HOUR = 3600_000;
const env = (vars: Record<string, string>) => (name: string) => vars[name];

function temporary(expiresIn = HOUR): TemporaryCredentials {
  return {
    accessKeyId: "ASIATEST",
    secretAccessKey: "secret",
    sessionToken: "token",
    expiration: new Date(Date.now() + expiresIn),
    accountId: "123456789012",
  };
}

Deno.test("the cache directory follows SSMSSH_CACHE_DIR, XDG_CACHE_HOME, HOME, LOCALAPPDATA", () => {
  assertEquals(
    credentialCacheDir(env({ SSMSSH_CACHE_DIR: "/c", XDG_CACHE_HOME: "/x", HOME: "/h" }), "linux"),
    "/c/credentials",
  );
  assertEquals(
    credentialCacheDir(env({ XDG_CACHE_HOME: "/x", HOME: "/h" }), "linux"),
    "/x/ssmssh/credentials",
  );
  assertEquals(credentialCacheDir(env({ HOME: "/h" }), "darwin"), "/h/.cache/ssmssh/credentials");
  assertEquals(
    credentialCacheDir(env({ LOCALAPPDATA: "C:\\Users\\me\\AppData\\Local" }), "windows"),
    "C:\\Users\\me\\AppData\\Local\\ssmssh\\credentials",
  );
  assertEquals(credentialCacheDir(env({}), "linux"), undefined);
});

Deno.test("cache keys differ when any identifying part differs", async () => {
  const base = ["mfa", "arn:aws:iam::123456789012:role/admin", "base", "arn:mfa", "us-east-1"];
  const key = await cacheKey(base);
  assertEquals(key, await cacheKey([...base]));
  assert(/^[0-9a-f]{64}$/.test(key));
  for (let i = 0; i < base.length; i++) {
    const other = base.with(i, `${base[i]}x`);
    assert(key !== await cacheKey(other), `part ${i} changes the key`);
  }
  assert(await cacheKey(["a", undefined]) !== await cacheKey(["a", "undefined"]));
});

Deno.test("cached credentials are written 0600 in a 0700 directory and reused", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = `${root}/ssmssh/credentials`;
    let fetches = 0;
    const fetch = () => Promise.resolve((fetches++, temporary()));
    const first = await cachedCredentials({ dir, key: "k", fetch });
    const second = await cachedCredentials({ dir, key: "k", fetch });
    assertEquals(fetches, 1);
    assertEquals(second, first);
    if (Deno.build.os !== "windows") {
      assertEquals((await Deno.stat(dir)).mode! & 0o777, 0o700);
      assertEquals((await Deno.stat(`${dir}/k.json`)).mode! & 0o777, 0o600);
    }
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    assertEquals(names, ["k.json", "k.json.lock"], "no temporary file left behind");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("credentials valid for less than five minutes, damaged files and keys are refetched", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/k.json`;
    const now = Date.now();
    const write = (data: unknown) => Deno.writeTextFile(path, JSON.stringify(data));
    const valid = {
      accessKeyId: "ASIA1",
      secretAccessKey: "s",
      sessionToken: "t",
      expiration: new Date(now + REUSE_MARGIN_MS + 10_000).toISOString(),
    };
    await write(valid);
    assertEquals((await readCachedCredentials(path, now))?.accessKeyId, "ASIA1");
    await write({ ...valid, expiration: new Date(now + REUSE_MARGIN_MS - 10_000).toISOString() });
    assertEquals(await readCachedCredentials(path, now), undefined, "about to expire");
    await write({ ...valid, expiration: "soon" });
    assertEquals(await readCachedCredentials(path, now), undefined, "bad date");
    await write({ ...valid, sessionToken: undefined });
    assertEquals(await readCachedCredentials(path, now), undefined, "no session token");
    await Deno.writeTextFile(path, '{"accessKeyId": "ASIA1", "secr');
    assertEquals(await readCachedCredentials(path, now), undefined, "truncated");

    let fetches = 0;
    const again = await cachedCredentials({
      dir,
      key: "k",
      fetch: () => Promise.resolve((fetches++, temporary())),
    });
    assertEquals(fetches, 1, "a damaged file is replaced");
    assertEquals((await readCachedCredentials(path, Date.now()))?.sessionToken, again.sessionToken);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("long-term keys (no session token or expiry) are never written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const longTerm = { accessKeyId: "AKIALONG", secretAccessKey: "secret" };
    const got = await cachedCredentials({ dir, key: "k", fetch: () => Promise.resolve(longTerm) });
    assertEquals(got, longTerm);
    const files = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
    assertEquals(files.filter((name) => name.endsWith(".json")), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ten parallel sign-ins fetch once: the others wait for the first one's file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let fetches = 0;
    const fetch = async () => {
      fetches++;
      await new Promise((resolve) => setTimeout(resolve, 100)); // a user typing a code
      return temporary();
    };
    const all = await Promise.all(
      Array.from({ length: 10 }, () => cachedCredentials({ dir, key: "k", fetch })),
    );
    assertEquals(fetches, 1);
    assertEquals(new Set(all.map((c) => c.sessionToken)).size, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unusable cache directory does not stop the sign-in", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/file`, "not a directory");
    const got = await cachedCredentials({
      dir: `${dir}/file/credentials`,
      key: "k",
      fetch: () => Promise.resolve(temporary()),
    });
    assertEquals(got.accessKeyId, "ASIATEST");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
