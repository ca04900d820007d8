/**
 * The build plan: plain data that every backend renders or runs.
 *
 * The Dagger backend (src/backends/dagger/) runs it, the Argo backend (src/backends/argo/) renders it as a
 * workflow, the text backend (src/backends/text/) prints it. None of them decides anything the plan does not say,
 * so a laptop build and a cluster build of the same options run the same containers with the same arguments.
 */
import type { VersionShape } from "../version.js";

/**
 * A value the plan cannot hold when it is made, because it is known only when the build runs. Each backend supplies
 * it in its own way (Dagger: while it runs; Argo: a workflow parameter, a step output or one of Argo's variables).
 * - `tag`, `version`, `major`, `minor`: the version as given, normalized, and its parts, when the version is a
 *   parameter supplied at submit time (a cluster run); a plan made with a known version holds them as text;
 * - `now`: unix seconds when the build starts (Argo: when the workflow was created);
 * - `commit`, `commit-time`: the cloned commit's SHA and its committer time (unix seconds);
 * - `source-digest`: a content digest of a local source directory (the revision of a build that has no commit);
 * - `run-id`: unique per run;
 * - `tags`: the version's tags, space-separated (which tags depends on the version's shape: see Variant);
 * - `build-report`: the report.toml the build step wrote (what it pushed), read by the release step;
 * - `builder-digest`, `run-image`, `lifecycle-version`: what the check pins once per run (pin.ts): the digest the
 *   builder's name resolves to, the run image as `name[:tag]@sha256:...` (--run-image's, else the builder's own), and
 *   the version of the lifecycle the builder ships.
 */
export type Late =
  | "tag"
  | "version"
  | "major"
  | "minor"
  | "tags"
  | "now"
  | "commit"
  | "commit-time"
  | "source-digest"
  | "run-id"
  | "build-report"
  | "builder-digest"
  | "run-image"
  | "lifecycle-version";
export interface LatePart {
  readonly late: Late;
}
/** Text made of literal parts and late values, e.g. `["registry.example.com/app:", {late: "version"}]`. */
export type PlanText = readonly (string | LatePart)[];

/** A secret is carried by reference only: its value never enters a plan. */
export interface SecretRef {
  /** What the secret is, e.g. "registry-auth" (a docker config.json). Backends map it to their own secret store. */
  readonly name: string;
}

/**
 * A volume the steps share, and how long it lives:
 * - `source`: the application source, filled from the local directory or by the clone (never holding `.git`);
 * - `scratch`: empty at the start of the build, gone after it;
 * - `cache`: kept between builds under `key` (Dagger: a cache volume; Argo: a PersistentVolumeClaim if the user
 *   names one, else nothing is kept);
 * - `secret`: files holding a secret (read-only);
 * - `docker-socket`: the node's Docker daemon socket (only the article's `pack` form mounts it).
 * `ownedByBuildUser`: the directory must belong to the build user before the build starts, because the lifecycle
 * writes it as that user.
 */
export type Volume =
  | { readonly name: string; readonly kind: "source"; readonly ownedByBuildUser: boolean }
  | { readonly name: string; readonly kind: "scratch"; readonly ownedByBuildUser: boolean }
  | { readonly name: string; readonly kind: "cache"; readonly key: string; readonly ownedByBuildUser: boolean }
  | { readonly name: string; readonly kind: "secret"; readonly secret: SecretRef; readonly file: string }
  | { readonly name: string; readonly kind: "docker-socket"; readonly hostPath: string };

export interface Mount {
  readonly volume: string;
  readonly path: string;
  readonly readOnly?: boolean;
}

/**
 * Who a step runs as:
 * - `build-user`: the builder's own CNB user (CNB_USER_ID:CNB_GROUP_ID of the builder image), or the uid:gid the
 *   user gave; the lifecycle runs as that user, so files and volumes it writes belong to it;
 * - `tool-user`: an unprivileged user for helper images (`65532`, "nonroot");
 * - `root`: only the article's privileged `pack` form.
 */
