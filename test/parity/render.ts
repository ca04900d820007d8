/**
 * One set of options, rendered by both backends into comparable containers (check, build, release):
 * - the Dagger backend runs the plan against the fake engine, and the containers are read from the queries the SDK
 *   sent (test/backends/dagger/pipeline.ts);
 * - the Argo backend renders the workflow, and the build pod's check, build and release containers are read from the
 *   YAML with every `{{...}}` resolved as Argo would (the pod's inputs: the tag, the ref, the builder's CNB user;
 *   `workflow.uid` and the creation time: the Dagger run's run id and time), and each container's late-value prelude
 *   run with sh over the files the resolve container writes (its version check run with sh, as the cluster runs it;
 *   the commit and its time the Dagger run used). The build's files come from running the prepare container's script.
 * What is compared is backend-neutral: image, argv, env, workdir, user, files, mounts (path, what, read-only).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dag } from "@dagger.io/dagger";
import { expect } from "vitest";
import { parse } from "yaml";
import { exportArgo } from "../../src/backends/argo/export.js";
import { shellWord } from "../../src/backends/argo/late-prelude.js";
import { PREPARE_MARK } from "../../src/backends/argo/scripts.js";
import { VERSION_CHECK } from "../../src/backends/argo/version-script.js";
import { kubeLiteral } from "../../src/backends/argo/workflow.js";
import { runPlan } from "../../src/backends/dagger/runner.js";
import type { RawInput } from "../../src/core/options/input.js";
import { validateArgo, validateBuild } from "../../src/core/options/validate.js";
import { recheckEnv } from "../../src/core/plan/pin.js";
import { type BuildPlan, type ContainerStep, planBuild } from "../../src/core/plan/planner.js";
import { latesOf, literal } from "../../src/core/plan/text.js";
import type { PlanText } from "../../src/core/plan/types.js";
import { BUILDER_USER, type ContainerView, PINS, report, stepViews, world } from "../backends/dagger/pipeline.js";
import { buildPod, podContainer, runPrelude, scriptOf, unwrap } from "../support/argo-pod.js";
import { withFakeEngine } from "../support/fake-engine.js";

export const COMMIT_TIME = "1712345678";
export const STEPS = ["check", "build", "release"] as const;
export type StepName = (typeof STEPS)[number];

/** A container as both backends can state it. */
export interface Rendered {
  image: string;
  user: string;
  workdir: string;
  argv: string[];
  env: [string, string][];
  files: Record<string, string>;
  mounts: { path: string; kind: string; readOnly?: boolean }[];
}

/** The options of one build; `credentials` means a password on Dagger and the matching registry Secret in Argo. */
export interface ParityOptions {
  readonly build: RawInput & { tag: string; repo: string; image: string };
  readonly credentials?: boolean;
}

export interface DaggerSide {
  readonly steps: Record<StepName, Rendered>;
  /** The values the run made: what Argo's own variables and the resolve step stand for. */
  readonly runId: string;
  readonly now?: string;
  readonly commit: string;
  /** The ref the engine cloned. */
  readonly cloned: { url: string; ref: string; discardGitDir: unknown };
}

/** Runs the plan of `options` with the Dagger backend on a fresh fake engine. */
export async function daggerSide(options: ParityOptions): Promise<DaggerSide> {
  const raw = { ...options.build, ...(options.credentials ? { registryUsername: "me", registryPassword: true } : {}) };
  const plan = planBuild(validateBuild("build", raw));
  return withFakeEngine({ answers: world({ commitTime: COMMIT_TIME }) }, async (engine) => {
    await runPlan(plan, { registryPassword: options.credentials ? dag.setSecret("pw", "not-a-real-password") : undefined });
    const views = stepViews(engine);
    const steps = Object.fromEntries(STEPS.map((s) => [s, fromDagger(views[s]!)])) as Record<StepName, Rendered>;
    for (const s of STEPS) expect(views[s]!.services, `${s}: a registry reached by name needs no service`).toEqual([]);
    const env = (name: string) => views.build!.env.find(([n]) => n === name)?.[1];
    const [git, ref, tree] = (views.build!.sources["/workspace"] as { ref: { args: Record<string, unknown> }[] }).ref;
    return {
      steps,
      runId: env("PACKLINE_RUN_ID")!,
      now: plan.creationTime.kind === "now" ? env("SOURCE_DATE_EPOCH") : undefined,
      commit: (engine.leaves("commit")[0]!.result as { data: string }).data,
      cloned: { url: git!.args.url as string, ref: ref!.args.name as string, discardGitDir: tree!.args.discardGitDir },
    };
  });
}

