/**
 * Validated options -> the build plan. Pure: the same options give the same plan, whatever runs it.
 */
import { createHash } from "node:crypto";
import { PacklineError } from "../errors.js";
import { repositoryName } from "../git-url.js";
import { authKeyFor, type ImageRepository, isLocalRegistry, registryPort } from "../image-ref.js";
import type { BuildOptions } from "../options/validate.js";
import { VERSION_SHAPES, type VersionShape } from "../version.js";
import { ENGINE_REGISTRY, HOST_REGISTRY_ALIAS, PATHS, PLATFORM_API, REGISTRY_AUTH_SECRET, VOLUMES } from "./constants.js";
import { craneStep, registryAuthMounts } from "./crane-step.js";
import { creatorStep } from "./creator.js";
import { hostTunnelOf } from "./host-tunnel.js";
import { packStep } from "./pack.js";
import { pinEnv, pinLabels, pinOutputs, recheckEnv } from "./pin.js";
import { BUILD_INPUTS_LABEL, CHECK_SCRIPT, CLAIM_SECONDS, OUT, releaseScript } from "./scripts.js";
import { late, text } from "./text.js";
import type {
  BuildPlan,
  ContainerStep,
  EnvVar,
  ImagePlan,
  Label,
  PlanText,
  RegistryAuthPlan,
  SourcePlan,
  Variant,
  VersionPlan,
  Volume,
} from "./types.js";

export * from "./constants.js";
export type * from "./types.js";

export function planBuild(options: BuildOptions): BuildPlan {
  const image = imagePlan(options);
  const registryAuth = registryAuthPlan(options, image);
  const version = versionPlan(options);
  const variants = tagVariants(options, version);
  const source = sourcePlan(options);
  const revision: PlanText = options.revision !== undefined ? [options.revision] : source.kind === "git" ? [late("commit")] : [late("source-digest")];
  // The revision says what the image is built from; the build-inputs label, how (see scripts.ts, the check).
  const labels: Label[] = [
    { key: "org.opencontainers.image.version", value: versionText(version, "version") },
    { key: "org.opencontainers.image.revision", value: revision },
    ...(source.kind === "git" ? [{ key: "org.opencontainers.image.source", value: [source.url] }] : []),
  ];
  const volumes = volumesOf(options, registryAuth !== undefined);
  const { tunnel, reach } = hostTunnelOf(options); // the build reaches registries on the user's machine through it
  const build =
    options.executor === "pack" ? packStep(reach, image, registryAuth !== undefined) : creatorStep(reach, image, registryAuth !== undefined);
  const buildInputs = buildInputsOf(options);
  labels.push({ key: BUILD_INPUTS_LABEL, value: [buildInputs] }, ...pinLabels(options));
  const tags: PlanText = version.kind === "known" ? [variants[0]!.tags.map((t) => t.join("")).join(" ")] : [late("tags")];
  // Nothing is released into the registry inside the engine (it is a scratch space on one machine): a version there
  // may be built again from another revision. The check still finds a build of the same revision and reuses it.
  const overwrite = options.allowOverwrite || image.target.kind === "engine-registry";
  const context: StepContext = { image, registryAuth, revision, version, tags, buildInputs, reach };
  return {
    version,
    builder: options.builder.text,
    variants,
    image,
    ...(tunnel ? { hostTunnel: tunnel } : {}),
    source,
    registryAuth,
    creationTime: options.creationTime,
    revision,
    labels,
    buildUser: options.buildUser ? { kind: "given", ...options.buildUser } : { kind: "builder" },
    executor: options.executor,
    volumes,
    steps: {
      check: checkStep(context, overwrite),
      build,
      release: releaseStep(context, labels, overwrite),
    },
    // The build runs the builder and the run image the check pins (pin.ts), so it starts after the check. (Before the
    // pin, the build only pushed to the staging tag, which nothing trusts, and it started beside the check.)
    overlap: { checkBesideBuild: false },
  };
}

