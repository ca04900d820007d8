/**
 * Issue 4, point 5: faults. A wrong registry password and a stopped registry each give a non-zero exit and a clear
 * error naming the registry (src/failure.ts `buildFailure`, the wording every packline backend prints), and leave the
 * registry's tags as they were (published once successfully first; the failing builds publish a newer version of a
 * changed source, so had one succeeded, every tag would have moved).
 *
 * Two paths: the run image given to packline (`runImage` -> `-run-image`), and the run image taken from the builder's
 * run.toml (packline's default). In the lab the run image is in the images registry (10.123.0.1:5001, anonymous),
 * which stays up while the faults hit the apps registry (10.123.0.1:5000), so on both paths the creator gets past the
 * run image and its analyzer reports the HTTP 401 / the refused connection with the apps registry's address. (When
 * the registry holding the builder's run image is the failing one, lifecycle 0.21.17 says only "failed to find
 * accessible run image", platform/run_image.go dropping the cause; packline's message then still names the registry
 * and both possible causes.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFailure } from "../../src/failure.js";
import type { BuildPlan } from "../../src/plan.js";
import { e2eState, registryAnswers, registryClient, removeTree, startRegistry, stopRegistry, uniqueRepository } from "./harness.js";
import { changedSource, planFor, runPlanBuild, type PlanBuildResult } from "./packline.js";

/** Every tag of a repository with its manifest digest. */
async function tagDigests(repository: string): Promise<Record<string, string | undefined>> {
  const registry = registryClient();
  const out: Record<string, string | undefined> = {};
  for (const tag of await registry.listTags(repository)) out[tag] = await registry.manifestDigest(repository, tag);
  return out;
}

/** Runs a build with the registry stopped; the registry is started again whatever happens. */
async function withRegistryStopped(build: () => Promise<PlanBuildResult>): Promise<PlanBuildResult> {
  await stopRegistry();
  try {
    expect(await registryAnswers()).toBe(false);
    return await build();
  } finally {
    await startRegistry();
  }
}

describe("faults leave the registry as it was (issue 4: 5)", () => {
  const s = e2eState();
  const repository = uniqueRepository("e2e/faults");
  const source = changedSource("a build that must never be published");
  const wrong = `${s.password}-wrong`;
  let before: Record<string, string | undefined>;
  const defaultPathFailures: { fault: string; plan: BuildPlan; result: PlanBuildResult }[] = [];

  beforeAll(async () => {
    const first = await runPlanBuild(planFor(repository));
    expect(first.run.exitCode, first.run.output).toBe(0);
    before = await tagDigests(repository);
    expect(Object.keys(before).sort()).toEqual(["1", "1.2", "1.2.3", "latest"]);
    for (const digest of Object.values(before)) expect(digest).toBe(first.report!.digest);
  });

  afterAll(async () => {
    await startRegistry(); // a no-op unless a test left it stopped
    removeTree(source);
  });

  const failure = (plan: BuildPlan, result: PlanBuildResult) =>
    buildFailure({ registry: plan.registryAuth!.registry, exitCode: result.run.exitCode, output: result.run.output, redact: [wrong] }).message;

  it("a wrong password: non-zero exit, the registry named as refusing the credentials, tags unchanged", async () => {
    const plan = planFor(repository, { tag: "v1.3.0", runImage: s.runImage });
    const result = await runPlanBuild(plan, { source, password: wrong });
    expect(result.run.exitCode, result.run.output).not.toBe(0);
    expect(result.report).toBeUndefined();
    expect(result.run.output).toContain(`${s.registry}/${repository}`);
    expect(result.run.output).toContain("401 Unauthorized");
    expect(plan.registryAuth!.registry).toBe(s.registry);
    const message = failure(plan, result);
    expect(message).toContain(`lifecycle creator exit code ${result.run.exitCode}`);
    expect(message).toContain(`cause: registry ${s.registry} refused the credentials`);
    expect(message).not.toContain(wrong);
    console.log(`wrong password -> ${message.split("\n").slice(0, 2).join(" | ")}`);
    expect(await tagDigests(repository)).toEqual(before);
  });

  it("a stopped registry: non-zero exit, the registry named as unreachable, tags unchanged after its restart", async () => {
    const plan = planFor(repository, { tag: "v1.3.0", runImage: s.runImage });
    const result = await withRegistryStopped(() => runPlanBuild(plan, { source, timeoutMs: 4 * 60_000 }));
    expect(await registryAnswers()).toBe(true);
    expect(result.run.exitCode, result.run.output).not.toBe(0);
    expect(result.report).toBeUndefined();
    expect(result.run.output).toContain(`dial tcp ${s.registry}`);
    const message = failure(plan, result);
    expect(message).toContain(`cause: registry ${s.registry} could not be reached`);
    console.log(`stopped registry -> ${message.split("\n").slice(0, 2).join(" | ")}`);
    expect(await tagDigests(repository)).toEqual(before);
  });

  it("with the builder's run image (the default): both faults exit non-zero and leave the tags unchanged", async () => {
    const plan = planFor(repository, { tag: "v1.3.0" });
    const wrongPassword = await runPlanBuild(plan, { source, password: wrong });
    const stopped = await withRegistryStopped(() => runPlanBuild(plan, { source, timeoutMs: 4 * 60_000 }));
    for (const [fault, result] of [["wrong password", wrongPassword], ["stopped registry", stopped]] as const) {
      expect(result.run.exitCode, `${fault}: ${result.run.output}`).not.toBe(0);
      expect(result.report, fault).toBeUndefined();
      // the run image (in the images registry) was found; the analyzer names the failing apps registry
      expect(result.run.output, fault).toContain(fault === "wrong password" ? "401 Unauthorized" : `dial tcp ${s.registry}`);
      expect(result.run.output, fault).not.toContain("failed to find accessible run image");
      defaultPathFailures.push({ fault, plan, result });
      console.log(`${fault} (builder's run image) -> ${failure(plan, result).split("\n").slice(0, 2).join(" | ")}`);
    }
    expect(await tagDigests(repository)).toEqual(before);
  });

  it("with the builder's run image: packline's message names the registry and the cause", () => {
    expect(defaultPathFailures).toHaveLength(2);
    for (const { fault, plan, result } of defaultPathFailures) {
      const message = failure(plan, result);
      expect(message, fault).toContain(`registry ${s.registry}`);
      expect(message, fault).toMatch(fault === "wrong password" ? /refused the credentials/ : /could not be reached/);
    }
  });
});
