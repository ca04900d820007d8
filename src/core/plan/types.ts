/**
 * The build plan: plain data that every backend executes or renders.
 *
 * The Dagger runner (src/dagger/) executes it and the Argo exporter (src/argo/) renders it. Neither decides anything
 * the plan does not say, so a laptop build and a cluster build of the same options run the same containers.
 */

/** A secret is carried by reference only: its value never enters a plan. */
export interface SecretRef {
  /** What the secret is for, e.g. "registry-password". Backends map it to their own secret source. */
  readonly name: string;
}

/**
 * An environment variable of a container: a literal value, or a value only known when the build runs.
 * Backends fill runtime values in their own way; the variable's name and meaning stay the plan's.
 */
export type EnvVar =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly runtime: RuntimeValue };

/**
 * - `now`: the unix time the build starts;
 * - `commit-time`: the unix time of the cloned commit, printed by the plan's `commitTime` step;
 * - `run-id`: an identifier unique to this run (Dagger: a fresh value per call; Argo: the workflow's uid).
 */
export type RuntimeValue = "now" | "commit-time" | "run-id";

/** A file a backend writes into the container before it starts (e.g. build-time env under the platform dir). */
export interface PlanFile {
  readonly path: string;
  readonly contents: string;
}

/**
 * A directory mounted into the build container.
 * - `source`: the application source (a local directory or the cloned repository);
 * - `cache`: the buildpacks cache, kept between builds under `key`;
 * - `scratch`: an empty directory for this build only;
 * - `secret`: one file holding a secret (e.g. a docker config.json with registry credentials), read-only;
 * - `docker-socket`: the node's Docker daemon socket (only the article's `pack` form uses it).
 * `ownedByBuildUser` means the directory must belong to the builder's CNB user (CNB_USER_ID:CNB_GROUP_ID of the
 * builder image) before the build starts, because the lifecycle drops to that user to run the buildpacks.
 */
export type Mount =
  | { readonly kind: "source"; readonly path: string; readonly ownedByBuildUser: boolean }
  | { readonly kind: "cache"; readonly path: string; readonly key: string; readonly ownedByBuildUser: boolean }
  | { readonly kind: "scratch"; readonly path: string; readonly ownedByBuildUser: boolean }
  | { readonly kind: "secret"; readonly path: string; readonly secret: SecretRef }
  | { readonly kind: "docker-socket"; readonly path: string };

/** One container run: everything a backend needs to start it, nothing it has to work out. */
export interface ContainerStep {
  readonly name: string;
  readonly image: string;
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly env: readonly EnvVar[];
  readonly files: readonly PlanFile[];
  readonly mounts: readonly Mount[];
  readonly workdir: string;
  /** The user the process starts as ("0" for the lifecycle creator, which drops privileges itself). */
  readonly user: string;
}

/** Where the application source comes from. */
export type SourcePlan =
  | { readonly kind: "local" }
  | { readonly kind: "git"; readonly url: string; readonly ref: string; readonly auth?: SecretRef };

/**
 * Registry credentials, by reference: a user name with a password secret (Dagger, the CLI), or a docker config.json
 * already stored as a secret (a Kubernetes `kubernetes.io/dockerconfigjson` Secret in a cluster).
 */
export type RegistryAuthPlan =
  | { readonly kind: "password"; readonly registry: string; readonly username: string; readonly password: SecretRef }
  | { readonly kind: "docker-config-secret"; readonly registry: string; readonly secretName: string };
