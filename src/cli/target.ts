/**
 * Validates the target given on the command line before any AWS call.
 *
 * @example
 * ```ts
 * parseTarget("i-0123456789abcdef0"); // { id: "i-0123456789abcdef0", kind: "ec2" }
 * ```
 * @module
 */

import { SsmsshError } from "../errors.ts";

/** A validated Session Manager target. */
export interface Target {
  id: string;
  /** `ec2` instances support EC2 Instance Connect; `managed` (mi-) nodes do not. */
  kind: "ec2" | "managed";
}

const EC2_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const MANAGED_ID = /^mi-[0-9a-f]{17}$/;

/** Parses an instance id (`i-…`) or managed node id (`mi-…`). */
export function parseTarget(text: string): Target {
  const id = text.trim().toLowerCase();
  if (EC2_ID.test(id)) return { id, kind: "ec2" };
  if (MANAGED_ID.test(id)) return { id, kind: "managed" };
  throw new SsmsshError(
    "usage",
    `"${text}" is not an instance id`,
    "Use an EC2 instance id like i-0123456789abcdef0 or a managed node id like mi-0123456789abcdef0",
  );
}

/** Parses a TCP port number. */
export function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new SsmsshError(
      "usage",
      `"${text}" is not a port number`,
      "Use --port 1-65535 (default 22)",
    );
  }
  return port;
}