function fromDagger(view: ContainerView): Rendered {
  expect(view.expect, "the runner reads exit codes itself").toBe("ANY");
  return {
    image: view.image,
    user: view.user,
    workdir: view.workdir,
    argv: view.argv,
    env: view.env,
    files: Object.fromEntries(view.files.map((f) => [f.path, f.contents])),
    mounts: view.mounts
      .map((m) => ({ path: m.path, kind: m.kind.startsWith("cache:") ? "cache" : m.kind, ...(m.readOnly ? { readOnly: true } : {}) }))
      .sort((a, b) => a.path.localeCompare(b.path)),
  };
}

type Obj = Record<string, unknown> & { name?: string };

export interface ArgoSide {
  readonly steps: Record<StepName, Rendered>;
  /**
   * Each step container's texts as written in the YAML, placeholders unresolved: its argv behind the prelude, and each
   * env value (a value the prelude sets: the shell word of its `export NAME=...` line).
   */
  readonly raw: Record<StepName, { argv: string[]; env: [string, string][]; fromPrelude: Set<string> }>;
  /** The cluster's plan (its version a parameter). */
  readonly plan: BuildPlan;
  /** What the source init container fetches. */
  readonly cloned: { url: string; ref: string };
  /** Every value of the plan's files the source container carries. */
  readonly prepareEnv: string[];
}

/**
 * Renders the workflow of `options` and resolves the build pod's containers with the values of the Dagger run: Argo's
 * substitution of the pod's inputs (the tag, the ref, the builder's user) and of its own variables, the kubelet's
 * expansion, then each container's late-value prelude run with sh over the files the resolve container writes (its
 * version check run as in the cluster, the commit and its time the Dagger run used) and the check's outcome.
 */
