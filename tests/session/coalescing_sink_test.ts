/**
 * CoalescingSink: writes made while one is in flight become one write, in order, and each
 * write's promise resolves only once its own bytes are written.
 * @module
 */

import { assertEquals, assertRejects } from "../support/assert.ts";
import { CoalescingSink } from "../../src/session/coalescing_sink.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

/** A target whose writes complete only when the test says so. */
function gatedTarget() {
  const writes: Array<{ bytes: number[]; done: PromiseWithResolvers<void> }> = [];
  return {
    writes,
    write(b: Uint8Array): Promise<void> {
      const done = Promise.withResolvers<void>();
      writes.push({ bytes: [...b], done });
      return done.promise;
    },
  };
}

Deno.test("CoalescingSink: writes of one task go out together, later ones join while it is in flight", async () => {
  const target = gatedTarget();
  const sink = new CoalescingSink(target);
  const settled: number[] = [];
  const first = sink.write(bytes(1)).then(() => settled.push(1));
  const second = sink.write(bytes(2, 3)).then(() => settled.push(2));
  assertEquals(target.writes.length, 0, "nothing is written while the task is still running");
  await Promise.resolve();
  assertEquals(target.writes.map((w) => w.bytes), [[1, 2, 3]]);
  const third = sink.write(bytes(4)).then(() => settled.push(3));
  const fourth = sink.write(bytes(5)).then(() => settled.push(4));

  target.writes[0].done.resolve();
  await Promise.all([first, second]);
  assertEquals(settled, [1, 2], "the writes joined later are not written yet");
  assertEquals(target.writes.map((w) => w.bytes), [[1, 2, 3], [4, 5]]);

  target.writes[1].done.resolve();
  await Promise.all([third, fourth]);
  assertEquals(settled, [1, 2, 3, 4]);
  const fifth = sink.write(bytes(6));
  await Promise.resolve();
  assertEquals(target.writes.map((w) => w.bytes)[2], [6], "idle again: a write goes out at once");
  target.writes[2].done.resolve();
  await fifth;
});

Deno.test("CoalescingSink: a failed write rejects the writes it carried, later writes go on", async () => {
  let fail = true;
  const written: number[][] = [];
  const sink = new CoalescingSink({
    write(b) {
      if (fail) return Promise.reject(new Error("broken pipe"));
      written.push([...b]);
      return Promise.resolve();
    },
  });
  await assertRejects(() => sink.write(bytes(1)), Error, "broken pipe");
  fail = false;
  await sink.write(bytes(2));
  assertEquals(written, [[2]]);
});

Deno.test("CoalescingSink: flushed() waits for every earlier write, failed ones included", async () => {
  const target = gatedTarget();
  const sink = new CoalescingSink(target);
  const first = sink.write(bytes(1));
  await Promise.resolve();
  const second = sink.write(bytes(2)).catch(() => {});
  let flushed = false;
  const done = sink.flushed().then(() => flushed = true);
  target.writes[0].done.resolve();
  await first;
  await Promise.resolve();
  assertEquals(flushed, false, "the second batch is still in flight");
  target.writes[1].done.reject(new Error("broken pipe"));
  await Promise.all([second, done]);
  assertEquals(flushed, true);
  await sink.flushed(); // idle: at once
});
