/**
 * What a rebase is asked -> validated rebase options, or a PacklineError naming the bad value and the fix (README,
 * "Rebase"). A rebase needs far fewer options than a build: the version and repository it rebases, the run image
 * (default: the one the version records), the builder whose lifecycle runs the rebaser, and how to reach the registry.
 */
import { PacklineError, quote } from "../errors.js";
import {
  type ImageReference,
  type ImageRepository,
  isLocalRegistry,
  parseImageReference,
  parseImageRepository,
  parseRegistryHost,
} from "../image-ref.js";
import { kubernetesName } from "../k8s-name.js";
import { parseVersion, type Version } from "../version.js";
import { parseBuildUser } from "./checks-time-user.js";
import { DEFAULT_BUILDER } from "./table.js";
import type { RegistryAuthOption } from "./validate.js";

/** The rebase's input, as a front end (CLI, Dagger function, test) collects it. */
export interface RebaseInput {
  readonly tag?: string;
  readonly image?: string;
  readonly runImage?: string;
  readonly builder?: string;
  readonly registryUsername?: string;
  /** The password itself travels as a secret; here only whether one was given. */
  readonly registryPassword?: boolean;
  readonly registrySecret?: string;
  readonly insecureRegistry?: readonly string[];
  readonly buildUser?: string;
}

export interface RebaseOptions {
  readonly version: Version;
  readonly image: ImageRepository;
  /** Undefined: the run image the version records (its lifecycle metadata's runImage.image), looked up again. */
  readonly runImage?: ImageReference;
  readonly builder: ImageReference;
  readonly registryAuth?: RegistryAuthOption;
  readonly insecureRegistries: readonly string[];
  readonly buildUser?: { readonly uid: number; readonly gid: number };
}

export function validateRebase(input: RebaseInput): RebaseOptions {
  if (input.tag === undefined) throw new PacklineError("rebase needs --tag: the published version to rebase, e.g. --tag v1.2.3.");
  const version = parseVersion(input.tag);
  if (input.image === undefined) {
    throw new PacklineError("rebase needs --image: the repository that holds the version, e.g. --image registry.example.com/acme/app.");
  }
  const image = parseImageRepository(input.image);
  // A registry on the user's machine needs the engine's tunnel (packline build has one); the rebase has none yet.
  if (isLocalRegistry(image.registry)) {
    throw new PacklineError(
      `--image ${quote(image.name)} is on localhost, which a rebase cannot reach yet: give the registry's address as containers reach it (with --insecure-registry <host:port> for plain HTTP).`,
    );
  }
  const runImage = input.runImage === undefined ? undefined : parseImageReference(input.runImage, "--run-image");
  if (runImage && isLocalRegistry(runImage.repository.registry)) {
    throw new PacklineError(
      `--run-image ${quote(runImage.text)} is on localhost, which a rebase cannot reach yet: give the registry's address as containers reach it.`,
    );
  }
  return {
    version,
    image,
    runImage,
    builder: parseImageReference(input.builder ?? DEFAULT_BUILDER, "--builder"),
    registryAuth: registryAuth(input),
    insecureRegistries: (input.insecureRegistry ?? []).map((v) => parseRegistryHost(v, "--insecure-registry")),
    buildUser: input.buildUser === undefined ? undefined : parseBuildUser(input.buildUser),
  };
}

function registryAuth(input: RebaseInput): RegistryAuthOption | undefined {
  const { registryUsername: username, registrySecret: secret } = input;
  const password = input.registryPassword === true;
  if (password && username === undefined) {
    throw new PacklineError("--registry-password was given without --registry-username: add --registry-username <user>.");
  }
  if (username !== undefined && !password) {
    throw new PacklineError("--registry-username was given without --registry-password: add --registry-password env:NAME (or file:PATH).");
  }
  if (secret !== undefined && username !== undefined) {
    throw new PacklineError("--registry-secret and --registry-username were both given: a cluster reads a Secret, a laptop a password; give one.");
  }
  if (secret !== undefined) return { kind: "docker-config-secret", secretName: kubernetesName("--registry-secret", secret) };
  if (username === undefined) return undefined;
  if (/[\s:]/.test(username)) {
    // Not echoed: "user:token" is a password pasted into the user name.
    throw new PacklineError(
      '--registry-username has blanks or ":" (its value is not shown: it may hold a password): give the user name alone, and the password or token as --registry-password env:NAME (or file:PATH).',
    );
  }
  return { kind: "password", username };
}
