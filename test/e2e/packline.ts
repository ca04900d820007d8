/**
 * packline-specific helpers of the e2e tests (not a test file): plans made by the core, their steps run with
 * `runStep` exactly as the plan states them (check, build, release), and the build pod of an exported Argo
 * Workflow(Template) run the way a kubelet would (its volumes, its `clone` and `prepare` init containers, then its
 * container, under the pod's restricted security settings), with nothing of the creator written here.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { exportArgo } from "../../src/backends/argo/export.js";
import { dockerConfigJson } from "../../src/core/docker-config.js";
import type { RawInput } from "../../src/core/options/input.js";
import { validateBuild } from "../../src/core/options/validate.js";
import { PIN_SCRIPT } from "../../src/core/plan/pin.js";
import { type BuildPlan, type Late, outputPath, planBuild, REGISTRY_AUTH_SECRET } from "../../src/core/plan/planner.js";
import { resolveText } from "../../src/core/plan/text.js";
import { kubeletExpand } from "../support/k8s-expand.js";
import {
  builderUser,
  copySource,
  docker,
  e2eState,
  type ImageReport,
  podContainerArgs,
  type RunResult,
  readReport,
  removeTree,
  runStep,
  type StepRun,
} from "./harness.js";

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
 * A plan with the e2e builder, registry login, floating tags, latest and GREETING, and the lab's two registries as
 * insecure (plain HTTP on 10.123.0.1, which is not loopback); `extra` overrides.
 */
export function planFor(repository: string, extra: RawInput = {}): BuildPlan {
  const s = e2eState();
  return planBuild(
    validateBuild("build", {
      tag: E2E_TAG,
      image: `${s.registry}/${repository}`,
      builder: s.builderImage,
      registryUsername: s.username,
      registryPassword: true,
      floatingTags: true,
      latest: true,
      env: [`GREETING=${GREETING}`],
      insecureRegistry: s.insecureRegistries,
      ...extra,
    }),
  );
}

/** The registry-auth secret's value: a docker config.json made by packline's own `dockerConfigJson`. */
export function registryAuthSecret(password: string = e2eState().password): string {
  const s = e2eState();
  return dockerConfigJson(s.registry, s.username, password);
}

export interface PlanRun {
  /** The check's outcome: unpublished (then build and release ran) or published. */
  readonly outcome: string;
  readonly check: StepRun;
  readonly build?: StepRun;
  readonly release?: StepRun;
  /** report.toml's [image] (the staged image), when the build wrote one. */
  readonly report?: ImageReport;
  /** The final digest: the release's, or the published one the check found. */
  readonly digest?: string;
  /** The step that failed, if one did. */
  readonly failed?: StepRun;
  /** Seconds each step took, and the whole run (what a user waits for), as `packline build` runs the steps. */
  readonly seconds: StepSeconds;
}

export interface StepSeconds {
  readonly check: number;
  readonly build?: number;
  readonly release?: number;
  readonly total: number;
}

/** Runs `go` and adds its duration in seconds under `name`. */
async function timedStep<T>(seconds: Record<string, number>, name: string, go: () => Promise<T>): Promise<T> {
  const started = process.hrtime.bigint();
  try {
    return await go();
  } finally {
    seconds[name] = Number(process.hrtime.bigint() - started) / 1e9;
  }
}

/**
 * Runs the plan's steps the way a backend does: check, then (unless the version is published from this revision)
 * build and release; the build starts beside the check when the plan allows it (types.ts, Overlap), and is discarded
 * (its container removed, before this returns) when the check says published or fails. `source` (default the fixture
 * app) is copied fresh; `cacheDir` defaults to a fresh temp dir; `lates` gives what only a run knows (the revision's
 * source digest or commit, the commit time).
 */
