/**
 * I/O tests for `ssh_config_file.ts`, each in its own temporary directory.
 * @module
 */

import assert from "node:assert/strict";
import {
  applyPlan,
  atomicWriteFile,
  defaultSshDir,
  installSshConfig,
  readTextIfExists,
  removeSshConfig,
  sshConfigPaths,
} from "../../src/config/ssh_config_file.ts";
import {
  BLOCK_START,
  CREATED_MARKER,
  ManagedBlockError,
} from "../../src/config/ssh_config_plan.ts";

const OWNED = {
  hostPatterns: ["i-*", "mi-*"],
  proxyCommand: "ssmssh proxy '%h'",
  user: "ec2-user",
};

/** Runs `fn` with a fresh temporary directory that is removed afterwards. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ssmssh-file-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

/** Names of leftover temporary files in a directory. */
async function tempFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".tmp")) names.push(e.name);
  return names;
}

Deno.test("defaultSshDir: USERPROFILE on Windows, HOME elsewhere", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(
    defaultSshDir("windows", env({ USERPROFILE: "C:\\Users\\me" })),
    "C:\\Users\\me\\.ssh",
  );
  assert.equal(
    defaultSshDir("windows", env({ HOMEDRIVE: "D:", HOMEPATH: "\\Users\\me" })),
    "D:\\Users\\me\\.ssh",
  );
  assert.equal(defaultSshDir("linux", env({ HOME: "/home/me" })), "/home/me/.ssh");
  assert.equal(defaultSshDir("darwin", env({ HOME: "/" })), "/.ssh");
  assert.throws(() => defaultSshDir("linux", env({})), /HOME is not set/);
  assert.throws(() => defaultSshDir("windows", env({})), /USERPROFILE is not set/);
});

Deno.test("sshConfigPaths makes the directory absolute", () => {
  const p = sshConfigPaths("rel/.ssh");
  assert.equal(p.sshDir, `${Deno.cwd()}/rel/.ssh`);
  assert.equal(p.configPath, `${Deno.cwd()}/rel/.ssh/config`);
  assert.equal(p.ownedPath, `${Deno.cwd()}/rel/.ssh/ssmssh.config`);
});

Deno.test("applyPlan: new file gets 0600 and the missing ssh dir 0700, no backup", async () => {
  await withTempDir(async (dir) => {
    const sshDir = `${dir}/home/.ssh`;
    const result = await applyPlan(`${sshDir}/config`, "Host a\n", { backup: true });
    assert.deepEqual(result, { path: `${sshDir}/config`, written: true, created: true });
    assert.equal(await Deno.readTextFile(`${sshDir}/config`), "Host a\n");
    assert.equal(await mode(`${sshDir}/config`), 0o600);
    assert.equal(await mode(sshDir), 0o700);
    assert.deepEqual(await tempFiles(sshDir), []);
  });
});

Deno.test("applyPlan: keeps mode 0644, backs up the previous content, no temp files", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/config`;
    await Deno.writeTextFile(path, "old\r\n");
    await Deno.chmod(path, 0o644);
    const result = await applyPlan(path, "new\r\n", { backup: true });
    assert.deepEqual(result, {
      path,
      written: true,
      created: false,
      backupPath: `${path}.ssmssh.bak`,
    });
    assert.equal(await Deno.readTextFile(path), "new\r\n");
    assert.equal(await mode(path), 0o644);
    assert.equal(await Deno.readTextFile(`${path}.ssmssh.bak`), "old\r\n");
    assert.equal(await mode(`${path}.ssmssh.bak`), 0o600);

    // The backup always holds the content just before the latest change.
    await applyPlan(path, "newer\r\n", { backup: true });
    assert.equal(await Deno.readTextFile(`${path}.ssmssh.bak`), "new\r\n");
    assert.deepEqual(await tempFiles(dir), []);
  });
});

Deno.test("applyPlan: unchanged content is not rewritten and makes no backup", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/config`;
    await Deno.writeTextFile(path, "same\n");
    const before = (await Deno.stat(path)).mtime;
    const result = await applyPlan(path, "same\n", { backup: true });
    assert.equal(result.written, false);
    await assert.rejects(Deno.stat(`${path}.ssmssh.bak`), Deno.errors.NotFound);
    assert.deepEqual((await Deno.stat(path)).mtime, before);
  });
});

