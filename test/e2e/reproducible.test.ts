/**
 * Issue 4, point 4: reproducible builds. The same source built twice with the cache cleared gives the same digest; a
 * changed source gives another; `creationTime` sets the image's `created` as documented (default
 * 1980-01-01T00:00:01Z, unix seconds -> that instant), read from the config blob through the registry API.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { registryClient, removeTree, uniqueRepository } from "./harness.js";
import { changedSource, planFor, runPlanBuild } from "./packline.js";

describe("reproducible builds and creation time (issue 4: 4)", () => {
  const registry = registryClient();
  const cleanups: (() => void)[] = [];
  afterAll(() => cleanups.forEach((c) => c()));

  it("the same source built twice with the cache cleared gives the same digest; a changed source another", async () => {
    const repository = uniqueRepository("e2e/repro");
    const cache = mkdtempSync(join(tmpdir(), "packline-e2e-cache-"));
    cleanups.push(() => removeTree(cache));

    const first = await runPlanBuild(planFor(repository), { cacheDir: cache });
    expect(first.run.exitCode, first.run.output).toBe(0);
    expect(first.run.output).toContain("---> cache: no stamp layer yet");

    // --clear-cache (-skip-restore) with the very cache the first build filled: the buildpack must not see it
    const cleared = planFor(repository, { clearCache: true });
    expect(cleared.build.args).toContain("-skip-restore");
    const second = await runPlanBuild(cleared, { cacheDir: cache });
    expect(second.run.exitCode, second.run.output).toBe(0);
    expect(second.run.output).toContain("---> cache: no stamp layer yet");
    expect(second.run.output).not.toContain("---> cache: reusing the stamp layer");
    expect(second.report!.digest).toBe(first.report!.digest);

    // and into a new repository with a new, empty cache: still the same image
    const elsewhere = await runPlanBuild(planFor(uniqueRepository("e2e/repro-again")));
    expect(elsewhere.run.exitCode, elsewhere.run.output).toBe(0);
    expect(elsewhere.report!.digest).toBe(first.report!.digest);

    const source = changedSource("a changed source");
    cleanups.push(() => removeTree(source));
    const changed = await runPlanBuild(planFor(uniqueRepository("e2e/repro-changed")), { source });
    expect(changed.run.exitCode, changed.run.output).toBe(0);
    expect(changed.report!.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(changed.report!.digest).not.toBe(first.report!.digest);

    // the cache is used when it is not cleared (so "cleared" above meant something)
    const warm = await runPlanBuild(planFor(repository), { cacheDir: cache });
    expect(warm.run.exitCode, warm.run.output).toBe(0);
    expect(warm.run.output).toContain("---> cache: reusing the stamp layer");
    expect(warm.report!.digest).toBe(first.report!.digest);
  });

  it("creation time: default 1980-01-01T00:00:01Z; 1700000000 -> 2023-11-14T22:13:20Z, and another digest", async () => {
    const byDefault = uniqueRepository("e2e/created-default");
    const fixed = uniqueRepository("e2e/created-unix");
    const plain = await runPlanBuild(planFor(byDefault));
    expect(plain.run.exitCode, plain.run.output).toBe(0);
    const plan = planFor(fixed, { creationTime: "1700000000" });
    expect(plan.build.env).toContainEqual({ name: "SOURCE_DATE_EPOCH", value: "1700000000" });
    const dated = await runPlanBuild(plan);
    expect(dated.run.exitCode, dated.run.output).toBe(0);

    const plainConfig = await registry.imageConfig(byDefault, "1.2.3");
    const datedConfig = await registry.imageConfig(fixed, "1.2.3");
    expect(plainConfig.created).toBe("1980-01-01T00:00:01Z");
    expect(datedConfig.created).toBe("2023-11-14T22:13:20Z");
    expect(new Date(datedConfig.created).getTime() / 1000).toBe(1700000000);
    expect(dated.report!.digest).not.toBe(plain.report!.digest);
    expect(await registry.manifestDigest(fixed, "latest")).toBe(dated.report!.digest);
  });
});
