/** Assertions for client tests, on node:assert (no jsr imports). */
import * as nodeAssert from "node:assert/strict";

export function assert(value: unknown, message?: string): asserts value {
  nodeAssert.ok(value, message as string);
}

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message as string);
}

export function assertStringIncludes(text: string, part: string, message?: string): void {
  nodeAssert.ok(
    text.includes(part),
    message ?? `expected ${JSON.stringify(text)} to include ${JSON.stringify(part)}`,
  );
}

export function assertMatch(text: string, re: RegExp, message?: string): void {
  nodeAssert.match(text, re, message as string);
}

// deno-lint-ignore no-explicit-any
type Ctor<E> = new (...args: any[]) => E;

/** Awaits `fn`, expects it to reject with an instance of `type`, returns the error. */
export async function assertRejects<E extends Error>(
  fn: () => PromiseLike<unknown>,
  type: Ctor<E>,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    nodeAssert.ok(err instanceof type, `expected ${type.name}, got ${err}`);
    if (includes) assertStringIncludes((err as Error).message, includes);
    return err as E;
  }
  throw new Error(`expected a rejection with ${type.name}`);
}

/** Calls `fn`, expects it to throw an instance of `type`, returns the error. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  type: Ctor<E>,
  includes?: string,
): E {
  try {
    fn();
  } catch (err) {
    nodeAssert.ok(err instanceof type, `expected ${type.name}, got ${err}`);
    if (includes) assertStringIncludes((err as Error).message, includes);
    return err as E;
  }
  throw new Error(`expected ${type.name} to be thrown`);
}
