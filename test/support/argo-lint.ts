/**
 * Runs packline's Argo checker (tools/argo-lint: Argo Workflows v4.0.5's own code, built from the Go module proxy):
 * lint, the controller's substitution, the pods the controller would make, Pod Security verdicts and expressions.
 *
 * The binary is built on first use by tools/argo-lint/build.sh and cached (${PACKLINE_TOOLS_CACHE:-~/.cache/packline}/
 * bin); a cold build takes minutes (see tools/argo-lint/README.md), so call ensureArgoLint() in a beforeAll with
 * ARGO_LINT_BUILD_TIMEOUT_MS.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ARGO_LINT_DIR = fileURLToPath(new URL("../../tools/argo-lint/", import.meta.url));
export const ARGO_LINT_BUILD_SCRIPT = join(ARGO_LINT_DIR, "build.sh");

/** Generous enough for a cold build of Argo's and Kubernetes' packages on 2 busy cores. */
export const ARGO_LINT_BUILD_TIMEOUT_MS = 20 * 60 * 1000;

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Also passes the child's stderr on as it comes (build.sh: its progress, and that it waits for the build lock). */
  readonly relayStderr?: (chunk: string) => void;
}

/**
 * Runs a program with `input` on its standard input. A program that exits without reading all of it (a usage error,
 * a crash) closes the pipe: the write's EPIPE is expected then, and the exit code and stderr say what happened, so it
 * is not an error of its own (unhandled, it failed a whole `npm test` run with every test green).
 */
export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      [...args],
      { env: options.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(new Error(`${file} ${args.join(" ")} failed: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ code: error ? (error.code as number) : 0, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    child.stdin?.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") reject(new Error(`${file} ${args.join(" ")}: writing its standard input failed: ${error.message}`));
    });
    if (options.relayStderr) child.stderr?.on("data", (chunk: Buffer | string) => options.relayStderr!(String(chunk)));
    child.stdin?.end(options.input ?? "");
  });
}

let binary: Promise<string> | undefined;

/** Builds the checker if it is missing or stale, and returns the binary's path. */
export function ensureArgoLint(): Promise<string> {
  binary ??= (async () => {
    // build.sh's stderr goes to the terminal as it comes: a build, or a wait for another build's lock, takes minutes.
    const r = await run("bash", [ARGO_LINT_BUILD_SCRIPT], {
      timeoutMs: ARGO_LINT_BUILD_TIMEOUT_MS,
      relayStderr: (chunk) => process.stderr.write(chunk),
    });
    if (r.code !== 0) throw new Error(`tools/argo-lint/build.sh failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
    return r.stdout.trim().split("\n").pop()!;
  })();
  binary.catch(() => {
    binary = undefined; // let a later call try again
  });
  return binary;
}

/** Runs the checker with the arguments and standard input; exit 2 (usage, unreadable file) throws. */
export async function argoLint(args: readonly string[], input?: string): Promise<RunResult> {
  const r = await run(await ensureArgoLint(), args, { input });
  if (r.code !== 0 && r.code !== 1) throw new Error(`argo-lint ${args[0] ?? ""} exited ${r.code} (usage or I/O error):\n${r.stderr}${r.stdout}`);
  return r;
}

export interface LintResult {
  /** Every document passed (exit 0). */
  readonly ok: boolean;
  /** `OK <file> <Kind>/<name>` and `ERROR <file> document <n> <Kind>/<name>: <message>` lines, then stderr. */
  readonly output: string;
}

/** Lints files together (WorkflowTemplates in any of them can be referenced by the others). */
export async function lintArgoFiles(paths: readonly string[]): Promise<LintResult> {
  const r = await argoLint(paths);
  return { ok: r.code === 0, output: r.stdout + r.stderr };
}

/** Writes texts to a scratch directory as `<name>.yaml`, calls `use` with their paths, removes them. */
export async function withYamlFiles<T>(files: Readonly<Record<string, string>>, use: (paths: Record<string, string>) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "packline-argo-lint-"));
  try {
    const paths: Record<string, string> = {};
    for (const [name, text] of Object.entries(files)) {
      paths[name] = join(dir, `${name.replace(/[^A-Za-z0-9._-]+/g, "_")}.yaml`);
      await writeFile(paths[name]!, text, "utf8");
    }
    return await use(paths);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Lints YAML text (one or more documents) with Argo's own strict lint code. */
export function lintArgo(yamlText: string): Promise<LintResult> {
  return withYamlFiles({ workflow: yamlText }, (paths) => lintArgoFiles([paths.workflow!]));
}

/** Variables for the controller's substitution: globals (`workflow.uid`) and input parameters (`inputs.parameters.x`). */
export type Vars = Readonly<Record<string, string>>;

const pairs = (vars: Vars) => Object.entries(vars).map(([k, v]) => `${k}=${v}`);

/** JSON of Argo's and Kubernetes' types, which the tests read field by field. */
export type Json = any;

/**
 * One template as the controller runs it (`argo-lint resolve`: common.SubstituteParams with the workflow's
 * parameters and `vars`). Throws with Argo's message when Argo refuses it.
 */
export async function resolveArgoTemplate(yamlText: string, template: string, vars: Vars): Promise<Json> {
  return withYamlFiles({ workflow: yamlText }, async (paths) => {
    const r = await argoLint(["resolve", paths.workflow!, template, ...pairs(vars)]);
    if (r.code !== 0) throw new Error(`argo-lint resolve refused ${template}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  });
}

export interface LevelVerdict {
  readonly allowed: boolean;
  readonly failures: readonly { readonly check: string; readonly reason: string; readonly detail?: string }[];
}
export interface PodSecurityVerdict {
  readonly baseline: LevelVerdict;
  readonly restricted: LevelVerdict;
  readonly error?: string;
}

export interface ArgoPod {
  readonly template: string;
  /** The PodSpec the controller would make for the template, its podSpecPatch applied. */
  readonly pod: Json;
  /** k8s.io/pod-security-admission's verdict on that pod. */
  readonly podSecurity: PodSecurityVerdict;
}

/** The pod of every container template (`argo-lint pods`, see tools/argo-lint/pod.go). */
export async function argoPods(yamlText: string, vars: Vars): Promise<ArgoPod[]> {
  return withYamlFiles({ workflow: yamlText }, async (paths) => {
    const r = await argoLint(["pods", paths.workflow!, ...pairs(vars)]);
    if (r.code !== 0) throw new Error(`argo-lint pods refused the workflow: ${r.stderr}`);
    return JSON.parse(r.stdout) as ArgoPod[];
  });
}

/** Pod Security Standards verdicts of the admission controller's own checks, one per PodSpec. */
export async function upstreamPodSecurity(pods: readonly Json[]): Promise<PodSecurityVerdict[]> {
  const r = await argoLint(["pod-security"], JSON.stringify(pods));
  if (r.code !== 0) throw new Error(`argo-lint pod-security failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PodSecurityVerdict[];
}

/** An expression, or a string of a step, evaluated as the controller does (see tools/argo-lint/eval.go). */
export type EvalRequest =
  | { readonly kind: "retry" | "value"; readonly expression: string; readonly vars: Vars }
  | { readonly kind: "text" | "when"; readonly text: string; readonly vars: Vars };
export type EvalResult = { readonly result: Json; readonly error?: undefined } | { readonly result?: undefined; readonly error: string };

export async function argoEval(requests: readonly EvalRequest[]): Promise<EvalResult[]> {
  const r = await argoLint(["eval"], JSON.stringify(requests));
  if (r.code !== 0) throw new Error(`argo-lint eval failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as EvalResult[];
}
