/**
 * The Argo backend: a plan rendered as an Argo Workflow or WorkflowTemplate (plain objects; export.ts prints YAML).
 *
 * The plan's steps become templates (resolve, builder-user, check, build, release) called by an entry template
 * `main` that takes `tag` and `ref` as inputs and outputs `digest`, `tags`, `revision` and `version`, so a user's own
 * workflow can call it with `templateRef`. Every template brings its own volumes (emptyDirs; no volume claim is
 * made) and its own security settings. The plan's late values become template inputs fed by earlier steps' outputs
 * (the version and commit from `resolve`) or Argo's own variables (the time, the workflow's uid).
 */
import { PacklineError } from "../../core/errors.js";
import { IMAGES } from "../../core/images.js";
import type { ArgoOptions } from "../../core/options/validate.js";
import { type BuildPlan, type ContainerStep, type Late, outputPath, type PlanText, VOLUMES, type Volume } from "../../core/plan/planner.js";
import { latesOf } from "../../core/plan/text.js";
import { BUILDER_USER_SCRIPT, CLONE, CLONE_EXIT, CLONE_SCRIPT, LAYERS, prepareScript, RESOLVE_EXIT, RESOLVE_OUT, RESOLVE_SCRIPT } from "./scripts.js";
import { BAD_VERSION_EXIT } from "./version-script.js";

type Obj = Record<string, unknown>;

/** The non-root user of the helper images' steps ("nonroot" of distroless-style images). */
const TOOL_UID = 65532;

/** What each late value is inside a template: an input parameter fed by `main`, or one of Argo's variables. */
const GLOBAL_LATES: Partial<Record<Late, string>> = {
  now: "{{workflow.creationTimestamp.s}}",
  "run-id": "{{workflow.uid}}",
};

/** Input parameter names of the templates, by late value (Argo names allow "-", expressions do not need them). */
const INPUT: Partial<Record<Late, string>> = {
  tag: "tag",
  version: "version",
  major: "major",
  minor: "minor",
  tags: "tags",
  commit: "commit",
  "commit-time": "commit-time",
  "build-report": "build-report",
};

/** In `main`, where each late value comes from. */
const FROM_MAIN: Partial<Record<Late, string>> = {
  tag: "{{inputs.parameters.tag}}",
  version: "{{steps.resolve.outputs.parameters.version}}",
  major: "{{steps.resolve.outputs.parameters.major}}",
  minor: "{{steps.resolve.outputs.parameters.minor}}",
  commit: "{{steps.resolve.outputs.parameters.commit}}",
  "commit-time": "{{steps.resolve.outputs.parameters.commit-time}}",
  "build-report": "{{steps.build.outputs.parameters.report}}",
};

/** The same values in an Argo expression (expr-lang), for the tags chosen by the version's shape. */
const IN_EXPRESSION: Partial<Record<Late, string>> = {
  version: "steps.resolve.outputs.parameters.version",
  major: "steps.resolve.outputs.parameters.major",
  minor: "steps.resolve.outputs.parameters.minor",
};

export function renderWorkflow(plan: BuildPlan, argo: ArgoOptions): Obj {
  if (plan.source.kind !== "git") throw new PacklineError("argo needs --repo: a cluster build clones its source.");
  if (plan.version.kind !== "parameter") throw new PacklineError("internal: a cluster plan takes its version as a parameter.");
  const restricted = !plan.steps.build.privileged;
  const detectUser = restricted && plan.buildUser.kind === "builder";
  const templates: Obj[] = [
    mainTemplate(plan, detectUser),
    resolveTemplate(plan, argo),
    ...(detectUser ? [builderUserTemplate(plan, argo)] : []),
    stepTemplate(plan, plan.steps.check, argo),
    buildTemplate(plan, argo, detectUser),
    stepTemplate(plan, plan.steps.release, argo),
  ];
  const spec: Obj = {
    entrypoint: "main",
    ...(argo.serviceAccount ? { serviceAccountName: argo.serviceAccount } : {}),
    ...(argo.deadlineSeconds !== undefined ? { activeDeadlineSeconds: argo.deadlineSeconds } : {}),
    ...(argo.podGc !== "none" ? { podGC: { strategy: argo.podGc } } : {}),
    arguments: {
      parameters: [
        {
          name: "tag",
          ...(plan.version.default !== undefined ? { value: plan.version.default } : {}),
          description: "The version to publish: a semantic version such as v1.2.3 (also the git ref cloned unless ref is set).",
        },
        { name: "ref", value: refDefault(plan), description: "The git tag, branch or commit to clone; empty: the tag." },
      ],
    },
    templates,
  };
  const labels = { "app.kubernetes.io/managed-by": "packline", "app.kubernetes.io/name": argo.name };
  const annotations = {
    "workflows.argoproj.io/description": `Clone ${plan.source.url}, build it with Cloud Native Buildpacks, publish ${plan.image.name} under the version's tags.`,
  };
  const namespace = argo.namespace ? { namespace: argo.namespace } : {};
  const metadata =
    argo.kind === "workflow"
      ? { generateName: `${argo.name}-`, ...namespace, labels, annotations }
      : { name: argo.name, ...namespace, labels, annotations };
  return { apiVersion: "argoproj.io/v1alpha1", kind: argo.kind === "workflow" ? "Workflow" : "WorkflowTemplate", metadata, spec };
}

