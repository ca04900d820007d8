/**
 * packline-specific helpers of the e2e tests (not a test file): plans made by `planBuild`, run with `runStep`
 * exactly as the plan states them, and the build pod of an exported Argo Workflow(Template) run the way a kubelet
 * would (its volumes, its `prepare` init container, then its container), with nothing of the creator written here.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { exportArgo } from "../../src/argo/export.js";
import { VERSION_OUTPUTS, VERSION_SCRIPT } from "../../src/argo/version-script.js";
import { dockerConfigJson } from "../../src/docker-config.js";
import type { BuildInput } from "../../src/options.js";
import { type BuildPlan, planBuild, REGISTRY_AUTH_SECRET } from "../../src/plan.js";
import { copySource, docker, e2eState, type ImageReport, type RunResult, readReport, removeTree, runStep, type StepRun } from "./harness.js";

/** The version every e2e build publishes unless a test says otherwise. */
export const E2E_TAG = "v1.2.3";
/** A build-time env value (becomes /platform/env/GREETING; the test buildpack prints it). */
export const GREETING = "hello-from-packline-e2e";

/** `<registry>/<repository>` -> `<repository>`. */
export function repositoryOf(image: string): string {
  const s = e2eState();
  if (!image.startsWith(`${s.registry}/`)) throw new Error(`${image} is not in the e2e registry ${s.registry}`);
  return image.slice(s.registry.length + 1);
}

/**
 * `planBuild` with the e2e builder, registry login, floating tags, latest and GREETING, and the lab's two registries
 * as insecure (plain HTTP on 10.123.0.1, which is not loopback); `extra` overrides.
 */
export function planFor(repository: string, extra: Partial<BuildInput> = {}): BuildPlan {
  const s = e2eState();
  return planBuild({
    tag: E2E_TAG,
    image: `${s.registry}/${repository}`,
    builder: s.builderImage,
    registryUsername: s.username,
    registryPassword: true,
    floatingTags: true,
    latest: true,
    env: [`GREETING=${GREETING}`],
    insecureRegistries: s.insecureRegistries,
    ...extra,
  });
}

/** The registry-auth secret's value: a docker config.json made by packline's own `dockerConfigJson`. */
export function registryAuthSecret(password: string = e2eState().password): string {
  const s = e2eState();
  return dockerConfigJson(s.registry, s.username, password);
}

export interface PlanBuildResult {
  readonly run: StepRun;
  /** report.toml's [image], when the creator wrote one. */
  readonly report?: ImageReport;
}

/**
 * Runs `plan.build` with runStep: a fresh copy of `source` (default the fixture app) at the source mount, `cacheDir`
 * (default a fresh temp dir) at the cache mount, and the registry-auth secret the plan's secret mount names.
 */
export async function runPlanBuild(
  plan: BuildPlan,
  opts: { source?: string; cacheDir?: string; password?: string; timeoutMs?: number } = {},
): Promise<PlanBuildResult> {
  const secretMount = plan.build.mounts.find((m) => m.kind === "secret");
  if (!secretMount || secretMount.kind !== "secret" || secretMount.secret.name !== REGISTRY_AUTH_SECRET.name) {
    throw new Error(`the plan's build step has no "${REGISTRY_AUTH_SECRET.name}" secret mount: ${JSON.stringify(plan.build.mounts)}`);
  }
  const sourceDir = copySource(opts.source);
  const ownCache = opts.cacheDir === undefined;
  const cacheDir = opts.cacheDir ?? mkdtempSync(join(tmpdir(), "packline-e2e-cache-"));
  try {
    const run = await runStep(plan.build, {
      sourceDir,
      cacheDir,
      secrets: { [secretMount.secret.name]: registryAuthSecret(opts.password) },
      timeoutMs: opts.timeoutMs ?? 5 * 60_000,
    });
    const layers = run.scratch["/layers"];
    const report = layers && existsSync(join(layers, "report.toml")) ? readReport(layers) : undefined;
    run.cleanup();
    return { run, report };
  } finally {
    removeTree(sourceDir);
    if (ownCache) removeTree(cacheDir);
  }
}

/** A copy of the fixture app with its index.html changed (a different source). */
export function changedSource(marker: string): string {
  const dir = copySource();
  const index = join(dir, "index.html");
  writeFileSync(index, readFileSync(index, "utf8").replace("</body>", `<p>${marker}</p></body>`));
  return dir;
}

// ------------------------------------------------------------------------------------------------------ Argo

type Obj = Record<string, any>;

