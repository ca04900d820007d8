/**
 * Issue 4, points 1 and 2: the build step of packline's own plan (`planBuild(...).build`), run in Docker exactly as
 * the plan states it, publishes the fixture app to the real registry with authentication, under every tag the version
 * rule promises, with report.toml's digest equal to the registry's manifest digest of each; the published image,
 * pulled back and run, answers HTTP with the fixture's page.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { PLATFORM_API } from "../../src/plan.js";
import { e2eState, fetchFromImage, registryClient, uniqueRepository } from "./harness.js";
import { GREETING, planFor, runPlanBuild, type PlanBuildResult } from "./packline.js";

describe("packline plan build -> real registry (issue 4: 1, 2)", () => {
  const s = e2eState();
  const repository = uniqueRepository("e2e/build");
  const plan = planFor(repository);
  let build: PlanBuildResult;

  beforeAll(async () => {
    build = await runPlanBuild(plan);
  });

  it("the plan is the creator of the builder, with the registry login as a secret mount (no command written here)", () => {
    expect(plan.version).toBe("1.2.3");
    expect(plan.tags).toEqual(["1.2.3", "1.2", "1", "latest"]);
    expect(plan.references).toEqual(plan.tags.map((t) => `${s.registry}/${repository}:${t}`));
    expect(plan.build.image).toBe(s.builderImage);
    expect(plan.build.command).toEqual(["/cnb/lifecycle/creator"]);
    expect(plan.build.env).toContainEqual({ name: "CNB_PLATFORM_API", value: PLATFORM_API });
    // the lab's registries speak plain HTTP on 10.123.0.1 (not loopback): the plan names both as insecure
    expect(plan.build.args.filter((a) => a.startsWith("-insecure-registry"))).toEqual(s.insecureRegistries.map((r) => `-insecure-registry=${r}`));
    expect(plan.build.mounts.filter((m) => m.kind === "secret")).toEqual([
      { kind: "secret", path: "/packline/docker/config.json", secret: { name: "registry-auth" } },
    ]);
  });

  it("the creator exits 0, ran the buildpack with the plan's build-time env, and wrote report.toml", () => {
    expect(build.run.exitCode, build.run.output).toBe(0);
    expect(build.run.output).toContain(`---> build-time env GREETING=${GREETING}`);
    expect(build.report, "report.toml").toBeDefined();
    expect(build.report!.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(build.report!.tags).toEqual([...plan.references]);
  });

  it("every tag the version rule promises is in the registry, each at report.toml's digest", async () => {
    const registry = registryClient();
    expect(await registry.listTags(repository)).toEqual([...plan.tags].sort());
    for (const tag of plan.tags) {
      expect(await registry.manifestDigest(repository, tag), tag).toBe(build.report!.digest);
    }
    // the registry wants the login: without it, nothing is served
    const anonymous = registryClient(s.registry, null);
    expect((await anonymous.request("HEAD", `/v2/${repository}/manifests/${plan.tags[0]}`)).status).toBe(401);
  });

  it("the published image, pulled back and run, answers HTTP with the fixture's page", async () => {
    const answer = await fetchFromImage(plan.references[0]!);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain("packline-e2e-fixture-ok");
    // and the pulled image is the one the report names
    const pulledByDigest = await fetchFromImage(`${s.registry}/${repository}@${build.report!.digest}`);
    expect(pulledByDigest.body).toBe(answer.body);
  });
});
