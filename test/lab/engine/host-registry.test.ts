/**
 * `--image localhost:<port>/app` (issue 11, item 5): a registry on the user's own machine, reached from the engine
 * through a Dagger tunnel to the client's localhost (dag.host().service), the references reported under the name
 * the user gave. The test process runs outside the lab, so the client runs where the registry is: a plain
 * docker-registry listens on 127.0.0.1:<free port> of the lab's network namespace, and `packline build` (and the
 * Packline object, host-client.ts) run there too (nsenter -n), as a laptop's CLI and registry share one localhost.
 * From a module (`dagger call`) no tunnel can be made (a module's API has no host): refused at once, naming the fix.
 * --run-image and --cache-image on this machine (issue 18, item 4) go through the same tunnel, spelt as a user may
 * spell localhost (LOCALHOST, 127.0.0.2): the built image sits on that registry's run image, the cache is written there.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, openSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STAGING_TAG } from "../../../src/core/plan/planner.js";
import { readLab } from "../lab.js";
import { engine, engineEnv, IMAGES_REGISTRY, moduleCopy, REPO_ROOT, removeDir, run } from "./engine.js";
import { appsRepository, configOf, digestOf, inLabNet, labFlags, loginFlags, publishedDigest, tagsOf, unique } from "./packline-lab.js";

const FIXTURE_TEXT = "packline-e2e-fixture-ok";

/** A plain docker-registry on `host` (a loopback address) of the lab's network namespace, at a free port. */
async function hostRegistry(dir: string, host: string): Promise<{ child: ChildProcess; port: number }> {
  const lab = readLab();
  // try a few ports: the registry exits at once when the port is taken
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    const config = join(dir, `config-${host}-${port}.yml`);
    writeFileSync(
      config,
      `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data-${host}\nhttp:\n  addr: ${host}:${port}\n`,
    );
    const log = openSync(join(dir, `registry-${host}-${port}.log`), "a");
    const child = spawn("nsenter", ["-t", String(lab.pid), "-n", "/usr/bin/docker-registry", "serve", config], { stdio: ["ignore", log, log] });
    for (let i = 0; i < 50 && child.exitCode === null; i++) {
      if ((await inLabNet(lab.tools.crane, ["catalog", "--insecure", `${host}:${port}`], { timeoutMs: 5_000 })).code === 0) return { child, port };
      await new Promise((r) => setTimeout(r, 200));
    }
    child.kill();
  }
  throw new Error(`no docker-registry could listen on ${host} of the lab (logs in ${dir})`);
}

