/**
 * packline: clone a git repository, build it into an OCI image with Cloud Native Buildpacks (no Dockerfile), and
 * publish it under semantic-version tags. The same plan runs here, in any CI, and in Argo Workflows.
 */
// This file is the Dagger surface only: it turns arguments into a plan (src/plan.ts) and hands the plan to the Dagger
// runner (src/dagger/runner.ts). Nothing here may run at import time: the engine imports every file under src/.
import { argument, dag, func, object, type Container, type Directory, type File, type Secret } from "@dagger.io/dagger";
import { exportArgo } from "./argo/export.js";
import { buildSummary } from "./build-summary.js";
import { runPlan } from "./dagger/runner.js";
import { DEFAULT_BUILDER } from "./options.js";
import { planBuild } from "./plan.js";

/** The outcome of a build: what was published, and the image itself. */
@object()
export class BuildResult {
  /** The image digest the lifecycle reported and the registry stores (sha256:...). */
  @func()
  digest: string;

  /** Every published reference pinned to the digest, e.g. registry.example.com/acme/app:1.2.3@sha256:.... */
  @func()
  references: string[];

  /** The published image as a container: chain `up --ports 8080:8080`, `export --path app.tar` or `terminal`. */
  @func()
  container: Container;

  /** What was published and how to run or export it. */
  @func()
  summary: string;

  constructor(digest: string, references: string[], container: Container, summary: string) {
    this.digest = digest;
    this.references = references;
    this.container = container;
    this.summary = summary;
  }
}

