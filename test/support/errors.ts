import { expect } from "vitest";
import { PacklineError } from "../../src/core/errors.js";

/** Runs `fn`, requires it to throw a PacklineError, and returns that error for assertions on its message. */
export function packlineError(fn: () => unknown): PacklineError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PacklineError);
    return error as PacklineError;
  }
  throw new Error("expected a PacklineError, but nothing was thrown");
}
