/**
 * Ed25519 key pairs in OpenSSH formats, generated with WebCrypto.
 * @module
 */

import {
  concatBytes,
  decodeBase64,
  encodeBase64,
  encodeString,
  encodeUint32,
  SshReader,
} from "./ssh_wire.ts";
import { bytesEqual } from "../bytes.ts";

/** A freshly generated key pair, ready to write to disk or push with EC2 Instance Connect. */
export interface SshKeyPair {
  /** `"ssh-ed25519 AAAA… comment"` (no trailing newline). */
  publicKeyLine: string;
  /** Unencrypted `openssh-key-v1` PEM, ending with a newline. Secret: never log it. */
  privateKeyPem: string;
  /** `"SHA256:…"`, as printed by `ssh-keygen -l`. */
  fingerprint: string;
}

/** Raw fields of an unencrypted OpenSSH Ed25519 private key. */
export interface DecodedOpenSshPrivateKey {
  /** 32-byte private seed. Secret. */
  seed: Uint8Array;
  /** 32-byte public key. */
  publicKey: Uint8Array;
  comment: string;
  checkInt: number;
}

const KEY_TYPE = "ssh-ed25519";
const MAGIC = new TextEncoder().encode("openssh-key-v1\0");
const PEM_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
const PEM_END = "-----END OPENSSH PRIVATE KEY-----";
/** DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = new Uint8Array([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
]);

function assertLength(name: string, bytes: Uint8Array, length: number): void {
  if (bytes.length !== length) throw new RangeError(`${name} must be ${length} bytes`);
}

function publicKeyBlob(publicKey: Uint8Array): Uint8Array {
  assertLength("Ed25519 public key", publicKey, 32);
  return concatBytes(encodeString(KEY_TYPE), encodeString(publicKey));
}

/**
 * Generates a new Ed25519 key pair with WebCrypto and encodes it in OpenSSH formats.
 *
 * @example
 * ```ts
 * const { publicKeyLine, privateKeyPem, fingerprint } = await generateEd25519KeyPair("ssmssh");
 * ```
 */
export async function generateEd25519KeyPair(comment: string): Promise<SshKeyPair> {
  // Deno's lib typings return `CryptoKeyPair | CryptoKey` for Ed25519; it is always a pair.
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  try {
    if (
      pkcs8.length !== PKCS8_ED25519_PREFIX.length + 32 ||
      !bytesEqual(pkcs8.subarray(0, PKCS8_ED25519_PREFIX.length), PKCS8_ED25519_PREFIX)
    ) {
      throw new Error("unexpected PKCS#8 encoding of Ed25519 private key");
    }
    const seed = pkcs8.subarray(PKCS8_ED25519_PREFIX.length);
    const checkInt = crypto.getRandomValues(new Uint32Array(1))[0];
    return {
      publicKeyLine: encodePublicKeyLine(publicKey, comment),
      privateKeyPem: encodeOpenSshPrivateKey(seed, publicKey, comment, checkInt),
      fingerprint: await fingerprintSha256(publicKey),
    };
  } finally {
    pkcs8.fill(0);
  }
}

/**
 * Encodes a public key as an `authorized_keys` line: `"ssh-ed25519 <base64> <comment>"`.
 * The comment is omitted when empty.
 *
 * @example
 * ```ts
 * encodePublicKeyLine(new Uint8Array(32), "me"); // "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI… me"
 * ```
 */
export function encodePublicKeyLine(publicKey: Uint8Array, comment: string): string {
  const line = `${KEY_TYPE} ${encodeBase64(publicKeyBlob(publicKey))}`;
  return comment === "" ? line : `${line} ${comment}`;
}

/**
 * SHA-256 fingerprint of a public key, formatted like `ssh-keygen -l`: `"SHA256:<base64, no =>"`.
 *
 * @example
 * ```ts
 * await fingerprintSha256(publicKey); // "SHA256:…"
 * ```
 */