export async function runPlan(
  plan: BuildPlan,
  opts: { source?: string; cacheDir?: string; password?: string; lates?: Partial<Record<Late, string>>; timeoutMs?: number } = {},
): Promise<PlanRun> {
  // One run id for all the steps of a run, as every backend gives (the release checks that the claim is its run's).
  const lates: Partial<Record<Late, string>> = { "source-digest": "e2e-source", commit: "e2e-commit", "run-id": randomUUID(), ...opts.lates };
  const secrets = plan.registryAuth ? { [REGISTRY_AUTH_SECRET.name]: registryAuthSecret(opts.password) } : {};
  const sourceDir = copySource(opts.source);
  const ownCache = opts.cacheDir === undefined;
  const cacheDir = opts.cacheDir ?? mkdtempSync(join(tmpdir(), "packline-e2e-cache-"));
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000;
  // Each step's scratch directories are removed at the end, off the clock: a backend does not wait for that.
  const cleanups: (() => void)[] = [];
  const started = process.hrtime.bigint();
  const times: Record<string, number> = {};
  const seconds = (): StepSeconds => ({ ...times, check: times.check ?? 0, total: Number(process.hrtime.bigint() - started) / 1e9 });
  const discard = new AbortController();
  const runBuild = () =>
    timedStep(times, "build", () => runStep(plan, plan.steps.build, { sourceDir, cacheDir, secrets, lates, timeoutMs, signal: discard.signal }));
  const early = plan.overlap.checkBesideBuild ? runBuild() : undefined;
  try {
    const check = await timedStep(times, "check", () => runStep(plan, plan.steps.check, { secrets, lates, timeoutMs }));
    cleanups.push(check.cleanup);
    const outcome = readOutput(check, plan.steps.check, "outcome");
    const published = readOutput(check, plan.steps.check, "digest");
    if (check.exitCode !== 0 || outcome === "published") {
      // The check's word: the result is known now (the clock stops), the discarded build is removed off the clock,
      // and no step of it is part of the result.
      const done = seconds();
      delete times.build;
      if (early) {
        discard.abort();
        cleanups.push((await early).cleanup);
      }
      if (check.exitCode !== 0) return { outcome: "failed", check, failed: check, seconds: done };
      return { outcome, check, digest: published, seconds: done };
    }

    // What the check pinned (the builder and run image digests, the lifecycle's version), for the build and release.
    Object.assign(lates, checkLates(check, plan));
    const build = await (early ?? runBuild());
    cleanups.push(build.cleanup);
    const layers = build.scratch.layers;
    const report = layers && existsSync(join(layers, "report.toml")) ? readReport(layers) : undefined;
    if (build.exitCode !== 0 || !report) return { outcome, check, build, report, failed: build, seconds: seconds() };
    const buildReport = readFileSync(join(layers, "report.toml"), "utf8");
    const release = await timedStep(times, "release", () =>
      runStep(plan, plan.steps.release, { secrets, lates: { ...lates, "build-report": buildReport }, timeoutMs }),
    );
    cleanups.push(release.cleanup);
    const digest = readOutput(release, plan.steps.release, "digest");
    if (release.exitCode !== 0) return { outcome, check, build, release, report, failed: release, seconds: seconds() };
    return { outcome, check, build, release, report, digest, seconds: seconds() };
  } finally {
    // whatever ended the run (a throw included), no build container outlives it
    if (early) {
      discard.abort();
      await early.catch(() => undefined);
    }
    for (const cleanup of cleanups) cleanup();
    removeTree(sourceDir);
    if (ownCache) removeTree(cacheDir);
  }
}

/**
 * The raw creator: `docker run` of the builder as its CNB user with the plan's own build-step arguments (same app,
 * env files, cache dir, registries, staging tag); its directories are made and chowned on the host first (milliseconds).
 * The floor: a platform cannot publish faster than the lifecycle it runs.
 */
export async function rawCreator(
  repository: string,
  source: string,
  cacheDir: string,
  work: string,
  extra: RawInput = {},
): Promise<{ exitCode: number; output: string }> {
  const s = e2eState();
  const plan = planFor(repository, extra);
  const step = plan.steps.build;
  const user = await builderUser(plan.builder);
  // Fresh directories each call, left for the caller to remove with `work`: removing the last build's layers here
  // (the deps layer's files) was on the raw creator's clock, while a plan's steps clean up off theirs.
  const call = mkdtempSync(join(work, "call-"));
  const layers = join(call, "layers");
  const platform = join(call, "platform");
  const config = join(call, "docker");
  mkdirSync(layers, { recursive: true });
  mkdirSync(join(platform, "env"), { recursive: true });
  for (const file of step.files) {
    if (!file.path.startsWith("/platform/")) throw new Error(`rawCreator: the plan writes ${file.path}, outside /platform`);
    writeFileSync(join(platform, file.path.slice("/platform/".length)), file.contents);
  }
  mkdirSync(config, { recursive: true });
  cpSync(join(s.dockerConfigDir, "config.json"), join(config, "config.json"));
  execFileSync("chown", ["-R", user, layers, platform, config, cacheDir, source]);
  const lates = { "run-id": "bench", ...(await pinLates(plan)) };
  const args = step.args.map((a) => resolveText(a, lates));
  const env = step.env.flatMap((e) => ["-e", `${e.name}=${resolveText(e.value, lates)}`]);
  const r = await docker(
    [
      "run",
      "--rm",
      "--network",
      "host",
      "--user",
      user,
      ...env,
      "-e",
      "DOCKER_CONFIG=/docker",
      "-v",
      `${source}:/workspace`,
      "-v",
      `${layers}:/layers`,
      "-v",
      `${platform}:/platform`,
      "-v",
      `${cacheDir}:/cache`,
      "-v",
      `${config}:/docker:ro`,
      "--entrypoint",
      "/cnb/lifecycle/creator",
      resolveText(step.image, lates),
      ...args,
    ],
    { check: false, timeoutMs: 10 * 60_000 },
  );
  return { exitCode: r.exitCode, output: r.stdout + r.stderr };
}

