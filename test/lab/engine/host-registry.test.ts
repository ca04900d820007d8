/**
 * `--image localhost:<port>/app` (issue 11, item 5): a registry on the user's own machine, reached from the engine
 * through a Dagger tunnel to the client's localhost (dag.host().service), the references reported under the name
 * the user gave. The test process runs outside the lab, so the client runs where the registry is: a plain
 * docker-registry listens on 127.0.0.1:<free port> of the lab's network namespace, and `packline build` (and the
 * Packline object, host-client.ts) run there too (nsenter -n), as a laptop's CLI and registry share one localhost.
 * From a module (`dagger call`) no tunnel can be made (a module's API has no host): refused at once, naming the fix.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, openSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STAGING_TAG } from "../../../src/core/plan/planner.js";
import { readLab } from "../lab.js";
import { engine, engineEnv, IMAGES_REGISTRY, moduleCopy, REPO_ROOT, removeDir } from "./engine.js";
import { digestOf, inLabNet, publishedDigest, tagsOf } from "./packline-lab.js";

const FIXTURE_TEXT = "packline-e2e-fixture-ok";

describe("--image localhost:<port>: a registry on the client's own machine", () => {
  let registry: ChildProcess | undefined;
  let port = 0;
  let dir = "";
  let mod = "";

  beforeAll(async () => {
    const lab = readLab();
    dir = mkdtempSync(join(tmpdir(), "packline-host-registry-"));
    // a free port of the lab's loopback: try a few, the registry exits at once when the port is taken
    for (let attempt = 0; attempt < 5 && !registry; attempt++) {
      port = 20000 + Math.floor(Math.random() * 30000);
      const config = join(dir, `config-${port}.yml`);
      writeFileSync(
        config,
        `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`,
      );
      const log = openSync(join(dir, `registry-${port}.log`), "a");
      const child = spawn("nsenter", ["-t", String(lab.pid), "-n", "/usr/bin/docker-registry", "serve", config], { stdio: ["ignore", log, log] });
      for (let i = 0; i < 50 && child.exitCode === null; i++) {
        if ((await inLabNet(lab.tools.crane, ["catalog", "--insecure", `127.0.0.1:${port}`], { timeoutMs: 5_000 })).code === 0) {
          registry = child;
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      if (!registry) child.kill();
    }
    if (!registry) throw new Error(`no docker-registry could listen on 127.0.0.1 of the lab (logs in ${dir})`);
    if (!engine().modules) throw new Error("the engine has no built-in SDK content: `dagger call` cannot load packline");
    mod = await moduleCopy();
  });
  afterAll(() => {
    registry?.kill();
    if (mod) removeDir(mod);
    if (dir) removeDir(dir);
  });

  it("packline build publishes through the tunnel; the references carry the user's name", async () => {
    const lab = readLab();
    const image = `localhost:${port}/cli/app`;
    const r = await inLabNet(
      process.execPath,
      [
        join(REPO_ROOT, "bin", "packline.js"),
        "build",
        "--tag",
        "v1.0.0",
        "--source",
        lab.fixtures.static,
        "--image",
        image,
        "--builder",
        lab.images.builder.ref,
        "--insecure-registry",
        IMAGES_REGISTRY,
      ],
      { env: engineEnv(), cwd: REPO_ROOT },
    );
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
