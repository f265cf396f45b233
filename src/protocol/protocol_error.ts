/**
 * The error the pure protocol layer throws for bytes or values it cannot accept.
 * @module
 */

/** A frame or payload that does not follow the data-channel protocol. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
}
