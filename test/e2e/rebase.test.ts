/**
 * The rebase plan on real components (README, "Rebase"): versions built by packline's own plan on a run image of the
 * lab (v1, named in the run.toml of a builder made from the lab's), then rebased, step by step in Docker as restricted pods, by the lab's real lifecycle rebaser onto a
 * patched run image (v2: the same stack with one OS file changed), in the real registry with authentication.
 * Checked: app layers byte-identical (same blobs), OS layers new with the patched file in the image, labels, creation
 * time and rebased-from right, the app still runs; a second rebase changes nothing; the floating-tag rule; a refused
 * rebase and the faults (a stopped registry, a wrong password) leave every tag as it was.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { REBASE_EXIT, REBASE_LABELS } from "../../src/core/plan/rebase-scripts.js";
import { BUILD_INPUTS_LABEL } from "../../src/core/plan/scripts.js";
import { docker, e2eState, fetchFromImage, registryClient, startRegistry, stopRegistry, uniqueRepository } from "./harness.js";
import { planFor, runPlan } from "./packline.js";
import { PATCHED_FILE, pushBuilder, pushRunImage, type RebaseRun, rebasePlanFor, runRebase } from "./rebase.js";

/** 2026-01-01T00:00:00Z: a creation time the rebaser alone would lose (it dates images 1980). */
const CREATED = 1767225600;
const CREATED_TEXT = "2026-01-01T00:00:00Z";

/** Every tag of the repository with its digest, but the claims (bookkeeping a check writes). */
async function tagDigests(repository: string): Promise<Record<string, string | undefined>> {
  const registry = registryClient();
  const out: Record<string, string | undefined> = {};
  for (const tag of await registry.listTags(repository))
    if (!tag.startsWith("packline-claim-")) out[tag] = await registry.manifestDigest(repository, tag);
  return out;
}

const layers = async (repository: string, reference: string): Promise<string[]> =>
  ((await registryClient().manifest(repository, reference)).body.layers as { digest: string }[]).map((l) => l.digest);

