/**
 * File I/O for `ssmssh config`: careful, atomic updates of the user's ssh
 * config and of the ssmssh-owned file. The decisions about *what* to write
 * are made by the pure functions in `ssh_config_plan.ts`.
 *
 * Safety rules implemented here:
 * - Writes are atomic: a temporary file is written in the same directory,
 *   fsynced, given the right mode, then renamed over the target; on any error
 *   the temporary file is removed and the target is untouched.
 * - An existing file keeps its mode (e.g. 0644 stays 0644) and, when
 *   possible, its owner; a new file gets 0600. The ssh directory is created
 *   with 0700 when missing.
 * - If the config is a symbolic link (dotfile managers), the link's target is
 *   updated and the link itself is kept.
 * - Before an existing file's content changes it is copied to
 *   `<path>.ssmssh.bak`. Each change overwrites that backup with the content
 *   just before the change (ssmssh only ever touches its own block, so the
 *   latest pre-change copy is the useful one to restore).
 * - Files that are not valid UTF-8 are never rewritten.
 * - If the config file did not exist, ssmssh creates it and records that in
 *   the owned file (`CREATED_MARKER` in `ssh_config_plan.ts`); `removeSshConfig` deletes the
 *   config file again only then, and only if nothing but the block was in it.
 *   Otherwise removal leaves the file in place, however empty.
 *
 * @module
 */

import {
  type OwnedConfigOptions,
  ownedConfigRecordsCreation,
  planInstall,
  planRemove,
  renderOwnedConfig,
  unifiedDiff,
} from "./ssh_config_plan.ts";
import { isWindowsAbsolutePath } from "./proxy_command.ts";
import { bytesEqual, writeAll } from "../bytes.ts";

/** Name of the ssmssh-owned file inside the ssh directory. */
export const OWNED_FILE_NAME = "ssmssh.config";
/** Suffix of the backup written before a file changes. */
export const BACKUP_SUFFIX = ".ssmssh.bak";

const isWindows = (os: string = Deno.build.os) => os === "windows";

/**
 * Joins a directory and a file name with the platform's separator.
 *
 * @param dir directory path
 * @param name file name
 * @param os operating system, default: the running one
 */
export function joinPath(dir: string, name: string, os: string = Deno.build.os): string {
  const endsWithSep = dir.endsWith("/") || (isWindows(os) && dir.endsWith("\\"));
  return endsWithSep ? dir + name : dir + (isWindows(os) ? "\\" : "/") + name;
}

/** Splits a path into directory and base name ("/" and, on Windows, "\"). */
function splitPath(path: string): { dir: string; base: string } {
  const i = Math.max(path.lastIndexOf("/"), isWindows() ? path.lastIndexOf("\\") : -1);
  if (i === -1) return { dir: ".", base: path };
  const dir = i === 0 ? path.slice(0, 1) : path.slice(0, i);
  return { dir: /^[A-Za-z]:$/.test(dir) ? dir + "\\" : dir, base: path.slice(i + 1) };
}

/** Whether a path is absolute on the running platform. */
function isAbsolute(path: string): boolean {
  return isWindows() ? isWindowsAbsolutePath(path) : path.startsWith("/");
}

/**
 * The user's ssh directory: `%USERPROFILE%\.ssh` on Windows (as used by
 * Win32-OpenSSH), `$HOME/.ssh` elsewhere. (OpenSSH itself uses the passwd
 * home directory; they differ only if HOME was changed.)
 *
 * @param os operating system, default: the running one
 * @param getEnv environment lookup, default: `Deno.env.get`
 * @throws {Error} if the home directory cannot be determined
 */
export function defaultSshDir(
  os: string = Deno.build.os,
  getEnv: (name: string) => string | undefined = (name) => Deno.env.get(name),
): string {
  if (isWindows(os)) {
    const drive = getEnv("HOMEDRIVE");
    const homePath = getEnv("HOMEPATH");
    const profile = getEnv("USERPROFILE") ||
      (drive && homePath ? drive + homePath : undefined);
    if (!profile) throw new Error("Cannot find your home directory: USERPROFILE is not set.");
    return joinPath(profile, ".ssh", os);
  }
  const home = getEnv("HOME");
  if (!home) throw new Error("Cannot find your home directory: HOME is not set.");
  return joinPath(home, ".ssh", os);
}

