/**
 * The steps of packline's own plan (check, build, release), run in Docker exactly as the plan states them and as a
 * restricted pod would run them (the builder's CNB user, no capabilities, no privilege escalation, Docker's default
 * seccomp profile): the fixture app is published to the real registry with authentication, under every tag the
 * version rule promises, all at the release's digest, with packline's labels on the image config; the image, pulled
 * back and run, answers HTTP; and its SBOM files are where the lifecycle puts them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PIN_LABELS } from "../../src/core/plan/pin.js";
import { PLATFORM_API } from "../../src/core/plan/planner.js";
import { BUILD_INPUTS_LABEL, EXIT } from "../../src/core/plan/scripts.js";
import { e2eState, fetchFromImage, registryClient, removeTree, splitReference, uniqueRepository } from "./harness.js";
import { changedSource, GREETING, type PlanRun, planFor, runBuildStep, runPlan } from "./packline.js";

describe("packline's plan -> real registry, as a restricted pod", () => {
  const s = e2eState();
  const repository = uniqueRepository("e2e/build");
  const plan = planFor(repository);
  const tags = ["1.2.3", "1.2", "1", "latest"];
  let run: PlanRun;

  beforeAll(async () => {
    run = await runPlan(plan, { lates: { "source-digest": "sha256:e2e-fixture" } });
  });

  it("the plan: the builder's creator as the build user, pushing to the staging tag, the login as a secret volume", () => {
    // by the digest the check pins (pin.ts), and the run image too
    expect(plan.steps.build.image).toEqual([`${s.builderImage}@`, { late: "builder-digest" }]);
    expect(plan.steps.build.env).toContainEqual({ name: "CNB_RUN_IMAGE", value: [{ late: "run-image" }] });
    expect(plan.steps.build.user).toEqual({ kind: "build-user" });
    expect(plan.steps.build.privileged).toBe(false);
    expect(plan.steps.build.env).toContainEqual({ name: "CNB_PLATFORM_API", value: [PLATFORM_API] });
    const args = plan.steps.build.args.map((a) => a.join(""));
    // the lab's registries speak plain HTTP on 10.123.0.1 (not loopback): the plan names both as insecure
    expect(args.filter((a) => a.startsWith("-insecure-registry"))).toEqual(s.insecureRegistries.map((r) => `-insecure-registry=${r}`));
    expect(args.at(-1)).toBe(`${s.registry}/${repository}:packline-staging`);
  });

  it("check: the version is not published yet; build: the creator ran as the CNB user without privilege", () => {
    expect(run.check.exitCode, run.check.output).toBe(0);
    expect(run.outcome).toBe("unpublished");
    expect(run.failed?.output).toBeUndefined();
    expect(run.build!.argv).toEqual(
      expect.arrayContaining(["--user", `${s.cnbUserId}:${s.cnbGroupId}`, "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]),
    );
    expect(run.build!.output).toContain(`---> build-time env GREETING=${GREETING}`);
    expect(run.report!.tags).toEqual([`${s.registry}/${repository}:packline-staging`]);
  });

  it("release: every tag the version rule promises is in the registry, each at the release's digest", async () => {
    expect(run.release!.exitCode, run.release!.output).toBe(0);
    expect(run.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const registry = registryClient();
    // besides the version's tags: the staging tag, and the version's claim (README, "Two builds of one version")
    expect(await registry.listTags(repository)).toEqual([...tags, "packline-claim-1.2.3", "packline-staging"].sort());
    for (const tag of tags) expect(await registry.manifestDigest(repository, tag), tag).toBe(run.digest);
    expect(await registry.manifestDigest(repository, "packline-staging")).toBe(run.report!.digest);
    // the registry wants the login: without it, nothing is served
    const anonymous = registryClient(s.registry, null);
    expect((await anonymous.request("HEAD", `/v2/${repository}/manifests/1.2.3`)).status).toBe(401);
  });

  it("the image says where it came from: version, revision, build inputs and created, read back from its config", async () => {
    const config = await registryClient().imageConfig(repository, "1.2.3");
    expect(config.config.Labels).toMatchObject({
      "org.opencontainers.image.version": "1.2.3",
      "org.opencontainers.image.revision": "sha256:e2e-fixture",
      "org.opencontainers.image.created": "1980-01-01T00:00:01Z",
      [BUILD_INPUTS_LABEL]: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    // what made it, pinned by the check: the builder and run image by their digests in the images registry, the
    // lifecycle the lab built the builder with
    const images = registryClient(s.imagesRegistry, null);
    const builder = splitReference(s.builderImage);
    const runImage = splitReference(s.runImage);
    expect(config.config.Labels).toMatchObject({
      [PIN_LABELS.builder]: `${s.builderImage}@${await images.manifestDigest(builder.repository, builder.reference)}`,
      [PIN_LABELS.runImage]: `${s.runImage}@${await images.manifestDigest(runImage.repository, runImage.reference)}`,
      [PIN_LABELS.lifecycle]: s.lifecycleVersion,
    });
    expect(run.build!.argv).toContain(`${s.builderImage}@${await images.manifestDigest(builder.repository, builder.reference)}`);
    // everything else is the lifecycle's image: the same layers as the staged one
    const staged = await registryClient().manifest(repository, "packline-staging");
    const released = await registryClient().manifest(repository, "1.2.3");
    expect(released.body.layers).toEqual(staged.body.layers);
  });

  it("the published image, pulled back by digest and run, answers HTTP with the fixture's page", async () => {
    const answer = await fetchFromImage(`${s.registry}/${repository}@${run.digest}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain("packline-e2e-fixture-ok");
  });

  it("a second run of the same revision and options is published already: nothing is built, the digest is the same", async () => {
    const again = await runPlan(plan, { lates: { "source-digest": "sha256:e2e-fixture" } });
    expect(again.outcome).toBe("published");
    expect(again.build).toBeUndefined();
    expect(again.digest).toBe(run.digest);
  });
});

describe("SBOM files, as the lifecycle writes them", () => {
  it("the buildpack's CycloneDX and SPDX documents are in /layers/sbom, parseable, and in the image", async () => {
    const plan = planFor(uniqueRepository("e2e/sbom"));
    const build = await runBuildStep(plan);
    try {
      expect(build.run.exitCode, build.run.output).toBe(0);
      const dir = join(build.run.scratch.layers!, "sbom", "launch", "packline-e2e_static", "site");
      const cdx = JSON.parse(readFileSync(join(dir, "sbom.cdx.json"), "utf8"));
      const spdx = JSON.parse(readFileSync(join(dir, "sbom.spdx.json"), "utf8"));
      expect(cdx.bomFormat).toBe("CycloneDX");
      expect(spdx.spdxVersion).toMatch(/^SPDX-2\./);
      expect(build.run.output).toContain("Adding layer 'buildpacksio/lifecycle:launch.sbom'");
    } finally {
      build.run.cleanup();
    }
  });
});

describe("two builds of one version at once", () => {
  it("with different sources: exactly one wins, the other fails clearly and tags nothing of its own", async () => {
    const repository = uniqueRepository("e2e/race");
    const other = changedSource("the other build");
    try {
      const plan = planFor(repository);
      const [a, b] = await Promise.all([
        runPlan(plan, { lates: { "source-digest": "sha256:source-a" } }),
        runPlan(plan, { source: other, lates: { "source-digest": "sha256:source-b" } }),
      ]);
      const runs = [a, b];
      const won = runs.filter((r) => r.failed === undefined);
      const lost = runs.filter((r) => r.failed !== undefined);
      expect(won, runs.map((r) => r.failed?.output ?? "ok").join("\n---\n")).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]!.failed!.exitCode).toBe(EXIT.refused);
      expect(lost[0]!.failed!.stderr).toMatch(
        /packline: (.*:1\.2\.3 is already published|.*:1\.2\.3 was published by another build|another build published .*:1\.2\.3 at the same time)/,
      );
      const registry = registryClient();
      for (const tag of ["1.2.3", "1.2", "1", "latest"]) expect(await registry.manifestDigest(repository, tag), tag).toBe(won[0]!.digest);
      const config = await registry.imageConfig(repository, "1.2.3");
      expect(config.config.Labels["org.opencontainers.image.revision"]).toBe(won[0] === a ? "sha256:source-a" : "sha256:source-b");
      console.log(`race: ${won[0] === a ? "a" : "b"} won; the other: ${lost[0]!.failed!.stderr.trim().split("\n").at(-1)}`);
    } finally {
      removeTree(other);
    }
  });
});