describe("packline's rebase plan -> the real lifecycle rebaser and registry, as restricted pods", () => {
  const s = e2eState();
  const repository = uniqueRepository("e2e/rebase");
  const runRepository = uniqueRepository("e2e/rebase-run");
  const runName = `${s.registry}/${runRepository}:stack`;
  const builder = `${s.registry}/${uniqueRepository("e2e/rebase-builder")}:1`;
  const built: Record<string, string> = {};
  let runV1: string;
  let runV2: string;
  let first: RebaseRun;

  beforeAll(async () => {
    runV1 = await pushRunImage(runName, "v1");
    await pushBuilder(builder, runName);
    for (const tag of ["v1.0.0", "v1.0.1"]) {
      const run = await runPlan(planFor(repository, { tag, builder, creationTime: String(CREATED) }));
      expect(run.failed?.output).toBeUndefined();
      built[tag.slice(1)] = run.digest!;
    }
    runV2 = await pushRunImage(runName, "v2");
    first = await runRebase(rebasePlanFor(repository, "v1.0.0", { builder }));
    console.log(
      `rebase 1.0.0: check ${first.seconds.check.toFixed(2)} s, rebaser ${first.seconds.rebase?.toFixed(2)} s, release ${first.seconds.release?.toFixed(2)} s, total ${first.seconds.total.toFixed(2)} s`,
    );
  });

  it("the builds stand on run image v1; the rebase moves 1.0.0 to a new image, and only 1.0.0 (a newer patch holds 1.0, 1, latest)", async () => {
    expect(first.failed?.output).toBeUndefined();
    expect(first.outcome).toBe("rebase");
    expect(first.check.output).toContain("rebasing");
    expect(first.rebase!.argv).toEqual(
      expect.arrayContaining(["--user", `${s.cnbUserId}:${s.cnbGroupId}`, "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]),
    );
    expect(first.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(first.digest).not.toBe(built["1.0.0"]);
    expect(first.moved).toEqual([]);
    const tags = await tagDigests(repository);
    expect(tags["1.0.0"]).toBe(first.digest);
    for (const tag of ["1.0", "1", "latest"]) expect(tags[tag], tag).toBe(built["1.0.1"]);
    expect(tags["1.0.1"]).toBe(built["1.0.1"]);
  });

  it("the app layers are the same blobs; the run image's layers are v2's; the patched file is in the image", async () => {
    const run = splitRun(runName);
    const v1Layers = await layers(run.repository, runV1);
    const v2Layers = await layers(run.repository, runV2);
    const before = await layers(repository, built["1.0.0"]!);
    const after = await layers(repository, first.digest!);
    expect(before.slice(0, v1Layers.length)).toEqual(v1Layers);
    expect(after.slice(0, v2Layers.length)).toEqual(v2Layers);
    expect(after.slice(v2Layers.length)).toEqual(before.slice(v1Layers.length));
    expect(after.slice(v2Layers.length).length).toBeGreaterThan(0);
    expect(v2Layers.at(-1)).not.toBe(v1Layers.at(-1));
    const ref = `${s.registry}/${repository}@${first.digest}`;
    await docker(["pull", "-q", ref]);
    const patched = await docker(["run", "--rm", "--network", "host", "--entrypoint", "/bin/cat", ref, PATCHED_FILE]);
    expect(patched.stdout.trim()).toBe("v2");
  });

  it("labels, creation time, rebased-from and the run image's digest are right", async () => {
    const registry = registryClient();
    const before = await registry.imageConfig(repository, built["1.0.0"]!);
    const after = await registry.imageConfig(repository, first.digest!);
    expect(before.created).toBe(CREATED_TEXT);
    expect(after.created).toBe(CREATED_TEXT);
    for (const label of [
      "org.opencontainers.image.version",
      "org.opencontainers.image.revision",
      "org.opencontainers.image.created",
      BUILD_INPUTS_LABEL,
    ]) {
      expect(after.config.Labels[label], label).toBe(before.config.Labels[label]);
    }
    expect(after.config.Labels["org.opencontainers.image.version"]).toBe("1.0.0");
    expect(after.config.Labels[REBASE_LABELS.from]).toBe(built["1.0.0"]);
    expect(after.config.Labels[REBASE_LABELS.runImage]).toBe(`${s.registry}/${runRepository}@${runV2}`);
    const metadata = JSON.parse(after.config.Labels["io.buildpacks.lifecycle.metadata"]);
    expect(metadata.runImage.reference).toBe(`${s.registry}/${runRepository}@${runV2}`);
    expect(after.config.Entrypoint).toEqual(before.config.Entrypoint);
    expect(after.config.Env).toEqual(before.config.Env);
  });

  it("the rebased image still runs and answers", async () => {
    const res = await fetchFromImage(`${s.registry}/${repository}:1.0.0`);
    expect(res.status).toBe(200);
    expect(res.body).toContain("packline-e2e-fixture-ok");
  });

  it("rebase again: nothing changes (the check finds the version on the run image, its digest is the result)", async () => {
    const before = await tagDigests(repository);
    const again = await runRebase(rebasePlanFor(repository, "v1.0.0", { builder }));
    expect(again.failed?.output).toBeUndefined();
    expect(again.outcome).toBe("current");
    expect(again.digest).toBe(first.digest);
    expect(again.rebase).toBeUndefined();
    expect(await tagDigests(repository)).toEqual(before);
  });

  it("rebasing the newest patch moves the floating tags that hold it", async () => {
    const newest = await runRebase(rebasePlanFor(repository, "1.0.1", { builder }));
    expect(newest.failed?.output).toBeUndefined();
    expect(newest.moved).toEqual(["1.0", "1", "latest"]);
    const tags = await tagDigests(repository);
    for (const tag of ["1.0.1", "1.0", "1", "latest"]) expect(tags[tag], tag).toBe(newest.digest);
    expect(tags["1.0.0"]).toBe(first.digest);
  });

  it("refused: a version that does not exist, a run image of another name; nothing is published", async () => {
    const before = await tagDigests(repository);
    const missing = await runRebase(rebasePlanFor(repository, "1.0.9", { builder }));
    expect(missing.check.exitCode).toBe(REBASE_EXIT.refused);
    expect(missing.check.output).toContain("is not published: there is no version 1.0.9");
    // The lab's own run image: the same stack, but not the run image 1.0.0 was built on (the lifecycle would want -force).
    const other = await runRebase(rebasePlanFor(repository, "1.0.0", { builder, runImage: s.runImage }));
    expect(other.failed?.exitCode, other.failed?.output).toBe(REBASE_EXIT.refused);
    expect(other.failed?.output).toContain(`${s.runImage} is not the run image 1.0.0 was built on`);
    expect(await tagDigests(repository)).toEqual(before);
  });

  it("faults: a wrong password, and the registry stopped before the release, leave every tag as it was", async () => {
    await pushRunImage(runName, "v3"); // so that 1.0.0 (on v2) has something to be rebased onto
    const before = await tagDigests(repository);
    const wrong = await runRebase(rebasePlanFor(repository, "1.0.0", { builder }), { password: `${s.password}-wrong` });
    expect(wrong.check.exitCode, wrong.check.output).toBe(REBASE_EXIT.credentials);
    expect(wrong.check.output).not.toContain(s.password);
    let stopped = false;
    const down = await runRebase(rebasePlanFor(repository, "1.0.0", { builder }), {
      beforeRelease: async () => {
        await stopRegistry();
        stopped = true;
      },
    }).finally(startRegistry);
    expect(stopped).toBe(true);
    expect(down.failed).toBe(down.release);
    expect(down.release!.exitCode, down.release!.output).toBe(REBASE_EXIT.transient);
    const after = await tagDigests(repository);
    delete after["packline-staging"]; // the rebaser pushed the staging tag before the registry stopped
    delete before["packline-staging"];
    expect(after).toEqual(before);
    // and once the registry is back, the same rebase completes
    const retried = await runRebase(rebasePlanFor(repository, "1.0.0", { builder }));
    expect(retried.failed?.output).toBeUndefined();
    expect(retried.outcome).toBe("rebase");
  });
});

function splitRun(name: string): { repository: string } {
  const path = name.slice(name.indexOf("/") + 1);
  return { repository: path.slice(0, path.lastIndexOf(":")) };
}
