/**
 * The forms a secret travels in, for masking (the CLI's SecretMask, the Dagger backend's redact): the value, and with
 * a user name `user:value`; each URL- and JSON-escaped and in base64 (also inside a longer base64 text, such as an
 * encoded config.json). Every form is masked however short: a secret of one to three characters makes a message
 * harder to read (each occurrence of it becomes ***), which is the price of never printing it; a short secret is
 * still the user's secret. (Skipping values under 4 characters, as the backend once did, printed them.)
 */

/** Every form of `value` (and of `username:value`), longest first, so that `user:password` goes whole. */
export function secretForms(value: string, username?: string): string[] {
  if (value === "") return [];
  const forms = new Set<string>();
  for (const text of [value, ...(username === undefined ? [] : [`${username}:${value}`])]) {
    forms.add(text);
    forms.add(encodeURIComponent(text));
    forms.add(JSON.stringify(text).slice(1, -1));
    for (const b of base64Forms(text)) forms.add(b);
  }
  forms.delete("");
  return [...forms].sort((a, b) => b.length - a.length);
}

/** `text` with every one of `forms` (longest first) replaced by `***`. */
export function maskForms(text: string, forms: readonly string[]): string {
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) out = out.split(form).join("***");
  return out;
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
