/**
 * A registry step in the crane image's busybox sh (the build's check and release, the rebase's check and release):
 * one maker, so how such a step runs (its user, shell, workdir, which exit code a retry may fix) is decided once.
 */
import { CRANE, IMAGES } from "../images.js";
import { PATHS, VOLUMES } from "./constants.js";
import { EXIT } from "./scripts.js";
import type { ContainerStep, EnvVar, Mount } from "./types.js";

/** The registry credentials' mount (a Docker config), when the plan has any. */
export function registryAuthMounts(hasAuth: boolean): Mount[] {
  return hasAuth ? [{ volume: VOLUMES.registryAuth, path: PATHS.dockerConfigDir, readOnly: true }] : [];
}

export function craneStep<N extends "check" | "release">(
  name: N,
  script: string,
  env: EnvVar[],
  mounts: Mount[],
  outputs: ContainerStep["outputs"],
): Omit<ContainerStep, "name"> & { readonly name: N } {
  return {
    name,
    image: [IMAGES.crane],
    user: { kind: "tool-user" },
    privileged: false,
    command: [[CRANE.sh], ["-c"]],
    args: [[script]],
    env,
    files: [],
    mounts,
    workdir: "/",
    outputs,
    transientExitCodes: [EXIT.transient],
  };
}
