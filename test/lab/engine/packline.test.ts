/**
 * packline on the lab's real Dagger engine (issues 8 and 11), driving the real module code: the `Packline` object's
 * `result` through the SDK's `connection()` (withEngine: what `dagger call result` runs, without loading the module),
 * `packline build` as a process, and `dagger call` on a copy of this repository where it adds something.
 *
 * The lab's test builder (busybox, the real lifecycle) builds the e2e fixture app. Its run image and packline's
 * helper images come from the images registry 10.123.0.1:5001, which the engine's engine.json knows as plain HTTP;
 * the apps registry 10.123.0.1:5000 (htpasswd, plain HTTP) it does not know: packline is told with
 * --insecure-registry, as a user would, and must cope itself (issue 11, item 2).
 */
import { mkdtempSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dag } from "@dagger.io/dagger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PacklineError } from "../../../src/core/errors.js";
import { STAGING_TAG } from "../../../src/core/plan/planner.js";
import { BUILD_INPUTS_LABEL } from "../../../src/core/plan/scripts.js";
import { labSh, readLab, registryPassword } from "../lab.js";
import {
  APPS_REGISTRY,
  engine,
  engineEnv,
  engineLog,
  moduleCopy,
  REPO_ROOT,
  removeDir,
  run,
  runDagger,
  runPackline,
  tempCopy,
  withEngine,
} from "./engine.js";
import {
  ANSI,
  appsRepository,
  configOf,
  digestOf,
  engineRegistryCrane,
  labFlags,
  loginArgs,
  loginFlags,
  publishedDigest,
  result,
  tagsOf,
  unique,
} from "./packline-lab.js";

const FIXTURE_TEXT = "packline-e2e-fixture-ok";
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** What a failed `packline build` printed last: from the last line that starts with "packline: " to the end. */
function finalMessage(stderr: string): string {
  const at = stderr.lastIndexOf("\npackline: ");
  return at < 0 ? "" : stderr.slice(at + 1);
}

/** A failed run's error (a PacklineError from the module's code, rethrown unwrapped by withEngine). */
async function failure(go: () => Promise<unknown>): Promise<Error> {
  return withEngine(go).then(
    () => new Error("expected the build to fail"),
    (e: unknown) => e as Error,
  );
}

describe("packline on the real engine: the registry inside the engine (no --image)", () => {
  it("publishes every promised tag at the release's digest; the result's container is the image, and it serves the app", async () => {
    const lab = readLab();
    const revision = unique("engine-default");
    const out = await withEngine(async () => {
      const source = dag.host().directory(lab.fixtures.static);
      const r = await result({ tag: "v1.2.3", source, revision, floatingTags: true, latest: true });
      const tags: Record<string, string> = {};
      for (const tag of ["1.2.3", "1.2", "1", "latest", STAGING_TAG]) {
        tags[tag] = await engineRegistryCrane(["digest", "--insecure", `registry:5000/app:${tag}`]);
      }
      const [released, staged] = await Promise.all(
        [r.digest, tags[STAGING_TAG]!].map(async (d) => JSON.parse(await engineRegistryCrane(["config", "--insecure", `registry:5000/app@${d}`]))),
      );
      // the published image, run as a service of the engine: the test buildpack's web process (busybox httpd, 8080)
      const app = r.container.withExposedPort(8080).asService({ useEntrypoint: true });
      const page = await dag
        .container()
        .from("busybox")
        .withServiceBinding("app", app)
        .withEnvVariable("PACKLINE_TEST_RUN", unique("run"))
        .withExec(["wget", "-q", "-O", "-", "http://app:8080/index.html"])
        .stdout();
      return { digest: r.digest, references: r.references, revision: r.revision, summary: r.summary, tags, released, staged, page };
    });
    expect(out.digest).toMatch(DIGEST);
    expect(out.revision).toBe(revision);
    expect(out.references).toEqual(["1.2.3", "1.2", "1", "latest"].map((t) => `registry:5000/app:${t}@${out.digest}`));
    for (const tag of ["1.2.3", "1.2", "1", "latest"]) expect(out.tags[tag], tag).toBe(out.digest);
    // the release labels the lifecycle's image (the staging tag): same layers, the labels added
    expect(out.tags[STAGING_TAG]).toMatch(DIGEST);
    expect(out.tags[STAGING_TAG]).not.toBe(out.digest);
    expect(out.released.rootfs).toEqual(out.staged.rootfs);
    expect(out.released.config.Labels).toMatchObject({ "org.opencontainers.image.version": "1.2.3", "org.opencontainers.image.revision": revision });
    expect(out.summary).toMatch(/^published:\n {2}registry:5000\/app:1\.2\.3@sha256:/);
    expect(out.page).toContain(FIXTURE_TEXT);
    expect(out.page).toBe(readFileSync(join(lab.fixtures.static, "index.html"), "utf8"));
  });

  it("packline build (a process) publishes there and prints the summary", async () => {
    const lab = readLab();
    const revision = unique("engine-cli");
    const r = await runPackline(["build", "--tag", "v1.0.0", "--source", lab.fixtures.static, "--revision", revision, ...labFlags()]);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(r.stdout).toMatch(/^published:\n {2}registry:5000\/app:1\.0\.0@sha256:[0-9a-f]{64}\nrevision /);
    const digest = publishedDigest(r.stdout, "registry:5000/app:1.0.0")!;
    const there = await withEngine(() => engineRegistryCrane(["digest", "--insecure", "registry:5000/app:1.0.0"]));
    expect(there).toBe(digest);
  });
});

