/**
 * How much `--env` every backend takes: one limit for `build`, `plan` and `argo`, so that what runs on a laptop
 * also runs in the cluster.
 */
import { PacklineError } from "../errors.js";

/**
 * The most the `--env` values may hold together, in bytes. A cluster build carries them base64-encoded (4/3 of the
 * size) in its build pod's spec: each in one environment string of the `prepare` container, and all of them in the
 * template Argo hands every init container as one more environment string (ARGO_TEMPLATE). Linux refuses to start
 * a process with an environment string over 128 KiB ("argument list too long"). 64 KiB of values keep both under
 * it with room for the template's own text (test/backends/argo/env-size.test.ts starts those processes).
 */
export const MAX_ENV_BYTES = 64 * 1024;

export function checkEnvSize(env: readonly { readonly name: string; readonly value: string }[]): void {
  const total = env.reduce((sum, e) => sum + Buffer.byteLength(e.value, "utf8"), 0);
  if (total <= MAX_ENV_BYTES) return;
  throw new PacklineError(
    `--env values hold ${total} bytes together, over the ${MAX_ENV_BYTES} (64 KiB) packline takes with every command: a cluster build carries them in its pod's spec, where Linux limits an environment string to 128 KiB; keep large build configuration in the repository (a file the buildpacks read) instead.`,
  );
}
