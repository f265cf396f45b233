/**
 * SHA-256 of frame payloads (PayloadDigest, spec §3.1), written straight into the frame. Every
 * message is acknowledged, so half of all digests are of ~170-byte acknowledge payloads; for
 * those a JavaScript SHA-256 (FIPS 180-4) is about twice as fast as a call into the runtime's
 * crypto and leaves no garbage behind. Longer payloads use node:crypto.
 *
 * @example
 * ```ts
 * const digest = new Uint8Array(32);
 * sha256Into(new TextEncoder().encode("abc"), digest, 0);
 * // digest = ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad
 * ```
 * @module
 */

import { hash } from "node:crypto";

/** Payloads shorter than this are hashed in JavaScript. */
const SMALL = 512;

/** Writes the SHA-256 digest of `data` into `target[offset … offset + 32)`. */
export function sha256Into(data: Uint8Array, target: Uint8Array, offset: number): void {
  if (data.length >= SMALL) {
    target.set(hash("sha256", data, "buffer"), offset);
    return;
  }
  H.set(INITIAL);
  let at = 0;
  for (; at + 64 <= data.length; at += 64) compress(data, at);
  // The last block(s): the rest, a 1 bit, zeros, and the length in bits (big-endian, 64 bits).
  const rest = data.length - at;
  const blocks = rest < 56 ? 1 : 2;
  TAIL.fill(0);
  TAIL.set(data.subarray(at), 0);
  TAIL[rest] = 0x80;
  const bits = data.length * 8; // < 2^32 here
  const end = blocks * 64;
  TAIL[end - 4] = bits >>> 24;
  TAIL[end - 3] = bits >>> 16;
  TAIL[end - 2] = bits >>> 8;
  TAIL[end - 1] = bits;
  for (let b = 0; b < blocks; b++) compress(TAIL, b * 64);
  for (let i = 0; i < 8; i++) {
    const word = H[i];
    target[offset + 4 * i] = word >>> 24;
    target[offset + 4 * i + 1] = word >>> 16;
    target[offset + 4 * i + 2] = word >>> 8;
    target[offset + 4 * i + 3] = word;
  }
}

const INITIAL = new Int32Array([
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
]);
const K = new Int32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);
const H = new Int32Array(8);
const W = new Int32Array(64);
const TAIL = new Uint8Array(128);

/** One compression round over the 64-byte block of `bytes` at `at`, into H. */
function compress(bytes: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++, at += 4) {
    W[i] = (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
  }
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15];
    const w2 = W[i - 2];
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  H[0] = (H[0] + a) | 0;
  H[1] = (H[1] + b) | 0;
  H[2] = (H[2] + c) | 0;
  H[3] = (H[3] + d) | 0;
  H[4] = (H[4] + e) | 0;
  H[5] = (H[5] + f) | 0;
  H[6] = (H[6] + g) | 0;
  H[7] = (H[7] + h) | 0;
}
