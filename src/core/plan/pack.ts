import { PacklineError, quote } from "./errors.js";
import { IMAGES } from "./images.js";
import type { BuildOptions } from "./options.js";
import { PATHS, type BuildPlan } from "./plan.js";
import type { ContainerStep, EnvVar } from "./plan-types.js";

/** Where the pack form reads its env file: pack's --env-file takes one KEY=VALUE a line. */
export const PACK_ENV_FILE = "/platform/env.list";
export const DOCKER_SOCKET = "/var/run/docker.sock";

/**
 * The article's form of the build step: `pack build --publish` against a Docker daemon. Offered for clusters that
 * already run it; it needs the node's Docker socket and a privileged container, so it is never the default.
 * It takes its tags, env, creation time and credentials from the same plan as the creator step.
 */
export function packStep(options: BuildOptions, plan: BuildPlan): ContainerStep {
  const [primary, ...extraTags] = plan.references;
  const sourceDateEpoch = plan.build.env.find((v) => v.name === "SOURCE_DATE_EPOCH");
  const args = [
    primary!,
    "--path",
    PATHS.workspace,
    "--builder",
    options.builder.text,
    "--publish",
    "--trust-builder",
    ...extraTags.flatMap((ref) => ["--tag", ref]),
    ...(options.runImage ? ["--run-image", options.runImage.text] : []),
    ...(options.cacheImage ? ["--cache-image", options.cacheImage.text] : []),
    ...(options.clearCache ? ["--clear-cache"] : []),
    ...options.buildpacks.flatMap((bp) => ["--buildpack", `${bp.id}@${bp.version}`]),
    ...(options.env.length > 0 ? ["--env-file", PACK_ENV_FILE] : []),
    ...options.insecureRegistries.flatMap((host) => ["--insecure-registry", host]),
    ...creationTimeArgs(sourceDateEpoch),
    "--report-output-dir",
    PATHS.layers,
  ];
  for (const { name, value } of options.env) {
    if (/[\r\n]/.test(value)) {
      throw new PacklineError(
        `--env ${name}: its value has a line break, which pack's --env-file cannot hold: use the default executor (creator), which writes each value to its own file.`,
      );
    }
  }
  const env: EnvVar[] = plan.build.env.filter((v) => v.name === "DOCKER_CONFIG" || v.name === "PACKLINE_RUN_ID");
  return {
    name: "pack-build",
    image: IMAGES.pack,
    user: "0",
    command: ["pack", "build"],
    args,
    env,
    files: options.env.length > 0 ? [{ path: PACK_ENV_FILE, contents: options.env.map((e) => `${e.name}=${e.value}\n`).join("") }] : [],
    mounts: [
      { kind: "source", path: PATHS.workspace, ownedByBuildUser: false },
      { kind: "scratch", path: PATHS.layers, ownedByBuildUser: false },
      { kind: "scratch", path: PATHS.platform, ownedByBuildUser: false },
      ...plan.build.mounts.filter((m) => m.kind === "secret"),
      { kind: "docker-socket", path: DOCKER_SOCKET },
    ],
    workdir: PATHS.workspace,
  };
}

/** pack takes the creation time as a flag; the creator as SOURCE_DATE_EPOCH. Both come from the plan's one value. */
function creationTimeArgs(variable: EnvVar | undefined): string[] {
  if (!variable) return [];
  if ("value" in variable) return ["--creation-time", variable.value];
  if (variable.runtime === "now") return ["--creation-time", "now"];
  if (variable.runtime === "commit-time") return ["--creation-time", RUNTIME_ARG_COMMIT_TIME];
  throw new PacklineError(`internal: SOURCE_DATE_EPOCH cannot be ${quote(variable.runtime)}.`);
}

/** Stands for the commit time in the pack step's arguments; the Argo exporter puts the clone's output there. */
export const RUNTIME_ARG_COMMIT_TIME = "<commit-time>";
