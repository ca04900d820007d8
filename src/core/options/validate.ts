import { PacklineError, quote } from "./errors.js";
import { kubernetesName } from "./k8s-name.js";
import { parseImageReference, parseImageRepository, type ImageReference, type ImageRepository } from "./image-ref.js";
import { tagsFor, type TagSet } from "./tags.js";

/**
 * What a user may ask for, as the CLI flags and the Dagger arguments give it (same names, same meaning).
 * Everything is a string or a list of strings here; `validateOptions` turns it into `BuildOptions` or throws a
 * PacklineError that names the bad value and the fix.
 */
export interface BuildInput {
  readonly tag: string;
  /** True when the user passed a source directory of their own (not the default context directory). */
  readonly sourceGiven?: boolean;
  readonly repo?: string;
  readonly ref?: string;
  readonly image?: string;
  readonly builder?: string;
  readonly runImage?: string;
  readonly env?: readonly string[];
  readonly buildpacks?: readonly string[];
  readonly registryUsername?: string;
  /** Whether a registry password was given (its value never enters the options). */
  readonly registryPassword?: boolean;
  /** A stored docker config.json secret with the registry credentials (a Kubernetes Secret's name, in a cluster). */
  readonly registrySecret?: string;
  readonly cacheImage?: string;
  readonly clearCache?: boolean;
  readonly creationTime?: string;
  readonly floatingTags?: boolean;
  readonly latest?: boolean;
  readonly insecureRegistries?: readonly string[];
}

export const DEFAULT_BUILDER = "paketobuildpacks/builder-jammy-base";

/** `default`: the lifecycle's fixed 1980-01-01T00:00:01Z, so that the same source gives the same image digest. */
export type CreationTime =
  | { readonly kind: "default" }
  | { readonly kind: "now" }
  | { readonly kind: "unix"; readonly seconds: number }
  | { readonly kind: "commit" };

export type Source =
  | { readonly kind: "local" }
  | { readonly kind: "git"; readonly url: string; readonly ref: string };

export interface Buildpack {
  readonly id: string;
  readonly version: string;
}

