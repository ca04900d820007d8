/**
 * The article's form of the build step: `pack build --publish` against the node's Docker daemon. Offered for clusters
 * that already run it; it needs the node's Docker socket and a privileged container, so it is never the default.
 * It takes its staging tag, env, creation time and credentials from the same options as the creator step.
 */
import { PacklineError } from "../errors.js";
import { IMAGES } from "../images.js";
import type { BuildOptions } from "../options/validate.js";
import { PATHS, STAGING_TAG, VOLUMES } from "./constants.js";
import { sourceDateEpochOf } from "./creator.js";
import { late } from "./text.js";
import type { ContainerStep, EnvVar, ImagePlan, Mount, PlanText } from "./types.js";

/** Where the pack form reads its env file: pack's --env-file takes one KEY=VALUE a line. */
export const PACK_ENV_FILE = "/platform/env.list";
export const DOCKER_SOCKET = "/var/run/docker.sock";

export function packStep(options: BuildOptions, image: ImagePlan, hasRegistryAuth: boolean): ContainerStep {
  for (const { name, value } of options.env) {
    if (/[\r\n]/.test(value)) {
      throw new PacklineError(
        `--env ${name}: its value has a line break, which pack's --env-file cannot hold: use the default executor (creator), which writes each value to its own file.`,
      );
    }
  }
  // pack takes the creation time as a flag (its own "now" included); the creator as SOURCE_DATE_EPOCH.
  const creationTime: PlanText | undefined = options.creationTime.kind === "now" ? ["now"] : sourceDateEpochOf(options);
  const literal = (...values: string[]): PlanText[] => values.map((v) => [v]);
  const args: PlanText[] = [
    ...literal(`${image.address}:${STAGING_TAG}`, "--path", PATHS.workspace, "--builder", options.builder.text, "--publish", "--trust-builder"),
    ...(options.runImage ? literal("--run-image", options.runImage.text) : []),
    ...(options.cacheImage ? literal("--cache-image", options.cacheImage.text) : []),
    ...(options.clearCache ? literal("--clear-cache") : []),
    ...options.buildpacks.flatMap((bp) => literal("--buildpack", `${bp.id}@${bp.version}`)),
    ...(options.env.length > 0 ? literal("--env-file", PACK_ENV_FILE) : []),
    ...options.insecureRegistries.flatMap((host) => literal("--insecure-registry", host)),
    ...(creationTime ? [["--creation-time"], creationTime] : []),
    ...literal("--report-output-dir", PATHS.layers, "--no-color"),
  ];
  const env: EnvVar[] = [{ name: "PACKLINE_RUN_ID", value: [late("run-id")] }];
  if (hasRegistryAuth) env.push({ name: "DOCKER_CONFIG", value: [PATHS.dockerConfigDir] });
  const mounts: Mount[] = [
    { volume: VOLUMES.source, path: PATHS.workspace },
    { volume: VOLUMES.layers, path: PATHS.layers },
    { volume: VOLUMES.platform, path: PATHS.platform },
    ...(hasRegistryAuth ? [{ volume: VOLUMES.registryAuth, path: PATHS.dockerConfigDir, readOnly: true }] : []),
    { volume: VOLUMES.dockerSocket, path: DOCKER_SOCKET },
  ];
  return {
    name: "build",
    image: [IMAGES.pack],
    user: { kind: "root" },
    privileged: true,
    command: [["pack"], ["build"]],
    args,
    env,
    files: options.env.length > 0 ? [{ path: PACK_ENV_FILE, contents: options.env.map((e) => `${e.name}=${e.value}\n`).join("") }] : [],
    mounts,
    workdir: PATHS.workspace,
    outputs: [{ name: "report", path: PATHS.report }],
  };
}