/** Build a directory or a git repository into an OCI image with Cloud Native Buildpacks and publish it under semver tags. */
@object()
export class Packline {
  /**
   * Build the source with the builder's lifecycle creator (no Docker daemon, no privileged mode) and publish it under the tags
   * the version gives. Without --image, the image goes to a registry inside the Dagger engine: nothing leaves the machine.
   */
  @func({ cache: "never" })
  async build(
    /** The version to publish: a semantic version such as v1.2.3 or 1.2.3 (also the git tag cloned with --repo). */
    tag: string,
    /** Set automatically: the module's repository root, built when neither --source nor --repo is given. */
    @argument({ defaultPath: "/", ignore: [".git", "**/node_modules", ".dagger", "sdk"] }) context: Directory,
    /** A directory to build instead of the context directory (not with --repo). */
    source?: Directory,
    /** A git repository to clone and build, e.g. https://github.com/acme/app. */
    repo?: string,
    /** The git tag, branch or commit to clone with --repo; defaults to --tag as given. */
    ref?: string,
    /** The image repository to publish to, e.g. registry.example.com/acme/app; default: the registry inside the engine. */
    image?: string,
    /** The buildpacks builder image whose lifecycle runs the build. */
    builder: string = DEFAULT_BUILDER,
    /** The run image to base the app image on (default: the builder's). */
    runImage?: string,
    /** Build-time environment, KEY=VALUE, repeatable (as pack build --env). */
    env: string[] = [],
    /** Buildpacks to run instead of the builder's detection order, id@version, repeatable; they must be in the builder. */
    buildpack: string[] = [],
    /** User name for the registry of --image. */
    registryUsername?: string,
    /** Password or token for the registry of --image, e.g. env:REGISTRY_TOKEN. */
    registryPassword?: Secret,
    /** Keep the buildpacks cache in this registry image instead of a Dagger cache volume. */
    cacheImage?: string,
    /** Do not restore the buildpacks cache (the cache is still written). */
    clearCache: boolean = false,
    /** Image creation time: default (1980-01-01T00:00:01Z, reproducible), now, commit (the source commit's time, with --repo), or unix seconds. */
    creationTime: string = "default",
    /** Also publish MAJOR.MINOR and MAJOR tags (never for prereleases; no 0 tag for 0.x). */
    floatingTags: boolean = false,
    /** Also publish the latest tag (never for prereleases). */
    latest: boolean = false,
    /** Registries to reach over plain HTTP or with an untrusted certificate, host[:port], repeatable. */
    insecureRegistry: string[] = [],
  ): Promise<BuildResult> {
    const plan = planBuild({
      tag,
      sourceGiven: source !== undefined,
      repo,
      ref,
      image,
      builder,
      runImage,
      env,
      buildpacks: buildpack,
      registryUsername,
      registryPassword: registryPassword !== undefined,
      cacheImage,
      clearCache,
      creationTime,
      floatingTags,
      latest,
      insecureRegistries: insecureRegistry,
    });
    const result = await runPlan(plan, { source: source ?? context, registryPassword });
    return new BuildResult(result.digest, [...result.published], result.container, buildSummary(plan, result.published));
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
    /** Default version for the workflow's `tag` parameter; without it, tag is required at submit time. */
    tag?: string,
    /** The git tag, branch or commit to clone (default: the tag). */
    ref?: string,
    /** kubernetes.io/dockerconfigjson Secret with the registry credentials. */
    registrySecret?: string,
    /** workflow-template (default) or workflow. */
    kind: string = "workflow-template",
    /** creator (daemonless, unprivileged; default) or pack (the article's privileged pack with the node's Docker socket). */
    executor: string = "creator",
    /** The template's name, or the Workflow's generateName prefix (default: packline-<repo name>). */
    name?: string,
    /** Namespace to create it in. */
    namespace?: string,
    /** Service account the pods run as. */
    serviceAccount?: string,
    /** Secret with keys username and password (a token) for a private repository. */
    gitSecret?: string,
    /** The buildpacks builder image whose lifecycle runs the build. */
    builder: string = DEFAULT_BUILDER,
    /** The run image to base the app image on (default: the builder's). */
    runImage?: string,
    /** Build-time environment, KEY=VALUE, repeatable. */
    env: string[] = [],
    /** Buildpacks to run instead of the builder's detection order, id@version, repeatable. */
    buildpack: string[] = [],
    /** Keep the buildpacks cache in this registry image. */
    cacheImage?: string,
    /** PersistentVolumeClaim that keeps the buildpacks cache between builds. */
    cachePvc?: string,
    /** Do not restore the buildpacks cache. */
    clearCache: boolean = false,
    /** Image creation time: default (reproducible), now, commit, or unix seconds. */
    creationTime: string = "default",
    /** Also publish MAJOR.MINOR and MAJOR tags (never for prereleases). */
    floatingTags: boolean = false,
    /** Also publish latest (never for prereleases). */
    latest: boolean = false,
    /** Registries reached over plain HTTP or an untrusted certificate, host[:port], repeatable. */
    insecureRegistry: string[] = [],
    /** Size of the volume holding the source and layers. */
    workspaceSize: string = "2Gi",
    /** CPU request of the build container, e.g. 500m. */
    cpuRequest?: string,
    /** Memory request of the build container, e.g. 1Gi. */
    memoryRequest?: string,
    /** CPU limit of the build container. */
    cpuLimit?: string,
    /** Memory limit of the build container. */
    memoryLimit?: string,
    /** Retries of the clone and of the build/publish step. */
    retries: number = 2,
    /** Fail the workflow after this many seconds. */
    deadline?: number,
    /** When to delete finished pods: OnPodSuccess, OnPodCompletion, OnWorkflowSuccess, OnWorkflowCompletion or none. */
    podGc: string = "OnPodSuccess",
  ): File {
    const result = exportArgo(
      { tag, repo, ref, image, builder, runImage, env, buildpacks: buildpack, registrySecret, cacheImage, clearCache, creationTime, floatingTags, latest, insecureRegistries: insecureRegistry },
      { kind, executor, name, namespace, serviceAccount, gitSecret, cachePvc, workspaceSize, cpuRequest, memoryRequest, cpuLimit, memoryLimit, retries, deadline, podGc },
    );
    for (const warning of result.warnings) console.error(`packline: warning: ${warning}`);
    return dag.directory().withNewFile("build.yaml", result.yaml).file("build.yaml");
  }
}