describe("packline build on the user's own Dagger: the lab's real dagger on PATH, no SDK-specific variable", () => {
  it("runs that dagger (its version checked), downloads nothing, and publishes", async () => {
    const lab = readLab();
    const revision = unique("engine-path-cli");
    // The lab's CLI under the name a user has it, alone in a directory on PATH; no cached SDK download (a fresh
    // cache directory); no _EXPERIMENTAL_DAGGER_CLI_BIN and no DAGGER_SESSION_*. _EXPERIMENTAL_DAGGER_RUNNER_HOST
    // stays: it is the CLI's own setting, how it finds the lab's engine.
    const bin = mkdtempSync(join(tmpdir(), "packline-path-dagger-"));
    const cache = mkdtempSync(join(tmpdir(), "packline-path-cache-"));
    symlinkSync(engine().cliBin, join(bin, "dagger"));
    try {
      const env = engineEnv();
      delete env._EXPERIMENTAL_DAGGER_CLI_BIN;
      const r = await run(
        process.execPath,
        [join(REPO_ROOT, "bin", "packline.js"), "build", "--tag", "v1.0.0", "--source", lab.fixtures.static, "--revision", revision, ...labFlags()],
        {
          cwd: REPO_ROOT,
          env: { ...env, PATH: `${bin}:${env.PATH ?? ""}`, XDG_CACHE_HOME: cache },
        },
      );
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      expect(r.stdout).toMatch(/^published:\n {2}registry:5000\/app:1\.0\.0@sha256:[0-9a-f]{64}\nrevision /);
      expect(r.stderr).not.toContain("Downloading CLI");
      expect(r.stderr).not.toContain("note: no Dagger CLI");
      expect(readdirSync(cache)).toEqual([]);
    } finally {
      removeDir(bin);
      removeDir(cache);
    }
  });
});

