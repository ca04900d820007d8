/**
 * packline: clone a git repository, build it into an OCI image with Cloud Native Buildpacks (no Dockerfile), and
 * publish it under semantic-version tags. The same plan runs here, in any CI, and in Argo Workflows.
 */
// This file is the Dagger surface only: it hands the arguments to the core (src/core/) and the plan to a backend
// (src/backends/). Each option is declared once here: a shared one in the constructor, a function's own in that
// function. The signatures are written out because the Dagger SDK reads them statically; test/dagger/surface.test.ts
// compares them with the option table (src/core/options/table.ts). Nothing here may run at import time: the engine
// imports every file under src/.
import { argument, type Container, type Directory, dag, type File, func, object, type Secret } from "@dagger.io/dagger";
import { exportArgo } from "./backends/argo/export.js";
import { runPlan } from "./backends/dagger/runner.js";
import { buildSummary } from "./backends/text/summary.js";
import { PacklineError } from "./core/errors.js";
import type { RawInput } from "./core/options/input.js";
import { constructorOptions, DEFAULT_BUILDER, flagOf } from "./core/options/table.js";
import { validateBuild } from "./core/options/validate.js";
import { planBuild } from "./core/plan/planner.js";

/** What `packline argo` generates (Dagger shows the values as WORKFLOW_TEMPLATE and WORKFLOW; `dagger call` takes any case, with `_`). */
export enum ArgoKind {
  /** A reusable WorkflowTemplate: kubectl apply it once, then argo submit --from workflowtemplate/<name>. */
  WorkflowTemplate = "workflow-template",
  /** A Workflow (generateName) to argo submit directly. */
  Workflow = "workflow",
}

/** How the cluster builds. */
export enum Executor {
  /** The builder's lifecycle creator: daemonless, unprivileged (the default). */
  Creator = "creator",
  /** The article's pack build with the node's Docker socket in a privileged pod. */
  Pack = "pack",
}

/** When Argo deletes a workflow's finished pods. */
export enum PodGc {
  OnPodSuccess = "OnPodSuccess",
  OnPodCompletion = "OnPodCompletion",
  OnWorkflowSuccess = "OnWorkflowSuccess",
  OnWorkflowCompletion = "OnWorkflowCompletion",
  None = "none",
}

/** A finished build: what was published, the image, its SBOM. */
@object()
export class BuildResult {
  /** The published image's digest (sha256:...). */
  @func()
  digest: string;

  /** Every published reference pinned to the digest, e.g. registry.example.com/acme/app:1.2.3@sha256:.... */
  @func()
  references: string[];

  /** What the image was built from: the commit, or a digest of the source directory. */
  @func()
  revision: string;

  /** The published image as a container: chain up --ports 8080:8080, export --path app.tar, or terminal. */
  @func()
  container: Container;

  /** The image's SBOM files as the lifecycle wrote them (CycloneDX, SPDX, Syft); empty when nothing was built. */
  @func()
  sbom: Directory;

  /** What was published and how to use it (what build prints). */
  @func()
  summary: string;

  constructor(digest: string, references: string[], revision: string, container: Container, sbom: Directory, summary: string) {
    this.digest = digest;
    this.references = references;
    this.revision = revision;
    this.container = container;
    this.sbom = sbom;
    this.summary = summary;
  }
}

/**
 * Build a directory or a git repository into an OCI image with Cloud Native Buildpacks and publish it under semver tags.
 * The settings its functions share (what to build, where to publish, how) are given once, before the function:
 * `dagger call --image registry.example.com/acme/app build --tag v1.2.3`.
 */
@object()
export class Packline {
  // The constructor's arguments, kept as the object's (unexposed) state for the function that follows. Their names,
  // types, defaults and doc strings are the option table's (test/dagger/surface.test.ts compares them).
  context: Directory;
  source?: Directory;
  repo?: string;
  ref?: string;
  image?: string;
  builder: string;
  runImage?: string;
  env: string[];
  buildpack: string[];
  revision?: string;
  registryUsername?: string;
  registryPassword?: Secret;
  cacheImage?: string;
  clearCache: boolean;
  creationTime: string;
  floatingTags: boolean;
  latest: boolean;
  insecureRegistry: string[];
  allowOverwrite: boolean;

