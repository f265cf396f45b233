/**
 * sha256Into agrees with node:crypto for every length around the block and padding boundaries
 * and across the switch to the native path, and with the FIPS 180-4 "abc" vector.
 * @module
 */

import { createHash } from "node:crypto";
import { assertEquals } from "../support/assert.ts";
import { sha256Into } from "../../src/protocol/sha256.ts";

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

Deno.test("sha256Into: the FIPS 180-4 vector, written at an offset", () => {
  const out = new Uint8Array(40).fill(0xee);
  sha256Into(new TextEncoder().encode("abc"), out, 4);
  assertEquals(
    hex(out.subarray(4, 36)),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assertEquals([...out.subarray(0, 4), ...out.subarray(36)], new Array(8).fill(0xee));
});

Deno.test("sha256Into: every length 0…1100 matches node:crypto", () => {
  const data = crypto.getRandomValues(new Uint8Array(1100));
  const out = new Uint8Array(32);
  for (let n = 0; n <= data.length; n++) {
    const input = data.subarray(3, 3 + Math.min(n, data.length - 3)); // unaligned views too
    sha256Into(input, out, 0);
    assertEquals(hex(out), createHash("sha256").update(input).digest("hex"), `length ${n}`);
  }
});