function refDefault(plan: BuildPlan): string {
  if (plan.source.kind !== "git") return "";
  const ref = plan.source.ref;
  // The plan's ref is the user's --ref, or the tag: the parameter's default is --ref, empty meaning "the tag".
  return latesOf(ref).length === 0 ? ref.join("") : "";
}

// ------------------------------------------------------------------------------------------------------ main

function mainTemplate(plan: BuildPlan, detectUser: boolean): Obj {
  const unpublished = "{{steps.check.outputs.parameters.outcome}} == unpublished";
  const args = (template: string, extra: Obj[] = []) => ({ parameters: [...lateArguments(plan, template), ...extra] });
  const steps: Obj[][] = [
    [
      {
        name: "resolve",
        template: "resolve",
        arguments: {
          parameters: [
            { name: "tag", value: "{{inputs.parameters.tag}}" },
            { name: "ref", value: "{{inputs.parameters.ref}}" },
          ],
        },
      },
    ],
    ...(detectUser ? [[{ name: "builder-user", template: "builder-user" }]] : []),
    [{ name: "check", template: "check", arguments: args("check") }],
    [
      {
        name: "build",
        template: "build",
        when: unpublished,
        arguments: args("build", [
          { name: "ref", value: "{{inputs.parameters.ref}}" },
          ...(detectUser
            ? [
                { name: "uid", value: "{{steps.builder-user.outputs.parameters.uid}}" },
                { name: "gid", value: "{{steps.builder-user.outputs.parameters.gid}}" },
              ]
            : []),
        ]),
      },
    ],
    [{ name: "release", template: "release", when: unpublished, arguments: args("release") }],
  ];
  const published = "steps.check.outputs.parameters.outcome == 'published'";
  return {
    name: "main",
    inputs: { parameters: [{ name: "tag" }, { name: "ref", value: "" }] },
    steps,
    outputs: {
      parameters: [
        {
          name: "digest",
          globalName: "digest",
          description: "The published image's digest (sha256:...).",
          valueFrom: { expression: `${published} ? steps.check.outputs.parameters.digest : steps.release.outputs.parameters.digest` },
        },
        { name: "tags", globalName: "tags", description: "Every tag now pointing at the image.", valueFrom: { expression: tagsExpression(plan) } },
        {
          name: "revision",
          globalName: "revision",
          description: "The commit the image was built from.",
          valueFrom: { parameter: "{{steps.resolve.outputs.parameters.commit}}" },
        },
        {
          name: "version",
          globalName: "version",
          description: "The version published.",
          valueFrom: { parameter: "{{steps.resolve.outputs.parameters.version}}" },
        },
      ],
    },
  };
}

/** The late values a template needs, as arguments from `main` (the version's tags chosen by its shape). */
function lateArguments(plan: BuildPlan, template: string): Obj[] {
  const step = stepByTemplate(plan, template);
  return templateLates(step, plan).map((late) => ({
    name: INPUT[late]!,
    value: late === "tags" ? `{{=${tagsExpression(plan)}}}` : FROM_MAIN[late]!,
  }));
}

