/**
 * packline: clone a git repository, build it into an OCI image with Cloud Native Buildpacks (no Dockerfile), and
 * publish it under semantic-version tags. The same plan runs here, in any CI, and in Argo Workflows.
 */
// This file is the Dagger surface only: it hands the arguments to the core (src/core/) and the plan to a backend
// (src/backends/). Its signatures repeat the option table (src/core/options/table.ts) because the Dagger SDK reads
// them statically; a test compares the two. Nothing here may run at import time: the engine imports every file
// under src/.
import { argument, type Container, type Directory, dag, type File, func, object, type Secret } from "@dagger.io/dagger";
import { exportArgo } from "./backends/argo/export.js";
import { runPlan } from "./backends/dagger/runner.js";
import { buildSummary } from "./backends/text/summary.js";
import type { RawInput } from "./core/options/input.js";
import { DEFAULT_BUILDER } from "./core/options/table.js";
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

/** Build a directory or a git repository into an OCI image with Cloud Native Buildpacks and publish it under semver tags. */
@object()
export class Packline {
  /**
   * Build the source with the builder's lifecycle creator (no Docker daemon, no privilege) and publish it under the
   * tags the version gives; prints every published reference with its digest. Without --image, the image goes to a
   * registry inside the Dagger engine: nothing leaves the machine.
   */
  @func({ cache: "never" })
  async build(
    /** The version to publish: a semantic version such as v1.2.3 or 1.2.3 (also the git ref cloned with --repo). */
    tag: string,
    /** Set automatically: the module's repository root, built when neither --source nor --repo is given. */
    @argument({ defaultPath: "/", ignore: [".git", "**/node_modules", ".dagger", "sdk"] }) context: Directory,
    /** A directory to build instead of the current (context) directory; not with --repo. */
    @argument({ ignore: [".git", "**/node_modules", ".dagger", "sdk"] }) source?: Directory,
    /** A git repository to clone and build, e.g. https://github.com/acme/app. */
    repo?: string,
    /** The git tag, branch or commit to clone with --repo; default: the tag as given. */
    ref?: string,
    /** The image repository to publish to, e.g. registry.example.com/acme/app; default: the registry inside the Dagger engine. */
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
    /** Image creation time: default (1980-01-01T00:00:01Z, reproducible), now, commit (the commit's time, with --repo), or unix seconds. */
    creationTime: string = "default",
    /** Also publish MAJOR.MINOR and MAJOR (never for prereleases; no 0 tag for 0.x). */
    floatingTags: boolean = false,
    /** Also publish latest (never for prereleases). */
    latest: boolean = false,
    /** A registry reached over plain HTTP or with an untrusted certificate, repeatable. */
    insecureRegistry: string[] = [],
    /** Publish even if the version's tag already holds an image from another revision or other build options. */
    allowOverwrite: boolean = false,
  ): Promise<string> {
    const { plan, result } = await runBuild(
      {
        tag,
        repo,
        ref,
        image,
        builder,
        runImage,
        env,
        buildpack,
        revision,
        registryUsername,
        cacheImage,
        clearCache,
        creationTime,
        floatingTags,
        latest,
        insecureRegistry,
        allowOverwrite,
      },
      source,
      context,
      registryPassword,
    );
    return buildSummary(plan, { ...result, daggerArgs: daggerArgs(tag, repo, image) }, "dagger");
  }

