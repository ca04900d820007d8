/**
 * An error caused by the user's input or environment, with a message that names the bad value and the fix.
 *
 * The CLI prints only the message (no stack) and exits non-zero; the Dagger function throws it, so `dagger call`
 * shows the same text.
 */
export class PacklineError extends Error {
  override readonly name = "PacklineError";
  constructor(message: string) {
    super(message);
  }
}

/** Quotes a user value for an error message so that empty strings and spaces stay visible. */
export function quote(value: string): string {
  return JSON.stringify(value);
}