function imagePlan(options: BuildOptions): ImagePlan {
  const insecure = (registry: string) => options.insecureRegistries.includes(registry);
  if (!options.image) {
    const name = `${ENGINE_REGISTRY.alias}:${ENGINE_REGISTRY.port}/${engineRepositoryName(options)}`;
    return {
      name,
      address: name,
      registry: `${ENGINE_REGISTRY.alias}:${ENGINE_REGISTRY.port}`,
      target: { kind: "engine-registry", alias: ENGINE_REGISTRY.alias, port: ENGINE_REGISTRY.port },
      insecure: true,
    };
  }
  const repo: ImageRepository = options.image;
  if (options.runsOn === "engine" && isLocalRegistry(repo.registry)) {
    // Inside a container of the engine, localhost is the container: reach the user's registry through a tunnel.
    const port = registryPort(repo.registry) ?? 80;
    const address = `${HOST_REGISTRY_ALIAS}:${port}/${repo.path}`;
    return {
      name: repo.name,
      address,
      registry: repo.registry,
      target: { kind: "host-registry", alias: HOST_REGISTRY_ALIAS, port, hostPort: port },
      insecure: true,
    };
  }
  return {
    name: repo.name,
    address: repo.name,
    registry: repo.registry,
    target: { kind: "registry", registry: repo.registry },
    insecure: insecure(repo.registry),
  };
}

/** Without --image, name the repository after the cloned repository (`.../acme/app.git` -> `app`), else `app`. */
function engineRepositoryName(options: BuildOptions): string {
  if (options.source.kind !== "git") return ENGINE_REGISTRY.defaultRepository;
  // Keep only separators an image path allows (".", "_", "__", runs of "-"); anything else becomes "-".
  const name = repositoryName(options.source.repo.url)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, (sep) => (sep === "." || sep === "_" || sep === "__" || /^-+$/.test(sep) ? sep : "-"))
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  if (name === "") return ENGINE_REGISTRY.defaultRepository;
  // An image name has at most 255 characters (what --image allows): a longer one keeps its start and a digest of
  // the whole, so that two long names still differ.
  const max = 255 - `${ENGINE_REGISTRY.alias}:${ENGINE_REGISTRY.port}/`.length;
  if (name.length <= max) return name;
  const digest = createHash("sha256").update(name).digest("hex").slice(0, 12);
  return `${name.slice(0, max - digest.length - 1).replace(/[^a-z0-9]+$/, "")}-${digest}`;
}

function registryAuthPlan(options: BuildOptions, image: ImagePlan): RegistryAuthPlan | undefined {
  const auth = options.registryAuth;
  if (!auth || !options.image) return undefined;
  // The key the docker config holds the credentials under: the address the steps reach the registry at.
  const registry = image.target.kind === "host-registry" ? image.address.split("/")[0]! : authKeyFor(options.image);
  return auth.kind === "password"
    ? { kind: "password", registry, username: auth.username }
    : { kind: "docker-config-secret", registry, secretName: auth.secretName };
}

function versionPlan(options: BuildOptions): VersionPlan {
  const v = options.version;
  if (v.kind === "known") return { kind: "known", input: v.version.input, version: v.version.version, shape: v.version.shape };
  return { kind: "parameter", default: v.default?.input };
}

/** A part of the version: literal for a known version, a late value for a parameter. */
function versionText(version: VersionPlan, part: "tag" | "version" | "major" | "minor", known?: { major: string; minor: string }): PlanText {
  if (version.kind === "parameter") return [late(part)];
  if (part === "tag") return [version.input];
  if (part === "version") return [version.version];
  return [known![part]];
}

/**
 * The tag rule (README, "Tags"): the version tag always; with floating tags MAJOR.MINOR and MAJOR (no `0` for a
 * 0.x version, nothing for a prerelease); with latest, `latest` (never for a prerelease). For a parameter version,
 * one variant per shape whose tags differ; for a known version, the one variant of its shape.
 */
