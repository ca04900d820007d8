// Runs packline's Argo Workflows checker (test/argo-lint: Argo's own strict
// decoding and `argo lint` validation code, built from Go) on YAML text.
//
//   const { ok, output } = await lintArgo(yamlText);
//
// The binary is built on first use by test/argo-lint/build.sh (cached under
// ${PACKLINE_TOOLS_CACHE:-~/.cache/packline}/bin; a cold build takes minutes,
// so call ensureArgoLint() in a beforeAll with a long timeout).
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ARGO_LINT_BUILD_SCRIPT = fileURLToPath(new URL("../argo-lint/build.sh", import.meta.url));

/** Generous enough for a cold build of the Kubernetes dependencies on 2 cores. */
export const ARGO_LINT_BUILD_TIMEOUT_MS = 15 * 60 * 1000;

export interface ArgoLintResult {
  /** true when every document passed (exit status 0). */
  ok: boolean;
  /** Exit status of the checker: 0 passed, 1 lint errors. */
  exitCode: number;
  /** stdout then stderr: `OK <file> <Kind>/<name>` / `ERROR <file> document <n> ...: <message>` lines. */
  output: string;
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") {
        reject(new Error(`${file} ${args.join(" ")} failed: ${error.message}\n${stderr}`));
        return;
      }
      resolve({ code: error ? (error.code as number) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

let binaryPromise: Promise<string> | undefined;

/** Builds the checker if it is missing or stale, and returns the binary's path. */
export function ensureArgoLint(): Promise<string> {
  binaryPromise ??= (async () => {
    const r = await run("bash", [ARGO_LINT_BUILD_SCRIPT], ARGO_LINT_BUILD_TIMEOUT_MS);
    if (r.code !== 0) {
      throw new Error(`test/argo-lint/build.sh failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
    }
    const lines = r.stdout.trim().split("\n");
    return lines[lines.length - 1];
  })();
  binaryPromise.catch(() => {
    binaryPromise = undefined; // let a later call try again
  });
  return binaryPromise;
}

/** Lints files together (WorkflowTemplates in any of them can be referenced by the others). */
export async function lintArgoFiles(paths: string[]): Promise<ArgoLintResult> {
  const bin = await ensureArgoLint();
  const r = await run(bin, paths, 2 * 60 * 1000);
  if (r.code !== 0 && r.code !== 1) {
    throw new Error(`argo-lint exited ${r.code} (usage or I/O error):\n${r.stderr}${r.stdout}`);
  }
  return { ok: r.code === 0, exitCode: r.code, output: r.stdout + r.stderr };
}

/** Lints YAML text (one or more documents) with Argo's own strict lint code. */
export async function lintArgo(yamlText: string): Promise<{ ok: boolean; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), "packline-argo-lint-"));
  try {
    const file = join(dir, "workflow.yaml");
    await writeFile(file, yamlText, "utf8");
    const { ok, output } = await lintArgoFiles([file]);
    return { ok, output };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs Argo's own substitution code on one template of a workflow (`argo-lint resolve`, see test/argo-lint/resolve.go)
 * and returns the template as the controller would run it. `vars` are e.g. { "workflow.uid": "...",
 * "inputs.parameters.version": "1.2.3" }.
 */
export async function resolveArgoTemplate(yamlText: string, template: string, vars: Record<string, string>): Promise<Record<string, any>> {
  const bin = await ensureArgoLint();
  const dir = await mkdtemp(join(tmpdir(), "packline-argo-resolve-"));
  try {
    const file = join(dir, "workflow.yaml");
    await writeFile(file, yamlText, "utf8");
    const r = await run(bin, ["resolve", file, template, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)], 60 * 1000);
    if (r.code !== 0) throw new Error(`argo-lint resolve failed (exit ${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, any>;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