describe("packline on the real engine: dagger call on this module", () => {
  let mod = "";
  let fixture = "";

  beforeAll(async () => {
    if (!engine().modules) throw new Error("the engine has no built-in SDK content: `dagger call` cannot load packline");
    mod = await moduleCopy();
    // the fixture as a user's repository: its own git root, the module given with -m
    fixture = tempCopy(readLab().fixtures.static);
    const g = await run(
      "sh",
      ["-c", "chmod 755 . && git init -q && git add -A && git -c user.name=lab -c user.email=lab@packline.invalid commit -qm app"],
      {
        cwd: fixture,
      },
    );
    expect(g.code, g.stderr).toBe(0);
  });
  afterAll(() => {
    if (mod) removeDir(mod);
    if (fixture) removeDir(fixture);
  });

  it("shared settings through the constructor: dagger call <settings> build --tag prints what README promises; result chains references and container, a registry lookup only", async () => {
    const revision = unique("engine-dagger-call");
    // The settings go to the Packline constructor (before the function); build and result take only the tag.
    const settings = ["--source", ".", "--revision", revision, "--env", "GREETING=hello world", ...labFlags()];
    const built = await runDagger(["-m", mod, "call", ...settings, "build", "--tag", "v1.0.0"], { cwd: fixture });
    expect(built.code, built.stderr.slice(-3000)).toBe(0);
    expect(built.stdout).toMatch(/^published:$/m);
    const digest = publishedDigest(built.stdout, "registry:5000/app:1.0.0");
    expect(digest, built.stdout).toBeDefined();
    expect(built.stdout).toMatch(/^use it:$/m);
    // The chained commands it prints repeat the settings before result, as typed (the directory by a placeholder).
    const [, builder, , imagesRegistry, , appsRegistry] = labFlags();
    expect(built.stdout).toContain(
      `dagger call --source <dir> --builder ${builder} --env 'GREETING=hello world' --revision ${revision} --insecure-registry ${imagesRegistry} --insecure-registry ${appsRegistry} result --tag v1.0.0 container up`,
    );
    // result after build: the version is already published from this revision, so nothing is built (only the
    // check step's registry lookup ran) and the digest is the same
    const summary = await runDagger(["-m", mod, "call", ...settings, "result", "--tag", "v1.0.0", "summary"], { cwd: fixture });
    expect(summary.code, summary.stderr.slice(-3000)).toBe(0);
    expect(summary.stdout).toMatch(new RegExp(`^already published from revision ${revision} \\(nothing was built\\):$`, "m"));
    expect(publishedDigest(summary.stdout, "registry:5000/app:1.0.0")).toBe(digest);
    const refs = await runDagger(["-m", mod, "call", ...settings, "result", "--tag", "v1.0.0", "references"], { cwd: fixture });
    expect(refs.code, refs.stderr.slice(-3000)).toBe(0);
    expect(publishedDigest(refs.stdout, "registry:5000/app:1.0.0")).toBe(digest);
    // the published image back as a Container (copied out of the in-engine registry, import_): the app is in it,
    // and the checkout's .git is not (the module's --source leaves it out, and the runner drops it)
    const app = await runDagger(
      ["-m", mod, "call", ...settings, "result", "--tag", "v1.0.0", "container", "with-exec", "--args", "ls,-A,/workspace", "stdout"],
      { cwd: fixture },
    );
    expect(app.code, app.stderr.slice(-3000)).toBe(0);
    expect(app.stdout.trim().split("\n")).toEqual(["index.html"]);
  });
});

