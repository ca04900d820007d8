/**
 * Validated rebase options -> the rebase plan (README, "Rebase"). Pure, like planBuild: plain data that a backend
 * runs or renders, three container steps (check, rebase, release) with their images, users, commands, arguments, env,
 * volumes and secrets by reference. A rebase builds nothing: it needs no source, no cache and no platform files.
 */
import { authKeyFor } from "../image-ref.js";
import type { RebaseOptions } from "../options/rebase.js";
import { PATHS, PLATFORM_API, REGISTRY_AUTH_SECRET, STAGING_TAG, VOLUMES } from "./constants.js";
import { craneStep, registryAuthMounts } from "./crane-step.js";
import { REBASE_CHECK_SCRIPT, REBASE_OUT, REBASE_RELEASE_SCRIPT, REBASER, REBASER_SCRIPT } from "./rebase-scripts.js";
import { CLAIM_SECONDS } from "./scripts.js";
import { late } from "./text.js";
import type { BuildUserPlan, ContainerStep, EnvVar, ImagePlan, RegistryAuthPlan, Volume } from "./types.js";

/** A step of the rebase: a ContainerStep under its own name. */
export type RebaseStep = Omit<ContainerStep, "name"> & { readonly name: "check" | "rebase" | "release" };

/**
 * `check` refuses what may not be rebased and writes `outcome`: `current` (the version already stands on the run
 * image: `digest` is the result, nothing else runs) or `rebase` (claimed). `rebase` runs the lifecycle's rebaser to
 * the staging tag; `release` verifies the staged image against the version's, dates and labels it, and moves the
 * version tag and the floating tags that held the version's image.
 */
export interface RebaseSteps {
  readonly check: RebaseStep;
  readonly rebase: RebaseStep;
  readonly release: RebaseStep;
}

export interface RebasePlan {
  readonly kind: "rebase";
  readonly version: { readonly input: string; readonly version: string };
  readonly image: ImagePlan;
  readonly registryAuth?: RegistryAuthPlan;
  /** As given; undefined: the run image the version records, looked up again when the rebase runs. */
  readonly runImage?: string;
  /** The builder image whose lifecycle runs the rebaser. */
  readonly builder: string;
  readonly buildUser: BuildUserPlan;
  /** Tags that move with the version when they hold its image before the rebase (README, "Floating tags"). */
  readonly floatingTags: readonly string[];
  readonly volumes: readonly Volume[];
  readonly steps: RebaseSteps;
}

