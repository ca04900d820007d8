/**
 * Rebase helpers of the e2e tests (not a test file): the lab's patched run images, made at test setup with crane from
 * the lab's own run image (no lab build key changes), and a rebase plan's steps run as a backend runs them (check,
 * then, unless the version already stands on the run image, the rebaser and the release), each with `runStep`
 * exactly as the plan states it.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateRebase } from "../../src/core/options/rebase.js";
import { REGISTRY_AUTH_SECRET } from "../../src/core/plan/constants.js";
import { planRebase, type RebasePlan, type RebaseStep } from "../../src/core/plan/rebase.js";
import { docker, e2eState, exec, removeTree, runStep, type StepHost, type StepRun } from "./harness.js";
import { registryAuthSecret } from "./packline.js";

/** The file a patched run image changes: the one OS file that differs between the lab's run images v1, v2, v3... */
export const PATCHED_FILE = "/etc/packline-os-patch";

/** `crane <args>` (the lab's Go-built crane) with the apps registry's login. */
export function crane(args: readonly string[]) {
  const s = e2eState();
  return exec(s.lab.tools.crane, ["--insecure", ...args], { env: { ...process.env, DOCKER_CONFIG: s.dockerConfigDir } });
}

/**
 * Pushes `name` (a tag in the apps registry): the lab's run image (same stack, OS and labels) with one more layer
 * holding PATCHED_FILE = `content`. Two such images differ in that one file, as a patched run image does. Returns
 * its digest.
 */
export async function pushRunImage(name: string, content: string): Promise<string> {
  const s = e2eState();
  const dir = mkdtempSync(join(tmpdir(), "packline-e2e-run-"));
  try {
    mkdirSync(join(dir, "root", "etc"), { recursive: true });
    writeFileSync(join(dir, "root", PATCHED_FILE), `${content}\n`);
    await exec("tar", [
      "--numeric-owner",
      "--owner=0",
      "--group=0",
      "--mtime=@315532801",
      "-C",
      join(dir, "root"),
      "-cf",
      join(dir, "patch.tar"),
      "etc",
    ]);
    await crane(["append", "-b", s.runImage, "-f", join(dir, "patch.tar"), "-t", name]);
    return (await crane(["digest", name])).stdout.trim();
  } finally {
    removeTree(dir);
  }
}

/**
 * Pushes `name` (a tag in the apps registry): the lab's builder with a run.toml that names `runImage`, what a real
 * builder's run.toml does for its run image (Paketo's names paketobuildpacks/run-jammy-base). The lifecycle records
 * that name in the image (runImage.image), which is where a rebase finds the run image again; a build's --run-image
 * not in run.toml is recorded as the builder's own run image instead. Pulled into the lab's daemon, as the harness
 * reads the builder's user there.
 */
export async function pushBuilder(name: string, runImage: string): Promise<void> {
  const s = e2eState();
  const dir = mkdtempSync(join(tmpdir(), "packline-e2e-builder-"));
  try {
    mkdirSync(join(dir, "root", "cnb"), { recursive: true });
    writeFileSync(join(dir, "root", "cnb", "run.toml"), `[[images]]\n  image = ${JSON.stringify(runImage)}\n`);
    await exec("tar", [
      "--numeric-owner",
      "--owner=0",
      "--group=0",
      "--mtime=@315532801",
      "-C",
      join(dir, "root"),
      "-cf",
      join(dir, "run.tar"),
      "cnb",
    ]);
    await crane(["append", "-b", s.builderImage, "-f", join(dir, "run.tar"), "-t", name]);
    // and its io.buildpacks.builder.metadata names it too, as pack writes a builder's: what packline's check reads
    // to pin the builder's run image (pin.ts)
    const config = JSON.parse((await crane(["config", name])).stdout) as { config: { Labels: Record<string, string> } };
    const metadata = JSON.parse(config.config.Labels["io.buildpacks.builder.metadata"]!) as Record<string, unknown>;
    const named = { ...metadata, images: [{ image: runImage }], stack: { runImage: { image: runImage } } };
    await crane(["mutate", name, "--label", `io.buildpacks.builder.metadata=${JSON.stringify(named)}`, "-t", name]);
    await docker(["pull", "-q", name]);
  } finally {
    removeTree(dir);
  }
}

