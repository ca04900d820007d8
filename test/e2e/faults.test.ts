/**
 * Faults. A wrong registry password and a stopped registry each stop the build with a clear message naming the
 * registry and the cause, and leave the registry's tags as they were (published once successfully first; the failing
 * builds publish a newer version of a changed source, so had one succeeded, every tag would have moved).
 *
 * packline's check step meets the registry first (crane, before anything is built): refused credentials are exit
 * code 3 (a retry cannot fix them), an unreachable registry exit code 1 (a retry may). The build step on its own
 * (the lifecycle meeting the same faults) is classified by `buildFailure`, the wording every backend prints; there the
 * run image is in the images registry (10.123.0.1:5001), which stays up while the faults hit the apps registry.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFailure } from "../../src/core/failure.js";
import { REGISTRY_AUTH_SECRET } from "../../src/core/plan/planner.js";
import { EXIT } from "../../src/core/plan/scripts.js";
import { resolveText } from "../../src/core/plan/text.js";
import {
  copySource,
  e2eState,
  registryAnswers,
  registryClient,
  removeTree,
  runStep,
  startRegistry,
  stopRegistry,
  uniqueRepository,
} from "./harness.js";
import { changedSource, pinLates, planFor, registryAuthSecret, runPlan } from "./packline.js";

/** Every tag of a repository with its manifest digest. */
async function tagDigests(repository: string): Promise<Record<string, string | undefined>> {
  const registry = registryClient();
  const out: Record<string, string | undefined> = {};
  for (const tag of await registry.listTags(repository)) out[tag] = await registry.manifestDigest(repository, tag);
  return out;
}

/** Runs something with the registry stopped; the registry is started again whatever happens. */
async function withRegistryStopped<T>(run: () => Promise<T>): Promise<T> {
  await stopRegistry();
  try {
    expect(await registryAnswers()).toBe(false);
    return await run();
  } finally {
    await startRegistry();
  }
}

describe("faults leave the registry as it was", () => {
  const s = e2eState();
  const repository = uniqueRepository("e2e/faults");
  const source = changedSource("a build that must never be published");
  const wrong = `${s.password}-wrong`;
  let before: Record<string, string | undefined>;

  beforeAll(async () => {
    const first = await runPlan(planFor(repository));
    expect(first.failed?.output).toBeUndefined();
    before = await tagDigests(repository);
    expect(Object.keys(before).sort()).toEqual(["1", "1.2", "1.2.3", "latest", "packline-claim-1.2.3", "packline-staging"]);
  });

  afterAll(async () => {
    await startRegistry(); // a no-op unless a test left it stopped
    removeTree(source);
  });

  it("a wrong password: the check stops at once (exit 3, no retry), naming the registry; tags unchanged", async () => {
    const run = await runPlan(planFor(repository, { tag: "v1.3.0" }), { source, password: wrong });
    expect(run.failed).toBe(run.check);
    expect(run.check.exitCode).toBe(EXIT.credentials);
    expect(run.check.stderr).toContain(`packline: registry ${s.registry} refused the credentials for ${s.registry}/${repository}`);
    expect(run.check.output).not.toContain(wrong);
    expect(await tagDigests(repository)).toEqual(before);
  });

  it("a stopped registry: the check fails as a retry may fix it (exit 1), naming the registry; tags unchanged", async () => {
    const run = await withRegistryStopped(() => runPlan(planFor(repository, { tag: "v1.3.0" }), { source, timeoutMs: 4 * 60_000 }));
    expect(await registryAnswers()).toBe(true);
    expect(run.check.exitCode).toBe(EXIT.transient);
    expect(run.check.stderr).toContain(`packline: could not look up ${s.registry}/${repository}:1.3.0 in registry ${s.registry} (a retry may help)`);
    expect(await tagDigests(repository)).toEqual(before);
  });

  it("the lifecycle meeting the same faults: buildFailure names the registry and the cause; tags unchanged", async () => {
    for (const [fault, runImage] of [
      ["wrong password", s.runImage],
      ["wrong password", undefined],
      ["stopped registry", s.runImage],
      ["stopped registry", undefined],
    ] as const) {
      const plan = planFor(repository, { tag: "v1.3.0", ...(runImage ? { runImage } : {}) });
      const secrets = { [REGISTRY_AUTH_SECRET.name]: registryAuthSecret(fault === "wrong password" ? wrong : s.password) };
      const sourceDir = copySource(source);
      const lates = await pinLates(plan); // the images registry, which stays up
      const build = () => runStep(plan, plan.steps.build, { sourceDir, secrets, lates, timeoutMs: 4 * 60_000 });
      const result = fault === "stopped registry" ? await withRegistryStopped(build) : await build();
      result.cleanup();
      removeTree(sourceDir);
      expect(result.exitCode, `${fault}: ${result.output}`).not.toBe(0);
      // the run image (in the images registry) was found; the analyzer names the failing apps registry
      expect(result.output, fault).not.toContain("failed to find accessible run image");
      const message = buildFailure({
        registry: s.registry,
        builder: resolveText(plan.steps.build.image, lates),
        runImage,
        exitCode: result.exitCode,
        output: result.output,
        redact: [wrong],
      }).message;
      expect(message, fault).toContain(fault === "wrong password" ? `cause: registry ${s.registry} refused the credentials` : "could not be reached");
      expect(message).not.toContain(wrong);
      expect(message).not.toContain("\u001b[");
      console.log(`${fault} (${runImage ? "--run-image" : "the builder's run image"}) -> ${message.split("\n").slice(0, 2).join(" | ")}`);
    }
    expect(await tagDigests(repository)).toEqual(before);
  });

  it("an unreadable run image is named as such, not blamed on the credentials", async () => {
    const plan = planFor(repository, { tag: "v1.3.0", runImage: `${s.imagesRegistry}/e2e/no-such-run:busybox` });
    const sourceDir = copySource(source);
    // The check would refuse the missing run image before any build (pin.ts); the lifecycle's own word on it is tested
    // here, so the run image reaches it unpinned, beside the builder's pin.
    const lates = { ...(await pinLates(planFor(repository, { tag: "v1.3.0" }))), "run-image": `${s.imagesRegistry}/e2e/no-such-run:busybox` };
    const result = await runStep(plan, plan.steps.build, { sourceDir, lates, secrets: { [REGISTRY_AUTH_SECRET.name]: registryAuthSecret() } });
    result.cleanup();
    removeTree(sourceDir);
    expect(result.exitCode).not.toBe(0);
    const message = buildFailure({
      registry: s.registry,
      builder: resolveText(plan.steps.build.image, lates),
      runImage: `${s.imagesRegistry}/e2e/no-such-run:busybox`,
      exitCode: result.exitCode,
      output: result.output,
    }).message;
    expect(message).toMatch(/cause: (the run image .*no-such-run:busybox could not be read|a registry could not be reached)/);
    expect(message).not.toContain("--registry-username");
    console.log(`missing run image -> ${message.split("\n").slice(0, 2).join(" | ")}`);
  });
});