export interface BuildStepResult {
  readonly run: StepRun;
  /** report.toml's [image], when the creator wrote one. */
  readonly report?: ImageReport;
}

/**
 * Runs only the plan's build step (the lifecycle), as `runPlan` does: a fresh copy of `source`, `cacheDir` (default a
 * fresh temp dir), the registry-auth secret. For tests of the lifecycle itself (caches, SBOMs, pack's peer).
 */
export async function runBuildStep(
  plan: BuildPlan,
  opts: { source?: string; cacheDir?: string; password?: string; lates?: Partial<Record<Late, string>>; timeoutMs?: number } = {},
): Promise<BuildStepResult> {
  const sourceDir = copySource(opts.source);
  const ownCache = opts.cacheDir === undefined;
  const cacheDir = opts.cacheDir ?? mkdtempSync(join(tmpdir(), "packline-e2e-cache-"));
  try {
    const secrets = plan.registryAuth ? { [REGISTRY_AUTH_SECRET.name]: registryAuthSecret(opts.password) } : {};
    const lates = { ...(await pinLates(plan, secrets)), ...opts.lates };
    const run = await runStep(plan, plan.steps.build, { sourceDir, cacheDir, secrets, lates, timeoutMs: opts.timeoutMs ?? 5 * 60_000 });
    const layers = run.scratch.layers;
    const report = layers && existsSync(join(layers, "report.toml")) ? readReport(layers) : undefined;
    return { run, report };
  } finally {
    removeTree(sourceDir);
    if (ownCache) removeTree(cacheDir);
  }
}

/** The late values the check's outputs hold for the later steps (pin.ts). */
function checkLates(check: StepRun, plan: BuildPlan): Partial<Record<Late, string>> {
  const step = plan.steps.check;
  return Object.fromEntries(step.outputs.filter((o) => o.late !== undefined).map((o) => [o.late!, readOutput(check, step, o.name)]));
}

/**
 * What the check pins, for a run of the build step without the check (which would claim the version): the check's
 * own pin script (pin.ts) in the check's container.
 */
export async function pinLates(plan: BuildPlan, secrets: Readonly<Record<string, string>> = {}): Promise<Partial<Record<Late, string>>> {
  const secretsFor = plan.registryAuth && Object.keys(secrets).length === 0 ? { [REGISTRY_AUTH_SECRET.name]: registryAuthSecret() } : secrets;
  // (the check's env names the revision, which the pin does not read)
  const lates = { "source-digest": "unused", commit: "unused" };
  const run = await runStep(plan, { ...plan.steps.check, args: [[PIN_SCRIPT]] }, { secrets: secretsFor, lates, timeoutMs: 60_000 });
  try {
    if (run.exitCode !== 0) throw new Error(`the pin failed (exit code ${run.exitCode}):\n${run.output}`);
    return checkLates(run, plan);
  } finally {
    run.cleanup();
  }
}

function readOutput(run: StepRun, step: BuildPlan["steps"]["check"], name: string): string {
  const path = outputPath(step, name);
  if (!run.outputsDir) throw new Error(`step ${step.name} has no outputs directory`);
  const file = join(run.outputsDir, path.slice(path.lastIndexOf("/") + 1));
  return existsSync(file) ? readFileSync(file, "utf8").trim() : "";
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

/** Replaces every `{{name}}` by values[name]; throws on any expression it has no value for. */
export function substitute(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{\s*([^}]+?)\s*\}\}/g, (whole, name: string) => {
    // The one expression the exporter writes around a submitted value: `$` doubled, so that the kubelet's expansion
    // gives back the value as submitted.
    const escaped = /^=replace\(([a-z.-]+), '\$', '\$\$'\)$/.exec(name);
    const value = escaped ? values[escaped[1]!]?.replaceAll("$", "$$$$") : values[name];
    if (value === undefined) throw new Error(`no value for Argo expression ${whole} in ${JSON.stringify(text)}`);
    return value;
  });
}

