/**
 * The Argo backend: a plan rendered as an Argo Workflow or WorkflowTemplate (plain objects; export.ts prints YAML).
 *
 * A build is one pod (kpack's shape): its init containers run in order, and the first that fails stops the pod:
 * `source` (the version check, then the clone of the ref, its commit, and the plan's files and the layers folder),
 * `check` (is the version published already?), `build` (the creator); its main container is `release`, whose files
 * are the pod's outputs. Each pod costs a round of the controller (about 10 s: README, "Argo"), and each init
 * container a start and the kubelet's notice of its end (about a second), so the steps are as few containers as
 * their images allow: what runs in the git image is one container. Late values (the version, the commit, the check's
 * outcome, the build's report) pass between containers as files on a volume they all mount (late-prelude.ts).
 *
 * Without `--build-user`, a first pod reads the builder image's CNB user (after the version check, in an init
 * container, so a bad version pulls no builder): a pod's user must be in its spec when it is made.
 *
 * `main` takes `tag` and `ref` and outputs `digest`, `tags`, `revision` and `version` (global), so a user's own workflow
 * can call it with `templateRef`. Every template brings its own volumes (emptyDirs; no volume claim is made) and its
 * own security settings.
 */
import { PacklineError } from "../../core/errors.js";
import { IMAGES } from "../../core/images.js";
import type { ArgoOptions } from "../../core/options/validate.js";
import { type BuildPlan, type ContainerStep, type Late, outputPath, type PlanText, VOLUMES, type Volume } from "../../core/plan/planner.js";
import { latesOf, literal } from "../../core/plan/text.js";
import type { EnvVar } from "../../core/plan/types.js";
import { fileLatesOf, latePrelude, type PreludeSpec, shellOf } from "./late-prelude.js";
import { BUILDER_USER_SCRIPT, CLONE, LAYERS, prepareScript, RESOLVE_OUT, SOURCE_EXIT, SOURCE_SCRIPT, VERSION_ONLY_SCRIPT } from "./scripts.js";
import { BAD_VERSION_EXIT } from "./version-script.js";

type Obj = Record<string, unknown>;

/** The non-root user of the helper images' steps ("nonroot" of distroless-style images). */
const TOOL_UID = 65532;

/** Late values Argo knows itself, substituted where they stand. */
const GLOBAL_LATES: Partial<Record<Late, string>> = {
  now: "{{workflow.creationTimestamp.s}}",
  "run-id": "{{workflow.uid}}",
};

/** The volume the pod's containers pass late values through (the source and crane steps' own folder). */
const LATE_VOLUME = "packline-tmp";

/** The pod's outputs: the files the release (main) container sees, and what each is. */
const OUTPUTS = [
  { name: "digest", file: "digest", description: "The published image's digest (sha256:...)." },
  { name: "tags", file: "tags", description: "Every tag now pointing at the image." },
  { name: "revision", file: "commit", description: "The commit the image was built from." },
  { name: "version", file: "version", description: "The version published." },
] as const;

