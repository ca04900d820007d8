/**
 * Renders build plans as an Argo Workflow or WorkflowTemplate (plain objects; yaml.ts prints them).
 *
 * The version is a workflow parameter, known only at submit time, while the tags it publishes differ by the shape of
 * the version (release, 0.x, prerelease; see tags.ts). So the exporter asks the core for one plan per shape, made with
 * a stand-in version, puts the version's parts where the stand-in's were, and renders one build template per distinct
 * result; a first step checks the version and picks the template. Every build container therefore comes from the plan.
 */
import { PacklineError } from "../errors.js";
import { IMAGES } from "../images.js";
import { PATHS, type BuildPlan, type ContainerStep, type EnvVar, type Mount } from "../plan.js";
import { RUNTIME_ARG_COMMIT_TIME } from "../plan-pack.js";
import type { ArgoOptions } from "./options.js";
import { CLONE_OUTPUTS, CLONE_SCRIPT, prepareScript, RESULT_OUTPUTS, RESULT_SCRIPT, WORK } from "./scripts.js";
import { SHAPE_SAMPLES, VERSION_OUTPUTS, VERSION_SCRIPT, VERSION_SHAPES, type VersionShape } from "./version-script.js";

type Obj = Record<string, unknown>;

/** The plans of one export, as the exporter receives them. */
export interface ShapedPlans {
  /** A plan for the facts that do not depend on the version (source, image, credentials, creation time). */
  readonly plan: BuildPlan;
  /** The build step to render for each shape (the creator step, or the pack step with --executor pack). */
  readonly steps: Readonly<Record<VersionShape, ContainerStep>>;
  /** The version given with --tag: the default of the `tag` parameter. */
  readonly defaultTag?: string;
  /** The ref given with --ref: the default of the `ref` parameter (empty: clone the tag). */
  readonly ref?: string;
}

const VOLUME = { work: "work", cache: "cache", registryAuth: "registry-auth", dockerSocket: "docker-socket" } as const;
const VERSION_INPUTS = ["version", "major", "minor"] as const;
const SECURE: Obj = { allowPrivilegeEscalation: false };

export function renderWorkflow(shaped: ShapedPlans, argo: ArgoOptions): Obj {
  const { plan } = shaped;
  if (plan.source.kind !== "git") {
    throw new PacklineError("packline argo needs --repo: a cluster build clones its source (a local directory cannot reach the cluster).");
  }
  const commitTime = plan.creationTime.kind === "commit";
  const builds = distinctBuildTemplates(shaped, argo, commitTime);

  const spec: Obj = {
    entrypoint: "main",
    ...(argo.serviceAccount ? { serviceAccountName: argo.serviceAccount } : {}),
    ...(argo.deadlineSeconds !== undefined ? { activeDeadlineSeconds: argo.deadlineSeconds } : {}),
    ...(argo.podGc !== "none" ? { podGC: { strategy: argo.podGc } } : {}),
    arguments: { parameters: parameters(shaped) },
    volumeClaimTemplates: [
      {
        metadata: { name: VOLUME.work },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: argo.workspaceSize } } },
      },
    ],
    volumes: volumes(shaped.steps.release, plan, argo),
    templates: [
      mainTemplate(builds, commitTime),
      versionTemplate(),
      cloneTemplate(plan, argo),
      ...builds.map((b) => b.template),
      resultTemplate(),
    ],
  };

  const labels = { "app.kubernetes.io/managed-by": "packline", "app.kubernetes.io/name": argo.name };
  const annotations = {
    "workflows.argoproj.io/description": `Clone ${plan.source.url}, build it with Cloud Native Buildpacks, publish ${plan.image} under the version's tags.`,
  };
  const metadata =
    argo.kind === "workflow"
      ? { generateName: `${argo.name}-`, ...(argo.namespace ? { namespace: argo.namespace } : {}), labels, annotations }
      : { name: argo.name, ...(argo.namespace ? { namespace: argo.namespace } : {}), labels, annotations };
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: argo.kind === "workflow" ? "Workflow" : "WorkflowTemplate",
    metadata,
    spec,
  };
}

function parameters(shaped: ShapedPlans): Obj[] {
  const tag: Obj = {
    name: "tag",
    description: "The version to publish: a semantic version such as v1.2.3 (also the git ref cloned unless ref is set).",
  };
  if (shaped.defaultTag !== undefined) tag.value = shaped.defaultTag;
  return [tag, { name: "ref", value: shaped.ref ?? "", description: "The git tag, branch or commit to clone; empty: the tag." }];
}

interface BuildTemplate {
  readonly name: string;
  readonly shapes: readonly VersionShape[];
  readonly template: Obj;
}

