/**
 * The lab's own services and test images (test/lab/), as the e2e tests and the other parts (the Dagger engine, the
 * cluster) rely on them: both registries, every test image at the digest lab.json names, the git server (public,
 * private, read-only) and the helper images doing what packline asks of them (alpine/git clones from the lab's git
 * server, the crane debug image reads the images registry as the tool user, registry:3 serves).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gitToken } from "../lab/lab.js";
import { docker, e2eState, exec, freePort, httpGet, registryClient, removeTree, splitReference } from "./harness.js";

/** 2026-01-01T00:00:00Z: the date of every commit lab.sh git-publish makes. */
const FIXTURE_COMMIT_TIME = "1767225600";

describe("the lab", () => {
  const s = e2eState();
  const { repos } = s.lab.git;
  const git = (args: string[], check = true) =>
    exec("git", args, { check, env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" } });

  it("serves every test image at the digest lab.json names, without credentials", async () => {
    const images = registryClient(s.imagesRegistry, null);
    for (const [key, image] of Object.entries(s.lab.images)) {
      const { registry, repository, reference } = splitReference(image.ref);
      expect(registry, key).toBe(s.imagesRegistry);
      expect(await images.manifestDigest(repository, reference), key).toBe(image.digest);
    }
    expect(s.lab.images.craneDebug.upstream).toBe("ghcr.io/google/go-containerregistry/crane/debug:v0.20.6");
    expect(s.lab.images.registry.ref).toBe(`${s.imagesRegistry}/library/registry:3`);
  });

  it("the apps registry wants the login; the images registry accepts anonymous pushes", async () => {
    expect((await registryClient(s.registry, null).request("GET", "/v2/")).status).toBe(401);
    expect((await registryClient().request("GET", "/v2/")).status).toBe(200);
    const upload = await registryClient(s.imagesRegistry, null).request("POST", "/v2/lab-check/blobs/uploads/");
    expect(upload.status).toBe(202);
  });

  it("the git server: public clone at the tag, /private/ only with the token, no push", async () => {
    const remote = await git(["ls-remote", repos.fixture.url]);
    expect(remote.stdout).toContain(`refs/tags/${repos.fixture.tag}^{}`);
    expect(remote.stdout.split("\n").find((l) => l.endsWith(`refs/tags/${repos.fixture.tag}^{}`))).toMatch(new RegExp(`^${repos.fixture.commit}\\s`));
    // the private copy is the same commit (same files, fixed author and dates)
    expect(repos.fixturePrivate.commit).toBe(repos.fixture.commit);
    expect(repos.fixturePrivate.url).toContain(s.lab.git.privatePrefix);

    const anonymous = await git(["ls-remote", repos.fixturePrivate.url], false);
    expect(anonymous.exitCode).not.toBe(0);
    expect(anonymous.stderr).toMatch(/could not read Username|Authentication failed|401/);
    const withToken = repos.fixturePrivate.url.replace("http://", `http://${s.lab.git.username}:${gitToken(s.lab)}@`);
    expect((await git(["ls-remote", withToken])).stdout).toContain(repos.fixturePrivate.commit);

    // from a clone of its own (never from the checkout the tests run in)
    const clone = mkdtempSync(join(tmpdir(), "packline-e2e-clone-"));
    try {
      await git(["clone", "-q", withToken, clone]);
      const push = await git(["-C", clone, "push", "origin", `${repos.fixture.commit}:refs/heads/lab-check`], false);
      expect(push.exitCode).not.toBe(0);
      expect(push.stderr).toMatch(/403/);
    } finally {
      removeTree(clone);
    }
  });

  it("alpine/git, as the tool user, clones the fixture from the git server at its tag and reads the commit time", async () => {
    const { stdout } = await docker([
      "run",
      "--rm",
      "--network",
      "host",
      "--user",
      "65532:65532",
      "-e",
      "HOME=/tmp",
      "--entrypoint",
      "sh",
      s.lab.images.git.ref,
      "-c",
      'set -eu; cd /tmp; git clone -q --depth 1 --branch "$1" "$2" src; git -C src log -1 --format=%ct; cat src/index.html',
      "sh",
      repos.fixture.tag,
      repos.fixture.url,
    ]);
    const [time, ...page] = stdout.trim().split("\n");
    expect(time).toBe(FIXTURE_COMMIT_TIME);
    expect(page.join("\n")).toContain("packline-e2e-fixture-ok");
  });

  it("the crane debug image runs crane and busybox sh as the tool user against the images registry", async () => {
    const { stdout } = await docker([
      "run",
      "--rm",
      "--network",
      "host",
      "--user",
      "65532:65532",
      "--entrypoint",
      "/busybox/sh",
      s.lab.images.craneDebug.ref,
      "-c",
      'crane digest --insecure "$1"',
      "sh",
      s.lab.images.busybox.ref,
    ]);
    expect(stdout.trim()).toBe(s.lab.images.busybox.digest);
  });

  it("registry:3 serves the registry API with its built-in configuration", async () => {
    const port = await freePort();
    const { stdout } = await docker(["run", "-d", "--network", "host", "-e", `REGISTRY_HTTP_ADDR=127.0.0.1:${port}`, s.lab.images.registry.ref]);
    const container = stdout.trim();
    try {
      const answer = await httpGet(`http://127.0.0.1:${port}/v2/`);
      expect(answer.status).toBe(200);
    } finally {
      await docker(["rm", "-f", container], { check: false });
    }
  });
});