export function renderWorkflow(plan: BuildPlan, argo: ArgoOptions): Obj {
  if (plan.source.kind !== "git") throw new PacklineError("argo needs --repo: a cluster build clones its source.");
  if (plan.version.kind !== "parameter") throw new PacklineError("internal: a cluster plan takes its version as a parameter.");
  const restricted = !plan.steps.build.privileged;
  if (!restricted && plan.creationTime.kind === "commit") {
    // The commit's time is known only inside the build pod, and the pack image has no shell to read it from a file.
    throw new PacklineError(
      "argo --executor pack cannot take --creation-time commit: the cluster's pack container has no shell to read the commit's time. Use the default executor (creator), or --creation-time now or <unix seconds>.",
    );
  }
  const detectUser = restricted && plan.buildUser.kind === "builder";
  const templates: Obj[] = detectUser
    ? [userStepsTemplate(), builderUserTemplate(plan, argo), podTemplate(plan, argo, "build", true)]
    : [podTemplate(plan, argo, "main", false)];
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

const MAIN_INPUTS = { parameters: [{ name: "tag" }, { name: "ref", value: "" }] };

/** `main` without --build-user: the builder's user, then the build pod. */
function userStepsTemplate(): Obj {
  const submittedArgs = [
    { name: "tag", value: "{{inputs.parameters.tag}}" },
    { name: "ref", value: "{{inputs.parameters.ref}}" },
  ];
  return {
    name: "main",
    inputs: MAIN_INPUTS,
    steps: [
      [{ name: "builder-user", template: "builder-user", arguments: { parameters: [submittedArgs[0]] } }],
      [
        {
          name: "build",
          template: "build",
          arguments: {
            parameters: [
              ...submittedArgs,
              { name: "uid", value: "{{steps.builder-user.outputs.parameters.uid}}" },
              { name: "gid", value: "{{steps.builder-user.outputs.parameters.gid}}" },
            ],
          },
        },
      ],
    ],
    outputs: {
      parameters: OUTPUTS.map((o) => ({
        name: o.name,
        globalName: o.name,
        description: o.description,
        valueFrom: { parameter: `{{steps.build.outputs.parameters.${o.name}}}` },
      })),
    },
  };
}

// ------------------------------------------------------------------------------------------------------ text

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

/** A plan text that holds no value read from a file: literal parts escaped for Kubernetes, Argo's own variables. */
function inTemplate(text: PlanText): string {
  return text
    .map((part) => {
      if (typeof part === "string") return kubeLiteral(part);
      const global = GLOBAL_LATES[part.late];
      if (global === undefined) throw new PacklineError(`internal: ${part.late} outside an env value of a cluster step.`);
      return global;
    })
    .join("");
}

// ------------------------------------------------------------------------------------------------------ security

/** The restricted pod security standard, for a container: no privilege escalation, no capabilities, not root. */
const RESTRICTED_CONTAINER: Obj = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true };

/** The helper images' containers (git, crane) run as their "nonroot" user. */
const TOOL_CONTAINER: Obj = { ...RESTRICTED_CONTAINER, runAsUser: TOOL_UID, runAsGroup: TOOL_UID };

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

// ------------------------------------------------------------------------------------------------------ retries

/**
 * The pod is the unit a retry re-runs: a pod error (evicted, deleted, the node gone), or an init container's
 * failure a retry can fix (the source's fetch, the check's registry requests, the creator's registry errors). Argo reports an init container's failure with the main container's exit code unknown (-1)
 * and the message "<container>: Error (exit code N)". The release (main container) retries its own transient
 * failures in place (late-prelude.ts): it comes after the build, which a new pod would run again.
 * ([(] and [)]: expr's string literals take no backslash escapes of parentheses.)
 */
function podRetry(argo: ArgoOptions, transient: readonly { container: string; codes: readonly number[] }[]): Obj {
  if (argo.retries === 0) return {};
  const failed = transient
    .filter((t) => t.codes.length > 0)
    .map((t) =>
      t.container === "main"
        ? `asInt(lastRetry.exitCode) in [${t.codes.join(", ")}]`
        : `lastRetry.message matches '^${t.container}: .*[(]exit code (${t.codes.join("|")})[)]'`,
    );
  return {
    retryStrategy: {
      // IntOrString fields are strings: the schema (and some validators) refuse bare numbers.
      limit: String(argo.retries),
      retryPolicy: "Always",
      expression: `lastRetry.status == 'Error' || (lastRetry.status == 'Failed' && (${failed.join(" || ")}))`,
      backoff: { duration: "10s", factor: "2" },
    },
  };
}

// ------------------------------------------------------------------------------------------------------ templates

function gitCredentials(argo: ArgoOptions): Obj[] {
  if (!argo.gitSecret) return [];
  return [
    { name: "GIT_USERNAME", valueFrom: { secretKeyRef: { name: argo.gitSecret, key: "username", optional: true } } },
    { name: "GIT_PASSWORD", valueFrom: { secretKeyRef: { name: argo.gitSecret, key: "password" } } },
  ];
}

