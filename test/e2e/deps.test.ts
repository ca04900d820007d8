/**
 * The fixture where the buildpacks cache matters: an app with a packline-deps.lock (real Go module zips, served in
 * the lab at 10.123.0.1:8081) built by the test builder's optional second buildpack, packline-e2e/deps, which keeps
 * them unpacked in a launch+cache layer keyed by the lockfile's checksum. The plan's creator step, run as the other
 * tests run it: a cold build downloads, checks and unpacks; a warm build with the same cache reuses the layer and
 * gives the same image; a changed lockfile installs again; a wrong checksum fails the build.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copySource, docker, e2eState, pullImage, registryClient, removeTree, uniqueRepository } from "./harness.js";
import { type BuildStepResult, planFor, runBuildStep } from "./packline.js";

const LOCK = "packline-deps.lock";
const COLD = "---> deps: no cached deps layer, installing";
const WARM = "---> deps: reusing the cached deps layer";

/** The archives a lockfile lists (sha256 and URL per line, '#' comments). */
function lockEntries(text: string): { sha: string; url: string }[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const [sha, url] = l.split(/\s+/);
      return { sha: sha!, url: url! };
    });
}

describe("a cached dependencies layer (the deps fixture)", () => {
  const s = e2eState();
  const repository = uniqueRepository("e2e/deps");
  const cache = mkdtempSync(join(tmpdir(), "packline-e2e-cache-"));
  const cleanups: (() => void)[] = [() => removeTree(cache)];
  const entries = lockEntries(readFileSync(join(s.depsFixtureApp, LOCK), "utf8"));
  let cold: BuildStepResult;
  let warm: BuildStepResult;

  beforeAll(async () => {
    cold = await runBuildStep(planFor(repository), { source: s.depsFixtureApp, cacheDir: cache });
    warm = await runBuildStep(planFor(repository), { source: s.depsFixtureApp, cacheDir: cache });
  });
  afterAll(() => {
    for (const cleanup of cleanups) cleanup();
  });

  it("the lab serves every archive of the lockfile with the lockfile's checksum", async () => {
    expect(entries.length).toBeGreaterThanOrEqual(3);
    for (const { url } of entries) {
      expect(url.startsWith(`${s.lab.files.deps}/`), url).toBe(true);
      const res = await fetch(url, { method: "HEAD" });
      expect(res.status, url).toBe(200);
    }
  });

  it("cold: both buildpacks ran; every archive was downloaded, checked and unpacked", () => {
    expect(cold.run.exitCode, cold.run.output).toBe(0);
    expect(cold.run.output).toContain("---> packline e2e static site");
    expect(cold.run.output).toContain(COLD);
    expect(cold.run.output).toContain(`---> deps: installed ${entries.length} archives`);
    for (const { url } of entries) expect(cold.run.output).toContain(url);
    expect(cold.report?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("warm: the lifecycle restores the layer from the cache and the buildpack reuses it; same image", () => {
    expect(warm.run.exitCode, warm.run.output).toBe(0);
    expect(warm.run.output).toContain(WARM);
    expect(warm.run.output).not.toContain(COLD);
    for (const { url } of entries) expect(warm.run.output).not.toContain(url);
    // the lifecycle's own words (restorer, then exporter's cache step)
    expect(warm.run.output).toMatch(/Restoring data for "packline-e2e\/deps:deps" from cache/);
    expect(warm.run.output).toMatch(/Reusing cache layer 'packline-e2e\/deps:deps'/);
    expect(warm.report!.digest).toBe(cold.report!.digest);
  });

  it("the image holds the unpacked archives, with PACKLINE_DEPS_DIR pointing at them", async () => {
    const ref = `${s.registry}/${repository}@${cold.report!.digest}`;
    await pullImage(ref);
    const listed = await docker([
      "run",
      "--rm",
      "--network",
      "host",
      "--entrypoint",
      "/cnb/lifecycle/launcher",
      ref,
      "--",
      "sh",
      "-c",
      'echo "$PACKLINE_DEPS_DIR"; ls "$PACKLINE_DEPS_DIR"/golang.org/x; wc -l < "$PACKLINE_DEPS_DIR/../manifest.txt"',
    ]);
    const [dir, ...rest] = listed.stdout.trim().split("\n");
    expect(dir).toMatch(/^\/layers\/packline-e2e_deps\/deps\/src$/);
    expect(rest).toEqual(expect.arrayContaining(["sys@v0.33.0", "text@v0.23.0"]));
    expect(rest[rest.length - 1]!.trim()).toBe(String(entries.length));
    expect(await registryClient().listTags(repository)).toContain("packline-staging");
  });

  it("a changed lockfile installs again and gives another image", async () => {
    const source = copySource(s.depsFixtureApp);
    cleanups.push(() => removeTree(source));
    const lock = join(source, LOCK);
    writeFileSync(
      lock,
      readFileSync(lock, "utf8")
        .split("\n")
        .filter((l) => !l.includes("logrus"))
        .join("\n"),
    );
    const changed = await runBuildStep(planFor(repository), { source, cacheDir: cache });
    expect(changed.run.exitCode, changed.run.output).toBe(0);
    expect(changed.run.output).toContain("---> deps: the lockfile changed, installing again");
    expect(changed.run.output).toContain(`---> deps: installed ${entries.length - 1} archives`);
    expect(changed.report!.digest).not.toBe(cold.report!.digest);
  });

  it("a wrong checksum fails the build and names the archive", async () => {
    const source = copySource(s.depsFixtureApp);
    cleanups.push(() => removeTree(source));
    const lock = join(source, LOCK);
    const first = entries[0]!;
    const wrong = first.sha.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    writeFileSync(lock, readFileSync(lock, "utf8").replace(first.sha, wrong));
    const failed = await runBuildStep(planFor(uniqueRepository("e2e/deps-wrong")), { source });
    expect(failed.run.exitCode).not.toBe(0);
    expect(failed.report).toBeUndefined();
    expect(failed.run.output).toContain(`checksum mismatch for ${first.url}: the lockfile says ${wrong}, the download is ${first.sha}`);
  });
});
