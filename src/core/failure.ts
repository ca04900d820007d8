import { PacklineError } from "./errors.js";
import { maskForms, secretForms } from "./secret-forms.js";

/**
 * Turns a failed build's output into a message that names what failed and the fix. Pure, so the same wording
 * serves the Dagger backend, the CLI and the tests.
 */
export function buildFailure(options: {
  /** The registry the image goes to, as the user knows it. */
  readonly registry: string;
  /** The run image the user named, if any (else the builder's own). */
  readonly runImage?: string;
  readonly builder: string;
  readonly exitCode: number;
  readonly output: string;
  /** Values that must never be shown (secret plaintexts the caller knows of). */
  readonly redact?: readonly string[];
}): PacklineError {
  const output = redact(stripAnsi(options.output), options.redact ?? []);
  const cause = classify(output, options);
  const tail = output.trim().split("\n").slice(-15).join("\n");
  return new PacklineError(
    `the build failed (lifecycle creator exit code ${options.exitCode}); nothing new was tagged.\n` +
      `cause: ${cause}\n` +
      (tail ? `last lines of the lifecycle's output:\n${tail}` : ""),
  );
}

function classify(output: string, options: { registry: string; runImage?: string; builder: string }): string {
  const { registry } = options;
  // Checked first: the lifecycle reports an unreadable run image without the reason (lifecycle 0.21,
  // platform/run_image.go), so the advice must not guess at credentials.
  // "image has no layers": lifecycle 0.21's words when the run image named with -run-image does not exist.
  if (/failed to find accessible run image|failed to .*run image|failed to create new app image: image has no layers/i.test(output)) {
    const image = options.runImage ? `the run image ${options.runImage}` : `the run image named by the builder ${options.builder}`;
    return `${image} could not be read: check that it exists under that name, that the build can reach its registry (for a registry over plain HTTP or with a self-signed certificate add --insecure-registry <host:port>), and that it needs no login the build lacks.`;
  }
  if (/UNAUTHORIZED|authentication required|status code 401|\b401 Unauthorized/i.test(output)) {
    return `registry ${registry} refused the credentials: check --registry-username and --registry-password (or the registry secret).`;
  }
  if (/DENIED|requested access to the resource is denied|status code 403|\b403 Forbidden/i.test(output)) {
    return `registry ${registry} denied the push: the account may not write to this repository.`;
  }
  if (/http: server gave HTTP response to HTTPS client/i.test(output)) {
    return `a registry speaks plain HTTP: add --insecure-registry <host:port> for it (for ${registry}: --insecure-registry ${registry}) if that is intended.`;
  }
  if (/no such host|connection refused|i\/o timeout|network is unreachable|dial tcp|TLS handshake timeout/i.test(output)) {
    return `a registry could not be reached (${registry}, or the run image's): check the names, and that they run and are reachable from the build.`;
  }
  if (/No buildpack groups passed detection|ERROR: No buildpack/i.test(output)) {
    return "no buildpack of the builder recognised the source: check the source directory, or choose another --builder or --buildpack.";
  }
  return "see the lifecycle's output below.";
}

/** Terminal colour codes (a tool that ignores -no-color) have no place in a message. */
export function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape character is what is removed
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
}

/** `text` with every secret, and each of its forms (secret-forms.ts), masked: every one, however short. */
export function redact(text: string, secrets: readonly string[]): string {
  return maskForms(
    text,
    secrets.flatMap((secret) => secretForms(secret)),
  );
}
