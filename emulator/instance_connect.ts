/**
 * The emulator's EC2 Instance Connect: SendSSHPublicKey makes a key acceptable to the test sshd
 * for the pushed OS user during a window (60 s like the service; shorter in tests), then removes
 * it. Keys live in `<keysDir>/<os user>`, which the harness sshd reads as an AuthorizedKeysFile.
 * Test/demo infrastructure only.
 * @module
 */

/** One accepted push. */
export interface Push {
  instanceId: string;
  osUser: string;
  publicKey: string;
  at: number;
}

/** Pushed keys with their expiry timers. */
export class InstanceConnectKeys {
  readonly pushes: Push[] = [];
  readonly #keysDir: string;
  readonly #windowMs: number;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #active = new Map<string, string[]>();
  #writes: Promise<void> = Promise.resolve();

  constructor(keysDir: string, windowMs = 60_000) {
    this.#keysDir = keysDir;
    this.#windowMs = windowMs;
  }

  /** Accepts `publicKey` for `osUser` until the window ends. */
  async push(instanceId: string, osUser: string, publicKey: string): Promise<void> {
    if (!/^[a-z_][a-z0-9_.-]*$/i.test(osUser)) throw new Error(`bad OS user ${osUser}`);
    this.pushes.push({ instanceId, osUser, publicKey, at: Date.now() });
    const line = publicKey.trim();
    this.#active.set(osUser, [...(this.#active.get(osUser) ?? []), line]);
    await this.#write(osUser);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      const keys = this.#active.get(osUser) ?? [];
      keys.splice(keys.indexOf(line), 1);
      void this.#write(osUser);
    }, this.#windowMs);
    this.#timers.add(timer);
  }

  /** Cancels pending expiries (the sshd directory is removed with the harness). */
  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #write(osUser: string): Promise<void> {
    const text = (this.#active.get(osUser) ?? []).map((k) => `${k}\n`).join("");
    const path = `${this.#keysDir}/${osUser}`;
    this.#writes = this.#writes.then(async () => {
      await Deno.writeTextFile(`${path}.tmp`, text);
      await Deno.rename(`${path}.tmp`, path);
    }).catch(() => {});
    return this.#writes;
  }
}