export async function fingerprintSha256(publicKey: Uint8Array): Promise<string> {
  const blob = publicKeyBlob(publicKey);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", blob as BufferSource));
  return `SHA256:${encodeBase64(digest).replace(/=+$/, "")}`;
}

/**
 * Encodes an unencrypted `openssh-key-v1` private key PEM, byte-identical to `ssh-keygen -N ''`
 * given the same seed, public key, comment and check integer.
 *
 * @example
 * ```ts
 * const pem = encodeOpenSshPrivateKey(seed, publicKey, "me", 0x12345678);
 * ```
 */
export function encodeOpenSshPrivateKey(
  seed: Uint8Array,
  publicKey: Uint8Array,
  comment: string,
  checkInt: number,
): string {
  assertLength("Ed25519 seed", seed, 32);
  const check = encodeUint32(checkInt);
  const unpadded = concatBytes(
    check,
    check,
    encodeString(KEY_TYPE),
    encodeString(publicKey),
    encodeString(concatBytes(seed, publicKey)),
    encodeString(comment),
  );
  const padding = new Uint8Array((8 - (unpadded.length % 8)) % 8).map((_, i) => i + 1);
  const privateSection = concatBytes(unpadded, padding);
  const body = concatBytes(
    MAGIC,
    encodeString("none"),
    encodeString("none"),
    encodeString(new Uint8Array(0)),
    encodeUint32(1),
    encodeString(publicKeyBlob(publicKey)),
    encodeString(privateSection),
  );
  const b64 = encodeBase64(body);
  unpadded.fill(0);
  privateSection.fill(0);
  body.fill(0);
  const lines = b64.match(/.{1,70}/g) ?? [];
  return `${PEM_BEGIN}\n${lines.join("\n")}\n${PEM_END}\n`;
}

/**
 * Decodes an unencrypted OpenSSH Ed25519 private key PEM (inverse of
 * {@linkcode encodeOpenSshPrivateKey}). Throws on encrypted, malformed or non-Ed25519 keys.
 *
 * @example
 * ```ts
 * const { seed, publicKey, comment, checkInt } = decodeOpenSshPrivateKey(pem);
 * ```
 */
export function decodeOpenSshPrivateKey(pem: string): DecodedOpenSshPrivateKey {
  const text = pem.trim();
  if (!text.startsWith(PEM_BEGIN) || !text.endsWith(PEM_END)) {
    throw new Error("not an OpenSSH private key");
  }
  const body = decodeBase64(text.slice(PEM_BEGIN.length, text.length - PEM_END.length));
  const r = new SshReader(body);
  if (!bytesEqual(r.readBytes(MAGIC.length), MAGIC)) throw new Error("bad openssh-key-v1 magic");
  if (r.readText() !== "none" || r.readText() !== "none" || r.readString().length !== 0) {
    throw new Error("encrypted OpenSSH private keys are not supported");
  }
  if (r.readUint32() !== 1) throw new Error("expected exactly one key");
  const pubBlob = r.readString();
  const priv = new SshReader(r.readString());
  if (r.remaining !== 0) throw new Error("trailing data after private section");
  const checkInt = priv.readUint32();
  if (priv.readUint32() !== checkInt) throw new Error("check integers differ");
  if (priv.readText() !== KEY_TYPE) throw new Error("not an Ed25519 key");
  const publicKey = priv.readString().slice();
  const secret = priv.readString();
  assertLength("Ed25519 private key", secret, 64);
  if (
    !bytesEqual(secret.subarray(32), publicKey) || !bytesEqual(pubBlob, publicKeyBlob(publicKey))
  ) {
    throw new Error("public key mismatch");
  }
  const comment = priv.readText();
  const padding = priv.readBytes(priv.remaining);
  if (padding.length >= 8 || !padding.every((v, i) => v === i + 1)) {
    throw new Error("bad padding");
  }
  return { seed: secret.slice(0, 32), publicKey, comment, checkInt };
}