export interface BuildOptions {
  readonly tags: TagSet;
  readonly source: Source;
  /** Undefined: publish to the registry that lives inside the Dagger engine (nothing leaves the machine). */
  readonly image?: ImageRepository;
  readonly builder: ImageReference;
  readonly runImage?: ImageReference;
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly buildpacks: readonly Buildpack[];
  readonly registryUsername?: string;
  readonly registrySecret?: string;
  readonly cacheImage?: ImageReference;
  readonly clearCache: boolean;
  readonly creationTime: CreationTime;
  readonly insecureRegistries: readonly string[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Buildpack ids as the buildpack spec allows them: letters, digits, ".", "-", "_", and "/" between components.
const BUILDPACK_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;
const BUILDPACK_VERSION = /^[A-Za-z0-9][A-Za-z0-9.+_-]*$/;
const REGISTRY_HOST = /^[A-Za-z0-9.-]+(?::[0-9]{1,5})?$/;

export function validateOptions(input: BuildInput): BuildOptions {
  const tags = tagsFor(input.tag, { floating: input.floatingTags, latest: input.latest });
  const source = parseSource(input, tags.version.input);
  const image = input.image === undefined || input.image === "" ? undefined : parseImageRepository(input.image);

  if (input.registrySecret && (input.registryPassword || input.registryUsername)) {
    throw new PacklineError(
      `--registry-secret ${quote(input.registrySecret)} and --registry-username/--registry-password were both given: a cluster build reads the credentials from the secret only; drop the username and password.`,
    );
  }
  if (input.registryPassword && !input.registryUsername) {
    throw new PacklineError(
      "--registry-password was given without --registry-username: add --registry-username <user> (for a token, the user name your registry expects with it).",
    );
  }
  if (input.registryUsername !== undefined && input.registryUsername !== "" && !input.registryPassword) {
    throw new PacklineError(
      `--registry-username ${quote(input.registryUsername)} was given without --registry-password: add --registry-password env:NAME (or file:PATH).`,
    );
  }
  if ((input.registryUsername || input.registrySecret) && image === undefined) {
    const flag = input.registrySecret ? "--registry-secret" : "--registry-username";
    throw new PacklineError(
      `${flag} needs --image: without --image the image goes to the registry inside the Dagger engine, which needs no login.`,
    );
  }
  const env = (input.env ?? []).map(parseEnvEntry);
  const seen = new Set<string>();
  for (const { name } of env) {
    if (seen.has(name)) throw new PacklineError(`--env ${name} was given twice: give each variable once.`);
    seen.add(name);
  }

  const creationTime = parseCreationTime(input.creationTime);
  if (creationTime.kind === "commit" && source.kind === "local") {
    throw new PacklineError(
      '--creation-time commit needs --repo: a local source reaches the build without its git history; pass the time instead, e.g. --creation-time "$(git log -1 --format=%ct)".',
    );
  }

  return {
    tags,
    source,
    image,
    builder: parseImageReference(input.builder || DEFAULT_BUILDER, "--builder"),
    runImage: input.runImage ? parseImageReference(input.runImage, "--run-image") : undefined,
    env,
    buildpacks: (input.buildpacks ?? []).map(parseBuildpack),
    registryUsername: input.registryUsername || undefined,
    registrySecret: input.registrySecret ? kubernetesName("--registry-secret", input.registrySecret) : undefined,
    cacheImage: input.cacheImage ? parseCacheImage(input.cacheImage) : undefined,
    clearCache: input.clearCache ?? false,
    creationTime,
    insecureRegistries: (input.insecureRegistries ?? []).map(parseInsecureRegistry),
  };
}

function parseSource(input: BuildInput, versionInput: string): Source {
  if (!input.repo) {
    if (input.ref) throw new PacklineError(`--ref ${quote(input.ref)} needs --repo: a ref selects what to clone.`);
    return { kind: "local" };
  }
  if (input.sourceGiven) {
    throw new PacklineError(
      `--repo ${quote(input.repo)} and --source were both given: build either a local directory (--source) or a cloned repository (--repo), not both.`,
    );
  }
  return { kind: "git", url: parseRepoUrl(input.repo), ref: parseGitRef(input.ref || versionInput) };
}

function parseRepoUrl(url: string): string {
  const trimmed = url.trim();
  const scp = /^[A-Za-z0-9_][A-Za-z0-9._-]*@[A-Za-z0-9][A-Za-z0-9.-]*:[^\s]+$/; // git@github.com:acme/app.git
  let ok = scp.test(trimmed);
  if (!ok) {
    try {
      const parsed = new URL(trimmed);
      ok = ["https:", "http:", "ssh:", "git:"].includes(parsed.protocol) && parsed.hostname !== "";
      if (ok && (parsed.password || (parsed.username && parsed.protocol.startsWith("http")))) {
        throw new PacklineError(
          `--repo has credentials in its URL: remove them (they would be printed and stored); for a private repository give a token as a secret instead.`,
        );
      }
    } catch (error) {
      if (error instanceof PacklineError) throw error;
      ok = false;
    }
  }
  if (!ok) {
    // Hide anything before an "@" after the scheme: it may be a password.
    const shown = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@\s]*@/i, "$1***@");
    throw new PacklineError(
      `--repo ${quote(shown)} is not a git URL: use https://host/owner/repo(.git), ssh://git@host/owner/repo or git@host:owner/repo.`,
    );
  }
  if (/[{}\s"'`\\]/.test(trimmed)) {
    throw new PacklineError(`--repo ${quote(url)} has braces, quotes, blanks or backslashes: percent-encode them (e.g. %7B for {).`);
  }
  return trimmed;
}

function parseGitRef(ref: string): string {
  // git check-ref-format's main rules, so that a typo fails here instead of after the clone started.
  // Braces are refused too: a ref is placed in cluster manifests, where "{{" would start an Argo expression.
  const bad = /(^[-/.])|\/\.|\.\.|[\s~^:?*[\\{}]|\/\/|\.lock$|\/$|\.$|^@$/;
  if (ref === "" || bad.test(ref) || [...ref].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127)) {
    throw new PacklineError(`--ref ${quote(ref)} is not a valid git ref: give a tag, branch or commit, e.g. v1.2.3, main or a commit SHA.`);
  }
  return ref;
}

export function parseEnvEntry(entry: string): { name: string; value: string } {
  const eq = entry.indexOf("=");
  if (eq === -1) {
    throw new PacklineError(`--env ${quote(entry)} has no "=": give KEY=VALUE, e.g. BP_NODE_VERSION=20.`);
  }
  const name = entry.slice(0, eq);
  if (!ENV_NAME.test(name)) {
    throw new PacklineError(
      `--env ${quote(entry)}: ${quote(name)} is not a valid variable name: use letters, digits and _, not starting with a digit (e.g. BP_NODE_VERSION=20).`,
    );
  }
  return { name, value: entry.slice(eq + 1) };
}

function parseBuildpack(entry: string): Buildpack {
  const at = entry.lastIndexOf("@");
  const id = at === -1 ? entry : entry.slice(0, at);
  const version = at === -1 ? "" : entry.slice(at + 1);
  if (/^[a-z]+:\/\//.test(entry) || entry.startsWith(".") || entry.startsWith("/")) {
    throw new PacklineError(
      `--buildpack ${quote(entry)}: the daemonless creator runs only buildpacks the builder contains; give id@version of one of them (see \`pack builder inspect <builder>\`), or use a builder that includes it.`,
    );
  }
  if (!BUILDPACK_ID.test(id) || version === "" || !BUILDPACK_VERSION.test(version)) {
    throw new PacklineError(
      `--buildpack ${quote(entry)} is not id@version: give a buildpack the builder contains with its version, e.g. paketo-buildpacks/nodejs@7.5.0.`,
    );
  }
  return { id, version };
}

export function parseCreationTime(value: string | undefined): CreationTime {
  if (value === undefined || value === "" || value === "default") return { kind: "default" };
  if (value === "now") return { kind: "now" };
  if (value === "commit") return { kind: "commit" };
  value = value.trim();
  if (value === "now") return { kind: "now" };
  if (value === "commit") return { kind: "commit" };
  if (/^[0-9]{1,11}$/.test(value)) return { kind: "unix", seconds: Number(value) };
  throw new PacklineError(
    `--creation-time ${quote(value)} is not understood: use now, commit (the source commit's time), or unix seconds such as 1700000000; leave it out for the reproducible default (1980-01-01T00:00:01Z).`,
  );
}

function parseCacheImage(value: string): ImageReference {
  const ref = parseImageReference(value, "--cache-image");
  if (ref.digest) {
    throw new PacklineError(`--cache-image ${quote(value)} has a digest, but the cache image is written to: give a repository and tag, e.g. registry.example.com/acme/app-cache:build.`);
  }
  return ref;
}

function parseInsecureRegistry(value: string): string {
  const port = /:([0-9]+)$/.exec(value)?.[1];
  if (!REGISTRY_HOST.test(value) || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
    throw new PacklineError(`--insecure-registry ${quote(value)} is not host[:port]: e.g. registry.local:5000.`);
  }
  return value;
}