/** One template per distinct rendering of the build step; shapes that render the same share one. */
function distinctBuildTemplates(shaped: ShapedPlans, argo: ArgoOptions, commitTime: boolean): BuildTemplate[] {
  const groups: { key: string; shapes: VersionShape[]; step: ContainerStep }[] = [];
  for (const shape of VERSION_SHAPES) {
    const step = withVersionParameters(shaped.steps[shape], shape, commitTime);
    const key = JSON.stringify(step);
    const group = groups.find((g) => g.key === key);
    if (group) group.shapes.push(shape);
    else groups.push({ key, shapes: [shape], step });
  }
  return groups.map((group) => {
    const name = groups.length === 1 ? "build" : `build-${group.shapes.join("-")}`;
    return { name, shapes: group.shapes, template: buildTemplate(name, group.step, argo, commitTime) };
  });
}

/** Replaces the stand-in version's parts with the template's input parameters, longest first. */
function withVersionParameters(step: ContainerStep, shape: VersionShape, commitTime: boolean): ContainerStep {
  const sample = SHAPE_SAMPLES[shape];
  const replacements: [string, string][] = [
    [sample.version, "{{inputs.parameters.version}}"],
    [`${sample.major}.${sample.minor}`, "{{inputs.parameters.major}}.{{inputs.parameters.minor}}"],
  ];
  // A 0.x version has no MAJOR tag, and "0" alone is far too common a string to replace.
  if (shape !== "zero") replacements.push([sample.major, "{{inputs.parameters.major}}"]);
  const replace = (text: string) => {
    let out = text;
    for (const [from, to] of replacements) out = out.split(from).join(to);
    if (commitTime) out = out.split(RUNTIME_ARG_COMMIT_TIME).join("{{inputs.parameters.commit-time}}");
    return out;
  };
  for (const text of [step.image, ...step.files.map((f) => f.path)]) {
    if (replace(text) !== text) throw new PacklineError("internal: the version reached the build image or a file path.");
  }
  return { ...step, command: step.command.map(replace), args: step.args.map(replace) };
}

function mainTemplate(builds: readonly BuildTemplate[], commitTime: boolean): Obj {
  const versionOut = (name: string) => `{{steps.version.outputs.parameters.${name}}}`;
  const buildSteps = builds.flatMap((build) =>
    build.shapes.map((shape) => ({
      name: `build-${shape}`,
      template: build.name,
      when: `'${versionOut("shape")}' == '${shape}'`,
      arguments: {
        parameters: [
          ...VERSION_INPUTS.map((name) => ({ name, value: versionOut(name) })),
          ...(commitTime ? [{ name: "commit-time", value: "{{steps.clone.outputs.parameters.commit-time}}" }] : []),
        ],
      },
    })),
  );
  return {
    name: "main",
    steps: [
      [{ name: "version", template: "version" }],
      [{ name: "clone", template: "clone" }],
      buildSteps,
      [{ name: "result", template: "result" }],
    ],
    outputs: {
      parameters: [
        { name: "digest", valueFrom: { parameter: "{{steps.result.outputs.parameters.digest}}" } },
        { name: "report", valueFrom: { parameter: "{{steps.result.outputs.parameters.report}}" } },
      ],
    },
  };
}

function versionTemplate(): Obj {
  return {
    name: "version",
    container: {
      image: IMAGES.git,
      command: ["sh", "-c"],
      args: [VERSION_SCRIPT],
      env: [{ name: "PACKLINE_VERSION", value: "{{workflow.parameters.tag}}" }],
      securityContext: SECURE,
    },
    outputs: {
      parameters: [...VERSION_INPUTS, "shape" as const].map((name) => ({ name, valueFrom: { path: VERSION_OUTPUTS[name] } })),
    },
  };
}

function cloneTemplate(plan: BuildPlan, argo: ArgoOptions): Obj {
  if (plan.source.kind !== "git") throw new PacklineError("internal: clone without a repository.");
  const env: Obj[] = [
    { name: "PACKLINE_REPO", value: plan.source.url },
    { name: "PACKLINE_REF", value: "{{workflow.parameters.ref}}" },
    { name: "PACKLINE_TAG", value: "{{workflow.parameters.tag}}" },
  ];
  if (argo.gitSecret) {
    env.push(
      { name: "GIT_USERNAME", valueFrom: { secretKeyRef: { name: argo.gitSecret, key: "username", optional: true } } },
      { name: "GIT_PASSWORD", valueFrom: { secretKeyRef: { name: argo.gitSecret, key: "password" } } },
    );
  }
  return {
    name: "clone",
    ...retryStrategy(argo),
    container: {
      image: IMAGES.git,
      command: ["sh", "-c"],
      args: [CLONE_SCRIPT],
      env,
      volumeMounts: [{ name: VOLUME.work, mountPath: WORK.mount }],
      securityContext: SECURE,
    },
    outputs: { parameters: [{ name: "commit-time", valueFrom: { path: CLONE_OUTPUTS.commitTime } }] },
  };
}

