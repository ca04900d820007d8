/**
 * Cluster options checked together (called from validate.ts): sizes no pod can run with, and two caches at once.
 */
import { PacklineError, quote } from "../errors.js";
import { parseQuantity } from "../quantity.js";
import type { CheckedInput } from "./input.js";
import type { BuildOptions } from "./validate.js";

/** Docker's minimum memory limit (6 MiB); a container runtime does not start a container with less. */
const MIN_MEMORY = 6 * 2 ** 20;
/** Less scratch space than this holds no build: the source and the lifecycle's layers go there. */
const MIN_WORKSPACE = 2 ** 20;

export function checkCluster(input: CheckedInput<"argo">, build: BuildOptions): void {
  if (input.cachePvc !== undefined && build.cacheImage !== undefined) {
    throw new PacklineError(
      `--cache-pvc ${quote(input.cachePvc)} and --cache-image ${quote(build.cacheImage.text)} were both given: the cache goes to one place; drop one of them.`,
    );
  }
  const bytes = (flag: string, value: string | undefined, least: number, leastText: string, example: string) => {
    if (value === undefined) return;
    const n = parseQuantity(flag, value, example);
    if (n <= 0) return; // "must be above zero", said by validate.ts
    if (!Number.isInteger(n)) {
      throw new PacklineError(`${flag} ${quote(value)} is ${n} bytes, not a whole number of bytes: give a size such as ${example}.`);
    }
    if (n < least)
      throw new PacklineError(`${flag} ${quote(value)} is ${n} bytes, less than any pod can run a build with (${leastText}): give e.g. ${example}.`);
  };
  bytes("--workspace-size", input.workspaceSize, MIN_WORKSPACE, "at least 1Mi of scratch space", "2Gi");
  bytes("--memory-request", input.memoryRequest, MIN_MEMORY, "at least 6Mi, the least a container runtime starts a container with", "1Gi");
  bytes("--memory-limit", input.memoryLimit, MIN_MEMORY, "at least 6Mi, the least a container runtime starts a container with", "2Gi");
  for (const [flag, value] of [
    ["--cpu-request", input.cpuRequest],
    ["--cpu-limit", input.cpuLimit],
  ] as const) {
    if (value === undefined) continue;
    const cores = parseQuantity(flag, value, "500m or 2");
    // Kubernetes refuses CPU finer than 1m.
    if (cores > 0 && Math.abs(cores * 1000 - Math.round(cores * 1000)) > 1e-9) {
      throw new PacklineError(`${flag} ${quote(value)} is finer than a millicore (1m), which Kubernetes refuses: give e.g. 500m or 2.`);
    }
  }
}