Deno.test("applyPlan: forced mode repairs an owned file's permissions", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/ssmssh.config`;
    await Deno.writeTextFile(path, "x\n");
    await Deno.chmod(path, 0o664);
    assert.equal((await applyPlan(path, "x\n", { backup: false, mode: 0o600 })).written, true);
    assert.equal(await mode(path), 0o600);
  });
});

Deno.test("applyPlan: a symlinked config keeps its link; the target is updated", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/dotfiles`);
    await Deno.mkdir(`${dir}/.ssh`);
    await Deno.writeTextFile(`${dir}/dotfiles/ssh_config`, "Host a\n");
    await Deno.symlink("../dotfiles/ssh_config", `${dir}/.ssh/config`);
    await applyPlan(`${dir}/.ssh/config`, "Host b\n", { backup: true });
    assert.ok((await Deno.lstat(`${dir}/.ssh/config`)).isSymlink);
    assert.equal(await Deno.readTextFile(`${dir}/dotfiles/ssh_config`), "Host b\n");
    assert.equal(await Deno.readTextFile(`${dir}/.ssh/config.ssmssh.bak`), "Host a\n");
    assert.deepEqual(await tempFiles(`${dir}/dotfiles`), []);

    await Deno.remove(`${dir}/dotfiles/ssh_config`);
    await assert.rejects(applyPlan(`${dir}/.ssh/config`, "x", { backup: true }), /missing file/);
  });
});

