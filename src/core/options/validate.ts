/**
 * What the user asked for -> validated options, or a PacklineError that names the bad value and the fix.
 * The table's own checks (required, empty, enums, numbers) have run before (input.ts); this is what values mean.
 */
import { PacklineError, quote } from "../errors.js";
import { type GitUrl, parseGitRef, parseRepoUrl, repositoryName } from "../git-url.js";
import {
  type ImageReference,
  type ImageRepository,
  isLocalRegistry,
  parseImageReference,
  parseImageRepository,
  parseRegistryHost,
} from "../image-ref.js";
import { kubernetesName, suggestName } from "../k8s-name.js";
import type { CreationTime } from "../plan/types.js";
import { parseQuantity } from "../quantity.js";
import { parseVersion, type Version } from "../version.js";
import { checkClusterRepo, MAX_ARGO_NAME } from "./checks-argo.js";
import { checkCluster } from "./checks-cluster.js";
import { checkEnvSize } from "./checks-env.js";
import { checkImages } from "./checks-images.js";
import { checkRevisionName } from "./checks-revision.js";
import { parseBuildUser, parseCreationTime } from "./checks-time-user.js";
import { type CheckedInput, checkInput, type RawInput } from "./input.js";
import type { EXECUTORS, KINDS, POD_GC } from "./table.js";

export type VersionOption = { readonly kind: "known"; readonly version: Version } | { readonly kind: "parameter"; readonly default?: Version };

export type SourceOption = { readonly kind: "local" } | { readonly kind: "git"; readonly repo: GitUrl; readonly ref?: string };

export type RegistryAuthOption =
  | { readonly kind: "password"; readonly username: string }
  | { readonly kind: "docker-config-secret"; readonly secretName: string };

export interface Buildpack {
  readonly id: string;
  readonly version: string;
}

/** Where the build runs decides what a registry on "localhost" means. */
export type RunsOn = "engine" | "cluster";

export interface BuildOptions {
  readonly runsOn: RunsOn;
  readonly version: VersionOption;
  readonly floatingTags: boolean;
  readonly latest: boolean;
  readonly source: SourceOption;
  /** What the user says the local source is (a commit); undefined: the clone's commit, or the content's digest. */
  readonly revision?: string;
  /** Undefined: publish to the registry that lives inside the Dagger engine (nothing leaves the machine). */
  readonly image?: ImageRepository;
  readonly builder: ImageReference;
  readonly runImage?: ImageReference;
  readonly cacheImage?: ImageReference;
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly buildpacks: readonly Buildpack[];
  readonly registryAuth?: RegistryAuthOption;
  readonly clearCache: boolean;
  readonly creationTime: CreationTime;
  readonly insecureRegistries: readonly string[];
  readonly allowOverwrite: boolean;
  readonly buildUser?: { readonly uid: number; readonly gid: number };
  readonly executor: (typeof EXECUTORS)[number];
}