function stepByTemplate(plan: BuildPlan, template: string): ContainerStep {
  const step =
    template === "check" ? plan.steps.check : template === "build" ? plan.steps.build : template === "release" ? plan.steps.release : undefined;
  if (!step) throw new PacklineError(`internal: no step for template ${template}.`);
  return step;
}

/** The late values a step's text needs as template inputs (Argo's own variables need none). */
function templateLates(step: ContainerStep, plan: BuildPlan): Late[] {
  const texts: PlanText[] = [...step.command, ...step.args, ...step.env.map((e) => e.value)];
  // The build pod's clone reads the ref, the tag (its fallback when the ref parameter is empty) and the commit.
  if (step.name === "build" && plan.source.kind === "git") texts.push(plan.source.ref, [{ late: "tag" }], [{ late: "commit" }]);
  const lates = new Set<Late>(texts.flatMap(latesOf));
  for (const late of lates) {
    if (late === "source-digest") throw new PacklineError("internal: a cluster build has no local source directory.");
  }
  return [...lates].filter((late) => GLOBAL_LATES[late] === undefined).sort();
}

/**
 * The tags as an expression over the resolve step's outputs: one branch per shape whose tags differ (README,
 * "Tags"), e.g. `shape == 'prerelease' ? version : version + ' ' + major + '.' + minor + ...`.
 */
function tagsExpression(plan: BuildPlan): string {
  const shape = "steps.resolve.outputs.parameters.shape";
  const rendered = plan.variants.map((variant) => ({
    shapes: variant.shapes,
    expression: variant.tags.map(expressionOf).join(" + ' ' + "),
  }));
  let out = rendered[rendered.length - 1]!.expression;
  for (const variant of rendered.slice(0, -1).reverse()) {
    const test = variant.shapes.map((s) => `${shape} == '${s}'`).join(" || ");
    out = `(${test}) ? ${variant.expression} : ${out}`;
  }
  return out;
}

