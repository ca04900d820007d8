/**
 * `packline rebase` on the lab's real Dagger engine (README, "Rebase"): a version built there by `packline build` on
 * a run image of the lab (named in the run.toml of a builder made from the lab's), then rebased by `packline rebase`
 * onto a patched run image (one OS file changed, pushed at test setup with crane): the version tag moves to an image
 * whose app layers are the version's, on the new run image's layers, with the creation time, the labels and
 * rebased-from right; a second rebase changes nothing; a bad version is refused before the engine starts; and the same
 * rebase run as the plan's steps in the lab's Docker (the e2e executor, what a cluster's pod runs) gives the same digest.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REBASE_LABELS } from "../../../src/core/plan/rebase-scripts.js";
import { docker } from "../../e2e/harness.js";
import { rebasePlanFor, runRebase } from "../../e2e/rebase.js";
import { readLab } from "../lab.js";
import { APPS_REGISTRY, IMAGES_REGISTRY, type Ran, REPO_ROOT, removeDir, run, runPackline } from "./engine.js";
import { appsRepository, configOf, digestOf, inLabNet, labCrane, loginFlags, unique } from "./packline-lab.js";

const CREATED = "2026-01-01T00:00:00Z";
const DIGEST = /sha256:[0-9a-f]{64}/;

/** `image` = `base` plus one layer holding `path` = `content` (crane append, as the e2e suite's rebase.ts does). */
async function pushWithFile(base: string, image: string, path: string, content: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "packline-engine-rebase-"));
  try {
    const file = join(dir, "root", path);
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, content);
    const top = path.split("/").filter(Boolean)[0]!;
    const tar = await run("tar", [
      "--numeric-owner",
      "--owner=0",
      "--group=0",
      "--mtime=@315532801",
      "-C",
      join(dir, "root"),
      "-cf",
      join(dir, "layer.tar"),
      top,
    ]);
    expect(tar.code, tar.stderr).toBe(0);
    const appended = await labCrane(["append", "--insecure", "-b", base, "-f", join(dir, "layer.tar"), "-t", image]);
    expect(appended.code, appended.stderr).toBe(0);
    return (await digestOf(image))!;
  } finally {
    removeDir(dir);
  }
}