function buildTemplate(name: string, step: ContainerStep, argo: ArgoOptions, commitTime: boolean): Obj {
  const mounts = step.mounts.map(volumeMount);
  const files = step.files.map((file, i) => ({ path: file.path, env: `PACKLINE_FILE_${i}`, value: file.contents }));
  const owned = step.mounts.filter((m) => "ownedByBuildUser" in m && m.ownedByBuildUser).map((m) => m.path);
  const privileged = step.mounts.some((m) => m.kind === "docker-socket");
  const resources = {
    ...(Object.keys(argo.resources.requests).length > 0 ? { requests: argo.resources.requests } : {}),
    ...(Object.keys(argo.resources.limits).length > 0 ? { limits: argo.resources.limits } : {}),
  };
  const template: Obj = {
    name,
    inputs: {
      parameters: [...VERSION_INPUTS, ...(commitTime ? ["commit-time"] : [])].map((p) => ({ name: p })),
    },
    ...retryStrategy(argo),
  };
  if (owned.length > 0 || files.length > 0) {
    // The builder image itself runs the preparation, so its CNB_USER_ID/CNB_GROUP_ID are the ones used.
    template.initContainers = [
      {
        name: "prepare",
        image: privileged ? IMAGES.git : step.image,
        command: ["sh", "-c"],
        args: [prepareScript(privileged ? [] : owned, files)],
        env: files.map((f) => ({ name: f.env, value: Buffer.from(f.value, "utf8").toString("base64") })),
        volumeMounts: mounts,
        securityContext: { runAsUser: 0, ...SECURE },
      },
    ];
  }
  template.container = {
    image: step.image,
    command: [...step.command],
    args: [...step.args],
    env: step.env.map(envEntry),
    workingDir: step.workdir,
    volumeMounts: mounts,
    securityContext: privileged ? { runAsUser: Number(step.user), privileged: true } : { runAsUser: Number(step.user), ...SECURE },
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
  };
  return template;
}

function envEntry(variable: EnvVar): Obj {
  if ("value" in variable) return { name: variable.name, value: variable.value };
  switch (variable.runtime) {
    case "now":
      return { name: variable.name, value: "{{workflow.creationTimestamp.s}}" };
    case "commit-time":
      return { name: variable.name, value: "{{inputs.parameters.commit-time}}" };
    case "run-id":
      return { name: variable.name, value: "{{workflow.uid}}" };
  }
}

/** Plan mounts -> volume mounts. The source and the layers live on the workflow's volume, so later steps see them. */
function volumeMount(mount: Mount): Obj {
  switch (mount.kind) {
    case "source":
      return { name: VOLUME.work, mountPath: mount.path, subPath: WORK.source };
    case "scratch":
      if (mount.path === PATHS.layers) return { name: VOLUME.work, mountPath: mount.path, subPath: WORK.layers };
      return { name: scratchVolumeName(mount.path), mountPath: mount.path };
    case "cache":
      return { name: VOLUME.cache, mountPath: mount.path };
    case "secret":
      return { name: VOLUME.registryAuth, mountPath: dirname(mount.path), readOnly: true };
    case "docker-socket":
      return { name: VOLUME.dockerSocket, mountPath: mount.path };
  }
}

function volumes(step: ContainerStep, plan: BuildPlan, argo: ArgoOptions): Obj[] {
  const out: Obj[] = [];
  for (const mount of step.mounts) {
    if (mount.kind === "scratch" && mount.path !== PATHS.layers) out.push({ name: scratchVolumeName(mount.path), emptyDir: {} });
    if (mount.kind === "cache") {
      out.push(argo.cachePvc ? { name: VOLUME.cache, persistentVolumeClaim: { claimName: argo.cachePvc } } : { name: VOLUME.cache, emptyDir: {} });
    }
    if (mount.kind === "secret") {
      if (plan.registryAuth?.kind !== "docker-config-secret") {
        throw new PacklineError("a cluster build reads registry credentials from a Kubernetes Secret: give --registry-secret <name>.");
      }
      out.push({
        name: VOLUME.registryAuth,
        secret: { secretName: plan.registryAuth.secretName, items: [{ key: ".dockerconfigjson", path: basename(mount.path) }] },
      });
    }
    if (mount.kind === "docker-socket") out.push({ name: VOLUME.dockerSocket, hostPath: { path: mount.path, type: "Socket" } });
  }
  return out;
}

function resultTemplate(): Obj {
  return {
    name: "result",
    container: {
      image: IMAGES.git,
      command: ["sh", "-c"],
      args: [RESULT_SCRIPT],
      volumeMounts: [{ name: VOLUME.work, mountPath: PATHS.layers, subPath: WORK.layers, readOnly: true }],
      securityContext: SECURE,
    },
    outputs: {
      parameters: [
        { name: "digest", valueFrom: { path: RESULT_OUTPUTS.digest } },
        { name: "report", valueFrom: { path: PATHS.report } },
      ],
    },
  };
}

/** Retries for the steps that talk to the network (clone, publish); a publish is idempotent, so retrying is safe. */
function retryStrategy(argo: ArgoOptions): Obj {
  if (argo.retries === 0) return {};
  // IntOrString fields are strings: the schema (and some validators) refuse bare numbers.
  return { retryStrategy: { limit: String(argo.retries), retryPolicy: "OnFailure", backoff: { duration: "10s", factor: "2" } } };
}

function scratchVolumeName(path: string): string {
  return path.replace(/^\//, "").replace(/[^a-z0-9]+/g, "-");
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