export type StepUser = { readonly kind: "build-user" } | { readonly kind: "tool-user" } | { readonly kind: "root" };

export interface EnvVar {
  readonly name: string;
  readonly value: PlanText;
}

/** A file a backend writes before the step starts (build-time env under the platform dir, order.toml). */
export interface PlanFile {
  readonly path: string;
  readonly contents: string;
}

/** A file (or directory) a step writes that later steps or the build's result read (e.g. the digest). */
export interface StepOutput {
  readonly name: string;
  readonly path: string;
  readonly directory?: boolean;
  /** The late value this file holds for the later steps (the check's pins), read once the step has run. */
  readonly late?: Late;
}

/**
 * One container run: everything a backend needs to start it, nothing it has to work out.
 * `privileged` is the step's own property (the `pack` form needs the node's Docker daemon); backends do not infer
 * it from mounts. `transientExitCodes`: the exit codes after which a retry can fix the failure (network, registry
 * 5xx); a step without them fails at once.
 */
export interface ContainerStep {
  readonly name: "check" | "build" | "release";
  /** The image: literal, or pinned by a late value (the build's builder by the digest the check resolved). */
  readonly image: PlanText;
  /**
   * The image is named by a tag the check pinned, because the backend names it before the check runs (a Kubernetes
   * pod's images are in its spec): pull it every time, so that a node's copy of an older image under that tag never
   * runs; the release checks that the tag still names the pinned digest (pin.ts).
   */
  readonly pullAlways?: boolean;
  readonly user: StepUser;
  readonly privileged: boolean;
  readonly command: readonly PlanText[];
  readonly args: readonly PlanText[];
  readonly env: readonly EnvVar[];
  readonly files: readonly PlanFile[];
  readonly mounts: readonly Mount[];
  readonly workdir: string;
  readonly outputs: readonly StepOutput[];
  /** Exit codes after which a retry can help; absent: the step is not retried. */
  readonly transientExitCodes?: readonly number[];
}

/** Where the application source comes from. */
export type SourcePlan =
  | { readonly kind: "local" }
  | {
      readonly kind: "git";
      readonly url: string;
      /** The tag, branch or commit to clone. */
      readonly ref: PlanText;
      /** The tree the build sees: the checkout without `.git`, submodules included (shallow). */
      readonly keepGitDir: false;
      readonly submodules: true;
    };

/** The version: known when the plan is made, or a parameter supplied when a cluster run is submitted. */
export type VersionPlan =
  | { readonly kind: "known"; readonly input: string; readonly version: string; readonly shape: VersionShape }
  | { readonly kind: "parameter"; readonly default?: string };

/** The tags of one shape of version; a plan with a known version has one variant. */
export interface Variant {
  readonly shapes: readonly VersionShape[];
  /** Every tag to publish, the version tag first. */
  readonly tags: readonly PlanText[];
  /** Why a requested tag is not there (e.g. floating tags for a prerelease). */
  readonly notes: readonly string[];
}

/**
 * Where the image goes:
 * - `registry`: a registry the build reaches by name;
 * - `engine-registry`: the registry that lives inside the Dagger engine (no --image: nothing leaves the machine);
 * - `host-registry`: a registry on the user's own machine (`localhost:5000`), reached through a tunnel from the
 *   engine; `address` is where the build containers reach it, `name` the name the user gave.
 */
export type Target =
  | { readonly kind: "registry"; readonly registry: string }
  | { readonly kind: "engine-registry"; readonly alias: string; readonly port: number }
  | { readonly kind: "host-registry"; readonly alias: string; readonly port: number; readonly hostPort: number };

export interface ImagePlan {
  /** The repository as the user names it, e.g. `registry.example.com/acme/app`. */
  readonly name: string;
  /** The repository as the build containers reach it (differs only for a registry on the user's machine). */
  readonly address: string;
  readonly registry: string;
  readonly target: Target;
  /** Reached over plain HTTP or with an untrusted certificate. */
  readonly insecure: boolean;
}

