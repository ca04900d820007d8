/**
 * Secret masking for everything the CLI prints: its messages, the engine's errors and the engine's progress output.
 * Once packline has read a secret (the registry password), the value never reaches the terminal, nor do the forms a
 * registry, an engine or a docker config carry it in: `user:password`, their base64 (also inside a longer base64
 * text, such as an encoded config.json), URL- and JSON-escaped (src/core/secret-forms.ts). Each becomes `***`,
 * however short.
 */
import { Writable } from "node:stream";
import { maskForms, secretForms } from "../core/secret-forms.js";

export class SecretMask {
  private forms: string[] = [];

  /** Masks `value` and its derived forms from now on; with `username`, also `username:value` and its base64. */
  add(value: string, username?: string): void {
    // Longest first, so that `user:password` goes whole rather than leaving `user:`.
    this.forms = [...new Set([...this.forms, ...secretForms(value, username)])].sort((a, b) => b.length - a.length);
  }

  get active(): boolean {
    return this.forms.length > 0;
  }

  apply(text: string): string {
    return maskForms(text, this.forms);
  }

  /** How much of the end of `text` could be the start of a form (to hold back until the next chunk shows). */
  pendingPrefix(text: string): number {
    let longest = 0;
    for (const form of this.forms) {
      for (let n = Math.min(form.length - 1, text.length); n > longest; n--) {
        if (text.endsWith(form.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}

/**
 * A stream that masks what it forwards. A chunk may end in the middle of a secret: that end is held back until
 * the next chunk (or flush) shows whether it is one.
 */
export class MaskingStream extends Writable {
  private held = "";
  constructor(
    private readonly target: NodeJS.WritableStream,
    private readonly mask: SecretMask,
  ) {
    super();
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const text = this.held + chunk.toString();
    if (!this.mask.active) {
      this.held = "";
      if (text !== "") this.target.write(text);
      callback();
      return;
    }
    const masked = this.mask.apply(text);
    const keep = this.mask.pendingPrefix(masked);
    this.held = masked.slice(masked.length - keep);
    const out = masked.slice(0, masked.length - keep);
    if (out !== "") this.target.write(out);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.flush();
    callback();
  }

  /** Writes what was held back (a text that turned out not to be a secret). */
  flush(): void {
    const held = this.held;
    this.held = "";
    if (held !== "") this.target.write(this.mask.apply(held));
  }
}

/** Commander quotes an unknown option as typed: `--registry-pasword=VALUE` would print the value. */
export function hideOptionValues(text: string): string {
  return text.replace(/(unknown option '-[^'=\s]*)=[^']*'/g, "$1=...'");
}