export function planRebase(options: RebaseOptions): RebasePlan {
  const repo = options.image;
  const insecureRegistries = [...options.insecureRegistries];
  const image: ImagePlan = {
    name: repo.name,
    address: repo.name,
    registry: repo.registry,
    target: { kind: "registry", registry: repo.registry },
    insecure: insecureRegistries.includes(repo.registry),
  };
  const registryAuth: RegistryAuthPlan | undefined =
    options.registryAuth === undefined
      ? undefined
      : options.registryAuth.kind === "password"
        ? { kind: "password", registry: authKeyFor(repo), username: options.registryAuth.username }
        : { kind: "docker-config-secret", registry: authKeyFor(repo), secretName: options.registryAuth.secretName };
  const hasAuth = registryAuth !== undefined;
  const volumes: Volume[] = [
    // Only the rebaser's report and log: the rebaser reads and writes registries, nothing else.
    { name: VOLUMES.layers, kind: "scratch", ownedByBuildUser: true },
    ...(hasAuth ? [{ name: VOLUMES.registryAuth, kind: "secret" as const, secret: REGISTRY_AUTH_SECRET, file: PATHS.dockerConfigFile }] : []),
  ];
  const authMounts = registryAuthMounts(hasAuth);
  const version = options.version;
  const runImage = options.runImage?.text;
  const common: EnvVar[] = [
    { name: "PACKLINE_IMAGE", value: [image.address] },
    { name: "PACKLINE_REGISTRY", value: [image.registry] },
    { name: "PACKLINE_VERSION", value: [version.version] },
    { name: "PACKLINE_INSECURE", value: [String(image.insecure)] },
    { name: "PACKLINE_INSECURE_REGISTRIES", value: [insecureRegistries.join(" ")] },
    { name: "PACKLINE_RUN_IMAGE", value: [runImage ?? ""] },
    // Unique per run: the claim names the run that holds it, and no backend may answer a step from a cache.
    { name: "PACKLINE_RUN_ID", value: [late("run-id")] },
    ...(hasAuth ? [{ name: "DOCKER_CONFIG", value: [PATHS.dockerConfigDir] }] : []),
  ];
  const crane = (name: "check" | "release", script: string, env: EnvVar[], outputs: RebaseStep["outputs"]): RebaseStep =>
    craneStep(name, script, env, authMounts, outputs);
  const insecureArgs = insecureRegistries.map((host) => `-insecure-registry=${host}`);
  const rebase: RebaseStep = {
    name: "rebase",
    image: [options.builder.text],
    // As the creator: the builder's own CNB user, so the lifecycle needs no privilege to drop (creator.ts).
    user: { kind: "build-user" },
    privileged: false,
    command: [[REBASER.sh], ["-c"], [REBASER_SCRIPT], ["rebaser"]],
    args: [
      `-previous-image=${image.address}:${version.version}`,
      ...(runImage !== undefined ? [`-run-image=${runImage}`] : []),
      ...insecureArgs,
      `-report=${PATHS.report}`,
      "-log-level=info",
      "-no-color",
      `${image.address}:${STAGING_TAG}`,
    ].map((arg) => [arg]),
    env: [
      { name: "CNB_PLATFORM_API", value: [PLATFORM_API] },
      { name: "PACKLINE_VERSION", value: [version.version] },
      { name: "PACKLINE_RUN_IMAGE", value: [runImage ?? ""] },
      { name: "PACKLINE_RUN_ID", value: [late("run-id")] },
      ...(hasAuth ? [{ name: "DOCKER_CONFIG", value: [PATHS.dockerConfigDir] }] : []),
    ],
    files: [],
    mounts: [{ volume: VOLUMES.layers, path: PATHS.layers }, ...authMounts],
    workdir: PATHS.layers,
    outputs: [{ name: "report", path: PATHS.report }],
  };
  return {
    kind: "rebase",
    version: { input: version.input, version: version.version },
    image,
    ...(registryAuth ? { registryAuth } : {}),
    ...(runImage !== undefined ? { runImage } : {}),
    builder: options.builder.text,
    buildUser: options.buildUser ? { kind: "given", ...options.buildUser } : { kind: "builder" },
    floatingTags: floatingTagsOf(version),
    volumes,
    steps: {
      check: crane("check", REBASE_CHECK_SCRIPT, common, [
        { name: "outcome", path: REBASE_OUT.outcome },
        { name: "digest", path: REBASE_OUT.digest },
      ]),
      rebase,
      release: crane(
        "release",
        REBASE_RELEASE_SCRIPT,
        [
          ...common,
          { name: "PACKLINE_BUILD_REPORT", value: [late("build-report")] },
          { name: "PACKLINE_CLAIM_SECONDS", value: [String(CLAIM_SECONDS)] },
          { name: "PACKLINE_FLOATING_TAGS", value: [floatingTagsOf(version).join(" ")] },
        ],
        [
          { name: "digest", path: REBASE_OUT.digest },
          { name: "moved", path: REBASE_OUT.moved },
        ],
      ),
    },
  };
}

/**
 * The tags that may hold this version's image besides its own (the tag rule, README "Tags"): MAJOR.MINOR and MAJOR
 * (no `0` for 0.x) and `latest`; none for a prerelease. Which of them move is decided when the rebase runs: only
 * those that hold the version's image then.
 */
export function floatingTagsOf(version: RebaseOptions["version"]): string[] {
  if (version.shape === "prerelease") return [];
  const tags = [`${version.major}.${version.minor}`];
  if (version.shape === "release") tags.push(version.major);
  tags.push("latest");
  return tags;
}