/** Registry credentials, by reference: a docker config.json secret mounted for the steps that talk to the registry. */
export type RegistryAuthPlan =
  | { readonly kind: "password"; readonly registry: string; readonly username: string }
  | { readonly kind: "docker-config-secret"; readonly registry: string; readonly secretName: string };

export interface Label {
  readonly key: string;
  readonly value: PlanText;
}

/**
 * The build user: the builder image's own CNB user (read from its CNB_USER_ID/CNB_GROUP_ID by the backend that runs
 * it), or ids the user gave (a cluster manifest needs numbers before any image is read).
 */
export type BuildUserPlan = { readonly kind: "builder" } | { readonly kind: "given"; readonly uid: number; readonly gid: number };

/** When the image says it was made (SOURCE_DATE_EPOCH); `default` keeps the lifecycle's fixed 1980-01-01T00:00:01Z. */
export type CreationTime =
  | { readonly kind: "default" }
  | { readonly kind: "now" }
  | { readonly kind: "unix"; readonly seconds: number }
  | { readonly kind: "commit" };

/**
 * The steps, in this order (the build may overlap the check: see Overlap). `check` looks up the version's tag in the
 * target registry and writes `outcome`: `unpublished` (go on), or `published` (the same revision with the same build
 * options is there already: `build` and `release` are skipped, or the build discarded, and the existing `digest` is
 * the result). `build` runs the lifecycle (or pack), pushing to
 * the staging tag; `release` checks the version tag again, labels the staged image, points every tag at it and writes
 * the final `digest`.
 */
export interface Steps {
  readonly check: ContainerStep;
  readonly build: ContainerStep;
  readonly release: ContainerStep;
}

/**
 * Which steps may run at the same time; a backend never overlaps steps this does not allow, and one that runs every
 * step after the previous (Argo's init containers) is correct whatever it says.
 * `checkBesideBuild`: the build may start with the check rather than after it, so that the check (and the claim's
 * wait, README "Two builds of one version") costs nothing on top of the build. The check's word still decides:
 * the release starts only after the check said `unpublished`; `published`: the build is discarded and the existing
 * digest is the result; a failed check: the build is discarded and the check's message and exit code are the
 * result, with nothing tagged. A discarded build may have pushed to the staging tag, which no guarantee rests on
 * (the release tags the digest the build reported, never the staging tag).
 */
export interface Overlap {
  readonly checkBesideBuild: boolean;
}

/**
 * The tunnel from the Dagger engine to registries on the user's own machine (`--image`, `--run-image` or
 * `--cache-image` on localhost, however spelt): the build containers reach `host:port` as `alias:port`.
 */
export interface HostTunnel {
  readonly alias: string;
  /** The host the tunnel's far end connects to on the user's machine, as the user named it (`localhost`, `127.0.0.2`). */
  readonly host: string;
  readonly ports: readonly number[];
}

export interface BuildPlan {
  readonly version: VersionPlan;
  /**
   * The builder as named (--builder), before the check pins it: what the builder's CNB user is read from beside the
   * check (the build itself runs the image its step names).
   */
  readonly builder: string;
  /** One per shape of version with its own tag list (one, with a known version). */
  readonly variants: readonly Variant[];
  readonly image: ImagePlan;
  /** Present when a registry the build uses is on the user's machine (packline build only: a cluster refuses it). */
  readonly hostTunnel?: HostTunnel;
  readonly source: SourcePlan;
  readonly registryAuth?: RegistryAuthPlan;
  readonly creationTime: CreationTime;
  /** What the image is built from: the commit, or a digest of a local directory's content. */
  readonly revision: PlanText;
  /** Labels the release step puts on the image (`org.opencontainers.image.*` and the build-inputs label). */
  readonly labels: readonly Label[];
  readonly buildUser: BuildUserPlan;
  readonly executor: "creator" | "pack";
  readonly volumes: readonly Volume[];
  readonly steps: Steps;
  readonly overlap: Overlap;
}
