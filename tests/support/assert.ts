/**
 * Minimal assertions (jsr:@std/assert is unreachable on our machines), built on node:assert.
 * @module
 */

import assert from "node:assert/strict";

/** Deep, strict equality. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  assert.deepStrictEqual(actual, expected, message);
}

/** Truthiness. */
export function assert_(condition: unknown, message?: string): asserts condition {
  assert.ok(condition, message);
}
export { assert_ as assert };

/** Asserts `fn` throws an instance of `ErrorClass` (and returns it). */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ErrorClass, `expected ${ErrorClass.name}, got ${error}`);
    if (includes) assert.ok(String(error.message).includes(includes), error.message);
    return error;
  }
  throw new assert.AssertionError({ message: `expected ${ErrorClass.name} to be thrown` });
}

/** Asserts the promise rejects with an instance of `ErrorClass` (and returns it). */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof ErrorClass, `expected ${ErrorClass.name}, got ${error}`);
    if (includes) assert.ok(String(error.message).includes(includes), error.message);
    return error;
  }
  throw new assert.AssertionError({ message: `expected ${ErrorClass.name} to be rejected` });
}

/** Substring check with a readable message. */
export function assertStringIncludes(actual: string, expected: string): void {
  assert.ok(
    actual.includes(expected),
    `expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`,
  );
}