describe("packline rebase on the real engine", () => {
  const lab = readLab();
  const image = appsRepository("rebase");
  const runImage = `${APPS_REGISTRY}/${unique("engine-rebase-run")}:stack`;
  // In the images registry: the engine itself pulls the builder, and knows only that one as plain HTTP.
  const builder = `${IMAGES_REGISTRY}/${unique("engine-rebase-builder")}:1`;
  const flags = ["--builder", builder, "--insecure-registry", IMAGES_REGISTRY, "--insecure-registry", APPS_REGISTRY];
  const login = loginFlags();
  let built: string;
  let runV2: string;
  let first: Ran;

  beforeAll(async () => {
    await pushWithFile(lab.images.run.ref, runImage, "/etc/packline-os-patch", "v1\n");
    await pushWithFile(lab.images.builder.ref, builder, "/cnb/run.toml", `[[images]]\n  image = ${JSON.stringify(runImage)}\n`);
    // and its io.buildpacks.builder.metadata names it too, as pack writes a builder's: what packline's check reads to
    // pin the builder's run image (pin.ts)
    const config = await labCrane(["config", "--insecure", builder]);
    expect(config.code, config.stderr).toBe(0);
    const labels = (JSON.parse(config.stdout) as { config: { Labels: Record<string, string> } }).config.Labels;
    const metadata = {
      ...JSON.parse(labels["io.buildpacks.builder.metadata"]!),
      images: [{ image: runImage }],
      stack: { runImage: { image: runImage } },
    };
    const named = await labCrane([
      "mutate",
      "--insecure",
      builder,
      "--label",
      `io.buildpacks.builder.metadata=${JSON.stringify(metadata)}`,
      "-t",
      builder,
    ]);
    expect(named.code, named.stderr).toBe(0);
    const build = await runPackline(
      [
        "build",
        "--tag",
        "v1.0.0",
        "--source",
        lab.fixtures.static,
        "--revision",
        unique("r"),
        "--image",
        image,
        "--creation-time",
        "1767225600",
        ...flags,
        ...login.flags,
      ],
      { env: login.env },
    );
    expect(build.code, build.stderr.slice(-3000)).toBe(0);
    built = (await digestOf(`${image}:1.0.0`))!;
    runV2 = await pushWithFile(lab.images.run.ref, runImage, "/etc/packline-os-patch", "v2\n");
    first = await runPackline(["rebase", "--tag", "v1.0.0", "--image", image, ...flags, ...login.flags], { env: login.env });
  });

  it("moves 1.0.0 to the rebased image and prints it pinned", async () => {
    expect(first.code, first.stderr.slice(-3000)).toBe(0);
    const moved = (await digestOf(`${image}:1.0.0`))!;
    expect(moved).not.toBe(built);
    expect(first.stdout).toBe(`rebased 1.0.0 (from ${built}):\n  ${image}:1.0.0@${moved}\n`);
  });

  it("keeps the app layers and the config, stands on run image v2, keeps the creation time, records rebased-from", async () => {
    const before = await configOf(`${image}@${built}`);
    const after = await configOf(`${image}:1.0.0`);
    const run = await configOf(`${runImage.slice(0, runImage.lastIndexOf(":"))}@${runV2}`);
    const base = run.rootfs.diff_ids.length;
    expect(after.rootfs.diff_ids.slice(0, base)).toEqual(run.rootfs.diff_ids);
    expect(after.rootfs.diff_ids.slice(base)).toEqual(before.rootfs.diff_ids.slice(base));
    expect(after.rootfs.diff_ids.at(base - 1)).not.toBe(before.rootfs.diff_ids.at(base - 1));
    expect(after.created).toBe(CREATED);
    expect(after.config.Entrypoint).toEqual(before.config.Entrypoint);
    for (const label of ["org.opencontainers.image.version", "org.opencontainers.image.revision", "io.packline.build-inputs"]) {
      expect(after.config.Labels?.[label], label).toBe(before.config.Labels?.[label]);
    }
    expect(after.config.Labels?.[REBASE_LABELS.from]).toBe(built);
    expect(after.config.Labels?.[REBASE_LABELS.runImage]).toMatch(DIGEST);
  });

  it("a second rebase changes nothing and says so", async () => {
    const now = await digestOf(`${image}:1.0.0`);
    const again = await runPackline(["rebase", "--tag", "1.0.0", "--image", image, ...flags, ...login.flags], { env: login.env });
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    expect(again.stdout).toBe(`1.0.0 already stands on its run image's newest image: nothing changed.\n  ${image}:1.0.0@${now}\n`);
    expect(await digestOf(`${image}:1.0.0`)).toBe(now);
  });

  it("a version that is not published is refused with packline's message; a bad version before the engine starts", async () => {
    const missing = await runPackline(["rebase", "--tag", "1.0.9", "--image", image, ...flags, ...login.flags], { env: login.env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`packline: ${image}:1.0.9 is not published`);
    const bad = await runPackline(["rebase", "--tag", "1.0", "--image", image]);
    expect([bad.code, bad.stderr]).toEqual([
      1,
      `packline: --tag "1.0" is not a semantic version: give MAJOR.MINOR.PATCH, e.g. v1.2.3 or 1.2.3 (prereleases like 1.2.3-rc.1 are fine).\n`,
    ]);
  });

  it("the same rebase as the plan's steps in the lab's Docker (the e2e executor) gives the same image", async () => {
    // the e2e suite's preparation of the lab's dockerd, where it must run (as parity.test.ts does)
    const setup = await inLabNet("bash", [join(REPO_ROOT, "test", "e2e", "setup.sh")], { timeoutMs: 5 * 60_000 });
    expect(setup.code, setup.stderr).toBe(0);
    await docker(["pull", "-q", builder]);
    const onEngine = (await digestOf(`${image}:1.0.0`))!;
    // the version back as it was built, then the same rebase by the plan's steps in Docker
    const back = await labCrane(["tag", "--insecure", `${image}@${built}`, "1.0.0"]);
    expect(back.code, back.stderr).toBe(0);
    const inDocker = await runRebase(rebasePlanFor(image.slice(APPS_REGISTRY.length + 1), "1.0.0", { builder }));
    expect(inDocker.failed?.output).toBeUndefined();
    expect(inDocker.outcome).toBe("rebase");
    expect(inDocker.digest).toBe(onEngine);
    expect(await digestOf(`${image}:1.0.0`)).toBe(onEngine);
  });
});