  constructor(
    /** Set automatically: the module's repository root, built when neither --source nor --repo is given. */
    @argument({ defaultPath: "/", ignore: [".git", "**/node_modules", ".dagger", "sdk"] }) context: Directory,
    /** A directory to build instead of the current (context) directory; not with --repo. */
    @argument({ ignore: [".git", "**/node_modules", ".dagger", "sdk"] }) source?: Directory,
    /** A git repository to clone and build, e.g. https://github.com/acme/app (argo needs it: the cluster clones it). */
    repo?: string,
    /** The git tag, branch or commit to clone with --repo; default: the tag as given. */
    ref?: string,
    /** The image repository to publish to, e.g. registry.example.com/acme/app; default for build and result: the registry inside the Dagger engine (argo needs it). */
    image?: string,
    /** The buildpacks builder image whose lifecycle runs the build. */
    builder: string = DEFAULT_BUILDER,
    /** The run image to base the app image on; default: the builder's. */
    runImage?: string,
    /** Build-time environment variable KEY=VALUE, repeatable (as pack build --env). */
    env: string[] = [],
    /** A buildpack to run instead of the builder's detection, id@version, repeatable; it must be in the builder. */
    buildpack: string[] = [],
    /** The revision the source is (e.g. the commit, $GITHUB_SHA), for the image's label and the release check; default: a digest of the directory's content. Not with --repo (the commit is known). */
    revision?: string,
    /** User name for the registry of --image. */
    registryUsername?: string,
    /** Password or token for the registry of --image, as a secret: env:NAME or file:PATH. */
    registryPassword?: Secret,
    /** Keep the buildpacks cache in this registry image instead of a cache volume. */
    cacheImage?: string,
    /** Do not restore the buildpacks cache (it is still written). */
    clearCache: boolean = false,
    /** Image creation time: default (1980-01-01T00:00:01Z, reproducible), now, commit (the commit's time, with --repo), or unix seconds from 0 (1970) to 253402300799 (9999-12-31), taken as given. */
    creationTime: string = "default",
    /** Also publish MAJOR.MINOR and MAJOR (never for prereleases; no 0 tag for 0.x). */
    floatingTags: boolean = false,
    /** Also publish latest (never for prereleases). */
    latest: boolean = false,
    /** A registry reached over plain HTTP or with an untrusted certificate, repeatable. */
    insecureRegistry: string[] = [],
    /** Publish even if the version's tag already holds an image from another revision or other build options. */
    allowOverwrite: boolean = false,
  ) {
    this.context = context;
    this.source = source;
    this.repo = repo;
    this.ref = ref;
    this.image = image;
    this.builder = builder;
    this.runImage = runImage;
    this.env = env;
    this.buildpack = buildpack;
    this.revision = revision;
    this.registryUsername = registryUsername;
    this.registryPassword = registryPassword;
    this.cacheImage = cacheImage;
    this.clearCache = clearCache;
    this.creationTime = creationTime;
    this.floatingTags = floatingTags;
    this.latest = latest;
    this.insecureRegistry = insecureRegistry;
    this.allowOverwrite = allowOverwrite;
  }

  /**
   * Build the source with the builder's lifecycle creator (no Docker daemon, no privilege) and publish it under the
   * tags the version gives; prints every published reference with its digest. Without --image, the image goes to a
   * registry inside the Dagger engine: nothing leaves the machine.
   */
  @func({ cache: "never" })
  async build(
    /** The version to publish: a semantic version such as v1.2.3 or 1.2.3 (also the git ref cloned with --repo). */
    tag: string,
  ): Promise<string> {
    const { plan, result } = await this.run(tag);
    return buildSummary(plan, { ...result, daggerCall: this.daggerCall(tag) }, "dagger");
  }

  /**
   * The same build as build, returning its result to chain: container (up, export, terminal), sbom, digest,
   * references. A version already published from the same revision and options is not built again: after build,
   * result only looks the tag up in the registry.
   */
  @func({ cache: "never" })
  async result(
    /** The version to publish: a semantic version such as v1.2.3 or 1.2.3 (also the git ref cloned with --repo). */
    tag: string,
  ): Promise<BuildResult> {
    const { plan, result } = await this.run(tag);
    const summary = buildSummary(plan, { ...result, daggerCall: this.daggerCall(tag) }, "dagger");
    return new BuildResult(result.digest, [...result.published], result.revision, result.container, result.sbom ?? dag.directory(), summary);
  }