/** `exportArgo` with the e2e builder and the lab's git fixture, a registry secret "regcred", floating tags, latest, GREETING. */
export function exportFor(repository: string, kind: "workflow-template" | "workflow", extra: RawInput = {}): string {
  const s = e2eState();
  return exportArgo({
    repo: s.lab.git.repos.fixture.url,
    tag: E2E_TAG,
    image: `${s.registry}/${repository}`,
    builder: s.builderImage,
    registrySecret: "regcred",
    floatingTags: true,
    latest: true,
    env: [`GREETING=${GREETING}`],
    insecureRegistry: s.insecureRegistries,
    kind,
    ...extra,
  }).yaml;
}

export interface ArgoPodRun {
  readonly output: string;
  readonly exitCode: number;
  readonly report?: ImageReport;
  /** The pod's output parameters, read where the main container wrote them (as Argo's wait container does). */
  readonly outputs: Readonly<Record<string, string>>;
  /** The docker argv of each container, in order (init containers first). */
  readonly argvs: readonly (readonly string[])[];
  cleanup(): void;
}

/**
 * Runs the workflow's `build` template in Docker the way a kubelet would: each template volume becomes a host
 * directory (emptyDir: empty, 0777, group fsGroup; secrets: their items written as files, 0644); each volumeMount is
 * `-v <volume dir>[/subPath]:<mountPath>[:ro]`; the init containers run first, then the container, each with its
 * image, command, args, env, workingDir, and the pod's restricted settings as a kubelet applies them: the user and
 * group from the pod security context (the template's, patched by its podSpecPatch), no capabilities, no privilege
 * escalation; the main container with umask 0, as Argo's emissary executor starts it. `values` gives every `{{inputs.parameters.*}}` the template reads.
 */
