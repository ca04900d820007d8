import { PacklineError } from "./errors.js";

/**
 * Turns the lifecycle's output after a failed build into a message that names the registry and the cause.
 * Pure, so the same wording serves the Dagger runner, the CLI and the e2e tests.
 */
export function buildFailure(options: {
  readonly registry: string;
  readonly exitCode: number;
  readonly output: string;
  /** Values that must never be shown (secret plaintexts the caller knows of). */
  readonly redact?: readonly string[];
}): PacklineError {
  const output = redact(options.output, options.redact ?? []);
  const cause = classify(output, options.registry);
  const tail = output.trim().split("\n").slice(-15).join("\n");
  return new PacklineError(
    `the build failed (lifecycle creator exit code ${options.exitCode}); nothing new was tagged.\n` +
      `cause: ${cause}\n` +
      (tail ? `last lines of the lifecycle's output:\n${tail}` : ""),
  );
}

function classify(output: string, registry: string): string {
  if (/UNAUTHORIZED|unauthorized|authentication required|status code 401|\b401 Unauthorized/i.test(output)) {
    return `registry ${registry} refused the credentials: check --registry-username and --registry-password (or the registry secret).`;
  }
  if (/DENIED|requested access to the resource is denied|status code 403|\b403 Forbidden/i.test(output)) {
    return `registry ${registry} denied the push: the account may not write to this repository.`;
  }
  if (/no such host|connection refused|i\/o timeout|network is unreachable|dial tcp|TLS handshake timeout/i.test(output)) {
    return `registry ${registry} could not be reached: check the registry name and that it is running and reachable from the build.`;
  }
  if (/http: server gave HTTP response to HTTPS client/i.test(output)) {
    return `registry ${registry} speaks plain HTTP: add --insecure-registry ${registry} if that is intended.`;
  }
  if (/failed to find accessible run image/i.test(output)) {
    // The lifecycle drops the underlying error here (lifecycle 0.21 platform/run_image.go), so name both causes.
    return `the run image could not be read: registry ${registry} (or the run image's registry) refused the credentials or could not be reached: check --registry-username and --registry-password (or the registry secret), and that the registry is running and reachable from the build.`;
  }
  if (/No buildpack groups passed detection|ERROR: No buildpack/i.test(output)) {
    return "no buildpack of the builder recognised the source: check the source directory, or choose another --builder or --buildpack.";
  }
  return "see the lifecycle's output below.";
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join("***");
  }
  return out;
}