describe("packline on the real engine: --image on a registry with a password (the lab's apps registry)", () => {
  it("publishes; the image pulled back by digest carries version, revision, created and build-inputs; result.container works", async () => {
    const lab = readLab();
    const image = appsRepository("image");
    const revision = unique("engine-image");
    const out = await withEngine(async () => {
      const r = await result({ tag: "v1.0.0", source: dag.host().directory(lab.fixtures.static), image, revision, ...loginArgs() });
      // the engine does not know the apps registry speaks plain HTTP: the runner copies the image out with crane
      const listing = await r.container.withExec(["sh", "-c", "ls -A /workspace; cat /workspace/index.html"]).stdout();
      return { digest: r.digest, references: r.references, listing };
    });
    expect(out.references).toEqual([`${image}:1.0.0@${out.digest}`]);
    expect(await digestOf(`${image}:1.0.0`)).toBe(out.digest);
    expect(await digestOf(`${image}@${out.digest}`)).toBe(out.digest);
    const config = await configOf(`${image}@${out.digest}`);
    expect(config.created).toBe("1980-01-01T00:00:01Z");
    expect(config.config.Labels).toMatchObject({
      "org.opencontainers.image.version": "1.0.0",
      "org.opencontainers.image.revision": revision,
      "org.opencontainers.image.created": "1980-01-01T00:00:01Z",
    });
    expect(config.config.Labels![BUILD_INPUTS_LABEL]).toMatch(DIGEST);
    expect(config.config.Labels!["org.opencontainers.image.source"]).toBeUndefined();
    expect(out.listing).toBe(`index.html\n${readFileSync(join(lab.fixtures.static, "index.html"), "utf8")}`);
    expect(await tagsOf(image)).toEqual(["1.0.0", "packline-claim-1.0.0", STAGING_TAG]); // and the version's claim (README, "Two builds")
  });

  it("packline build: the password appears in no output and not in the engine's own log", async () => {
    const password = registryPassword();
    const image = appsRepository("secret");
    const login = loginFlags(password);
    const r = await runPackline(
      ["build", "--tag", "v1.0.0", "--source", readLab().fixtures.static, "--image", image, ...login.flags, ...labFlags()],
      {
        env: login.env,
      },
    );
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const digest = publishedDigest(r.stdout, `${image}:1.0.0`);
    expect(digest, r.stdout).toMatch(DIGEST);
    expect(await digestOf(`${image}:1.0.0`)).toBe(digest);
    expect(r.stdout).toContain(`pull it: docker pull ${image}:1.0.0@${digest}`);
    for (const text of [r.stdout, r.stderr, engineLog()]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(Buffer.from(`packline:${password}`).toString("base64"));
    }
    if (engine().mode === "started") expect(engineLog()).toMatch(/starting dagger engine version/);
  });

  it("a wrong password: one message naming the registry and the cause, nothing published, exit 1 from packline build", async () => {
    const lab = readLab();
    const wrong = unique("not-the-password");
    const image = appsRepository("wrong-password");
    const error = await failure(() => result({ tag: "v1.0.0", source: dag.host().directory(lab.fixtures.static), image, ...loginArgs(wrong) }));
    expect(error).toBeInstanceOf(PacklineError);
    expect(error.message).toBe(
      `registry ${APPS_REGISTRY} refused the credentials for ${image}: check the registry user and password (or the registry secret), and that the account may push there.`,
    );

    const login = loginFlags(wrong);
    const r = await runPackline(["build", "--tag", "v1.0.0", "--source", lab.fixtures.static, "--image", image, ...login.flags, ...labFlags()], {
      env: login.env,
    });
    expect([r.code, r.stdout]).toEqual([1, ""]);
    // packline's own message, last, and not the SDK's wrapping of it (issue 11, item 3)
    expect(finalMessage(r.stderr)).toBe(`packline: ${error.message}\n`);
    expect(r.stderr).not.toMatch(/automatic provisioning|PacklineError|\n {4}at /);
    for (const text of [error.message, r.stdout, r.stderr, engineLog()]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(registryPassword());
    }
    expect(await tagsOf(image)).toEqual([]);
  });

  it("a stopped registry: one message naming the registry and the cause, nothing published, exit 1 from packline build", async () => {
    const lab = readLab();
    const image = appsRepository("stopped");
    labSh(["stop", "registry-apps"]);
    let error: Error;
    let cli: Awaited<ReturnType<typeof runPackline>>;
    try {
      error = await failure(() => result({ tag: "v1.0.0", source: dag.host().directory(lab.fixtures.static), image, ...loginArgs() }));
      const login = loginFlags();
      cli = await runPackline(["build", "--tag", "v1.0.0", "--source", lab.fixtures.static, "--image", image, ...login.flags, ...labFlags()], {
        env: login.env,
      });
    } finally {
      labSh(["start", "registry-apps"]);
    }
    expect(error).toBeInstanceOf(PacklineError);
    expect(error.message).toMatch(
      new RegExp(
        `^could not look up ${image.replace(/\./g, "\\.")}:1\\.0\\.0 in registry ${APPS_REGISTRY.replace(/\./g, "\\.")} \\(a retry may help\\):\n.*connection refused`,
      ),
    );
    expect([cli.code, cli.stdout]).toEqual([1, ""]);
    const message = finalMessage(cli.stderr);
    expect(message).toBe(`packline: ${error.message}\n`);
    expect(message).not.toMatch(ANSI);
    expect(await tagsOf(image)).toEqual([]);
  });

  it("a run image that does not exist: the check refuses it by name (not the credentials) before anything is built", async () => {
    const lab = readLab();
    const image = appsRepository("no-run-image");
    const runImage = `${lab.registries.images.address}/e2e/${unique("no-such-run")}:busybox`;
    const login = loginFlags();
    const r = await runPackline(
      ["build", "--tag", "v1.0.0", "--source", lab.fixtures.static, "--image", image, "--run-image", runImage, ...login.flags, ...labFlags()],
      { env: login.env },
    );
    expect([r.code, r.stdout]).toEqual([1, ""]);
    const message = finalMessage(r.stderr);
    // the check pins the run image first (pin.ts): nothing is built, claimed or tagged
    expect(message).toBe(`packline: --run-image ${runImage} is not in its registry: check its name and tag.\n`);
    expect(message).not.toMatch(/--registry-username|--registry-password/);
    expect(await tagsOf(image)).toEqual([]);
  });
});

