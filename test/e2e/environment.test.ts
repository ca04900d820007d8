/**
 * The e2e environment itself (the lab, test/lab/, and test/e2e/setup.sh): what the packline e2e tests rely on, checked against the real
 * daemon, registry, builder and pack. If one of these fails, a packline e2e failure says nothing about packline.
 */
import { describe, expect, it } from "vitest";
import { copySource, docker, e2eState, fetchFromImage, packBuild, registryClient, removeTree, splitReference, uniqueRepository } from "./harness.js";

describe("e2e environment", () => {
  const s = e2eState();

  it("the apps registry listens on the lab address and refuses requests without credentials", async () => {
    expect(s.registry).toBe(`${s.lab.address}:5000`);
    const anonymous = registryClient(s.registry, null);
    expect((await anonymous.request("GET", "/v2/")).status).toBe(401);
    expect((await registryClient().request("GET", "/v2/")).status).toBe(200);
  });

  it("the run and builder images are in the images registry, which serves them without credentials", async () => {
    expect(s.imagesRegistry).toBe(`${s.lab.address}:5001`);
    const registry = registryClient(s.imagesRegistry, null);
    for (const ref of [s.runImage, s.builderImage]) {
      const { repository, reference } = splitReference(ref);
      expect(await registry.manifestDigest(repository, reference), ref).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
    const run = splitReference(s.runImage);
    const config = await registry.imageConfig(run.repository, run.reference);
    expect(config.config.User).toBe(`${s.cnbUserId}:${s.cnbGroupId}`);
    expect(config.config.Labels["io.buildpacks.stack.id"]).toBe(s.stackId);
  });

  it("the builder has the CNB user, the lifecycle's creator and its run image, as pack made it", async () => {
    const { stdout } = await docker(["image", "inspect", s.builderImage, "--format", "{{json .Config}}"]);
    const config = JSON.parse(stdout) as { Env: string[]; Labels: Record<string, string>; User: string };
    expect(config.Env).toContain(`CNB_USER_ID=${s.cnbUserId}`);
    expect(config.Env).toContain(`CNB_GROUP_ID=${s.cnbGroupId}`);
    expect(config.User).toBe(`${s.cnbUserId}:${s.cnbGroupId}`);
    expect(config.Labels["io.buildpacks.stack.id"]).toBe(s.stackId);
    const metadata = JSON.parse(config.Labels["io.buildpacks.builder.metadata"]!);
    expect(metadata.lifecycle.version).toBe(s.lifecycleVersion);
    expect(metadata.images[0].image).toBe(s.runImage);
    expect(JSON.parse(config.Labels["io.buildpacks.buildpack.order"]!)[0].group[0]).toEqual({ id: s.buildpack.id, version: s.buildpack.version });

    const version = await docker([
      "run",
      "--rm",
      "--network",
      "host",
      "--user",
      "0",
      "-e",
      "CNB_PLATFORM_API=0.13",
      "--entrypoint",
      "/cnb/lifecycle/creator",
      s.builderImage,
      "-version",
    ]);
    expect(version.stdout.trim()).toBe(s.lifecycleVersion);
  });

  it("pack build --publish with the test builder publishes an image that serves the fixture app", async () => {
    const repository = uniqueRepository("e2e/pack-reference");
    const image = `${s.registry}/${repository}`;
    const source = copySource();
    try {
      const build = await packBuild({ image: `${image}:1.0.0`, tags: [`${image}:1.0`], path: source });
      expect(build.exitCode, build.stdout + build.stderr).toBe(0);
      expect(await registryClient().listTags(repository)).toEqual(["1.0", "1.0.0"]);
      const answer = await fetchFromImage(`${image}:1.0.0`);
      expect(answer.status).toBe(200);
      expect(answer.body).toContain("packline-e2e-fixture-ok");
    } finally {
      removeTree(source);
    }
  });
});