function tagVariants(options: BuildOptions, version: VersionPlan): Variant[] {
  const known = options.version.kind === "known" ? options.version.version : undefined;
  const part = (p: "version" | "major" | "minor") => versionText(version, p, known);
  const variantFor = (shape: VersionShape): Omit<Variant, "shapes"> => {
    const tags: PlanText[] = [part("version")];
    const notes: string[] = [];
    if (shape === "prerelease") {
      if (options.floatingTags) notes.push("floating tags skipped: a prerelease never moves them");
      if (options.latest) notes.push("latest skipped: a prerelease never moves it");
      return { tags, notes };
    }
    if (options.floatingTags) {
      tags.push(text(part("major"), ".", part("minor")));
      if (shape === "release") tags.push(part("major"));
      else notes.push('no "0" tag: a 0.x major version promises no compatibility');
    }
    if (options.latest) tags.push(["latest"]);
    return { tags, notes };
  };
  if (version.kind === "known") return [{ shapes: [version.shape], ...variantFor(version.shape) }];
  const variants: Variant[] = [];
  for (const shape of VERSION_SHAPES) {
    const v = variantFor(shape);
    const same = variants.find((existing) => JSON.stringify(existing.tags) === JSON.stringify(v.tags));
    if (same) (same.shapes as VersionShape[]).push(shape);
    else variants.push({ shapes: [shape], ...v });
  }
  return variants;
}

function sourcePlan(options: BuildOptions): SourcePlan {
  const source = options.source;
  if (source.kind === "local") return { kind: "local" };
  const ref = source.ref !== undefined ? [source.ref] : versionText(versionPlan(options), "tag");
  return { kind: "git", url: source.repo.url, ref, keepGitDir: false, submodules: true };
}

function volumesOf(options: BuildOptions, hasRegistryAuth: boolean): Volume[] {
  const owned = options.executor === "creator";
  const volumes: Volume[] = [
    { name: VOLUMES.source, kind: "source", ownedByBuildUser: owned },
    { name: VOLUMES.layers, kind: "scratch", ownedByBuildUser: owned },
    { name: VOLUMES.platform, kind: "scratch", ownedByBuildUser: false },
  ];
  if (!options.cacheImage && options.executor === "creator") {
    volumes.push({ name: VOLUMES.cache, kind: "cache", key: cacheKey(options), ownedByBuildUser: true });
  }
  if (hasRegistryAuth) volumes.push({ name: VOLUMES.registryAuth, kind: "secret", secret: REGISTRY_AUTH_SECRET, file: PATHS.dockerConfigFile });
  if (options.executor === "pack") volumes.push({ name: VOLUMES.dockerSocket, kind: "docker-socket", hostPath: "/var/run/docker.sock" });
  return volumes;
}

/** One cache per image repository: builds of one app share layers, different apps never mix. */
function cacheKey(options: BuildOptions): string {
  const repo = options.image?.name ?? `${ENGINE_REGISTRY.alias}:${ENGINE_REGISTRY.port}/${engineRepositoryName(options)}`;
  return `packline-buildpacks-cache-${repo}`;
}

interface StepContext {
  readonly image: ImagePlan;
  readonly registryAuth?: RegistryAuthPlan;
  readonly revision: PlanText;
  readonly version: VersionPlan;
  /** Every tag, space-separated: literal for a known version, else chosen by the version's shape when it runs. */
  readonly tags: PlanText;
  readonly buildInputs: string;
  /** The options as the steps reach the registries (host-tunnel.ts). */
  readonly reach: BuildOptions;
}

/** The env every registry step shares: what it talks to, and how. */
function registryEnv(ctx: StepContext, allowOverwrite: boolean): EnvVar[] {
  return [
    { name: "PACKLINE_IMAGE", value: [ctx.image.address] },
    { name: "PACKLINE_REGISTRY", value: [ctx.image.registry] },
    { name: "PACKLINE_VERSION", value: versionText(ctx.version, "version") },
    { name: "PACKLINE_REVISION", value: ctx.revision },
    { name: "PACKLINE_BUILD_INPUTS", value: [ctx.buildInputs] },
    { name: "PACKLINE_INSECURE", value: [String(ctx.image.insecure)] },
    { name: "PACKLINE_ALLOW_OVERWRITE", value: [String(allowOverwrite)] },
    // Unique per run, so that no backend answers a registry step from a cache of an earlier identical run.
    { name: "PACKLINE_RUN_ID", value: [late("run-id")] },
    ...(ctx.registryAuth ? [{ name: "DOCKER_CONFIG", value: [PATHS.dockerConfigDir] }] : []),
  ];
}