/** The cluster's version step: VERSION_SCRIPT run with sh (as test/parity.test.ts does), its outputs read back. */
export function runVersionScript(tag: string): Record<keyof typeof VERSION_OUTPUTS, string> {
  const dir = mkdtempSync(join(tmpdir(), "packline-e2e-version-"));
  try {
    const script = VERSION_SCRIPT.split("/tmp/packline").join(dir);
    execFileSync("sh", ["-c", script], { env: { PATH: process.env.PATH, PACKLINE_VERSION: tag }, stdio: "pipe" });
    return Object.fromEntries(
      Object.entries(VERSION_OUTPUTS).map(([name, path]) => [name, readFileSync(path.replace("/tmp/packline", dir), "utf8")]),
    ) as Record<keyof typeof VERSION_OUTPUTS, string>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Replaces every `{{name}}` by values[name]; throws on any expression it has no value for. */
export function substitute(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{\s*([^}]+?)\s*\}\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for Argo expression ${whole} in ${JSON.stringify(text)}`);
    return value;
  });
}

export interface ArgoBuildPod {
  readonly templateName: string;
  readonly template: Obj;
  /** Every `{{…}}` value the pod's fields use. */
  readonly values: Readonly<Record<string, string>>;
  readonly workflow: Obj;
}

/**
 * Parses an exported workflow and selects the build template the `main` steps would run for `tag`: the version step's
 * script decides the shape, the step whose `when` holds for it names the template and its input parameters.
 */
export function selectBuildPod(yamlText: string, tag: string): ArgoBuildPod {
  const workflow = parse(yamlText) as Obj;
  const templates = workflow.spec.templates as Obj[];
  const main = templates.find((t) => t.name === workflow.spec.entrypoint);
  if (!main) throw new Error("the workflow has no entrypoint template");
  const version = runVersionScript(tag);
  const stepValues: Record<string, string> = Object.fromEntries(
    Object.entries(version).map(([k, v]) => [`steps.version.outputs.parameters.${k}`, v]),
  );
  const chosen = (main.steps as Obj[][]).flat().filter((step) => {
    if (step.when === undefined) return false;
    const m = /^'(.*)' == '(.*)'$/.exec(substitute(step.when as string, stepValues));
    if (!m) throw new Error(`unexpected when condition ${step.when}`);
    return m[1] === m[2];
  });
  if (chosen.length !== 1) throw new Error(`expected one build step for ${tag} (${version.shape}), found ${chosen.length}`);
  const step = chosen[0]!;
  const template = templates.find((t) => t.name === step.template);
  if (!template) throw new Error(`template ${step.template} is missing`);
  const values: Record<string, string> = { "workflow.uid": randomUUID() };
  for (const p of (step.arguments?.parameters ?? []) as Obj[]) values[`inputs.parameters.${p.name}`] = substitute(p.value, stepValues);
  for (const p of (template.inputs?.parameters ?? []) as Obj[]) {
    if (values[`inputs.parameters.${p.name}`] === undefined) throw new Error(`input ${p.name} of ${template.name} gets no value`);
  }
  return { templateName: template.name, template, values, workflow };
}

export interface ArgoPodRun {
  readonly prepare?: RunResult;
  readonly main: RunResult;
  readonly output: string;
  readonly exitCode: number;
  readonly report?: ImageReport;
  /** The host directory of the pod's `work` volume (source/ and layers/). */
  readonly workDir: string;
  readonly argv: readonly string[];
  cleanup(): void;
}

/**
 * Runs the selected build pod in Docker the way a kubelet would: each volume of the workflow becomes a host directory
 * (volumeClaimTemplates and emptyDir: empty, 0777 like an emptyDir; secrets: their items written as files, 0644), each
 * volumeMount `-v <volume dir>[/subPath]:<mountPath>[:ro]`; the init containers run first, then the container, each
 * with its own image, command, args, env, workingDir and securityContext.runAsUser, every `{{…}}` substituted.
 * `volumeContents` pre-fills volumes (e.g. work/source with the cloned app). `secrets` gives Secret data by name.
 */
export async function runArgoBuildPod(
  pod: ArgoBuildPod,
  opts: {
    secrets: Readonly<Record<string, Readonly<Record<string, string>>>>;
    prefill?: (volumeDirs: Readonly<Record<string, string>>) => void;
    timeoutMs?: number;
  },
): Promise<ArgoPodRun> {
  const root = mkdtempSync(join(tmpdir(), "packline-e2e-pod-"));
  const dirs: Record<string, string> = {};
  const spec = pod.workflow.spec as Obj;
  for (const claim of (spec.volumeClaimTemplates ?? []) as Obj[]) {
    const dir = join(root, "volumes", claim.metadata.name);
    mkdirSync(dir, { recursive: true });
    dirs[claim.metadata.name] = dir;
  }
  for (const volume of (spec.volumes ?? []) as Obj[]) {
    const dir = join(root, "volumes", volume.name);
    mkdirSync(dir, { recursive: true });
    if (volume.emptyDir) {
      chmodSync(dir, 0o777);
    } else if (volume.secret) {
      const data = opts.secrets[volume.secret.secretName];
      if (!data) throw new Error(`the workflow mounts Secret ${volume.secret.secretName} and the test gave none`);
      const items = (volume.secret.items ?? Object.keys(data).map((key) => ({ key, path: key }))) as Obj[];
      for (const item of items) {
        const value = data[item.key];
        if (value === undefined) throw new Error(`Secret ${volume.secret.secretName} has no key ${item.key}`);
        writeFileSync(join(dir, item.path), value, { mode: 0o644 });
      }
    } else if (volume.persistentVolumeClaim) {
      chmodSync(dir, 0o777);
    } else {
      throw new Error(`volume ${volume.name}: kind not emulated: ${JSON.stringify(volume)}`);
    }
    dirs[volume.name] = dir;
  }
  opts.prefill?.(dirs);

  const volumeArgs = (mounts: Obj[]): string[] =>
    mounts.flatMap((m) => {
      const base = dirs[m.name];
      if (!base) throw new Error(`volumeMount ${m.name} names no volume`);
      const host = m.subPath ? join(base, m.subPath) : base;
      mkdirSync(host, { recursive: true }); // the kubelet creates a missing subPath
      return ["-v", `${host}:${m.mountPath}${m.readOnly ? ":ro" : ""}`];
    });

  const runContainer = async (c: Obj, label: string): Promise<{ result: RunResult; argv: string[] }> => {
    const env = ((c.env ?? []) as Obj[]).flatMap((e) => {
      if (e.value === undefined) throw new Error(`env ${e.name} of ${label} has no literal value: ${JSON.stringify(e)}`);
      return ["-e", `${e.name}=${substitute(String(e.value), pod.values)}`];
    });
    const user = c.securityContext?.runAsUser;
    const [entrypoint, ...commandRest] = ((c.command ?? []) as string[]).map((x) => substitute(x, pod.values));
    const argv = [
      "run",
      "--rm",
      "--network",
      "host",
      ...(user !== undefined ? ["--user", String(user)] : []),
      ...(c.workingDir ? ["--workdir", c.workingDir] : []),
      ...(entrypoint !== undefined ? ["--entrypoint", entrypoint] : []),
      ...env,
      ...volumeArgs((c.volumeMounts ?? []) as Obj[]),
      substitute(c.image, pod.values),
      ...commandRest,
      ...((c.args ?? []) as string[]).map((x) => substitute(x, pod.values)),
    ];
    const result = await docker(argv, { check: false, timeoutMs: opts.timeoutMs ?? 5 * 60_000 });
    return { result, argv };
  };

  let prepare: RunResult | undefined;
  let output = "";
  for (const init of (pod.template.initContainers ?? []) as Obj[]) {
    const { result } = await runContainer(init, `init container ${init.name}`);
    prepare = result;
    output += result.stdout + result.stderr;
    if (result.exitCode !== 0) {
      return { prepare, main: result, output, exitCode: result.exitCode, workDir: dirs.work ?? root, argv: [], cleanup: () => removeTree(root) };
    }
  }
  const { result: main, argv } = await runContainer(pod.template.container as Obj, "the build container");
  output += main.stdout + main.stderr;
  const layers = findLayersDir(pod.template.container as Obj, dirs);
  const report = layers && existsSync(join(layers, "report.toml")) ? readReport(layers) : undefined;
  return { prepare, main, output, exitCode: main.exitCode, report, workDir: dirs.work ?? root, argv, cleanup: () => removeTree(root) };
}

/** The host directory behind the container's /layers mount (where the creator writes report.toml). */
function findLayersDir(container: Obj, dirs: Readonly<Record<string, string>>): string | undefined {
  const m = ((container.volumeMounts ?? []) as Obj[]).find((v) => v.mountPath === "/layers");
  if (!m) return undefined;
  return m.subPath ? join(dirs[m.name]!, m.subPath) : dirs[m.name];
}

/** `exportArgo` with the e2e builder, a registry secret named "regcred", floating tags, latest, GREETING and the lab's insecure registries. */
export function exportFor(repository: string, kind: "workflow-template" | "workflow", extra: Obj = {}): string {
  const s = e2eState();
  return exportArgo(
    {
      repo: "https://example.invalid/acme/app",
      tag: E2E_TAG,
      image: `${s.registry}/${repository}`,
      builder: s.builderImage,
      registrySecret: "regcred",
      floatingTags: true,
      latest: true,
      env: [`GREETING=${GREETING}`],
      insecureRegistries: s.insecureRegistries,
      ...extra,
    },
    { kind },
  ).yaml;
}