Deno.test("applyPlan refuses a directory; a failed atomic write leaves no temp file", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/config`);
    await Deno.writeTextFile(`${dir}/config/keep`, "x");
    await assert.rejects(applyPlan(`${dir}/config`, "x", { backup: true }), /not a regular file/);
    // Force the final rename to fail: the target is a non-empty directory.
    await assert.rejects(atomicWriteFile(`${dir}/config`, new Uint8Array([1]), { mode: 0o600 }));
    assert.deepEqual(await tempFiles(dir), []);
    assert.equal(await Deno.readTextFile(`${dir}/config/keep`), "x");
  });
});

Deno.test("readTextIfExists: missing file, BOM kept, invalid UTF-8 refused", async () => {
  await withTempDir(async (dir) => {
    assert.equal(await readTextIfExists(`${dir}/nope`), undefined);
    await Deno.writeFile(`${dir}/bom`, new Uint8Array([0xef, 0xbb, 0xbf, 0x41, 0x0d, 0x0a]));
    assert.equal(await readTextIfExists(`${dir}/bom`), "\uFEFFA\r\n");
    await Deno.writeFile(`${dir}/latin1`, new Uint8Array([0x23, 0x20, 0xe9, 0x0a]));
    await assert.rejects(readTextIfExists(`${dir}/latin1`), /not valid UTF-8/);
  });
});

Deno.test("install then remove restores an existing config byte for byte", async () => {
  await withTempDir(async (sshDir) => {
    const configPath = `${sshDir}/config`;
    const original = new Uint8Array([
      ...new TextEncoder().encode("\uFEFF# mine\r\nHost bastion\r\n    User alice"),
    ]);
    await Deno.writeFile(configPath, original);
    await Deno.chmod(configPath, 0o644);

    const dry = await installSshConfig({ sshDir, owned: OWNED, dryRun: true });
    assert.equal(dry.configChanged, true);
    assert.match(dry.configDiff, /^\+\uFEFF# >>> ssmssh managed block/m);
    assert.deepEqual(await Deno.readFile(configPath), original, "dry run wrote nothing");
    await assert.rejects(Deno.stat(`${sshDir}/ssmssh.config`), Deno.errors.NotFound);

    const report = await installSshConfig({ sshDir, owned: OWNED });
    assert.equal(report.backupPath, `${configPath}.ssmssh.bak`);
    assert.deepEqual(await Deno.readFile(report.backupPath!), original);
    const installed = await Deno.readTextFile(configPath);
    assert.ok(installed.startsWith(`\uFEFF${BLOCK_START}\r\n`));
    assert.equal(await mode(configPath), 0o644);
    assert.equal(await mode(`${sshDir}/ssmssh.config`), 0o600);
    const owned = await Deno.readTextFile(`${sshDir}/ssmssh.config`);
    assert.ok(!owned.includes(CREATED_MARKER));

    const again = await installSshConfig({ sshDir, owned: OWNED });
    assert.equal(again.configChanged, false);
    assert.equal(again.ownedChanged, false);
    assert.equal(again.configDiff, "");

    const removed = await removeSshConfig({ sshDir });
    assert.equal(removed.configChanged, true);
    assert.equal(removed.configDeleted, false);
    assert.deepEqual(await Deno.readFile(configPath), original);
    assert.equal(await mode(configPath), 0o644);
    await assert.rejects(Deno.stat(`${sshDir}/ssmssh.config`), Deno.errors.NotFound);
    assert.deepEqual(await tempFiles(sshDir), []);
  });
});

Deno.test("a config created by ssmssh is deleted on remove only if nothing else is in it", async () => {
  await withTempDir(async (dir) => {
    const sshDir = `${dir}/.ssh`;
    const configPath = `${sshDir}/config`;
    await installSshConfig({ sshDir, owned: OWNED });
    assert.equal(await mode(sshDir), 0o700);
    assert.equal(await mode(configPath), 0o600);
    assert.ok((await Deno.readTextFile(`${sshDir}/ssmssh.config`)).includes(CREATED_MARKER));

    // Re-running keeps the record even though the config now exists.
    await installSshConfig({ sshDir, owned: { ...OWNED, user: "ubuntu" } });
    assert.ok((await Deno.readTextFile(`${sshDir}/ssmssh.config`)).includes(CREATED_MARKER));

    const removed = await removeSshConfig({ sshDir });
    assert.equal(removed.configDeleted, true);
    await assert.rejects(Deno.stat(configPath), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(`${sshDir}/ssmssh.config`), Deno.errors.NotFound);

    // Same start, but the user adds their own lines: the file stays.
    await installSshConfig({ sshDir, owned: OWNED });
    await Deno.writeTextFile(configPath, "Host mine\n", { append: true });
    const kept = await removeSshConfig({ sshDir });
    assert.equal(kept.configDeleted, false);
    assert.equal(await Deno.readTextFile(configPath), "Host mine\n");
  });
});

Deno.test("a pre-existing empty config is left in place (empty) on remove", async () => {
  await withTempDir(async (sshDir) => {
    await Deno.writeTextFile(`${sshDir}/config`, "");
    await installSshConfig({ sshDir, owned: OWNED });
    const removed = await removeSshConfig({ sshDir });
    assert.equal(removed.configDeleted, false);
    assert.equal(await Deno.readTextFile(`${sshDir}/config`), "");
  });
});

Deno.test("a damaged block aborts install and remove before anything is written", async () => {
  await withTempDir(async (sshDir) => {
    const damaged = `Host a\n${BLOCK_START}\nInclude "/x"\n`;
    await Deno.writeTextFile(`${sshDir}/config`, damaged);
    await assert.rejects(installSshConfig({ sshDir, owned: OWNED }), ManagedBlockError);
    await assert.rejects(removeSshConfig({ sshDir }), /line 2 has no end marker/);
    assert.equal(await Deno.readTextFile(`${sshDir}/config`), damaged);
    const names = [];
    for await (const e of Deno.readDir(sshDir)) names.push(e.name);
    assert.deepEqual(names, ["config"]);
  });
});

Deno.test("remove with nothing installed does nothing", async () => {
  await withTempDir(async (sshDir) => {
    const report = await removeSshConfig({ sshDir });
    assert.equal(report.configChanged || report.ownedChanged || report.configDeleted, false);
    await Deno.writeTextFile(`${sshDir}/config`, "Host a\n");
    assert.equal((await removeSshConfig({ sshDir })).configChanged, false);
    await assert.rejects(Deno.stat(`${sshDir}/config.ssmssh.bak`), Deno.errors.NotFound);
  });
});
