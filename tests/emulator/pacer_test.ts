/**
 * The emulator's Pacer: agent-like pacing that holds the average rate even when timers wake late.
 * @module
 */

import { assert } from "../support/assert.ts";
import { Pacer } from "../../emulator/pacer.ts";

Deno.test("Pacer: 2 ms per chunk on average, never faster than the catch-up allowance", async () => {
  const pacer = new Pacer(2, 4);
  const started = performance.now();
  for (let i = 0; i < 100; i++) await pacer.paced();
  const elapsed = performance.now() - started;
  assert(elapsed >= (100 - 4) * 2, `100 chunks took only ${elapsed.toFixed(1)} ms`);
  assert(
    elapsed < 100 * 2 * 1.5,
    `100 chunks took ${elapsed.toFixed(1)} ms: timer lateness adds up`,
  );
});

Deno.test("Pacer: 0 ms per chunk does not wait", async () => {
  const pacer = new Pacer(0);
  const started = performance.now();
  for (let i = 0; i < 1000; i++) await pacer.paced();
  assert(performance.now() - started < 50);
});
