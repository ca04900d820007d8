import { authKeyFor, withTag } from "./image-ref.js";
import { IMAGES } from "./images.js";
import { validateOptions, type BuildInput, type BuildOptions, type CreationTime } from "./options.js";
import type { ContainerStep, EnvVar, Mount, PlanFile, RegistryAuthPlan, SecretRef, SourcePlan } from "./plan-types.js";

export type * from "./plan-types.js";

/**
 * Platform API the creator is asked to speak: 0.13 is the lowest that has everything packline uses
 * (SOURCE_DATE_EPOCH needs 0.9, -insecure-registry 0.13); lifecycle 0.21 supports 0.7 to 0.15.
 */
export const PLATFORM_API = "0.13";

/** Where things live inside the build container. Every backend mounts exactly these. */
export const PATHS = {
  workspace: "/workspace",
  layers: "/layers",
  platform: "/platform",
  cache: "/cache",
  report: "/layers/report.toml",
  order: "/platform/order.toml",
  dockerConfigDir: "/packline/docker",
  dockerConfig: "/packline/docker/config.json",
} as const;

/** The registry that lives inside the Dagger engine, used when no --image is given. */
const ENGINE_REGISTRY_ALIAS = "registry";
const ENGINE_REGISTRY_PORT = 5000;
export const ENGINE_REGISTRY = {
  alias: ENGINE_REGISTRY_ALIAS,
  port: ENGINE_REGISTRY_PORT,
  /** The host the builder container reaches the service at: its binding alias and port. */
  host: `${ENGINE_REGISTRY_ALIAS}:${ENGINE_REGISTRY_PORT}`,
  image: IMAGES.registry,
  /** Cache volume that keeps the registry's storage between calls on one engine. */
  storageKey: "packline-registry-storage",
  storagePath: "/var/lib/registry",
  /** Repository name used there when the user gives none. */
  defaultRepository: "app",
} as const;

/** The secret the lifecycle reads registry credentials from: a docker config.json document. */
export const REGISTRY_AUTH_SECRET: SecretRef = { name: "registry-auth" };

export type PublishTarget =
  | { readonly kind: "engine-registry"; readonly host: string }
  | { readonly kind: "registry"; readonly registry: string };

export interface BuildPlan {
  /** The normalized version, e.g. `1.2.3`. */
  readonly version: string;
  /** Every tag published, the version tag first. */
  readonly tags: readonly string[];
  /** Things the user should know about the tags (e.g. floating tags skipped for a prerelease). */
  readonly notes: readonly string[];
  /** The image repository, e.g. `registry.example.com/acme/app`. */
  readonly image: string;
  /** `image:tag` for every tag, the version tag first. */
  readonly references: readonly string[];
  readonly publishTo: PublishTarget;
  readonly source: SourcePlan;
  readonly registryAuth?: RegistryAuthPlan;
  readonly creationTime: CreationTime;
  /** Reads the cloned commit's time (unix seconds) on stdout; present only for `--creation-time commit`. */
  readonly commitTime?: ContainerStep;
  /** The build: the builder image's lifecycle creator, which detects, builds and publishes. */
  readonly build: ContainerStep;
  /** Where the creator writes report.toml (the digest of what it published). */
  readonly reportPath: string;
}

/** Validates the user's input and returns the plan; throws PacklineError on bad input. */
export function planBuild(input: BuildInput): BuildPlan {
  return planFromOptions(validateOptions(input));
}

export function planFromOptions(options: BuildOptions): BuildPlan {
  const publishTo: PublishTarget = options.image
    ? { kind: "registry", registry: options.image.registry }
    : { kind: "engine-registry", host: ENGINE_REGISTRY.host };
  const image = options.image?.name ?? `${ENGINE_REGISTRY.host}/${defaultRepositoryName(options)}`;
  const references = options.tags.tags.map((tag) => (options.image ? withTag(options.image, tag) : `${image}:${tag}`));
  const registryAuth = registryAuthPlan(options);
  const source: SourcePlan =
    options.source.kind === "git" ? { kind: "git", url: options.source.url, ref: options.source.ref } : { kind: "local" };

  return {
    version: options.tags.version.version,
    tags: options.tags.tags,
    notes: options.tags.notes,
    image,
    references,
    publishTo,
    source,
    registryAuth,
    creationTime: options.creationTime,
    commitTime: options.creationTime.kind === "commit" ? commitTimeStep() : undefined,
    build: creatorStep(options, references, publishTo, registryAuth !== undefined),
    reportPath: PATHS.report,
  };
}

function registryAuthPlan(options: BuildOptions): RegistryAuthPlan | undefined {
  if (!options.image) return undefined;
  const registry = authKeyFor(options.image);
  if (options.registrySecret) return { kind: "docker-config-secret", registry, secretName: options.registrySecret };
  if (options.registryUsername) {
    return { kind: "password", registry, username: options.registryUsername, password: { name: "registry-password" } };
  }
  return undefined;
}