/** A rebase plan for the e2e registry (its login, the lab's insecure registries, the e2e builder); `extra` overrides. */
export function rebasePlanFor(repository: string, tag: string, extra: Parameters<typeof validateRebase>[0] = {}): RebasePlan {
  const s = e2eState();
  return planRebase(
    validateRebase({
      tag,
      image: `${s.registry}/${repository}`,
      builder: s.builderImage,
      registryUsername: s.username,
      registryPassword: true,
      insecureRegistry: s.insecureRegistries,
      ...extra,
    }),
  );
}

export interface RebaseRun {
  /** The check's outcome: `current`, `rebase`, or `failed`. */
  readonly outcome: string;
  readonly check: StepRun;
  readonly rebase?: StepRun;
  readonly release?: StepRun;
  /** The result's digest: the release's, or the one the check found current. */
  readonly digest?: string;
  /** The floating tags the release moved. */
  readonly moved?: readonly string[];
  readonly failed?: StepRun;
  /** Seconds each step took, and the whole run. */
  readonly seconds: { readonly check: number; readonly rebase?: number; readonly release?: number; readonly total: number };
}

/**
 * Runs the rebase plan's steps as a backend does. `beforeRelease` runs between the rebaser and the release (a fault
 * test stops the registry there).
 */
export async function runRebase(plan: RebasePlan, opts: { password?: string; beforeRelease?: () => Promise<void> } = {}): Promise<RebaseRun> {
  const lates = { "run-id": randomUUID() };
  const secrets = plan.registryAuth ? { [REGISTRY_AUTH_SECRET.name]: registryAuthSecret(opts.password) } : {};
  const host: StepHost = { volumes: plan.volumes, buildUser: plan.buildUser, builder: plan.builder };
  const timeoutMs = 5 * 60_000;
  const started = process.hrtime.bigint();
  const since = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e9;
  const seconds: { check: number; rebase?: number; release?: number; total: number } = { check: 0, total: 0 };
  const runs: StepRun[] = [];
  try {
    let t = process.hrtime.bigint();
    const check = await runStep(host, plan.steps.check, { secrets, lates, timeoutMs });
    runs.push(check);
    seconds.check = since(t);
    const outcome = output(check, plan.steps.check, "outcome");
    const found = output(check, plan.steps.check, "digest");
    const done = () => ({ ...seconds, total: since(started) });
    if (check.exitCode !== 0) return { outcome: "failed", check, failed: check, seconds: done() };
    if (outcome === "current") return { outcome, check, digest: found, seconds: done() };
    t = process.hrtime.bigint();
    const rebase = await runStep(host, plan.steps.rebase, { secrets, lates, timeoutMs });
    runs.push(rebase);
    seconds.rebase = since(t);
    const reportFile = join(rebase.scratch.layers ?? "", "report.toml");
    if (rebase.exitCode !== 0 || !existsSync(reportFile)) return { outcome, check, rebase, failed: rebase, seconds: done() };
    await opts.beforeRelease?.();
    t = process.hrtime.bigint();
    const release = await runStep(host, plan.steps.release, {
      secrets,
      lates: { ...lates, "build-report": readFileSync(reportFile, "utf8") },
      timeoutMs,
    });
    runs.push(release);
    seconds.release = since(t);
    if (release.exitCode !== 0) return { outcome, check, rebase, release, failed: release, seconds: done() };
    const moved = output(release, plan.steps.release, "moved");
    return {
      outcome,
      check,
      rebase,
      release,
      digest: output(release, plan.steps.release, "digest"),
      moved: moved === "" ? [] : moved.split("\n"),
      seconds: done(),
    };
  } finally {
    for (const run of runs) run.cleanup();
  }
}

function output(run: StepRun, step: RebaseStep, name: string): string {
  const path = step.outputs.find((o) => o.name === name)!.path;
  if (!run.outputsDir) throw new Error(`step ${step.name} has no outputs directory`);
  const file = join(run.outputsDir, path.slice(path.lastIndexOf("/") + 1));
  return existsSync(file) ? readFileSync(file, "utf8").trim() : "";
}