/** Paths used by `ssmssh config`. */
export interface SshConfigPaths {
  /** The ssh directory (absolute). */
  sshDir: string;
  /** The user's ssh config file, `<sshDir>/config`. */
  configPath: string;
  /** The ssmssh-owned file, `<sshDir>/ssmssh.config`. */
  ownedPath: string;
}

/**
 * Computes the config paths for an ssh directory (made absolute).
 *
 * @param sshDir ssh directory, default: {@link defaultSshDir}
 */
export function sshConfigPaths(
  sshDir: string = defaultSshDir(),
  configFile?: string,
): SshConfigPaths {
  if (configFile !== undefined) {
    const file = isAbsolute(configFile) ? configFile : joinPath(Deno.cwd(), configFile);
    const { dir } = splitPath(file);
    return { sshDir: dir, configPath: file, ownedPath: joinPath(dir, OWNED_FILE_NAME) };
  }
  const dir = isAbsolute(sshDir) ? sshDir : joinPath(Deno.cwd(), sshDir);
  return {
    sshDir: dir,
    configPath: joinPath(dir, "config"),
    ownedPath: joinPath(dir, OWNED_FILE_NAME),
  };
}

/**
 * Reads a UTF-8 text file, keeping a BOM if present.
 *
 * @param path file to read
 * @returns the text, or `undefined` if the file does not exist
 * @throws {Error} if the file is not valid UTF-8 (it must then not be rewritten)
 */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new Error(
      `Cannot update ${path}: it is not valid UTF-8 text, so ssmssh will not rewrite it. ` +
        `Nothing was changed.`,
    );
  }
}

/** Options for {@link atomicWriteFile}. */
export interface AtomicWriteOptions {
  /** Permission bits for the file (ignored on Windows). */
  mode: number;
  /** Owner to restore (best effort; needs privileges). */
  uid?: number | null;
  /** Group to restore (best effort). */
  gid?: number | null;
}

/** fsync the directory so the rename itself is durable (POSIX, best effort). */
async function syncDir(dir: string): Promise<void> {
  if (isWindows()) return;
  try {
    using d = await Deno.open(dir, { read: true });
    await d.sync();
  } catch {
    // Not supported on every file system; the rename has happened either way.
  }
}

/**
 * Atomically replaces (or creates) `path` with `data`: writes a temporary file
 * in the same directory, fsyncs it, sets mode and owner, renames it over
 * `path`. The temporary file never survives, whether this succeeds or fails.
 *
 * @param path target file (not a symlink: pass the resolved path)
 * @param data new content
 * @param options mode and optional owner
 */
export async function atomicWriteFile(
  path: string,
  data: Uint8Array,
  options: AtomicWriteOptions,
): Promise<void> {
  const { dir, base } = splitPath(path);
  const tmp = joinPath(dir, `.${base}.ssmssh-${crypto.randomUUID().slice(0, 8)}.tmp`);
  let created = false;
  try {
    {
      using file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
      created = true;
      await writeAll(file, data);
      try {
        await file.sync();
      } catch {
        // fsync unsupported here: continue, the rename is still atomic.
      }
    }
    if (!isWindows()) {
      await chownBestEffort(tmp, options);
      await Deno.chmod(tmp, options.mode);
    }
    await Deno.rename(tmp, path);
    created = false;
  } finally {
    if (created) await Deno.remove(tmp).catch(() => {});
  }
  await syncDir(dir);
}

async function chownBestEffort(path: string, o: AtomicWriteOptions): Promise<void> {
  const uid = o.uid ?? null;
  const gid = o.gid ?? null;
  if ((uid === null || uid === Deno.uid()) && (gid === null || gid === Deno.gid())) return;
  try {
    await Deno.chown(path, uid, gid);
  } catch {
    // Only possible with privileges; the file then belongs to the current user.
  }
}

