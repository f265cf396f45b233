// Tests for src/keys/ed25519_key.ts against OpenSSH's ssh-keygen.
// Assertion messages never include private key material.

import {
  decodeOpenSshPrivateKey,
  encodeOpenSshPrivateKey,
  encodePublicKeyLine,
  generateEd25519KeyPair,
} from "../../src/keys/ed25519_key.ts";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Runs a command; throws with its stderr (never stdout) on non-zero exit. */
async function run(cmd: string, args: string[], stdin?: Uint8Array): Promise<string> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const { code, stdout, stderr } = await child.output();
  const err = new TextDecoder().decode(stderr).trim();
  assert(code === 0, `${cmd} ${args[0]} exited ${code}: ${err}`);
  return new TextDecoder().decode(stdout);
}

/** Runs `fn` with a fresh temp dir (mode 0700) that is always removed. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ssmssh-keys-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function writePrivate(path: string, pem: string): Promise<void> {
  await Deno.writeTextFile(path, pem, { mode: 0o600 });
  await Deno.chmod(path, 0o600);
}

Deno.test("generated private key: ssh-keygen -y derives our public key", async () => {
  const pair = await generateEd25519KeyPair("ssmssh-test");
  assert(pair.publicKeyLine.endsWith(" ssmssh-test"), "comment missing from public key line");
  await withTempDir(async (dir) => {
    const priv = `${dir}/id_ed25519`;
    await writePrivate(priv, pair.privateKeyPem);
    const derived = (await run("ssh-keygen", ["-y", "-f", priv])).trim().split(" ");
    const ours = pair.publicKeyLine.split(" ");
    assert(derived[0] === "ssh-ed25519", `unexpected key type ${derived[0]}`);
    assert(
      derived[1] === ours[1],
      `ssh-keygen -y gave ${derived.slice(0, 2).join(" ")}, expected ${ours.slice(0, 2).join(" ")}`,
    );
  });
});

Deno.test("fingerprint matches ssh-keygen -l", async () => {
  const pair = await generateEd25519KeyPair("fp-test");
  assert(/^SHA256:[A-Za-z0-9+/]{43}$/.test(pair.fingerprint), `bad format ${pair.fingerprint}`);
  await withTempDir(async (dir) => {
    const pub = `${dir}/id_ed25519.pub`;
    await Deno.writeTextFile(pub, `${pair.publicKeyLine}\n`);
    const out = (await run("ssh-keygen", ["-l", "-f", pub])).trim();
    // e.g. "256 SHA256:abc… fp-test (ED25519)"
    const [bits, fp] = out.split(" ");
    assert(bits === "256", `unexpected bits in: ${out}`);
    assert(fp === pair.fingerprint, `ssh-keygen -l gave ${fp}, we computed ${pair.fingerprint}`);
  });
});

Deno.test("golden: re-encoding an ssh-keygen key reproduces it byte for byte", async () => {
  // Comment lengths 0..7 plus "test" exercise every padding length (0..7).
  const comments = ["test", "", "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg"];
  await withTempDir(async (dir) => {
    for (const [i, comment] of comments.entries()) {
      const path = `${dir}/key${i}`;
      await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path]);
      const original = await Deno.readTextFile(path);
      const pubLine = (await Deno.readTextFile(`${path}.pub`)).trim();
      const decoded = decodeOpenSshPrivateKey(original);
      assert(decoded.comment === comment, `comment ${JSON.stringify(decoded.comment)}`);
      assert(
        encodePublicKeyLine(decoded.publicKey, comment) === pubLine,
        `public key line differs for comment ${JSON.stringify(comment)}`,
      );
      const ours = encodeOpenSshPrivateKey(
        decoded.seed,
        decoded.publicKey,
        decoded.comment,
        decoded.checkInt,
      );
      if (ours !== original) {
        let at = 0;
        while (at < ours.length && ours[at] === original[at]) at++;
        throw new Error(
          `PEM differs for comment ${JSON.stringify(comment)} at offset ${at} ` +
            `(lengths ${ours.length} vs ${original.length})`,
        );
      }
    }
  });
});

Deno.test("decodeOpenSshPrivateKey rejects malformed input", () => {
  const pem = encodeOpenSshPrivateKey(new Uint8Array(32), new Uint8Array(32).fill(7), "x", 42);
  const roundTrip = decodeOpenSshPrivateKey(pem);
  assert(roundTrip.checkInt === 42 && roundTrip.comment === "x", "round trip failed");
  const bad = [
    "",
    pem.replace("OPENSSH PRIVATE KEY-----\n", "OPENSSH PRIVATE KEY-----\nAAAA"),
    pem.replace(/\n[^\n]+\n-----END/, "\n-----END"),
  ];
  for (const [i, text] of bad.entries()) {
    let threw = false;
    try {
      decodeOpenSshPrivateKey(text);
    } catch {
      threw = true;
    }
    assert(threw, `malformed input #${i} was accepted`);
  }
});

Deno.test("generated private key signs with ssh-keygen -Y sign / check-novalidate", async () => {
  const pair = await generateEd25519KeyPair("sign-test");
  await withTempDir(async (dir) => {
    const priv = `${dir}/id_ed25519`;
    const data = `${dir}/data`;
    const message = new TextEncoder().encode("hello from ssmssh\n");
    await writePrivate(priv, pair.privateKeyPem);
    await Deno.writeFile(data, message);
    await run("ssh-keygen", ["-Y", "sign", "-f", priv, "-n", "file", data]);
    const sig = await Deno.readTextFile(`${data}.sig`);
    assert(sig.startsWith("-----BEGIN SSH SIGNATURE-----"), "no SSH signature produced");
    const out = await run(
      "ssh-keygen",
      ["-Y", "check-novalidate", "-n", "file", "-s", `${data}.sig`],
      message,
    );
    assert(out.includes("Good"), `unexpected check-novalidate output: ${out.trim()}`);
    // A tampered message must fail verification.
    let rejected = false;
    try {
      const tampered = new Uint8Array([...message, 0x21]);
      await run(
        "ssh-keygen",
        ["-Y", "check-novalidate", "-n", "file", "-s", `${data}.sig`],
        tampered,
      );
    } catch {
      rejected = true;
    }
    assert(rejected, "tampered message verified");
  });
});
