/**
 * The ASCII fast paths agree with TextEncoder/TextDecoder wherever they answer, and step aside
 * (undefined) for anything else.
 * @module
 */

import { assertEquals } from "../support/assert.ts";
import { asciiBytes, asciiText } from "../../src/protocol/text.ts";

Deno.test("asciiText/asciiBytes: ASCII round-trips exactly like the runtime codec", () => {
  const text = JSON.stringify({ AcknowledgedMessageType: "output_stream_data", n: 12, q: '"\\' });
  const bytes = asciiBytes(text)!;
  assertEquals([...bytes], [...new TextEncoder().encode(text)]);
  assertEquals(asciiText(bytes), text);
  assertEquals(asciiText(new Uint8Array(0)), "");
  assertEquals(asciiText(new Uint8Array([0, 0x7f])), "\u0000\u007f");
});

Deno.test("asciiText/asciiBytes: non-ASCII or long input is left to the runtime codec", () => {
  assertEquals(asciiText(new Uint8Array([0x61, 0xc3, 0xa9])), undefined);
  assertEquals(asciiText(new Uint8Array([0xff])), undefined);
  assertEquals(asciiBytes("café"), undefined);
  assertEquals(asciiBytes("\u{1F600}"), undefined);
  assertEquals(asciiText(new Uint8Array(4096).fill(0x61)), undefined);
  assertEquals(asciiBytes("a".repeat(4096)), undefined);
});