/** Follows a symlink to the file that must really be written. */
async function resolveTarget(path: string): Promise<{ real: string; stat?: Deno.FileInfo }> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { real: path };
    throw e;
  }
  let real = path;
  if (info.isSymlink) {
    try {
      real = await Deno.realPath(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      throw new Error(
        `Cannot update ${path}: it is a symbolic link to a missing file. Nothing was changed.`,
      );
    }
    info = await Deno.stat(real);
  }
  if (!info.isFile) {
    throw new Error(`Cannot update ${path}: it is not a regular file. Nothing was changed.`);
  }
  return { real, stat: info };
}

/** Creates a directory (and parents) with mode 0700 if it is missing. */
async function ensureDir(dir: string): Promise<void> {
  try {
    await Deno.stat(dir);
    return;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  if (!isWindows()) await Deno.chmod(dir, 0o700);
}

/** Options for {@link applyPlan}. */
export interface ApplyOptions {
  /** Copy an existing file to `<path>.ssmssh.bak` before changing it. */
  backup: boolean;
  /** Force this mode; default: keep the existing mode, 0600 for a new file. */
  mode?: number;
}

/** What {@link applyPlan} did. */
export interface ApplyResult {
  /** The path given. */
  path: string;
  /** False if the file already had exactly this content. */
  written: boolean;
  /** True if the file did not exist before. */
  created: boolean;
  /** Where the previous content was saved, if a backup was made. */
  backupPath?: string;
}

/**
 * Writes `newText` to `path` atomically (see the module notes): keeps the
 * mode of an existing file, uses 0600 for a new one, creates the directory
 * with 0700 if needed, backs up the previous content first if asked, and
 * updates a symlink's target rather than replacing the link.
 *
 * @param path file to write
 * @param newText complete new content (UTF-8)
 * @param options backup and mode
 */
export async function applyPlan(
  path: string,
  newText: string,
  options: ApplyOptions = { backup: true },
): Promise<ApplyResult> {
  const { real, stat } = await resolveTarget(path);
  const data = new TextEncoder().encode(newText);
  const mode = options.mode ?? (stat?.mode != null ? stat.mode & 0o7777 : 0o600);
  if (!stat) {
    await ensureDir(splitPath(real).dir);
    await atomicWriteFile(real, data, { mode });
    return { path, written: true, created: true };
  }
  const before = await Deno.readFile(real);
  if (bytesEqual(before, data) && (options.mode === undefined || !modeDiffers(stat, mode))) {
    return { path, written: false, created: false };
  }
  let backupPath: string | undefined;
  if (options.backup) {
    backupPath = path + BACKUP_SUFFIX;
    const backupTarget = await resolveTarget(backupPath);
    await atomicWriteFile(backupTarget.real, before, { mode: 0o600 });
  }
  await atomicWriteFile(real, data, { mode, uid: stat.uid, gid: stat.gid });
  return { path, written: true, created: false, backupPath };
}

function modeDiffers(stat: Deno.FileInfo, mode: number): boolean {
  return !isWindows() && stat.mode != null && (stat.mode & 0o7777) !== mode;
}

/** Outcome of {@link installSshConfig} or {@link removeSshConfig}. */
export interface ConfigReport {
  /** The paths involved. */
  paths: SshConfigPaths;
  /** Whether the user's config changes (or changed, if not a dry run). */
  configChanged: boolean;
  /** Whether the owned file changes. */
  ownedChanged: boolean;
  /** Unified diff of the user's config ("" if unchanged). */
  configDiff: string;
  /** Unified diff of the owned file ("" if unchanged). */
  ownedDiff: string;
  /** Backup of the user's config written before changing it. */
  backupPath?: string;
  /** True if removal deleted the config file ssmssh had created. */
  configDeleted: boolean;
  /** Warnings to show the user. */
  warnings: string[];
}

/** Options for {@link installSshConfig}. */
export interface InstallOptions {
  /** ssh directory, default: {@link defaultSshDir}. */
  sshDir?: string;
  /** The config file to patch instead of `<sshDir>/config` (`ssmssh config --file`). */
  configFile?: string;
  /** Content of the owned file. */
  owned: Omit<OwnedConfigOptions, "createdSshConfig">;
  /** Only compute the report and diffs; write nothing. */
  dryRun?: boolean;
}

/**
 * Writes the owned file and adds/refreshes the managed block in the user's
 * config. Everything is planned (and validated) before anything is written;
 * the owned file is written first so the Include never dangles.
 *
 * @param options where and what
 * @returns what changed, with diffs for display
 * @throws {ManagedBlockError} if the user's block is damaged (nothing written)
 */
export async function installSshConfig(options: InstallOptions): Promise<ConfigReport> {
  const paths = sshConfigPaths(options.sshDir, options.configFile);
  const current = await readTextIfExists(paths.configPath);
  const plan = planInstall(current, paths.ownedPath, { configPath: paths.configPath });
  const ownedBefore = await readTextIfExists(paths.ownedPath);
  const created = current === undefined ||
    (ownedBefore !== undefined && ownedConfigRecordsCreation(ownedBefore));
  const ownedText = renderOwnedConfig({ ...options.owned, createdSshConfig: created });
  const report: ConfigReport = {
    paths,
    configChanged: plan.changed,
    ownedChanged: ownedText !== ownedBefore,
    configDiff: unifiedDiff(paths.configPath, current ?? "", plan.text),
    ownedDiff: unifiedDiff(paths.ownedPath, ownedBefore ?? "", ownedText),
    configDeleted: false,
    warnings: plan.warnings,
  };
  if (options.dryRun) return report;
  await applyPlan(paths.ownedPath, ownedText, { backup: false, mode: 0o600 });
  if (plan.changed) {
    report.backupPath = (await applyPlan(paths.configPath, plan.text, { backup: true }))
      .backupPath;
  }
  return report;
}

/** Options for {@link removeSshConfig}. */
export interface RemoveOptions {
  /** ssh directory, default: {@link defaultSshDir}. */
  sshDir?: string;
  /** The config file to patch instead of `<sshDir>/config` (`ssmssh config --file`). */
  configFile?: string;
  /** Only compute the report and diffs; write nothing. */
  dryRun?: boolean;
}

/**
 * Removes the managed block from the user's config (byte-exact restore of
 * everything else) and deletes the owned file. The config file itself is
 * deleted only if ssmssh created it and it is empty without the block.
 *
 * @param options where
 * @returns what changed, with diffs for display
 * @throws {ManagedBlockError} if the user's block is damaged (nothing written)
 */
export async function removeSshConfig(options: RemoveOptions = {}): Promise<ConfigReport> {
  const paths = sshConfigPaths(options.sshDir, options.configFile);
  const current = await readTextIfExists(paths.configPath);
  const plan = current === undefined
    ? undefined
    : planRemove(current, { configPath: paths.configPath });
  const ownedBefore = await readTextIfExists(paths.ownedPath);
  const deleteConfig = plan !== undefined && plan.changed && plan.text === "" &&
    ownedBefore !== undefined && ownedConfigRecordsCreation(ownedBefore) &&
    (await Deno.lstat(paths.configPath)).isFile;
  const report: ConfigReport = {
    paths,
    configChanged: plan?.changed ?? false,
    ownedChanged: ownedBefore !== undefined,
    configDiff: plan ? unifiedDiff(paths.configPath, current ?? "", plan.text) : "",
    ownedDiff: unifiedDiff(paths.ownedPath, ownedBefore ?? "", ""),
    configDeleted: deleteConfig,
    warnings: [],
  };
  if (options.dryRun) return report;
  if (deleteConfig && current !== undefined) {
    report.backupPath = paths.configPath + BACKUP_SUFFIX;
    await atomicWriteFile(
      (await resolveTarget(report.backupPath)).real,
      new TextEncoder().encode(current),
      { mode: 0o600 },
    );
    await Deno.remove(paths.configPath);
  } else if (plan?.changed) {
    report.backupPath = (await applyPlan(paths.configPath, plan.text, { backup: true }))
      .backupPath;
  }
  if (ownedBefore !== undefined) await Deno.remove(paths.ownedPath);
  return report;
}
