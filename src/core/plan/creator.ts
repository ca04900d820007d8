/**
 * The default build step: the builder image's lifecycle `creator`, which detects, builds and exports straight to
 * the registry, as `pack build --publish` does inside, and as Tekton and kpack run it: no Docker daemon, no
 * privilege, run as the builder's own CNB user.
 */

import type { BuildOptions } from "../options/validate.js";
import { PATHS, PLATFORM_API, STAGING_TAG, VOLUMES } from "./constants.js";
import { pinnedBuilder } from "./pin.js";
import { late } from "./text.js";
import type { ContainerStep, EnvVar, ImagePlan, Mount, PlanFile, PlanText } from "./types.js";

/**
 * The creator, started with umask 022 whatever the container's own: the lifecycle and the buildpacks make folders
 * with the umask, and the image records their modes. Dagger and Docker start processes with 022, but Argo's emissary
 * executor sets 0 before it starts a container's command (argoexec's AllowGrantingAccessToEveryone): without this,
 * a cluster build gives another image than a laptop build of the same commit.
 */
export const CREATOR_COMMAND = ["/bin/sh", "-c", 'umask 0022 && exec /cnb/lifecycle/creator "$@"', "creator"] as const;

/** Lifecycle exit codes a retry can fix: analyze (32), restore (42) and export (62) read and write registries. */
export const LIFECYCLE_TRANSIENT_EXIT_CODES = [32, 42, 62] as const;

export function creatorStep(options: BuildOptions, image: ImagePlan, hasRegistryAuth: boolean): ContainerStep {
  const insecure = [...options.insecureRegistries];
  const own = image.address.split("/")[0]!;
  if (image.insecure && !insecure.includes(own)) insecure.push(own);
  const args: PlanText[] = [
    `-app=${PATHS.workspace}`,
    `-layers=${PATHS.layers}`,
    `-platform=${PATHS.platform}`,
    options.cacheImage ? `-cache-image=${options.cacheImage.text}` : `-cache-dir=${PATHS.cache}`,
    ...(options.buildpacks.length > 0 ? [`-order=${PATHS.order}`] : []),
    ...(options.clearCache ? ["-skip-restore"] : []),
    ...insecure.map((host) => `-insecure-registry=${host}`),
    `-report=${PATHS.report}`,
    "-log-level=info",
    "-no-color",
    `${image.address}:${STAGING_TAG}`,
  ].map((arg) => [arg]);

  const env: EnvVar[] = [
    { name: "CNB_PLATFORM_API", value: [PLATFORM_API] },
    // Unique per run, so that no backend can answer a publish from a cache of an earlier identical run: a publish
    // must reach the registry every time. The lifecycle ignores this variable, and it never enters the image.
    { name: "PACKLINE_RUN_ID", value: [late("run-id")] },
    // The run image the check pinned (--run-image's or the builder's own, by digest): an env value, not -run-image,
    // so that a cluster pod's container reads it from the check's file like any other late value.
    { name: "CNB_RUN_IMAGE", value: [late("run-image")] },
  ];
  const sourceDateEpoch = sourceDateEpochOf(options);
  if (sourceDateEpoch) env.push({ name: "SOURCE_DATE_EPOCH", value: sourceDateEpoch });
  if (hasRegistryAuth) env.push({ name: "DOCKER_CONFIG", value: [PATHS.dockerConfigDir] });

  const files: PlanFile[] = options.env.map(({ name, value }) => ({ path: `${PATHS.platform}/env/${name}`, contents: value }));
  if (options.buildpacks.length > 0) files.push({ path: PATHS.order, contents: orderToml(options) });

  const mounts: Mount[] = [
    { volume: VOLUMES.source, path: PATHS.workspace },
    { volume: VOLUMES.layers, path: PATHS.layers },
    { volume: VOLUMES.platform, path: PATHS.platform },
  ];
  if (!options.cacheImage) mounts.push({ volume: VOLUMES.cache, path: PATHS.cache });
  if (hasRegistryAuth) mounts.push({ volume: VOLUMES.registryAuth, path: PATHS.dockerConfigDir, readOnly: true });

  return {
    name: "build",
    // By digest where the container is made after the check; a pod names its images before any of them runs, so
    // there the builder's tag, pulled every time, and the release checks the tag still names the pinned digest.
    ...(options.runsOn === "cluster" && options.builder.digest === undefined
      ? { image: [options.builder.text], pullAlways: true }
      : { image: pinnedBuilder(options) }),
    // The lifecycle switches users only when started as root; started as the builder's own CNB user it needs no
    // privilege at all, as long as the directories it writes belong to that user (the volumes say so).
    user: { kind: "build-user" },
    privileged: false,
    command: CREATOR_COMMAND.map((part) => [part]),
    args,
    env,
    files,
    mounts,
    workdir: PATHS.workspace,
    outputs: [
      { name: "report", path: PATHS.report },
      { name: "sbom", path: PATHS.sbom, directory: true },
    ],
    transientExitCodes: [...LIFECYCLE_TRANSIENT_EXIT_CODES],
  };
}

/** SOURCE_DATE_EPOCH: none for the lifecycle's own 1980 date, else unix seconds (fixed, or known when it runs). */
export function sourceDateEpochOf(options: BuildOptions): PlanText | undefined {
  switch (options.creationTime.kind) {
    case "default":
      return undefined;
    case "unix":
      return [String(options.creationTime.seconds)];
    case "now":
      return [late("now")];
    case "commit":
      return [late("commit-time")];
  }
}

/** A buildpacks order with one group: the buildpacks the user named, in their order (what `pack --buildpack` does). */
function orderToml(options: BuildOptions): string {
  const group = options.buildpacks.map((bp) => `[[order.group]]\nid = ${JSON.stringify(bp.id)}\nversion = ${JSON.stringify(bp.version)}\n`);
  return `[[order]]\n${group.join("\n")}`;
}