export async function runArgoBuildPod(
  yamlText: string,
  values: Readonly<Record<string, string>>,
  opts: { secrets: Readonly<Record<string, Readonly<Record<string, string>>>>; timeoutMs?: number },
): Promise<ArgoPodRun> {
  const workflow = parse(yamlText) as Obj;
  // The build pod: `build` after the builder-user pod, or `main` itself with --build-user.
  const template = (workflow.spec.templates as Obj[]).find((t) => t.initContainers?.some((c: Obj) => c.name === "build"));
  if (!template) throw new Error("the workflow has no build pod");
  const buildContainer = (template.initContainers as Obj[]).find((c) => c.name === "build")!;
  const all = { "workflow.uid": randomUUID(), "workflow.creationTimestamp.s": String(Math.floor(Date.now() / 1000)), ...values };
  const sub = (x: string) => substitute(x, all);
  const patch = template.podSpecPatch ? (JSON.parse(sub(template.podSpecPatch)) as Obj) : {};
  const podSecurity = { ...(template.securityContext ?? {}), ...(patch.securityContext ?? {}) } as Obj;
  const uid = podSecurity.runAsUser ?? (await builderUser(buildContainer.image)).split(":")[0];
  const gid = podSecurity.runAsGroup ?? podSecurity.fsGroup;

  const root = mkdtempSync(join(tmpdir(), "packline-e2e-pod-"));
  const dirs: Record<string, string> = {};
  for (const volume of (template.volumes ?? []) as Obj[]) {
    const dir = join(root, "volumes", volume.name);
    mkdirSync(dir, { recursive: true });
    if (volume.emptyDir || volume.persistentVolumeClaim) {
      // An emptyDir is 0777; with an fsGroup the kubelet gives it that group and the setgid bit, which every folder
      // made in it inherits (what the source container undoes for the folders the image records).
      chmodSync(dir, 0o777);
      if (podSecurity.fsGroup !== undefined) {
        execFileSync("chown", [`0:${podSecurity.fsGroup}`, dir]);
        chmodSync(dir, 0o2777);
      }
    } else if (volume.secret) {
      const data = opts.secrets[volume.secret.secretName];
      if (!data) throw new Error(`the workflow mounts Secret ${volume.secret.secretName} and the test gave none`);
      for (const item of (volume.secret.items ?? []) as Obj[]) writeFileSync(join(dir, item.path), data[item.key] ?? "", { mode: 0o644 });
    } else {
      throw new Error(`volume ${volume.name}: kind not emulated: ${JSON.stringify(volume)}`);
    }
    dirs[volume.name] = dir;
  }
  const volumeArgs = (mounts: Obj[]): string[] =>
    mounts.flatMap((m) => {
      const base = dirs[m.name];
      if (!base) throw new Error(`volumeMount ${m.name} names no template volume`);
      const host = m.subPath ? join(base, m.subPath) : base;
      return ["-v", `${host}:${m.mountPath}${m.readOnly ? ":ro" : ""}`];
    });
  const argvs: string[][] = [];
  let output = "";
  // Argo's emissary executor starts the main container's command with umask 0 (argoexec's
  // AllowGrantingAccessToEveryone); init containers start as their image says. (The emulation runs the umask with the
  // container's own shell: the crane image has no /bin/sh.)
  const run = async (raw: Obj, emissary = false): Promise<RunResult> => {
    // Argo's substitution, then the kubelet's expansion of $(VAR) and $$ (Kubernetes' own code, tools/kubernetes).
    const [expanded] = await kubeletExpand([
      {
        name: raw.name,
        env: ((raw.env ?? []) as Obj[]).map((e) => (e.value === undefined ? e : { name: e.name, value: sub(String(e.value)) })),
        command: ((raw.command ?? []) as string[]).map(sub),
        args: ((raw.args ?? []) as string[]).map(sub),
      },
    ]);
    const c = { ...raw, env: expanded!.env ?? [], command: expanded!.command ?? [], args: expanded!.args ?? [] } as Obj;
    const security = c.securityContext ?? {};
    const user = security.runAsUser ?? uid;
    const command = (c.command ?? []) as string[];
    const [entrypoint, ...commandRest] = emissary ? [command[0]!, "-c", 'umask 0 && exec "$@"', "emissary", ...command] : command;
    const argv = [
      "run",
      "--rm",
      ...podContainerArgs(
        `${user}${(security.runAsGroup ?? gid) !== undefined ? `:${security.runAsGroup ?? gid}` : ""}`,
        Boolean(security.privileged),
      ),
      // the kubelet adds the pod's fsGroup to every container's groups
      ...(podSecurity.fsGroup !== undefined ? ["--group-add", String(podSecurity.fsGroup)] : []),
      ...(c.workingDir ? ["--workdir", c.workingDir] : []),
      ...(entrypoint !== undefined ? ["--entrypoint", entrypoint] : []),
      ...((c.env ?? []) as Obj[]).flatMap((e) => {
        if (e.value === undefined) return [];
        return ["-e", `${e.name}=${String(e.value)}`];
      }),
      ...volumeArgs((c.volumeMounts ?? []) as Obj[]),
      sub(c.image),
      ...commandRest,
      ...((c.args ?? []) as string[]),
    ];
    argvs.push(argv);
    const result = await docker(argv, { check: false, timeoutMs: opts.timeoutMs ?? 5 * 60_000 });
    output += result.stdout + result.stderr;
    return result;
  };
  for (const init of (template.initContainers ?? []) as Obj[]) {
    const result = await run(init);
    if (result.exitCode !== 0) return { output, exitCode: result.exitCode, outputs: {}, argvs, cleanup: () => removeTree(root) };
  }
  const main = await run({ name: "main", ...(template.container as Obj) }, true);
  const layers = ((template.container.volumeMounts ?? []) as Obj[]).find((m) => m.mountPath === "/layers");
  const layersDir = layers ? join(dirs[layers.name]!, layers.subPath ?? "") : undefined;
  const report = layersDir && existsSync(join(layersDir, "report.toml")) ? readReport(layersDir) : undefined;
  const outputs: Record<string, string> = {};
  for (const p of (template.outputs?.parameters ?? []) as Obj[]) {
    const path = String(p.valueFrom.path);
    const mount = ((template.container.volumeMounts ?? []) as Obj[]).find((m) => path.startsWith(`${m.mountPath}/`));
    const file = mount ? join(dirs[mount.name]!, mount.subPath ?? "", path.slice(mount.mountPath.length)) : undefined;
    if (file && existsSync(file)) outputs[p.name] = readFileSync(file, "utf8");
  }
  return { output, exitCode: main.exitCode, report, outputs, argvs, cleanup: () => removeTree(root) };
}