export interface ArgoOptions {
  readonly kind: (typeof KINDS)[number];
  readonly name: string;
  readonly namespace?: string;
  readonly serviceAccount?: string;
  readonly gitSecret?: string;
  readonly cachePvc?: string;
  readonly workspaceSize: string;
  readonly resources: { readonly requests: Readonly<Record<string, string>>; readonly limits: Readonly<Record<string, string>> };
  readonly retries: number;
  readonly deadlineSeconds?: number;
  readonly podGc: (typeof POD_GC)[number];
  readonly sbomArtifact: boolean;
  /** Things the user must know (printed on stderr), e.g. the pack executor's privileged pod. */
  readonly warnings: readonly string[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_FILE_NAME_BYTES = 255;
// Buildpack ids as the buildpack spec allows them: letters, digits, ".", "-", "_", and "/" between components.
const BUILDPACK_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;
const BUILDPACK_VERSION = /^[A-Za-z0-9][A-Za-z0-9.+_-]*$/;

export const PACK_WARNING =
  "--executor pack mounts the node's Docker socket into a privileged pod: every build, and everything it runs, can take over the node. Use it only where that is already accepted.";

/** `dagger call build`/`result`, `packline build` and `packline plan`. */
export function validateBuild(command: "build" | "plan", raw: RawInput<"build" | "plan">): BuildOptions {
  return buildOptions(checkInput(command, raw), "engine");
}

/** `dagger call argo` and `packline argo`: the build's options and the cluster's. */
export function validateArgo(raw: RawInput<"argo">): { readonly build: BuildOptions; readonly argo: ArgoOptions } {
  const input = checkInput("argo", raw);
  const build = buildOptions(input, "cluster");
  return { build, argo: argoOptions(input, build) };
}

/** Every command's checked input: the reads below are typed by the table (input.ts), so a misspelt name does not compile. */
type Input = CheckedInput<"build" | "plan" | "argo">;

function buildOptions(input: Input, runsOn: RunsOn): BuildOptions {
  const tag = input.tag;
  const version: VersionOption =
    runsOn === "cluster"
      ? { kind: "parameter", default: tag === undefined ? undefined : parseVersion(tag) }
      : { kind: "known", version: parseVersion(tag!) };
  const source = parseSource(input);
  const executor = input.executor ?? "creator";
  const image = input.image === undefined ? undefined : parseImageRepository(input.image);
  if (image && runsOn === "cluster" && isLocalRegistry(image.registry)) {
    throw new PacklineError(
      `--image ${quote(image.name)} is on "localhost", which inside a pod is the pod itself: give the registry's address as the cluster's nodes and pods reach it (kind and k3d name it, e.g. kind-registry:5000).`,
    );
  }

  const registryAuth = parseRegistryAuth(input, image);
  const env = input.env.map(parseEnvEntry);
  const seen = new Set<string>();
  for (const { name } of env) {
    if (seen.has(name)) throw new PacklineError(`--env ${name} was given twice: give each variable once.`);
    seen.add(name);
  }
  checkEnvSize(env);
  const creationTime = parseCreationTime(input.creationTime);
  if (creationTime.kind === "commit" && source.kind === "local") {
    throw new PacklineError(
      '--creation-time commit needs --repo: a local source reaches the build without its git history; pass the time instead, e.g. --creation-time "$(git log -1 --format=%ct)".',
    );
  }
  const revision = input.revision;
  if (revision !== undefined) {
    if (source.kind === "git")
      throw new PacklineError(`--revision ${quote(revision)} and --repo were both given: a clone's revision is its commit; drop --revision.`);
    checkRevisionName(revision);
  }
  const options: BuildOptions = {
    runsOn,
    version,
    revision,
    floatingTags: input.floatingTags,
    latest: input.latest,
    source,
    image,
    builder: parseImageReference(input.builder, "--builder"),
    runImage: input.runImage === undefined ? undefined : parseImageReference(input.runImage, "--run-image"),
    cacheImage: input.cacheImage === undefined ? undefined : parseCacheImage(input.cacheImage),
    env,
    buildpacks: input.buildpack.map(parseBuildpack),
    registryAuth,
    clearCache: input.clearCache,
    creationTime,
    insecureRegistries: input.insecureRegistry.map((v) => parseRegistryHost(v, "--insecure-registry")),
    allowOverwrite: input.allowOverwrite,
    buildUser: input.buildUser === undefined ? undefined : parseBuildUser(input.buildUser),
    executor,
  };
  checkImages(options);
  return options;
}

function parseSource(input: Input): SourceOption {
  const repo = input.repo;
  const ref = input.ref;
  if (repo === undefined) {
    if (ref !== undefined) throw new PacklineError(`--ref ${quote(ref)} needs --repo: a ref selects what to clone.`);
    return { kind: "local" };
  }
  if (input.source === true) {
    throw new PacklineError(
      `--repo ${quote(repo)} and --source were both given: build either a local directory (--source) or a cloned repository (--repo), not both.`,
    );
  }
  return { kind: "git", repo: parseRepoUrl(repo), ref: ref === undefined ? undefined : parseGitRef(ref) };
}

function parseRegistryAuth(input: Input, image: ImageRepository | undefined): RegistryAuthOption | undefined {
  const username = input.registryUsername;
  const password = input.registryPassword === true;
  const secret = input.registrySecret;
  if (password && username === undefined) {
    throw new PacklineError(
      "--registry-password was given without --registry-username: add --registry-username <user> (for a token, the user name your registry expects with it).",
    );
  }
  if (username !== undefined && !password) {
    throw new PacklineError("--registry-username was given without --registry-password: add --registry-password env:NAME (or file:PATH).");
  }
  if ((username !== undefined || secret !== undefined) && image === undefined) {
    const flag = secret !== undefined ? "--registry-secret" : "--registry-username";
    throw new PacklineError(`${flag} needs --image: without --image the image goes to the registry inside the Dagger engine, which needs no login.`);
  }
  if (secret !== undefined) return { kind: "docker-config-secret", secretName: kubernetesName("--registry-secret", secret) };
  if (username !== undefined) {
    if (/[\s:]/.test(username)) {
      // Not echoed: "user:token" is a password pasted into the user name.
      throw new PacklineError(
        '--registry-username has blanks or ":" (its value is not shown: it may hold a password): give the user name alone, and the password or token as --registry-password env:NAME (or file:PATH).',
      );
    }
    return { kind: "password", username };
  }
  return undefined;
}

export function parseEnvEntry(entry: string): { name: string; value: string } {
  const eq = entry.indexOf("=");
  // A value is never echoed (it may be a token); a name alone is.
  if (eq === -1) {
    const shown = ENV_NAME.test(entry) ? ` ${quote(entry)}` : " (a value, not shown: it may hold a secret)";
    throw new PacklineError(`--env${shown} has no "=": give KEY=VALUE, e.g. BP_NODE_VERSION=20.`);
  }
  const name = entry.slice(0, eq);
  if (!ENV_NAME.test(name)) {
    throw new PacklineError(
      `--env ${quote(name)}=...: ${quote(name)} is not a valid variable name: use letters, digits and _, not starting with a digit (e.g. BP_NODE_VERSION=20).`,
    );
  }
  if (Buffer.byteLength(name) > MAX_FILE_NAME_BYTES) {
    throw new PacklineError(
      `--env ${quote(name.slice(0, 20))}... has a name of ${Buffer.byteLength(name)} bytes: each variable becomes a file named after it, and file names have at most ${MAX_FILE_NAME_BYTES} bytes; shorten the name.`,
    );
  }
  return { name, value: entry.slice(eq + 1) };
}

function parseBuildpack(entry: string): Buildpack {
  if (/^[a-z]+:\/\//.test(entry) || entry.startsWith(".") || entry.startsWith("/")) {
    throw new PacklineError(
      `--buildpack ${quote(entry)}: the daemonless creator runs only buildpacks the builder contains; give id@version of one of them (see \`pack builder inspect <builder>\`), or use a builder that includes it.`,
    );
  }
  const at = entry.lastIndexOf("@");
  const id = at === -1 ? entry : entry.slice(0, at);
  const version = at === -1 ? "" : entry.slice(at + 1);
  if (!BUILDPACK_ID.test(id) || version === "" || !BUILDPACK_VERSION.test(version)) {
    throw new PacklineError(
      `--buildpack ${quote(entry)} is not id@version: give a buildpack the builder contains with its version, e.g. paketo-buildpacks/nodejs@7.5.0.`,
    );
  }
  return { id, version };
}

function parseCacheImage(value: string): ImageReference {
  const ref = parseImageReference(value, "--cache-image");
  if (ref.digest) {
    throw new PacklineError(
      `--cache-image ${quote(value)} has a digest, but the cache image is written to: give a repository and tag, e.g. registry.example.com/acme/app-cache:build.`,
    );
  }
  return ref;
}

function argoOptions(input: CheckedInput<"argo">, build: BuildOptions): ArgoOptions {
  const kind = input.kind;
  const source = build.source;
  if (source.kind !== "git")
    throw new PacklineError("argo needs --repo: a cluster build clones its source (a local directory cannot reach the cluster).");
  // The workflow a template or generateName makes is named <name>-xxxxx: see MAX_ARGO_NAME.
  const defaultName = suggestName(`packline-${repositoryName(source.repo.url)}`);
  const name = kubernetesName("--name", input.name ?? defaultName, { label: true, max: MAX_ARGO_NAME });
  const warnings: string[] = [];
  const gitSecret = input.gitSecret;
  checkClusterRepo(source.repo, gitSecret);
  if (gitSecret !== undefined) {
    if (source.repo.protocol === "git") {
      throw new PacklineError(
        `--git-secret ${quote(gitSecret)} holds a token for https, but --repo ${quote(source.repo.url)} is not an https URL: give the repository's https URL (e.g. https://github.com/acme/app.git) with a token in the Secret.`,
      );
    }
    if (source.repo.protocol === "http") {
      warnings.push(
        `--git-secret ${gitSecret}: the token goes to ${source.repo.url} over plain http, where anyone on the way can read it; use https.`,
      );
    }
  }
  if (build.executor === "pack") {
    // pack runs as root against the node's daemon: it has no build user, its cache is the daemon's, its SBOM its own.
    for (const [flag, given] of [
      ["--build-user", build.buildUser !== undefined],
      ["--cache-pvc", input.cachePvc !== undefined],
      ["--sbom-artifact", input.sbomArtifact],
    ] as const) {
      if (given)
        throw new PacklineError(
          `${flag} does not apply to --executor pack, which runs pack as root against the node's Docker daemon: drop it, or use the default executor (creator).`,
        );
    }
    warnings.push(PACK_WARNING);
  }

  const workspaceSize = input.workspaceSize;
  if (parseQuantity("--workspace-size", workspaceSize, "2Gi or 512Mi") <= 0) {
    throw new PacklineError(`--workspace-size ${quote(workspaceSize)} is not above zero: give the space a build needs, e.g. 2Gi.`);
  }
  const resources = { requests: {} as Record<string, string>, limits: {} as Record<string, string> };
  // Each quantity read by its name (no computed names), with the flags the messages give.
  for (const [resource, request, limit, example] of [
    ["cpu", input.cpuRequest, input.cpuLimit, "500m or 2"],
    ["memory", input.memoryRequest, input.memoryLimit, "512Mi or 2Gi"],
  ] as const) {
    const [requestFlag, limitFlag] = resource === "cpu" ? ["--cpu-request", "--cpu-limit"] : ["--memory-request", "--memory-limit"];
    const r = request === undefined ? undefined : parseQuantity(requestFlag, request, example);
    const l = limit === undefined ? undefined : parseQuantity(limitFlag, limit, example);
    if ((r !== undefined && r <= 0) || (l !== undefined && l <= 0)) {
      throw new PacklineError(`${r !== undefined && r <= 0 ? requestFlag : limitFlag} must be above zero: e.g. ${example}.`);
    }
    if (r !== undefined && l !== undefined && r > l) {
      throw new PacklineError(
        `${requestFlag} ${quote(request!)} is above ${limitFlag} ${quote(limit!)}, which Kubernetes refuses: make the request at most the limit.`,
      );
    }
    if (request !== undefined) resources.requests[resource] = request;
    if (limit !== undefined) resources.limits[resource] = limit;
  }
  checkCluster(input, build);
  const retries = input.retries;
  if (retries > 10) throw new PacklineError(`--retries ${retries} is more than 10: a step that fails 10 times will not pass on the 11th.`);
  const deadline = input.deadline;
  if (deadline !== undefined && (deadline < 1 || deadline > 7 * 24 * 3600)) {
    throw new PacklineError(`--deadline ${deadline} must be from 1 to ${7 * 24 * 3600} seconds (a week).`);
  }
  return {
    kind,
    name,
    namespace: input.namespace === undefined ? undefined : kubernetesName("--namespace", input.namespace, { label: true }),
    serviceAccount: input.serviceAccount === undefined ? undefined : kubernetesName("--service-account", input.serviceAccount),
    gitSecret: gitSecret === undefined ? undefined : kubernetesName("--git-secret", gitSecret),
    cachePvc: input.cachePvc === undefined ? undefined : kubernetesName("--cache-pvc", input.cachePvc),
    workspaceSize,
    resources,
    retries,
    deadlineSeconds: deadline,
    podGc: input.podGc,
    sbomArtifact: input.sbomArtifact,
    warnings,
  };
}