  /**
   * The same build as build, returning its result to chain: container (up, export, terminal), sbom, digest,
   * references. A version already published from the same revision and options is not built again.
   */
  @func({ cache: "never" })
  async result(
    /** The version to publish: a semantic version such as v1.2.3 or 1.2.3 (also the git ref cloned with --repo). */
    tag: string,
    /** Set automatically: the module's repository root, built when neither --source nor --repo is given. */
    @argument({ defaultPath: "/", ignore: [".git", "**/node_modules", ".dagger", "sdk"] }) context: Directory,
    /** A directory to build instead of the current (context) directory; not with --repo. */
    @argument({ ignore: [".git", "**/node_modules", ".dagger", "sdk"] }) source?: Directory,
    /** A git repository to clone and build, e.g. https://github.com/acme/app. */
    repo?: string,
    /** The git tag, branch or commit to clone with --repo; default: the tag as given. */
    ref?: string,
    /** The image repository to publish to, e.g. registry.example.com/acme/app; default: the registry inside the Dagger engine. */
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
    /** Image creation time: default (1980-01-01T00:00:01Z, reproducible), now, commit (the commit's time, with --repo), or unix seconds. */
    creationTime: string = "default",
    /** Also publish MAJOR.MINOR and MAJOR (never for prereleases; no 0 tag for 0.x). */
    floatingTags: boolean = false,
    /** Also publish latest (never for prereleases). */
    latest: boolean = false,
    /** A registry reached over plain HTTP or with an untrusted certificate, repeatable. */
    insecureRegistry: string[] = [],
    /** Publish even if the version's tag already holds an image from another revision or other build options. */
    allowOverwrite: boolean = false,
  ): Promise<BuildResult> {
    const { plan, result } = await runBuild(
      {
        tag,
        repo,
        ref,
        image,
        builder,
        runImage,
        env,
        buildpack,
        revision,
        registryUsername,
        cacheImage,
        clearCache,
        creationTime,
        floatingTags,
        latest,
        insecureRegistry,
        allowOverwrite,
      },
      source,
      context,
      registryPassword,
    );
    const summary = buildSummary(plan, { ...result, daggerArgs: daggerArgs(tag, repo, image) }, "dagger");
    return new BuildResult(result.digest, [...result.published], result.revision, result.container, result.sbom ?? dag.directory(), summary);
  }

  /**
   * The same build as an Argo Workflows manifest for a cluster: a WorkflowTemplate (or a Workflow) that runs the same
   * builder image with the same creator arguments. Export it with `export --path build.yaml`.
   */
  @func()
  argo(
    /** The git repository the cluster clones, e.g. https://github.com/acme/app. */
    repo: string,
    /** The image repository to publish to, e.g. registry.example.com/acme/app. */
    image: string,
    /** The default of the workflow's tag parameter; without it, tag must be given at submit time. */
    tag?: string,
    /** The git tag, branch or commit to clone with --repo; default: the tag as given. */
    ref?: string,
    /** The buildpacks builder image whose lifecycle runs the build. */
    builder: string = DEFAULT_BUILDER,
    /** The run image to base the app image on; default: the builder's. */
    runImage?: string,
    /** Build-time environment variable KEY=VALUE, repeatable (as pack build --env). */
    env: string[] = [],
    /** A buildpack to run instead of the builder's detection, id@version, repeatable; it must be in the builder. */
    buildpack: string[] = [],
    /** A kubernetes.io/dockerconfigjson Secret with the registry credentials. */
    registrySecret?: string,
    /** Keep the buildpacks cache in this registry image instead of a cache volume. */
    cacheImage?: string,
    /** Do not restore the buildpacks cache (it is still written). */
    clearCache: boolean = false,
    /** Image creation time: default (1980-01-01T00:00:01Z, reproducible), now, commit (the commit's time, with --repo), or unix seconds. */
    creationTime: string = "default",
    /** Also publish MAJOR.MINOR and MAJOR (never for prereleases; no 0 tag for 0.x). */
    floatingTags: boolean = false,
    /** Also publish latest (never for prereleases). */
    latest: boolean = false,
    /** A registry reached over plain HTTP or with an untrusted certificate, repeatable. */
    insecureRegistry: string[] = [],
    /** Publish even if the version's tag already holds an image from another revision or other build options. */
    allowOverwrite: boolean = false,
    /** The builder's CNB user as uid:gid; default: read from the builder image (CNB_USER_ID, CNB_GROUP_ID) by a first step. */
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
    const result = exportArgo({
      repo,
      image,
      tag,
      ref,
      builder,
      runImage,
      env,
      buildpack,
      registrySecret,
      cacheImage,
      clearCache,
      creationTime,
      floatingTags,
      latest,
      insecureRegistry,
      allowOverwrite,
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
}

/** The arguments (all but the engine objects) -> plan -> the Dagger backend. */
async function runBuild(args: RawInput, source: Directory | undefined, context: Directory, registryPassword: Secret | undefined) {
  const plan = planBuild(validateBuild("build", { ...args, source: source !== undefined, registryPassword: registryPassword !== undefined }));
  const result = await runPlan(plan, { source: source ?? context, registryPassword });
  return { plan, result };
}

/** The arguments a user repeats to chain the same build's result. */
function daggerArgs(tag: string, repo: string | undefined, image: string | undefined): string {
  return [`--tag ${tag}`, ...(repo ? [`--repo ${repo}`] : []), ...(image ? [`--image ${image}`] : []), "[same options]"].join(" ");
}
