/**
 * Round-trip time and retransmission timeout estimator (spec §5.1, §5.2).
 *
 * @example
 * ```ts
 * const rtt = new RttEstimator();
 * rtt.sample(40);
 * rtt.rto; // milliseconds before an unacknowledged message is sent again
 * ```
 * @module
 */

/** Estimator constants from the reference client. */
export const RttConstants = {
  initialRtt: 100,
  initialRttVariation: 0,
  initialRto: 200,
  alpha: 1 / 8,
  beta: 1 / 4,
  clockGranularity: 10,
  maxRto: 1000,
} as const;

/** Smoothed RTT, RTT variation and the derived RTO, all in milliseconds. */
export class RttEstimator {
  rtt: number = RttConstants.initialRtt;
  rttVariation: number = RttConstants.initialRttVariation;
  rto: number = RttConstants.initialRto;

  /** Folds one measured round trip (ms) into the estimate. */
  sample(roundTrip: number): void {
    const r = Math.max(0, roundTrip);
    const { alpha, beta, clockGranularity, maxRto } = RttConstants;
    this.rttVariation = (1 - beta) * this.rttVariation + beta * Math.abs(this.rtt - r);
    this.rtt = (1 - alpha) * this.rtt + alpha * r;
    this.rto = Math.min(this.rtt + Math.max(clockGranularity, 4 * this.rttVariation), maxRto);
  }
}