const LATE_MOUNT = { name: LATE_VOLUME, mountPath: RESOLVE_OUT };

/**
 * The builder's CNB user, read from its image, for the build pod's security context (without --build-user). The
 * version is checked first, in an init container, so a bad version fails before the builder is pulled.
 */
function builderUserTemplate(plan: BuildPlan, argo: ArgoOptions): Obj {
  return {
    name: "builder-user",
    inputs: { parameters: [{ name: "tag" }] },
    ...podRetry(argo, [{ container: "main", codes: [1] }]),
    securityContext: restrictedPod(TOOL_UID, TOOL_UID),
    podSpecPatch: executorPatch(),
    initContainers: [
      {
        name: "version",
        image: IMAGES.git,
        command: ["sh", "-c", kubeLiteral(VERSION_ONLY_SCRIPT)],
        env: [{ name: "PACKLINE_TAG", value: submitted("tag") }],
        volumeMounts: [LATE_MOUNT],
        securityContext: RESTRICTED_CONTAINER,
      },
    ],
    container: {
      image: plan.builder,
      command: ["sh", "-c", kubeLiteral(BUILDER_USER_SCRIPT)],
      volumeMounts: [LATE_MOUNT],
      securityContext: RESTRICTED_CONTAINER,
    },
    volumes: [{ name: LATE_VOLUME, emptyDir: {} }],
    outputs: { parameters: ["uid", "gid"].map((name) => ({ name, valueFrom: { path: `${RESOLVE_OUT}/${name}` } })) },
    metadata: { annotations: { "packline.dev/exit-codes": `version: ${BAD_VERSION_EXIT}: bad version; main: 2: not a builder` } },
  };
}

interface Wrap {
  readonly name: string;
  readonly image: string;
  readonly command: readonly string[];
  /** Env values without late values read from files (already in Argo's and Kubernetes' terms). */
  readonly env: readonly Obj[];
  /** Env values that hold late values read from files: set by the prelude. */
  readonly lateEnv: readonly EnvVar[];
  readonly prelude?: Omit<PreludeSpec, "shell" | "env" | "dir" | "variants" | "globals">;
}

/** A container that runs its command after a prelude, when it needs one (late values, a skip, a retry). */
function wrapped(plan: BuildPlan, w: Wrap): Obj {
  const needsPrelude = w.lateEnv.length > 0 || w.prelude?.skipWhenPublished || w.prelude?.write || w.prelude?.retry;
  if (!needsPrelude) return { name: w.name, image: w.image, command: [...w.command], env: [...w.env] };
  const shell = w.command[0] !== undefined && /(^|\/)sh$/.test(w.command[0]) ? w.command[0] : undefined;
  if (!shell) throw new PacklineError(`internal: the ${w.name} container needs a shell for its late values.`);
  const prelude = latePrelude({ shell, env: w.lateEnv, dir: RESOLVE_OUT, variants: plan.variants, globals: GLOBAL_LATES, ...w.prelude });
  return { name: w.name, image: w.image, command: [shell, "-c", kubeLiteral(prelude), w.name, ...w.command], env: [...w.env] };
}

/** A plan step as a container of the pod: its own command, its env split into plain values and late ones. */
function stepContainer(plan: BuildPlan, step: ContainerStep, prelude?: Wrap["prelude"]): Obj {
  const lateEnv = fileLatesOf(step.env, GLOBAL_LATES);
  const plainEnv = step.env.filter((e) => !lateEnv.includes(e));
  const command = [...step.command, ...step.args].map(inTemplate);
  if (!shellOf(step.command) && (lateEnv.length > 0 || prelude)) {
    // The article's `pack` image has no shell: its step needs no late value, and it is not skipped (README, "Argo").
    throw new PacklineError(`internal: the ${step.name} step needs a shell for its late values.`);
  }
  return {
    ...wrapped(plan, {
      name: step.name,
      image: imageOf(step),
      command,
      env: plainEnv.map((e) => ({ name: e.name, value: inTemplate(e.value) })),
      lateEnv,
      prelude,
    }),
    workingDir: step.workdir,
    ...(step.pullAlways ? { imagePullPolicy: "Always" } : {}),
  };
}

