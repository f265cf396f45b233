/**
 * The test FakeClock itself: the DataChannel tests are only as good as their time source.
 * @module
 */

import { assertEquals } from "../support/assert.ts";
import { FakeClock } from "../support/fake_clock.ts";

Deno.test("FakeClock: fires due timers in time order, ties in scheduling order", () => {
  const clock = new FakeClock(1000);
  const log: string[] = [];
  clock.setTimeout(() => log.push(`c@${clock.now()}`), 30);
  clock.setTimeout(() => log.push(`a@${clock.now()}`), 10);
  clock.setTimeout(() => log.push(`b@${clock.now()}`), 10);
  clock.setTimeout(() => log.push(`late@${clock.now()}`), 31);
  clock.advance(30);
  assertEquals(log, ["a@1010", "b@1010", "c@1030"]);
  assertEquals([clock.now(), clock.pendingTimers], [1030, 1]);
  clock.advance(1);
  assertEquals(log.at(-1), "late@1031");
});

Deno.test("FakeClock: timers scheduled by timers fire within the same advance", () => {
  const clock = new FakeClock();
  const fired: number[] = [];
  const tick = () => {
    fired.push(clock.now());
    clock.setTimeout(tick, 100);
  };
  clock.setTimeout(tick, 100);
  clock.advance(350);
  assertEquals(fired, [100, 200, 300]);
  assertEquals([clock.now(), clock.pendingTimers], [350, 1]);
});

Deno.test("FakeClock: clearTimeout cancels; negative delays count as 0", () => {
  const clock = new FakeClock();
  const fired: string[] = [];
  const id = clock.setTimeout(() => fired.push("cancelled"), 5);
  clock.setTimeout(() => fired.push("now"), -10);
  clock.clearTimeout(id);
  clock.clearTimeout("unknown");
  clock.advance(0);
  assertEquals(fired, ["now"]);
  clock.advance(100);
  assertEquals([fired, clock.pendingTimers], [["now"], 0]);
});

Deno.test("FakeClock: advanceAsync settles promise chains between firings", async () => {
  const clock = new FakeClock();
  const log: string[] = [];
  clock.setTimeout(async () => {
    await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
    log.push(`settled@${clock.now()}`);
  }, 10);
  clock.setTimeout(() => log.push(`second@${clock.now()}`), 20);
  await clock.advanceAsync(20);
  assertEquals(log, ["settled@10", "second@20"]);
});