describe("packline on the real engine: the release check", () => {
  it("refuses the same version from another revision; the same revision and options is already published; --allow-overwrite replaces", async () => {
    const lab = readLab();
    const image = appsRepository("release");
    const [first, second] = [unique("revision-a"), unique("revision-b")];
    const source = () => dag.host().directory(lab.fixtures.static);
    const published = await withEngine(() => result({ tag: "v1.0.0", source: source(), image, revision: first, ...loginArgs() }));
    expect(published.digest).toMatch(DIGEST);

    const refused = await failure(() => result({ tag: "v1.0.0", source: source(), image, revision: second, ...loginArgs() }));
    expect(refused).toBeInstanceOf(PacklineError);
    expect(refused.message).toBe(
      `${image}:1.0.0 is already published (${published.digest}, revision ${first}) and this build is from revision ${second}: a released version is never overwritten; publish a new version, or pass --allow-overwrite.`,
    );
    expect(await digestOf(`${image}:1.0.0`)).toBe(published.digest);

    // the same revision and options again: nothing is built, the existing digest is the result
    const again = await withEngine(async () => {
      const r = await result({ tag: "v1.0.0", source: source(), image, revision: first, ...loginArgs() });
      return { digest: r.digest, summary: r.summary, sbom: await r.sbom.entries() };
    });
    expect(again.digest).toBe(published.digest);
    expect(again.summary).toMatch(new RegExp(`^already published from revision ${first} \\(nothing was built\\):\n`));
    expect(again.sbom).toEqual([]);
    const login = loginFlags();
    const cli = await runPackline(
      ["build", "--tag", "v1.0.0", "--source", lab.fixtures.static, "--image", image, "--revision", first, ...login.flags, ...labFlags()],
      { env: login.env },
    );
    expect(cli.code, cli.stderr.slice(-2000)).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`^already published from revision ${first} \\(nothing was built\\):\n {2}.*@${published.digest}$`, "m"));
    expect(cli.stderr).not.toContain("/cnb/lifecycle/creator");

    const replaced = await withEngine(() =>
      result({ tag: "v1.0.0", source: source(), image, revision: second, allowOverwrite: true, ...loginArgs() }),
    );
    expect(replaced.digest).not.toBe(published.digest);
    expect(await digestOf(`${image}:1.0.0`)).toBe(replaced.digest);
    expect((await configOf(`${image}:1.0.0`)).config.Labels!["org.opencontainers.image.revision"]).toBe(second);
  });
});