/** A pod names its images when it is made: the plan gives a cluster plan's images as literals (pin.ts). */
function imageOf(step: ContainerStep): string {
  const image = literal(step.image);
  if (image === undefined) throw new PacklineError(`internal: the ${step.name} step's image is known only when the build runs.`);
  return image;
}

/**
 * The build pod: the source, the check and the build as init containers (in this order; the first failure stops the
 * pod), the release as its main container, all with emptyDir volumes (as kpack does): nothing outlives the pod, and no
 * volume claim is needed. Late values pass as files on one volume (late-prelude.ts). After a check that finds the
 * version published, the build and release do nothing, and the check's digest is the output.
 */
function podTemplate(plan: BuildPlan, argo: ArgoOptions, name: string, detectUser: boolean): Obj {
  const { check, build, release } = plan.steps;
  if (plan.source.kind !== "git") throw new PacklineError("internal: build without a repository.");
  for (const step of [check, release]) {
    if (step.outputs.some((o) => dirname(o.path) !== RESOLVE_OUT)) throw new PacklineError(`internal: ${step.name} writes outside ${RESOLVE_OUT}.`);
  }
  const restricted = !build.privileged;
  const files = build.files.map((file, i) => ({ path: file.path, env: `PACKLINE_FILE_${i}`, value: file.contents }));
  // The creator's source and layers are folders the source container makes in their volumes (see scripts.ts).
  const layersFolder = restricted && build.mounts.some((m) => m.volume === VOLUMES.layers);
  const mountOf = (volume: string, path: string, readOnly?: boolean): Obj => ({
    name: volume,
    mountPath: path,
    ...(volume === VOLUMES.source ? { subPath: CLONE.dir } : volume === VOLUMES.layers && layersFolder ? { subPath: LAYERS.dir } : {}),
    ...(readOnly ? { readOnly: true } : {}),
  });
  const buildMounts = build.mounts.map((m) => mountOf(m.volume, m.path, m.readOnly));
  const buildSecurity = build.privileged ? { runAsUser: 0, privileged: true } : RESTRICTED_CONTAINER;
  // The pack image has no shell: the article's form builds even when the check finds the version published.
  const skip = restricted;
  const resources = {
    ...(Object.keys(argo.resources.requests).length > 0 ? { requests: argo.resources.requests } : {}),
    ...(Object.keys(argo.resources.limits).length > 0 ? { limits: argo.resources.limits } : {}),
  };
  // The plan's files land on the volumes the build reads them from, mounted where the build mounts them.
  const fileMounts = buildMounts.filter((m) => files.some((f) => f.path.startsWith(`${String(m.mountPath)}/`)) && m.name !== VOLUMES.source);
  const prepare = files.length === 0 && !layersFolder ? "" : prepareScript(files, layersFolder ? [`${LAYERS.mount}/${LAYERS.dir}`] : []);
  const source: Obj = {
    name: "source",
    image: IMAGES.git,
    command: ["sh", "-c", kubeLiteral(SOURCE_SCRIPT + prepare)],
    env: [
      { name: "PACKLINE_TAG", value: submitted("tag") },
      { name: "PACKLINE_REF", value: submitted("ref") },
      { name: "PACKLINE_REPO", value: kubeLiteral(plan.source.url) },
      ...gitCredentials(argo),
      ...files.map((f) => ({ name: f.env, value: Buffer.from(f.value, "utf8").toString("base64") })),
    ],
    volumeMounts: [
      { name: VOLUMES.source, mountPath: CLONE.mount },
      ...fileMounts.map(({ subPath: _s, readOnly: _r, ...m }) => m),
      ...(layersFolder ? [{ name: VOLUMES.layers, mountPath: LAYERS.mount }] : []),
      LATE_MOUNT,
    ],
    // The creator's user owns the checkout (buildpacks may write into the app); the pack image reads it as root.
    securityContext: restricted ? RESTRICTED_CONTAINER : TOOL_CONTAINER,
  };
  const report = outputPath(build, "report");
  const buildContainer: Obj = {
    ...stepContainer(plan, build, skip ? { skipWhenPublished: true } : undefined),
    volumeMounts: [...buildMounts, ...(skip ? [{ ...LATE_MOUNT, readOnly: true }] : [])],
    securityContext: buildSecurity,
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
  };
  // The release reads the build's report (and the SBOM is collected) where the build wrote them: the same mount.
  const reportMount = build.mounts.find((m) => report.startsWith(`${m.path}/`));
  if (!reportMount) throw new PacklineError("internal: the build's report is on no volume.");
  const toolMounts = (step: ContainerStep) => [
    ...step.mounts.map((m) => ({ name: m.volume, mountPath: m.path, ...(m.readOnly ? { readOnly: true } : {}) })),
    LATE_MOUNT,
  ];
  const checkContainer: Obj = { ...stepContainer(plan, check), volumeMounts: toolMounts(check), securityContext: TOOL_CONTAINER };
  const releaseContainer: Obj = {
    ...stepContainer(plan, release, {
      skipWhenPublished: true,
      write: { tags: "tags" },
      report,
      retry: { codes: release.transientExitCodes ?? [], limit: argo.retries },
    }),
    volumeMounts: [...toolMounts(release), mountOf(reportMount.volume, reportMount.path, true)],
    securityContext: TOOL_CONTAINER,
  };
  const { name: _main, ...main } = releaseContainer;
  const podSecurity = build.privileged
    ? undefined
    : plan.buildUser.kind === "given"
      ? restrictedPod(plan.buildUser.uid, plan.buildUser.gid)
      : { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };
  const volumeNames = [...new Set([check, build, release].flatMap((s) => s.mounts.map((m) => m.volume)))];
  return {
    name,
    inputs: detectUser ? { parameters: [{ name: "tag" }, { name: "ref" }, { name: "uid" }, { name: "gid" }] } : MAIN_INPUTS,
    ...podRetry(argo, [
      { container: "source", codes: [SOURCE_EXIT.transient] },
      { container: "check", codes: check.transientExitCodes ?? [] },
      { container: "build", codes: build.transientExitCodes ?? [] },
    ]),
    ...(podSecurity ? { securityContext: podSecurity } : {}),
    // The builder's user, read by the builder-user pod, can only reach the pod's security context this way.
    podSpecPatch: detectUser
      ? executorPatch({ runAsUser: "{{inputs.parameters.uid}}", runAsGroup: "{{inputs.parameters.gid}}", fsGroup: "{{inputs.parameters.gid}}" })
      : executorPatch(),
    initContainers: [source, checkContainer, buildContainer],
    container: main,
    volumes: [
      ...volumeNames.map((v) =>
        volumeOf(
          plan,
          plan.volumes.find((x) => x.name === v),
          argo,
        ),
      ),
      { name: LATE_VOLUME, emptyDir: {} },
    ],
    outputs: {
      parameters: OUTPUTS.map((o) => ({
        name: o.name,
        ...(detectUser ? {} : { globalName: o.name, description: o.description }),
        valueFrom: { path: `${RESOLVE_OUT}/${o.file}` },
      })),
      ...(argo.sbomArtifact && build.outputs.some((o) => o.name === "sbom")
        ? { artifacts: [{ name: "sbom", path: outputPath(build, "sbom"), optional: true, archive: { tar: {} } }] }
        : {}),
    },
    metadata: {
      annotations: {
        "packline.dev/exit-codes": `source: ${BAD_VERSION_EXIT} bad version, ${SOURCE_EXIT.credentials} git credentials, ${SOURCE_EXIT.missingRef} no such ref`,
      },
    },
  };
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

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}
