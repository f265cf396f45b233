/**
 * RTT/RTO arithmetic of spec §5.1/§5.2. All expected values are exact binary fractions, so the
 * comparisons are exact.
 * @module
 */

import { assertEquals } from "../support/assert.ts";
import { RttConstants, RttEstimator } from "../../src/datachannel/rtt_estimator.ts";

function state(e: RttEstimator): [number, number, number] {
  return [e.rtt, e.rttVariation, e.rto];
}

Deno.test("RttEstimator: constants follow the reference client (§5.1)", () => {
  assertEquals({ ...RttConstants }, {
    initialRtt: 100,
    initialRttVariation: 0,
    initialRto: 200,
    alpha: 1 / 8,
    beta: 1 / 4,
    clockGranularity: 10,
    maxRto: 1000,
  });
});

Deno.test("RttEstimator: starts at RTT 100, variation 0, RTO 200", () => {
  assertEquals(state(new RttEstimator()), [100, 0, 200]);
});

Deno.test("RttEstimator: one sample updates the variation from the OLD RTT", () => {
  const e = new RttEstimator();
  e.sample(40);
  // RTTVAR = 3/4*0 + 1/4*|100-40| = 15; RTT = 7/8*100 + 1/8*40 = 92.5; RTO = 92.5 + 4*15.
  assertEquals(state(e), [92.5, 15, 152.5]);
});

Deno.test("RttEstimator: successive samples fold in", () => {
  const e = new RttEstimator();
  e.sample(40);
  e.sample(100);
  // RTTVAR = 3/4*15 + 1/4*|92.5-100| = 13.125; RTT = 7/8*92.5 + 1/8*100 = 93.4375.
  assertEquals(state(e), [93.4375, 13.125, 93.4375 + 52.5]);
  e.sample(60);
  // RTTVAR = 3/4*13.125 + 1/4*33.4375 = 18.203125; RTT = 7/8*93.4375 + 7.5 = 89.2578125.
  assertEquals(state(e), [89.2578125, 18.203125, 89.2578125 + 72.8125]);
});

Deno.test("RttEstimator: the variance term is at least the 10 ms clock granularity", () => {
  const exact = new RttEstimator();
  exact.sample(100);
  assertEquals(state(exact), [100, 0, 110]);
  exact.sample(100);
  assertEquals(state(exact), [100, 0, 110]);

  const close = new RttEstimator();
  close.sample(101); // RTTVAR 0.25, so 4*RTTVAR = 1 < 10
  assertEquals(state(close), [100.125, 0.25, 110.125]);

  const boundary = new RttEstimator();
  boundary.sample(90); // RTTVAR 2.5, so 4*RTTVAR = 10 exactly
  assertEquals(state(boundary), [98.75, 2.5, 108.75]);
});

Deno.test("RttEstimator: RTO is capped at 1000 ms", () => {
  const e = new RttEstimator();
  e.sample(5000);
  // RTTVAR = 1225, RTT = 712.5; uncapped RTO would be 5612.5.
  assertEquals(state(e), [712.5, 1225, 1000]);
  for (let i = 0; i < 20; i++) e.sample(5000);
  assertEquals(e.rto, 1000);
});

Deno.test("RttEstimator: RTO falls back below the cap once samples shrink", () => {
  const e = new RttEstimator();
  e.sample(5000);
  for (let i = 0; i < 200; i++) e.sample(20);
  // RTT converges to 20 and RTTVAR to 0, so RTO tends to 20 + 10 (the granularity floor).
  assertEquals(Math.round(e.rtt * 1000) / 1000, 20);
  assertEquals(Math.round(e.rto * 1000) / 1000, 30);
});

Deno.test("RttEstimator: a negative sample (clock skew) counts as 0", () => {
  const e = new RttEstimator();
  e.sample(-50);
  // RTTVAR = 1/4*100 = 25; RTT = 87.5; RTO = 87.5 + 100.
  assertEquals(state(e), [87.5, 25, 187.5]);
});