function expressionOf(text: PlanText): string {
  return text
    .map((part) => {
      if (typeof part === "string") return `'${part.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
      const name = IN_EXPRESSION[part.late];
      if (!name) throw new PacklineError(`internal: ${part.late} cannot be in a tag.`);
      return name;
    })
    .join(" + ");
}

// ------------------------------------------------------------------------------------------------------ templates

/**
 * Kubernetes expands `$(NAME)` and `$$` in a container's env values, command and args (the kubelet's expansion), so
 * a `$` followed by `(` or `$` is written `$$`: every string reaches the container as written, whatever it holds.
 */
export function kubeLiteral(value: string): string {
  return value.replace(/\$(?=[$(])/g, "$$$$");
}

/**
 * A value the user gives when the workflow is submitted (the tag, the ref), for an env value: Argo substitutes it
 * first, so it is escaped for Kubernetes there, by an expression (every `$` written `$$`).
 */
function submitted(parameter: "tag" | "ref"): string {
  return `{{=replace(inputs.parameters.${parameter}, '$', '$$')}}`;
}

/**
 * A plan text inside a template: late values as its inputs or Argo's own variables (computed values: versions,
 * commits, times, uids), literal parts escaped for Kubernetes.
 */
function inTemplate(text: PlanText): string {
  return text
    .map((part) => (typeof part === "string" ? kubeLiteral(part) : (GLOBAL_LATES[part.late] ?? `{{inputs.parameters.${INPUT[part.late]}}}`)))
    .join("");
}

function inputsOf(lates: readonly Late[], extra: string[] = []): Obj {
  const names = [...lates.map((l) => INPUT[l]!), ...extra];
  return names.length > 0 ? { inputs: { parameters: names.map((name) => ({ name })) } } : {};
}

/**
 * Retries only what a retry can fix: pod errors, the exit codes the step names as transient, and what `alsoWhen`
 * adds (an Argo expression).
 */
function retryStrategy(argo: ArgoOptions, transient: readonly number[] | undefined, alsoWhen?: string): Obj {
  const codes = transient ?? [];
  if (argo.retries === 0 || (codes.length === 0 && !alsoWhen)) return {};
  const when = [
    "lastRetry.status == 'Error'",
    ...(codes.length > 0 ? [`(lastRetry.status == 'Failed' && asInt(lastRetry.exitCode) in [${codes.join(", ")}])`] : []),
    ...(alsoWhen ? [`(${alsoWhen})`] : []),
  ];
  return {
    retryStrategy: {
      // IntOrString fields are strings: the schema (and some validators) refuse bare numbers.
      limit: String(argo.retries),
      retryPolicy: "Always",
      expression: when.join(" || "),
      backoff: { duration: "10s", factor: "2" },
    },
  };
}

/** The restricted pod security standard, for a container: no privilege escalation, no capabilities, not root. */
const RESTRICTED_CONTAINER: Obj = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true };

/** The pod-level settings of the restricted standard, with the user the pod runs as. */
function restrictedPod(uid: number | string, gid: number | string): Obj {
  return { runAsNonRoot: true, runAsUser: uid, runAsGroup: gid, fsGroup: gid, seccompProfile: { type: "RuntimeDefault" } };
}

/**
 * Argo adds its own `init` and `wait` containers to every pod; the workflow cannot set their security context except
 * through a pod spec patch, which this template carries itself so that a caller's workflow gets it too.
 */
function executorPatch(podSecurity?: Obj): string {
  const patch: Obj = {
    initContainers: [{ name: "init", securityContext: RESTRICTED_CONTAINER }],
    containers: [{ name: "wait", securityContext: RESTRICTED_CONTAINER }],
    ...(podSecurity ? { securityContext: podSecurity } : {}),
  };
  // Numbers known only when the pod is made (the builder's user) stand in the JSON unquoted, as numbers.
  return JSON.stringify(patch).replace(/"(\{\{inputs\.parameters\.[a-z]+\}\})"/g, "$1");
}

function toolTemplateSecurity(): Obj {
  return { securityContext: restrictedPod(TOOL_UID, TOOL_UID), podSpecPatch: executorPatch() };
}

function resolveTemplate(plan: BuildPlan, argo: ArgoOptions): Obj {
  if (plan.source.kind !== "git") throw new PacklineError("internal: resolve without a repository.");
  return {
    name: "resolve",
    inputs: { parameters: [{ name: "tag" }, { name: "ref", value: "" }] },
    ...retryStrategy(argo, [RESOLVE_EXIT.transient]),
    ...toolTemplateSecurity(),
    container: {
      image: IMAGES.git,
      command: ["sh", "-c"],
      args: [kubeLiteral(RESOLVE_SCRIPT)],
      env: [
        { name: "PACKLINE_TAG", value: submitted("tag") },
        { name: "PACKLINE_REF", value: submitted("ref") },
        { name: "PACKLINE_REPO", value: kubeLiteral(plan.source.url) },
        ...gitCredentials(argo),
      ],
      volumeMounts: [{ name: "packline-tmp", mountPath: RESOLVE_OUT }],
      securityContext: RESTRICTED_CONTAINER,
    },
    volumes: [{ name: "packline-tmp", emptyDir: {} }],
    outputs: {
      parameters: ["version", "major", "minor", "shape", "commit", "commit-time"].map((name) => ({
        name,
        valueFrom: { path: `${RESOLVE_OUT}/${name}` },
      })),
    },
    metadata: {
      annotations: {
        "packline.dev/exit-codes": `${BAD_VERSION_EXIT}: bad version; ${RESOLVE_EXIT.credentials}: git credentials; ${RESOLVE_EXIT.missingRef}: no such ref`,
      },
    },
  };
}

function gitCredentials(argo: ArgoOptions): Obj[] {
  if (!argo.gitSecret) return [];
  return [
    { name: "GIT_USERNAME", valueFrom: { secretKeyRef: { name: argo.gitSecret, key: "username", optional: true } } },
    { name: "GIT_PASSWORD", valueFrom: { secretKeyRef: { name: argo.gitSecret, key: "password" } } },
  ];
}

function builderUserTemplate(plan: BuildPlan, argo: ArgoOptions): Obj {
  return {
    name: "builder-user",
    ...retryStrategy(argo, [1]),
    ...toolTemplateSecurity(),
    container: {
      image: plan.steps.build.image,
      command: ["sh", "-c"],
      args: [kubeLiteral(BUILDER_USER_SCRIPT)],
      volumeMounts: [{ name: "packline-tmp", mountPath: RESOLVE_OUT }],
      securityContext: RESTRICTED_CONTAINER,
    },
    volumes: [{ name: "packline-tmp", emptyDir: {} }],
    outputs: { parameters: ["uid", "gid"].map((name) => ({ name, valueFrom: { path: `${RESOLVE_OUT}/${name}` } })) },
  };
}

/** A plan step that needs no source (check, release): one container, its volumes, its outputs. */
function stepTemplate(plan: BuildPlan, step: ContainerStep, argo: ArgoOptions): Obj {
  const lates = templateLates(step, plan);
  const outputsDir = step.outputs.length > 0 ? dirname(step.outputs[0]!.path) : undefined;
  const mounts = step.mounts.map((m) => ({ name: m.volume, mountPath: m.path, ...(m.readOnly ? { readOnly: true } : {}) }));
  return {
    name: step.name,
    ...inputsOf(lates),
    ...retryStrategy(argo, step.transientExitCodes),
    ...toolTemplateSecurity(),
    container: {
      ...containerOf(step),
      volumeMounts: [...mounts, ...(outputsDir ? [{ name: "packline-tmp", mountPath: outputsDir }] : [])],
      securityContext: RESTRICTED_CONTAINER,
    },
    volumes: [...volumesOf(plan, step, argo), ...(outputsDir ? [{ name: "packline-tmp", emptyDir: {} }] : [])],
    ...(step.outputs.length > 0
      ? { outputs: { parameters: step.outputs.filter((o) => !o.directory).map((o) => ({ name: o.name, valueFrom: { path: o.path, default: "" } })) } }
      : {}),
  };
}

function containerOf(step: ContainerStep): Obj {
  const [command, ...commandArgs] = step.command.map(inTemplate);
  return {
    image: step.image,
    command: [command],
    args: [...commandArgs, ...step.args.map(inTemplate)],
    env: step.env.map((e) => ({ name: e.name, value: inTemplate(e.value) })),
    workingDir: step.workdir,
  };
}

/** The template's own volumes for the plan volumes a step mounts. */
function volumesOf(plan: BuildPlan, step: ContainerStep, argo: ArgoOptions): Obj[] {
  return step.mounts.map((mount) =>
    volumeOf(
      plan,
      plan.volumes.find((v) => v.name === mount.volume),
      argo,
    ),
  );
}

function volumeOf(plan: BuildPlan, volume: Volume | undefined, argo: ArgoOptions): Obj {
  if (!volume) throw new PacklineError("internal: a step mounts an undeclared volume.");
  switch (volume.kind) {
    case "source":
    case "scratch":
      return { name: volume.name, emptyDir: volume.name === VOLUMES.platform ? {} : { sizeLimit: argo.workspaceSize } };
    case "cache":
      return argo.cachePvc ? { name: volume.name, persistentVolumeClaim: { claimName: argo.cachePvc } } : { name: volume.name, emptyDir: {} };
    case "secret":
      if (plan.registryAuth?.kind !== "docker-config-secret") {
        throw new PacklineError("a cluster build reads registry credentials from a Kubernetes Secret: give --registry-secret <name>.");
      }
      return { name: volume.name, secret: { secretName: plan.registryAuth.secretName, items: [{ key: ".dockerconfigjson", path: volume.file }] } };
    case "docker-socket":
      return { name: volume.name, hostPath: { path: volume.hostPath, type: "Socket" } };
  }
}

/**
 * The build pod: the clone and the plan's files as init containers, then the build step, all in one pod with
 * emptyDir volumes (as kpack does): nothing outlives the pod, and no volume claim is needed.
 */
function buildTemplate(plan: BuildPlan, argo: ArgoOptions, detectUser: boolean): Obj {
  const step = plan.steps.build;
  if (plan.source.kind !== "git") throw new PacklineError("internal: build without a repository.");
  const lates = templateLates(step, plan);
  const files = step.files.map((file, i) => ({ path: file.path, env: `PACKLINE_FILE_${i}`, value: file.contents }));
  // The creator's source and layers are folders the init containers make in their volumes (see scripts.ts).
  const layersFolder = !step.privileged && step.mounts.some((m) => m.volume === VOLUMES.layers);
  const mountOf = (volume: string, path: string, readOnly?: boolean): Obj => ({
    name: volume,
    mountPath: path,
    ...(volume === VOLUMES.source ? { subPath: CLONE.dir } : volume === VOLUMES.layers && layersFolder ? { subPath: LAYERS.dir } : {}),
    ...(readOnly ? { readOnly: true } : {}),
  });
  const mounts = step.mounts.map((m) => mountOf(m.volume, m.path, m.readOnly));
  const security = step.privileged ? { runAsUser: 0, privileged: true } : RESTRICTED_CONTAINER;
  const resources = {
    ...(Object.keys(argo.resources.requests).length > 0 ? { requests: argo.resources.requests } : {}),
    ...(Object.keys(argo.resources.limits).length > 0 ? { limits: argo.resources.limits } : {}),
  };
  const clone: Obj = {
    name: "clone",
    image: IMAGES.git,
    command: ["sh", "-c"],
    args: [kubeLiteral(CLONE_SCRIPT)],
    env: [
      { name: "PACKLINE_REPO", value: kubeLiteral(plan.source.url) },
      { name: "PACKLINE_REF", value: submitted("ref") },
      { name: "PACKLINE_TAG", value: submitted("tag") },
      { name: "PACKLINE_COMMIT", value: "{{inputs.parameters.commit}}" },
      ...gitCredentials(argo),
    ],
    volumeMounts: [{ name: VOLUMES.source, mountPath: CLONE.mount }],
    securityContext: security,
  };
  const prepare: Obj[] =
    files.length === 0 && !layersFolder
      ? []
      : [
          {
            name: "prepare",
            image: step.image,
            command: ["sh", "-c"],
            args: [kubeLiteral(prepareScript(files, layersFolder ? [`${LAYERS.mount}/${LAYERS.dir}`] : []))],
            env: files.map((f) => ({ name: f.env, value: Buffer.from(f.value, "utf8").toString("base64") })),
            volumeMounts: [
              ...mounts.filter((m) => m.name === VOLUMES.platform),
              ...(layersFolder ? [{ name: VOLUMES.layers, mountPath: LAYERS.mount }] : []),
            ],
            securityContext: security,
          },
        ];
  const podSecurity = step.privileged
    ? undefined
    : plan.buildUser.kind === "given"
      ? restrictedPod(plan.buildUser.uid, plan.buildUser.gid)
      : { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };
  const template: Obj = {
    name: "build",
    ...inputsOf(
      lates.filter((l) => l !== "tag" && l !== "commit"),
      ["tag", "ref", "commit", ...(detectUser ? ["uid", "gid"] : [])],
    ),
    // A failed clone init container is worth a retry too (with either executor): the resolve step has checked the ref
    // and the credentials, so what fails now is the network or the server; but not a ref that moved since. Argo
    // reports an init container's failure with the main container's exit code unknown (-1) and the message
    // "clone: Error (exit code N)". ([(] and [)]: expr's string literals take no backslash escapes of parentheses.)
    ...retryStrategy(
      argo,
      step.transientExitCodes,
      `lastRetry.status == 'Failed' && lastRetry.message matches '^clone: ' && !(lastRetry.message matches '[(]exit code ${CLONE_EXIT.moved}[)]')`,
    ),
    ...(podSecurity ? { securityContext: podSecurity } : {}),
    ...(step.privileged
      ? {}
      : {
          // The builder's user, read by the builder-user step, can only reach the pod's security context this way.
          podSpecPatch: detectUser
            ? executorPatch({ runAsUser: "{{inputs.parameters.uid}}", runAsGroup: "{{inputs.parameters.gid}}", fsGroup: "{{inputs.parameters.gid}}" })
            : executorPatch(),
        }),
    initContainers: [clone, ...prepare],
    container: { ...containerOf(step), volumeMounts: mounts, securityContext: security, ...(Object.keys(resources).length > 0 ? { resources } : {}) },
    volumes: volumesOf(plan, step, argo),
    outputs: {
      parameters: [{ name: "report", valueFrom: { path: outputPath(step, "report") } }],
      ...(argo.sbomArtifact && step.outputs.some((o) => o.name === "sbom")
        ? { artifacts: [{ name: "sbom", path: outputPath(step, "sbom"), optional: true, archive: { tar: {} } }] }
        : {}),
    },
  };
  return template;
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}