function checkStep(ctx: StepContext, allowOverwrite: boolean): ContainerStep {
  return craneStep(
    "check",
    CHECK_SCRIPT,
    [...registryEnv(ctx, allowOverwrite), ...pinEnv(ctx.reach)],
    registryAuthMounts(ctx.registryAuth !== undefined),
    [{ name: "outcome", path: OUT.outcome }, { name: "digest", path: OUT.digest }, ...pinOutputs()],
  );
}

function releaseStep(ctx: StepContext, labels: readonly Label[], allowOverwrite: boolean): ContainerStep {
  const labelEnv = labels.map((label, i) => ({ key: label.key, env: `PACKLINE_LABEL_${i}`, value: label.value }));
  // The registry inside the engine serves one machine's builds, which may overwrite each other anyway: no wait there.
  const claimSeconds = ctx.image.target.kind === "engine-registry" ? 0 : CLAIM_SECONDS;
  const env: EnvVar[] = [
    ...registryEnv(ctx, allowOverwrite),
    { name: "PACKLINE_TAGS", value: ctx.tags },
    { name: "PACKLINE_BUILD_REPORT", value: [late("build-report")] },
    { name: "PACKLINE_CLAIM_SECONDS", value: [String(claimSeconds)] },
    ...recheckEnv(ctx.reach),
    ...labelEnv.map((l) => ({ name: l.env, value: l.value })),
  ];
  return craneStep("release", releaseScript(labelEnv), env, registryAuthMounts(ctx.registryAuth !== undefined), [
    { name: "digest", path: OUT.digest },
  ]);
}

/** The tags of the variant that serves `shape`. */
export function variantFor(plan: BuildPlan, shape: VersionShape): Variant {
  const variant = plan.variants.find((v) => v.shapes.includes(shape));
  if (!variant) throw new PacklineError(`internal: no tags for a ${shape} version.`);
  return variant;
}

/** Where a step writes one of its outputs. */
export function outputPath(step: ContainerStep, name: string): string {
  const output = step.outputs.find((o) => o.name === name);
  if (!output) throw new PacklineError(`internal: step ${step.name} has no output ${name}.`);
  return output.path;
}

/**
 * A digest of what decides the image besides the source: the builder, the run image, the build-time env, the
 * buildpacks, the creation time (as asked: "now" is one input, not a new one each run), the Platform API and the
 * executor. Not the image's name, the cache or the registries' security: they change where and how fast an image is
 * made, not what it is. Not `--build-user` either: the user a build runs as is always the builder's own CNB user
 * (CNB_USER_ID:CNB_GROUP_ID), which the builder decides. The creator switches to that user, and a process that is not
 * root cannot switch to another (lifecycle's priv.RunAs: "exec as user ...: operation not permitted"), so a build
 * whose pod runs as anyone else fails before it makes an image. `--build-user` says how a cluster pod is set up
 * before any image is read; digesting its spelling gave a cluster build another label, hence another final digest,
 * than a laptop build of the same commit, and the release check refused it as "other build options" (issue 21).
 */
function buildInputsOf(options: BuildOptions): string {
  const inputs = {
    builder: options.builder.text,
    runImage: options.runImage?.text,
    env: options.env,
    buildpacks: options.buildpacks,
    creationTime: options.creationTime,
    platformApi: PLATFORM_API,
    executor: options.executor,
  };
  return `sha256:${createHash("sha256").update(JSON.stringify(inputs)).digest("hex")}`;
}