  /**
   * The same build as an Argo Workflows manifest for a cluster: a WorkflowTemplate (or a Workflow) that runs the same
   * builder image with the same creator arguments. Export it with `export --path build.yaml`.
   */
  @func()
  argo(
    /** The default of the workflow's tag parameter; without it, tag must be given at submit time. */
    tag?: string,
    /** A kubernetes.io/dockerconfigjson Secret with the registry credentials. */
    registrySecret?: string,
    /** The builder's CNB user as uid:gid (uid not 0; gid 0 is allowed, as the restricted pod standard allows it); default: read from the builder image (CNB_USER_ID, CNB_GROUP_ID) by a first step. */
    buildUser?: string,
    /** What to generate: workflow-template (reusable, the default) or workflow (submit it directly). */
    kind: ArgoKind = ArgoKind.WorkflowTemplate,
    /** creator (daemonless, unprivileged, the default) or pack (the article's privileged pack build with the node's Docker socket). */
    executor: Executor = Executor.Creator,
    /** The template's name, or the Workflow's generateName prefix; default: packline-<repository name>. */
    name?: string,
    /** The namespace to create it in. */
    namespace?: string,
    /** The service account the pods run as. */
    serviceAccount?: string,
    /** A Secret with keys password (a token) and optionally username, for a private https repository. */
    gitSecret?: string,
    /** A PersistentVolumeClaim that keeps the buildpacks cache between builds. */
    cachePvc?: string,
    /** Size limit of the build's scratch volumes (source and layers, an emptyDir each). */
    workspaceSize: string = "2Gi",
    /** CPU request of the build container, e.g. 500m. */
    cpuRequest?: string,
    /** Memory request of the build container, e.g. 1Gi. */
    memoryRequest?: string,
    /** CPU limit of the build container. */
    cpuLimit?: string,
    /** Memory limit of the build container. */
    memoryLimit?: string,
    /** Retries of a step that failed in a way a retry can fix (network, registry errors); 0 to 10. */
    retries: number = 2,
    /** Fail the workflow after this many seconds. */
    deadline?: number,
    /** When to delete finished pods: OnPodSuccess (default), OnPodCompletion, OnWorkflowSuccess, OnWorkflowCompletion or none. */
    podGc: PodGc = PodGc.OnPodSuccess,
    /** Keep the SBOM files as the build step's sbom output artifact (needs an artifact repository in the cluster). */
    sbomArtifact: boolean = false,
  ): File {
    const notForArgo: [flag: string, given: boolean, why: string][] = [
      ["--source", this.source !== undefined, "a cluster clones --repo"],
      ["--revision", this.revision !== undefined, "a clone's revision is its commit"],
      ["--registry-username", this.registryUsername !== undefined, "a cluster pushes with --registry-secret, a Secret in the cluster"],
      ["--registry-password", this.registryPassword !== undefined, "a cluster pushes with --registry-secret, a Secret in the cluster"],
    ];
    for (const [flag, given, why] of notForArgo) {
      if (given) throw new PacklineError(`argo does not take ${flag} (given before argo): ${why}; drop it.`);
    }
    const result = exportArgo({
      ...this.shared(),
      tag,
      registrySecret,
      buildUser,
      kind,
      executor,
      name,
      namespace,
      serviceAccount,
      gitSecret,
      cachePvc,
      workspaceSize,
      cpuRequest,
      memoryRequest,
      cpuLimit,
      memoryLimit,
      retries,
      deadline,
      podGc,
      sbomArtifact,
    });
    for (const warning of result.warnings) console.error(`packline: warning: ${warning}`);
    return dag.directory().withNewFile("build.yaml", result.yaml).file("build.yaml");
  }

  /** The constructor's settings that both build and argo take, as the core's input. */
  private shared() {
    return {
      repo: this.repo,
      ref: this.ref,
      image: this.image,
      builder: this.builder,
      runImage: this.runImage,
      env: this.env,
      buildpack: this.buildpack,
      cacheImage: this.cacheImage,
      clearCache: this.clearCache,
      creationTime: this.creationTime,
      floatingTags: this.floatingTags,
      latest: this.latest,
      insecureRegistry: this.insecureRegistry,
      allowOverwrite: this.allowOverwrite,
    } satisfies RawInput<"build" | "argo">;
  }

  /** The settings and the tag -> plan -> the Dagger backend. */
  private async run(tag: string) {
    const input: RawInput<"build"> = {
      ...this.shared(),
      tag,
      revision: this.revision,
      registryUsername: this.registryUsername,
      source: this.source !== undefined,
      registryPassword: this.registryPassword !== undefined,
    };
    const plan = planBuild(validateBuild("build", input));
    const result = await runPlan(plan, { source: this.source ?? this.context, registryPassword: this.registryPassword });
    return { plan, result };
  }

  /** How to chain this build's result: the settings given before the function, as a user types them (a directory or secret by a placeholder). */
  private daggerCall(tag: string): { readonly before: string; readonly tag: string } {
    const settings = this as unknown as Readonly<Record<string, unknown>>;
    const words: string[] = [];
    for (const option of constructorOptions()) {
      const value = settings[option.name];
      if (option.name === "context" || value === undefined || JSON.stringify(value) === JSON.stringify(option.default)) continue;
      const flag = flagOf(option.name);
      if (option.kind === "boolean") words.push(flag);
      else if (option.kind === "directory" || option.kind === "secret") words.push(`${flag} <${option.placeholder}>`);
      else for (const item of Array.isArray(value) ? value : [value]) words.push(`${flag} ${shellWord(String(item))}`);
    }
    return { before: words.join(" "), tag };
  }
}

/** A value as a shell word: as it is when it needs no quoting, else in single quotes. */
function shellWord(value: string): string {
  return /^[A-Za-z0-9_.:/@=+,%-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}