describe("--image localhost:<port>: a registry on the client's own machine", () => {
  let registry: ChildProcess | undefined;
  let second: ChildProcess | undefined;
  let port = 0;
  let secondPort = 0;
  let dir = "";
  let mod = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "packline-host-registry-"));
    ({ child: registry, port } = await hostRegistry(dir, "127.0.0.1"));
    // a second one on another loopback address: a build names it 127.0.0.2, and the tunnel must go there, not to 127.0.0.1
    ({ child: second, port: secondPort } = await hostRegistry(dir, "127.0.0.2"));
    if (!engine().modules) throw new Error("the engine has no built-in SDK content: `dagger call` cannot load packline");
    mod = await moduleCopy();
  });
  afterAll(() => {
    registry?.kill();
    second?.kill();
    if (mod) removeDir(mod);
    if (dir) removeDir(dir);
  });

  it("packline build publishes through the tunnel; the references carry the user's name", async () => {
    const lab = readLab();
    const image = `localhost:${port}/cli/app`;
    const r = await inLabNet(process.execPath, buildArgs(image, ["--builder", lab.images.builder.ref, "--insecure-registry", IMAGES_REGISTRY]), {
      env: engineEnv(),
      cwd: REPO_ROOT,
    });
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const digest = publishedDigest(r.stdout, `${image}:1.0.0`);
    expect(digest, r.stdout).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.stdout).not.toContain("packline-host-registry");
    expect(await digestOf(`127.0.0.1:${port}/cli/app:1.0.0`)).toBe(digest);
    expect(await tagsOf(`127.0.0.1:${port}/cli/app`)).toEqual(["1.0.0", "packline-claim-1.0.0", STAGING_TAG]); // and the claim
  });

  it("the Packline object through the SDK: references under the user's name, and result.container is the image", async () => {
    const image = `localhost:${port}/sdk/app`;
    const r = await inLabNet(
      join(REPO_ROOT, "node_modules", ".bin", "tsx"),
      [join(REPO_ROOT, "test", "lab", "engine", "host-client.ts"), image, "v1.0.0"],
      {
        env: engineEnv(),
        cwd: REPO_ROOT,
      },
    );
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const line = r.stdout.split("\n").find((l) => l.startsWith("PACKLINE-RESULT "));
    expect(line, r.stdout).toBeDefined();
    const out = JSON.parse(line!.slice("PACKLINE-RESULT ".length)) as { digest: string; references: string[]; page: string };
    expect(out.references).toEqual([`${image}:1.0.0@${out.digest}`]);
    expect(out.page).toContain(FIXTURE_TEXT);
    expect(await digestOf(`127.0.0.1:${port}/sdk/app:1.0.0`)).toBe(out.digest);
  });

  /**
   * The lab's run image copied to a registry on this machine with one more layer (a marker file), so that the built
   * image's layers show which run image it was built on. Returns the marked run image's layers (diff ids).
   */
  async function markedRunImage(registryHost: string, registryPort: number, repository: string): Promise<string[]> {
    const lab = readLab();
    const base = `${registryHost}:${registryPort}/${repository}:base`;
    const marked = `${registryHost}:${registryPort}/${repository}:marked`;
    const copied = await inLabNet(lab.tools.crane, ["copy", "--insecure", lab.images.run.ref, base], { timeoutMs: 120_000 });
    expect(copied.code, copied.stderr).toBe(0);
    const layerDir = mkdtempSync(join(dir, "marker-"));
    writeFileSync(join(layerDir, "packline-run-image-marker"), `${unique("marker")}\n`);
    const tar = await run("tar", ["-C", layerDir, "-cf", join(layerDir, "layer.tar"), "packline-run-image-marker"]);
    expect(tar.code, tar.stderr).toBe(0);
    const appended = await inLabNet(lab.tools.crane, ["append", "--insecure", "-f", join(layerDir, "layer.tar"), "-b", base, "-t", marked], {
      timeoutMs: 120_000,
    });
    expect(appended.code, appended.stderr).toBe(0);
    const config = JSON.parse((await inLabNet(lab.tools.crane, ["config", "--insecure", marked])).stdout) as { rootfs: { diff_ids: string[] } };
    return config.rootfs.diff_ids;
  }

  /** packline build of the fixture into the apps registry, run where the registries on this machine are. */
  function buildWith(image: string, extra: string[]) {
    const login = loginFlags();
    return inLabNet(process.execPath, buildArgs(image, [...labFlags(), ...login.flags, ...extra]), {
      env: engineEnv({ ...process.env, ...login.env }),
      cwd: REPO_ROOT,
    });
  }

  /** The argv of `packline build` of the lab's static fixture as v1.0.0 to `image`, then `flags`. */
  function buildArgs(image: string, flags: readonly string[]): string[] {
    return [join(REPO_ROOT, "bin", "packline.js"), "build", "--tag", "v1.0.0", "--source", readLab().fixtures.static, "--image", image, ...flags];
  }

  it("packline build --run-image LOCALHOST:<port>/...: the image is built on that registry's run image, through the tunnel", async () => {
    const runLayers = await markedRunImage("127.0.0.1", port, "run/base");
    const image = appsRepository("host-run-image");
    const r = await buildWith(image, ["--run-image", `LOCALHOST:${port}/run/base:marked`]);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const digest = publishedDigest(r.stdout, `${image}:1.0.0`);
    expect(digest, r.stdout).toMatch(/^sha256:[0-9a-f]{64}$/);
    // the app image's bottom layers are the marked run image's, marker included: no other run image has that layer
    const built = await configOf(`${image}@${digest}`);
    expect(built.rootfs.diff_ids.slice(0, runLayers.length)).toEqual(runLayers);
  });

  it("packline build --run-image and --cache-image on 127.0.0.2:<port>: the tunnel goes to that address; the cache is written there", async () => {
    const runLayers = await markedRunImage("127.0.0.2", secondPort, "run/other");
    const image = appsRepository("host-cache-image");
    const r = await buildWith(image, [
      "--run-image",
      `127.0.0.2:${secondPort}/run/other:marked`,
      "--cache-image",
      `127.0.0.2:${secondPort}/cache/app:build`,
    ]);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const digest = publishedDigest(r.stdout, `${image}:1.0.0`);
    expect(digest, r.stdout).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await configOf(`${image}@${digest}`)).rootfs.diff_ids.slice(0, runLayers.length)).toEqual(runLayers);
    expect(await tagsOf(`127.0.0.2:${secondPort}/cache/app`)).toEqual(["build"]);
    // nothing reached the registry on 127.0.0.1
    expect(await tagsOf(`127.0.0.1:${port}/cache/app`)).toEqual([]);
  });

  it("dagger call --image localhost:<port>/... build is refused at once, naming packline build; nothing is published", async () => {
    const lab = readLab();
    const r = await inLabNet(
      engine().cliBin,
      [
        "--progress=plain",
        "-m",
        mod,
        "call",
        "--source",
        lab.fixtures.static,
        "--image",
        `localhost:${port}/call/app`,
        "--builder",
        lab.images.builder.ref,
        "--insecure-registry",
        IMAGES_REGISTRY,
        "build",
        "--tag",
        "v1.0.0",
      ],
      { env: engineEnv(), cwd: lab.fixtures.static },
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`--image "localhost:${port}/call/app" is on localhost, which a Dagger module (dagger call) cannot reach`);
    expect(r.stderr).toContain("npx packline build");
    expect(await tagsOf(`127.0.0.1:${port}/call/app`)).toEqual([]);
  });
});