/** Without --image, name the repository after the cloned repository (`.../acme/app.git` -> `app`), else `app`. */
function defaultRepositoryName(options: BuildOptions): string {
  if (options.source.kind !== "git") return ENGINE_REGISTRY.defaultRepository;
  const last = options.source.url.replace(/\/+$/, "").replace(/\.git$/, "").split(/[/:]/).pop() ?? "";
  // Keep only separators an image path allows (".", "_", "__", runs of "-"); anything else becomes "-".
  const name = last
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, (sep) => (sep === "." || sep === "_" || sep === "__" || /^-+$/.test(sep) ? sep : "-"))
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  return name || ENGINE_REGISTRY.defaultRepository;
}

function creatorStep(
  options: BuildOptions,
  references: readonly string[],
  publishTo: PublishTarget,
  hasRegistryAuth: boolean,
): ContainerStep {
  const [primary, ...extraTags] = references;
  const insecure = [...options.insecureRegistries];
  if (publishTo.kind === "engine-registry") insecure.push(publishTo.host);

  const args = [
    `-app=${PATHS.workspace}`,
    `-layers=${PATHS.layers}`,
    `-platform=${PATHS.platform}`,
    options.cacheImage ? `-cache-image=${options.cacheImage.text}` : `-cache-dir=${PATHS.cache}`,
    ...(options.runImage ? [`-run-image=${options.runImage.text}`] : []),
    ...(options.buildpacks.length > 0 ? [`-order=${PATHS.order}`] : []),
    ...(options.clearCache ? ["-skip-restore"] : []),
    ...insecure.map((host) => `-insecure-registry=${host}`),
    `-report=${PATHS.report}`,
    "-log-level=info",
    ...extraTags.map((ref) => `-tag=${ref}`),
    primary!,
  ];

  const env: EnvVar[] = [
    { name: "CNB_PLATFORM_API", value: PLATFORM_API },
    // Unique per run, so that no backend can answer a publish from a cache of an earlier identical run: a publish
    // must reach the registry every time. The lifecycle ignores this variable, and it never enters the image.
    { name: "PACKLINE_RUN_ID", runtime: "run-id" },
  ];
  const sourceDateEpoch = sourceDateEpochVar(options.creationTime);
  if (sourceDateEpoch) env.push(sourceDateEpoch);
  if (hasRegistryAuth) env.push({ name: "DOCKER_CONFIG", value: PATHS.dockerConfigDir });

  const files: PlanFile[] = options.env.map(({ name, value }) => ({ path: `${PATHS.platform}/env/${name}`, contents: value }));
  if (options.buildpacks.length > 0) files.push({ path: PATHS.order, contents: orderToml(options) });

  const mounts: Mount[] = [
    { kind: "source", path: PATHS.workspace, ownedByBuildUser: true },
    { kind: "scratch", path: PATHS.layers, ownedByBuildUser: true },
    { kind: "scratch", path: PATHS.platform, ownedByBuildUser: false },
  ];
  if (!options.cacheImage) {
    mounts.push({ kind: "cache", path: PATHS.cache, key: cacheKey(references[0]!), ownedByBuildUser: true });
  }
  if (hasRegistryAuth) mounts.push({ kind: "secret", path: PATHS.dockerConfig, secret: REGISTRY_AUTH_SECRET });

  return {
    name: "build",
    image: options.builder.text,
    // Started as root, the creator prepares its directories and then drops to the builder's CNB user itself
    // (CNB_USER_ID/CNB_GROUP_ID of the builder image); started as another user it cannot (lifecycle#776).
    user: "0",
    command: ["/cnb/lifecycle/creator"],
    args,
    env,
    files,
    mounts,
    workdir: PATHS.workspace,
  };
}

function sourceDateEpochVar(creationTime: CreationTime): EnvVar | undefined {
  switch (creationTime.kind) {
    case "default":
      return undefined; // the lifecycle's reproducible 1980-01-01T00:00:01Z
    case "unix":
      return { name: "SOURCE_DATE_EPOCH", value: String(creationTime.seconds) };
    case "now":
      return { name: "SOURCE_DATE_EPOCH", runtime: "now" };
    case "commit":
      return { name: "SOURCE_DATE_EPOCH", runtime: "commit-time" };
  }
}

/** A buildpacks order with one group: the buildpacks the user named, in their order (what `pack --buildpack` does). */
function orderToml(options: BuildOptions): string {
  const group = options.buildpacks.map((bp) => `[[order.group]]\nid = ${JSON.stringify(bp.id)}\nversion = ${JSON.stringify(bp.version)}\n`);
  return `[[order]]\n${group.join("\n")}`;
}

/** One cache per image repository: builds of one app share layers, different apps never mix. */
function cacheKey(primaryReference: string): string {
  return `packline-buildpacks-cache-${primaryReference.slice(0, primaryReference.lastIndexOf(":"))}`;
}

function commitTimeStep(): ContainerStep {
  return {
    name: "commit-time",
    image: IMAGES.git,
    user: "0",
    command: ["git"],
    args: ["-c", `safe.directory=${PATHS.workspace}`, "log", "-1", "--format=%ct"],
    env: [],
    files: [],
    mounts: [{ kind: "source", path: PATHS.workspace, ownedByBuildUser: false }],
    workdir: PATHS.workspace,
  };
}
