/**
 * The buildpacks cache and the image's creation time on the real engine. `packline build` runs as a process here, so
 * the lifecycle's own output (in the progress on stderr) shows what the test buildpack did with its cache: its
 * cache-only "stamp" layer counts the builds that reused it ("---> cache: reusing the stamp layer (builds before
 * this one: N)"). The cache volume is keyed by the image's name, so each test's fresh repository has a fresh cache.
 */
import { dag } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { STAGING_TAG } from "../../../src/core/plan/planner.js";
import { readLab } from "../lab.js";
import { runPackline, withEngine } from "./engine.js";
import { appsRepository, configOf, digestOf, labFlags, loginArgs, loginFlags, publishedDigest, result, unique } from "./packline-lab.js";

const LIFECYCLE_DEFAULT_TIME = "1980-01-01T00:00:01Z";

describe("the buildpacks cache on the real engine", () => {
  it("a second build reuses the cache volume and gives the same lifecycle image; a publish is never answered from the engine's cache; --clear-cache", async () => {
    const lab = readLab();
    const image = appsRepository("cache");
    const revision = unique("engine-cache");
    const login = loginFlags();
    const build = (tag: string, extra: string[] = []) =>
      runPackline(
        ["build", "--tag", tag, "--source", lab.fixtures.static, "--image", image, "--revision", revision, ...extra, ...login.flags, ...labFlags()],
        { env: login.env },
      );

    const first = await build("v1.0.0");
    expect(first.code, first.stderr.slice(-3000)).toBe(0);
    expect(first.stderr).toContain("---> cache: no stamp layer yet");
    expect(first.stderr).not.toContain("---> cache: reusing the stamp layer");
    const staged = await digestOf(`${image}:${STAGING_TAG}`);

    const second = await build("v1.0.1");
    expect(second.code, second.stderr.slice(-3000)).toBe(0);
    expect(second.stderr).toContain("---> cache: reusing the stamp layer (builds before this one: 1)");
    expect(await digestOf(`${image}:${STAGING_TAG}`)).toBe(staged);

    // the creator's inputs are the same as the second build's but for the run id: it ran again (the stamp counts it),
    // the engine did not answer it from its cache, and the image it pushed is the same
    const third = await build("v1.0.2");
    expect(third.code, third.stderr.slice(-3000)).toBe(0);
    expect(third.stderr).toContain("---> cache: reusing the stamp layer (builds before this one: 2)");
    expect(await digestOf(`${image}:${STAGING_TAG}`)).toBe(staged);

    // each version is its own release of the same lifecycle image: the same layers
    const digests = [first, second, third].map((r, i) => publishedDigest(r.stdout, `${image}:1.0.${i}`));
    expect(new Set(digests).size).toBe(3);
    const layers = await Promise.all(digests.map(async (d) => (await configOf(`${image}@${d}`)).rootfs));
    expect(layers[1]).toEqual(layers[0]);
    expect(layers[2]).toEqual(layers[0]);

    // --clear-cache: the cache is not restored (the same image all the same), but it is written: the next build
    // finds the stamp the cleared build wrote (1), not the one before it (3)
    const cleared = await build("v1.0.3", ["--clear-cache"]);
    expect(cleared.code, cleared.stderr.slice(-3000)).toBe(0);
    expect(cleared.stderr).toContain("---> cache: no stamp layer yet");
    expect(await digestOf(`${image}:${STAGING_TAG}`)).toBe(staged);
    const after = await build("v1.0.4");
    expect(after.code, after.stderr.slice(-3000)).toBe(0);
    expect(after.stderr).toContain("---> cache: reusing the stamp layer (builds before this one: 1)");
  });
});

describe("--creation-time on the real engine", () => {
  it("default: 1980-01-01T00:00:01Z in the config and the label; now: the build's time in both, and another image", async () => {
    const lab = readLab();
    const revision = unique("engine-created");
    const [byDefault, now] = [appsRepository("created-default"), appsRepository("created-now")];
    const before = Math.floor(Date.now() / 1000);
    const digests = await withEngine(async () => {
      const source = dag.host().directory(lab.fixtures.static);
      const a = await result({ tag: "v1.0.0", source, image: byDefault, revision, creationTime: "default", ...loginArgs() });
      const b = await result({ tag: "v1.0.0", source, image: now, revision, creationTime: "now", ...loginArgs() });
      return [a.digest, b.digest];
    });
    const after = Math.ceil(Date.now() / 1000);

    const plain = await configOf(`${byDefault}@${digests[0]}`);
    expect(plain.created).toBe(LIFECYCLE_DEFAULT_TIME);
    expect(plain.config.Labels!["org.opencontainers.image.created"]).toBe(LIFECYCLE_DEFAULT_TIME);

    const dated = await configOf(`${now}@${digests[1]}`);
    const created = Date.parse(dated.created) / 1000;
    expect(created).toBeGreaterThanOrEqual(before);
    expect(created).toBeLessThanOrEqual(after);
    expect(dated.config.Labels!["org.opencontainers.image.created"]).toBe(dated.created);
    // the lifecycle's image itself is another one (its config holds the time)
    expect(await digestOf(`${now}:${STAGING_TAG}`)).not.toBe(await digestOf(`${byDefault}:${STAGING_TAG}`));
    expect(dated.rootfs).toEqual(plain.rootfs);
  });
});
