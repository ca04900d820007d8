/**
 * Reproducible builds. The same source built twice with the cache cleared gives the same image; a changed source
 * gives another; the same plan in another repository gives the same final digest (labels included); `creationTime`
 * sets the image's `created` and its label as documented (default 1980-01-01T00:00:01Z, unix seconds -> that
 * instant), read from the config blob through the registry API.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { registryClient, removeTree, uniqueRepository } from "./harness.js";
import { changedSource, planFor, runPlan } from "./packline.js";

describe("reproducible builds and creation time", () => {
  const registry = registryClient();
  const cleanups: (() => void)[] = [];
  afterAll(() => {
    for (const cleanup of cleanups) cleanup();
  });

  it("the same source built twice with the cache cleared gives the same image; a changed source another", async () => {
    const repository = uniqueRepository("e2e/repro");
    const cache = mkdtempSync(join(tmpdir(), "packline-e2e-cache-"));
    cleanups.push(() => removeTree(cache));

    const first = await runPlan(planFor(repository), { cacheDir: cache });
    expect(first.failed?.output).toBeUndefined();
    expect(first.build!.output).toContain("---> cache: no stamp layer yet");

    // --clear-cache (-skip-restore) with the very cache the first build filled: the buildpack must not see it
    const cleared = planFor(uniqueRepository("e2e/repro-cleared"), { clearCache: true });
    expect(cleared.steps.build.args.map((a) => a.join(""))).toContain("-skip-restore");
    const second = await runPlan(cleared, { cacheDir: cache });
    expect(second.failed?.output).toBeUndefined();
    expect(second.build!.output).toContain("---> cache: no stamp layer yet");
    expect(second.build!.output).not.toContain("---> cache: reusing the stamp layer");
    expect(second.report!.digest).toBe(first.report!.digest);

    // the same plan into a new repository with a new, empty cache: the same image, labels and all
    const elsewhere = await runPlan(planFor(repository.replace("e2e/repro", "e2e/repro-again")));
    expect(elsewhere.failed?.output).toBeUndefined();
    expect(elsewhere.report!.digest).toBe(first.report!.digest);
    expect(elsewhere.digest).toBe(first.digest);

    const source = changedSource("a changed source");
    cleanups.push(() => removeTree(source));
    const changed = await runPlan(planFor(uniqueRepository("e2e/repro-changed")), { source });
    expect(changed.failed?.output).toBeUndefined();
    expect(changed.report!.digest).not.toBe(first.report!.digest);

    // the cache is used when it is not cleared (so "cleared" above meant something)
    const warm = await runPlan(planFor(uniqueRepository("e2e/repro-warm")), { cacheDir: cache });
    expect(warm.failed?.output).toBeUndefined();
    expect(warm.build!.output).toContain("---> cache: reusing the stamp layer");
    expect(warm.report!.digest).toBe(first.report!.digest);
  });

  it("creation time: default 1980-01-01T00:00:01Z; 1700000000 -> 2023-11-14T22:13:20Z, and another digest", async () => {
    const byDefault = uniqueRepository("e2e/created-default");
    const fixed = uniqueRepository("e2e/created-unix");
    const plain = await runPlan(planFor(byDefault));
    expect(plain.failed?.output).toBeUndefined();
    const plan = planFor(fixed, { creationTime: "1700000000" });
    expect(plan.steps.build.env).toContainEqual({ name: "SOURCE_DATE_EPOCH", value: ["1700000000"] });
    const dated = await runPlan(plan);
    expect(dated.failed?.output).toBeUndefined();

    const plainConfig = await registry.imageConfig(byDefault, "1.2.3");
    const datedConfig = await registry.imageConfig(fixed, "1.2.3");
    expect(plainConfig.created).toBe("1980-01-01T00:00:01Z");
    expect(datedConfig.created).toBe("2023-11-14T22:13:20Z");
    expect(datedConfig.config.Labels["org.opencontainers.image.created"]).toBe("2023-11-14T22:13:20Z");
    expect(dated.report!.digest).not.toBe(plain.report!.digest);
    expect(await registry.manifestDigest(fixed, "latest")).toBe(dated.digest);
  });
});