export function argoSide(options: ParityOptions, dagger: DaggerSide): ArgoSide {
  // --cache-pvc keeps the cache in the cluster, as the cache volume does on Dagger; it changes no plan (and goes
  // with no --cache-image: the cache is in one place).
  const cachePvc = options.build.cacheImage === undefined ? { cachePvc: "packline-cache" } : {};
  const raw = { ...options.build, ...cachePvc, ...(options.credentials ? { registrySecret: "regcred" } : {}) };
  const workflow = parse(exportArgo(raw).yaml) as { spec: { templates: Obj[]; arguments: { parameters: Obj[] } } };
  const plan = planBuild(validateArgo(raw).build);
  const rechecked = new Set(recheckEnv(validateArgo(raw).build).map((e) => e.name));
  const pod = buildPod(workflow) as Obj & { volumes?: Obj[] };
  const workflowArgs = Object.fromEntries(workflow.spec.arguments.parameters.map((p) => [p.name, String(p.value ?? "")]));
  const resolve = resolveOutputs(options.build.tag, dagger);
  const inputs: Record<string, string> = {
    tag: options.build.tag,
    ref: workflowArgs.ref!,
    uid: BUILDER_USER.uid,
    gid: BUILDER_USER.gid,
  };
  const declared = ((pod.inputs as { parameters?: Obj[] })?.parameters ?? []).map((p) => p.name!);
  const input = (parameter: string): string => {
    if (!declared.includes(parameter)) throw new Error(`the build pod reads input ${parameter} without declaring it`);
    return inputs[parameter]!;
  };
  // Argo's substitution, then the kubelet's expansion of what reaches a container (expansion.test.ts runs both
  // projects' own code; here no $(NAME) is left to expand, so the kubelet only turns $$ into $).
  const inTemplate = (text: string): string =>
    kubelet(
      substitute(text, (expr) => {
        const m = /^inputs\.parameters\.(.+)$/.exec(expr);
        if (m) return input(m[1]!);
        const submitted = /^=replace\(inputs\.parameters\.([a-z-]+), '\$', '\$\$'\)$/.exec(expr);
        if (submitted) return input(submitted[1]!).replaceAll("$", "$$$$");
        return global(expr, dagger);
      }),
    );
  const files = { ...resolve, outcome: "unpublished", ...PINS };

  const rendered = {} as Record<StepName, Rendered>;
  const rawTexts = {} as ArgoSide["raw"];
  // The source container clones, then writes the plan's files (the part of its script after PREPARE_MARK).
  const source = podContainer(pod, "source") as { command: string[]; env: Obj[]; volumeMounts: Obj[] };
  const v = (n: string) => inTemplate(String(source.env.find((e) => e.name === n)?.value ?? ""));
  const cloned = { url: v("PACKLINE_REPO"), ref: v("PACKLINE_REF") || v("PACKLINE_TAG") };
  const prepare = scriptOf(source).includes(PREPARE_MARK) ? source : undefined;
  const prepareEnv = source.env.filter((e) => String(e.name).startsWith("PACKLINE_FILE_")).map((e) => String(e.value));
  const cloneVolume = source.volumeMounts[0]?.name;
  for (const name of STEPS) {
    const step = plan.steps[name];
    const c = podContainer(pod, name) as { name: string; image: string; command: string[]; env?: Obj[]; workingDir: string; volumeMounts: Obj[] };
    const env = (c.env ?? []).map((e) => {
      expect(e.valueFrom, `${name}: env ${e.name} comes from the plan, not a Secret`).toBeUndefined();
      return [e.name!, String(e.value)] as [string, string];
    });
    const { prelude, argv } = unwrap(c);
    const exportsOf = (text: string) => Object.fromEntries([...text.matchAll(/^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    const written = exportsOf(prelude ?? "");
    rawTexts[name] = {
      argv,
      env: step.env.map((e) => [e.name, written[e.name] ?? env.find(([n]) => n === e.name)?.[1] ?? ""]),
      fromPrelude: new Set(Object.keys(written)),
    };
    let exported: Record<string, string> = {};
    if (prelude !== undefined) {
      const run = runPrelude({ ...c, command: c.command.map(inTemplate) }, files, report(), { expanded: true });
      expect(run.env, `${name}'s prelude ran its command: ${run.stderr}`).toBeDefined();
      exported = run.env!;
    }
    const values = Object.fromEntries([...env.map(([n, value]) => [n, inTemplate(value)] as const), ...Object.entries(exported)]);
    expect(Object.keys(values).sort(), `${name}: the env names`).toEqual(step.env.map((e) => e.name).sort());
    rendered[name] = {
      // A pod names the builder by its tag, pulled every time, and the release checks the tag still names the digest
      // the check pinned (pin.ts): the image the Dagger run names by that digest.
      image: (c as { imagePullPolicy?: string }).imagePullPolicy === "Always" ? `${c.image}@${PINS["builder-digest"]}` : c.image,
      user: userOf(pod, c, inTemplate),
      workdir: c.workingDir,
      argv: argv.map(inTemplate),
      // in the plan's order (no value refers to another: Kubernetes' order does not matter); without what only a pod's
      // release reads, its second look at the builder's tag (pin.ts: the Dagger run named the builder by digest)
      env: step.env.filter((e) => !(name === "release" && rechecked.has(e.name))).map((e) => [e.name, values[e.name]!] as [string, string]),
      files: name === "build" && prepare ? runPrepare(prepare) : {},
      mounts: c.volumeMounts
        // the shared folder of late values; the release reads the build's report on the layers volume
        .filter((m) => m.name !== "packline-tmp" && !(name === "release" && m.name === "layers"))
        .map((m) => {
          const volume = (pod.volumes ?? []).find((vol) => vol.name === m.name)!;
          const secret = volume.secret as { items: { path: string }[] } | undefined;
          const kind = secret
            ? `secret:${secret.items.map((i) => i.path).join(",")}`
            : volume.persistentVolumeClaim
              ? "cache"
              : m.name === cloneVolume
                ? "source"
                : "scratch";
          return { path: m.mountPath as string, kind, ...(m.readOnly ? { readOnly: true } : {}) };
        })
        .sort((a, b) => a.path.localeCompare(b.path)),
    };
  }
  return { steps: rendered, raw: rawTexts, plan, cloned, prepareEnv };
}

/** The user a container runs as: its own runAsUser:runAsGroup, else the pod's (from the spec patch, if there). */
function userOf(pod: Obj, container: Obj, inTemplate: (text: string) => string): string {
  const own = container.securityContext as { runAsUser?: number; runAsGroup?: number } | undefined;
  const security = pod.securityContext as { runAsUser?: number; runAsGroup?: number } | undefined;
  const patch =
    typeof pod.podSpecPatch === "string"
      ? (JSON.parse(inTemplate(pod.podSpecPatch)) as { securityContext?: { runAsUser?: number; runAsGroup?: number } }).securityContext
      : undefined;
  const uid = own?.runAsUser ?? patch?.runAsUser ?? security?.runAsUser;
  const gid = own?.runAsGroup ?? patch?.runAsGroup ?? security?.runAsGroup;
  return `${uid}:${gid}`;
}

/** Argo's own variables, as the Dagger run made them. */
function global(expr: string, dagger: DaggerSide): string {
  if (expr === "workflow.uid") return dagger.runId;
  if (expr === "workflow.creationTimestamp.s") {
    if (dagger.now === undefined) throw new Error("the workflow's time is used where the Dagger run had none");
    return dagger.now;
  }
  throw new Error(`unresolved Argo variable {{${expr}}}`);
}

/** Kubernetes' expansion where no $(NAME) names a variable: `$$` is `$`, anything else stays. */
function kubelet(text: string): string {
  return text.replace(/\$\$/g, "$$");
}

/** Replaces every `{{...}}` by what `resolve` makes of its inside; `{{=...}}` (expressions) may hold no braces. */
function substitute(text: string, resolve: (expr: string) => string): string {
  return text.replace(/\{\{(=[^{}]*|[^{}=][^{}]*)\}\}/g, (_m, expr: string) => resolve(expr.trim()));
}

/** The resolve step's outputs: its version check run by sh as in the cluster, the commit and time the run used. */
function resolveOutputs(tag: string, dagger: DaggerSide): Record<string, string> {
  const out = mkdtempSync(join(tmpdir(), "packline-parity-resolve-"));
  try {
    execFileSync("sh", ["-c", `set -eu\nout="$OUT"\n${VERSION_CHECK}`], {
      env: { PATH: process.env.PATH, OUT: out, PACKLINE_TAG: tag },
      stdio: "pipe",
    });
    const read = (name: string) => readFileSync(join(out, name), "utf8");
    return {
      version: read("version"),
      major: read("major"),
      minor: read("minor"),
      shape: read("shape"),
      commit: dagger.commit,
      "commit-time": COMMIT_TIME,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Runs the prepare container's script with sh under a scratch root, and reads back the files it wrote. */
function runPrepare(prepare: { command: string[]; env: Obj[] }): Record<string, string> {
  const root = mkdtempSync(join(tmpdir(), "packline-parity-prepare-"));
  try {
    // The script quotes every path ('/platform/...'): run it with those paths under the scratch root.
    const whole = scriptOf(prepare);
    const script = whole.slice(whole.indexOf(PREPARE_MARK)).replace(/ '\//g, ` "$PACKLINE_ROOT"'/`);
    const env = Object.fromEntries(prepare.env.map((e) => [e.name!, String(e.value)]));
    execFileSync("sh", ["-c", script], { env: { PATH: process.env.PATH, PACKLINE_ROOT: root, ...env }, stdio: "pipe" });
    const files: Record<string, string> = {};
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) walk(path);
        else files[path.slice(root.length)] = readFileSync(path, "utf8");
      }
    };
    walk(root);
    return files;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Where Argo writes `{{...}}` in a step's container, or the prelude a shell variable, the cluster's plan has a late
 * value, and nowhere else: each Argo text is the plan's text with exactly its late parts replaced, literal parts
 * verbatim (but for the `$$` that keeps Kubernetes' expansion off them: kubeLiteral; and in the prelude, as one
 * single-quoted shell word).
 */
export function expectPlaceholdersOnlyAtLateValues(argo: ArgoSide): void {
  const steps = argo.plan.steps as Record<StepName, ContainerStep>;
  for (const name of STEPS) {
    const step = steps[name];
    const texts: [string, PlanText, string, boolean][] = [
      ...[...step.command, ...step.args].map(
        (t, i) => [`${name} argv[${i}]`, t, argo.raw[name].argv[i]!, false] as [string, PlanText, string, boolean],
      ),
      ...step.env.map(
        (e, i) =>
          [`${name} env ${e.name}`, e.value, argo.raw[name].env[i]?.[1] ?? "", argo.raw[name].fromPrelude.has(e.name)] as [
            string,
            PlanText,
            string,
            boolean,
          ],
      ),
    ];
    expect(argo.raw[name].argv).toHaveLength(step.command.length + step.args.length);
    expect(argo.raw[name].env.map(([n]) => n)).toEqual(step.env.map((e) => e.name));
    for (const [where, planText, rendered, inPrelude] of texts) {
      if (inPrelude) {
        const pattern = planText
          .map((part) => (typeof part === "string" ? escapeRegExp(kubeLiteral(shellWord(part))) : `("\\$[a-z_]+"|'\\{\\{[^{}']+\\}\\}')`))
          .join("");
        expect(rendered, where).toMatch(new RegExp(`^${pattern}$`, "s"));
        expect(latesOf(planText).length, `${where}: a prelude sets only values with late parts`).toBeGreaterThan(0);
        continue;
      }
      const pattern = planText.map((part) => (typeof part === "string" ? escapeRegExp(kubeLiteral(part)) : "\\{\\{[^{}]+\\}\\}")).join("");
      expect(rendered, where).toMatch(new RegExp(`^${pattern}$`, "s"));
      expect((rendered.match(/\{\{/g) ?? []).length, where).toBe(latesOf(planText).length);
      if (literal(planText) !== undefined) expect(rendered, where).toBe(kubeLiteral(literal(planText)!));
    }
  }
  for (const value of argo.prepareEnv) expect(value).not.toMatch(/[{}$"']/);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
