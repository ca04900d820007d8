import { PacklineError } from "./errors.js";

/** What the lifecycle's report.toml says about the image it exported. */
export interface ExportReport {
  readonly digest: string;
}

/**
 * Reads `[image] digest` from report.toml. The lifecycle writes it in a fixed shape (`digest = "sha256:..."` under
 * `[image]`), so a full TOML parser is not worth a runtime dependency.
 */
export function parseReport(toml: string): ExportReport {
  const image = section(toml, "image");
  const digest = /^\s*digest\s*=\s*"(sha256:[a-f0-9]{64})"\s*$/m.exec(image)?.[1];
  if (!digest) {
    throw new PacklineError("the lifecycle's report.toml has no image digest, so nothing was confirmed as published: check the build log above.");
  }
  return { digest };
}

function section(toml: string, name: string): string {
  const lines = toml.split("\n");
  const start = lines.findIndex((line) => line.trim() === `[${name}]`);
  if (start === -1) return "";
  const end = lines.findIndex((line, i) => i > start && /^\s*\[/.test(line));
  return lines.slice(start + 1, end === -1 ? undefined : end).join("\n");
}

/** `repo:tag` + digest -> `repo:tag@sha256:...`, the form that pins what a tag pointed to. */
export function pinned(reference: string, digest: string): string {
  return `${reference}@${digest}`;
}
