/**
 * Secret masking for everything the CLI prints: its messages, the engine's errors and the engine's progress output.
 * Once packline has read a secret (the registry password), the value never reaches the terminal, nor do the forms a
 * registry, an engine or a docker config carry it in: `user:password`, their base64 (also inside a longer base64
 * text, such as an encoded config.json), URL- and JSON-escaped. Each becomes `***`.
 */
import { Writable } from "node:stream";

const MASK = "***";

export class SecretMask {
  private forms: string[] = [];

  /** Masks `value` and its derived forms from now on; with `username`, also `username:value` and its base64. */
  add(value: string, username?: string): void {
    if (value === "") return;
    const texts = [value, ...(username === undefined ? [] : [`${username}:${value}`])];
    const forms = new Set(this.forms);
    for (const text of texts) {
      forms.add(text);
      forms.add(encodeURIComponent(text));
      forms.add(JSON.stringify(text).slice(1, -1));
      for (const b of base64Forms(text)) forms.add(b);
    }
    forms.delete("");
    // Longest first, so that `user:password` goes whole rather than leaving `user:`.
    this.forms = [...forms].sort((a, b) => b.length - a.length);
  }

  get active(): boolean {
    return this.forms.length > 0;
  }

  apply(text: string): string {
    let out = text;
    for (const form of this.forms) out = out.split(form).join(MASK);
    return out;
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
 * The base64 of `text` as it appears at any position of a longer encoded text: at each of the three byte
 * alignments, the characters that encode only the text's own bits (standard and URL-safe alphabets).
 */
function base64Forms(text: string): string[] {
  const bytes = Buffer.from(text, "utf8");
  const forms: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
    const start = [0, 2, 3][offset]!;
    const end = Math.floor((offset + bytes.length) / 3) * 4;
    if (offset === 0) forms.push(encoded, encoded.replace(/=+$/, ""));
    const core = encoded.slice(start, end);
    // A core of a few characters would mask unrelated text; the whole encoding (offset 0) is always masked.
    if (core.length >= 8) forms.push(core);
  }
  for (const form of [...forms]) forms.push(form.replace(/\+/g, "-").replace(/\//g, "_"));
  return forms;
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
