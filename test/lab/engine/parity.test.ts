/**
 * Local equals cluster, on the real engine: the same source, builder and options give the same image whether the
 * plan runs on the Dagger engine (the Packline object through the SDK, `packline build`, `dagger call build`) or as
 * the e2e suite runs the plan's steps and the Argo build pod in the lab's Docker daemon (test/e2e/packline.ts), which
 * is what a cluster runs. Every executor reads the run image at the same address (10.123.0.1:5001/e2e/run:busybox),
 * so the lifecycle's image (report.toml's digest, pushed to the staging tag) must be equal; the released images are
 * equal too when their labels are (the same version, revision and options: --revision for a directory).
 *
 * Also the cause of an old note ("packline build --source test/e2e/fixture-app and dagger call build --source . in a
 * git copy of the same app gave different digests"): dagger call's --source uploaded the checkout's .git (and would
 * have uploaded node_modules, .dagger and sdk), which packline build leaves out. The runner now drops .git from any
 * local source and the module's --source leaves out what packline build does; the root folder's mode does not
 * matter on the engine (an uploaded directory's root is 0755 whatever it is on the host).
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dag } from "@dagger.io/dagger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STAGING_TAG } from "../../../src/core/plan/planner.js";
import { exportFor, GREETING, planFor, registryAuthSecret, runArgoBuildPod, runPlan } from "../../e2e/packline.js";
import { readLab } from "../lab.js";
import { APPS_REGISTRY, engine, moduleCopy, REPO_ROOT, removeDir, run, runDagger, runPackline, tempCopy, withEngine } from "./engine.js";
import { appsRepository, digestOf, inLabNet, labFlags, loginArgs, loginFlags, publishedDigest, result, unique } from "./packline-lab.js";

/** The options test/e2e/packline.ts's planFor and exportFor give every plan, as module arguments and as flags. */
const E2E_TAG = "v1.2.3";
const e2eArgs = { floatingTags: true, latest: true, env: [`GREETING=${GREETING}`] };
const e2eFlags = ["--floating-tags", "--latest", "--env", `GREETING=${GREETING}`];

/** A copy of a directory as a user's git checkout: the same files, a .git, the root 0755 (as git makes it). */
async function gitCheckout(from: string, extra: (dir: string) => void = () => {}): Promise<string> {
  const dir = tempCopy(from);
  chmodSync(dir, 0o755);
  extra(dir);
  const g = await run("sh", ["-c", "git init -q && git add -A && git -c user.name=lab -c user.email=lab@packline.invalid commit -qm app"], {
    cwd: dir,
  });
  if (g.code !== 0) throw new Error(`git init in ${dir}: ${g.stderr}`);
  return dir;
}

describe("local equals cluster on the real engine", () => {
  let mod = "";
  const dirs: string[] = [];

  beforeAll(async () => {
    if (!engine().modules) throw new Error("the engine has no built-in SDK content: `dagger call` cannot load packline");
    // the e2e suite's own preparation of the lab's dockerd (docker-up, the builder and run image pulled, packline's
    // helper images tagged), run where it must run: in the lab's network namespace
    const setup = await inLabNet("bash", [join(REPO_ROOT, "test", "e2e", "setup.sh")], { timeoutMs: 5 * 60_000 });
    if (setup.code !== 0) throw new Error(`test/e2e/setup.sh failed:\n${setup.stdout}${setup.stderr}`);
    mod = await moduleCopy();
  });
  afterAll(() => {
    if (mod) removeDir(mod);
    for (const dir of dirs) removeDir(dir);
  });

  it("--source: the e2e plan step, the Packline object, packline build and dagger call build give one image", async () => {
    const lab = readLab();
    const revision = unique("engine-parity");
    const checkout = await gitCheckout(lab.fixtures.static);
    dirs.push(checkout);

    // the plan's steps in the lab's Docker, as a restricted pod runs them (test/e2e/packline.ts)
    const e2eRepository = `engine-parity-${revision}/e2e`;
    const e2e = await runPlan(planFor(e2eRepository, { revision }));
    expect(e2e.failed?.output).toBeUndefined();
    expect(e2e.build!.output).toContain(`---> build-time env GREETING=${GREETING}`);
    const staged = e2e.report!.digest;
    expect(await digestOf(`${APPS_REGISTRY}/${e2eRepository}:${STAGING_TAG}`)).toBe(staged);

    // the Packline object (what dagger call result runs), from the fixture directory itself
    const sdkImage = appsRepository("parity-sdk");
    const sdk = await withEngine(async () => {
      const r = await result({
        tag: E2E_TAG,
        source: dag.host().directory(lab.fixtures.static),
        image: sdkImage,
        revision,
        ...e2eArgs,
        ...loginArgs(),
      });
      return r.digest;
    });
    expect(await digestOf(`${sdkImage}:${STAGING_TAG}`)).toBe(staged);
    expect(sdk).toBe(e2e.digest);

    // packline build from the git checkout (its .git left out)
    const cliImage = appsRepository("parity-cli");
    const login = loginFlags();
    const cli = await runPackline(
      ["build", "--tag", E2E_TAG, "--source", checkout, "--image", cliImage, "--revision", revision, ...e2eFlags, ...login.flags, ...labFlags()],
      { env: login.env },
    );
    expect(cli.code, cli.stderr.slice(-3000)).toBe(0);
    expect(await digestOf(`${cliImage}:${STAGING_TAG}`)).toBe(staged);
    expect(publishedDigest(cli.stdout, `${cliImage}:1.2.3`)).toBe(e2e.digest);

    // dagger call --source . ... build in the checkout: the module, loaded by the engine, uploads the directory itself
    const callImage = appsRepository("parity-call");
    const call = await runDagger(
      [
        "-m",
        mod,
        "call",
        "--source",
        ".",
        "--image",
        callImage,
        "--revision",
        revision,
        ...e2eFlags,
        ...login.flags,
        ...labFlags(),
        "build",
        "--tag",
        E2E_TAG,
      ],
      { cwd: checkout, env: login.env },
    );
    expect(call.code, call.stderr.slice(-3000)).toBe(0);
    expect(await digestOf(`${callImage}:${STAGING_TAG}`)).toBe(staged);
    expect(publishedDigest(call.stdout, `${callImage}:1.2.3`)).toBe(e2e.digest);
  });

  it("--source: packline build and dagger call build upload the same files (revision), whatever the checkout holds", async () => {
    // what both leave out: .git, node_modules, .dagger and sdk (the revision of a directory is its content's digest)
    const checkout = await gitCheckout(readLab().fixtures.static, (dir) => {
      for (const sub of ["node_modules/left-out", "sdk", ".dagger", "assets"]) {
        mkdirSync(join(dir, sub), { recursive: true });
        writeFileSync(join(dir, sub, "file.txt"), `${sub}\n`);
      }
    });
    dirs.push(checkout);
    const cli = await runPackline(["build", "--tag", "v1.0.0", "--source", checkout, ...labFlags()]);
    expect(cli.code, cli.stderr.slice(-3000)).toBe(0);
    // "revision sha256:...", or "already published from revision sha256:..." when the engine's registry holds it
    const revision = /revision (sha256:[0-9a-f]{64})/.exec(cli.stdout)?.[1];
    expect(revision, cli.stdout).toBeDefined();
    const call = await runDagger(["-m", mod, "call", "--source", ".", ...labFlags(), "result", "--tag", "v1.0.0", "revision"], { cwd: checkout });
    expect(call.code, call.stderr.slice(-3000)).toBe(0);
    expect(call.stdout.trim()).toBe(revision);
    const listing = await runDagger(
      [
        "-m",
        mod,
        "call",
        "--source",
        ".",
        ...labFlags(),
        "result",
        "--tag",
        "v1.0.0",
        "container",
        "with-exec",
        "--args",
        "ls,-A,/workspace",
        "stdout",
      ],
      { cwd: checkout },
    );
    expect(listing.code, listing.stderr.slice(-3000)).toBe(0);
    expect(listing.stdout.trim().split("\n")).toEqual(["assets", "index.html"]);
  });

  it("--repo: the clone (no .git) gives the --source image, the cluster's build pod's, and the cluster plan's release", async () => {
    const lab = readLab();
    const fixture = lab.git.repos.fixture;
    const s = { uid: String(lab.cnb.uid), gid: String(lab.cnb.gid) };

    // the cluster: the exported workflow's build pod (clone and prepare init containers, then the creator), as a
    // kubelet runs it (test/e2e/packline.ts's runArgoBuildPod), for the commit the resolve step would find
    const argoRepository = `engine-parity-${unique("argo")}/e2e`;
    const pod = await runArgoBuildPod(
      exportFor(argoRepository, "workflow-template", { ref: fixture.tag }),
      {
        "inputs.parameters.tag": E2E_TAG,
        "inputs.parameters.ref": fixture.tag,
        "inputs.parameters.commit": fixture.commit,
        "inputs.parameters.uid": s.uid,
        "inputs.parameters.gid": s.gid,
      },
      { secrets: { regcred: { ".dockerconfigjson": registryAuthSecret() } } },
    );
    try {
      expect(pod.exitCode, pod.output).toBe(0);
      expect(pod.output).toContain(`cloned ${fixture.url} at ${fixture.tag} (${fixture.commit})`);
    } finally {
      pod.cleanup();
    }
    const staged = pod.report!.digest;

    // the cluster plan's check, build and release for that commit (its release gives the final digest)
    const e2eRepository = `engine-parity-${unique("repo")}/e2e`;
    const e2e = await runPlan(planFor(e2eRepository, { repo: fixture.url, ref: fixture.tag }), { lates: { commit: fixture.commit } });
    expect(e2e.failed?.output).toBeUndefined();
    expect(e2e.report!.digest).toBe(staged);

    // the engine: --repo clones the same commit
    const image = appsRepository("parity-repo");
    const out = await withEngine(async () => {
      const r = await result({ tag: E2E_TAG, repo: fixture.url, ref: fixture.tag, image, ...e2eArgs, ...loginArgs() });
      const listing = await r.container.withExec(["ls", "-A", "/workspace"]).stdout();
      return { digest: r.digest, revision: r.revision, listing };
    });
    expect(out.revision).toBe(fixture.commit);
    expect(await digestOf(`${image}:${STAGING_TAG}`)).toBe(staged);
    expect(out.digest).toBe(e2e.digest);
    expect(out.listing.trim().split("\n")).toEqual(["index.html"]);

    // and the same files as a directory give the same lifecycle image
    const sourceImage = appsRepository("parity-repo-source");
    await withEngine(() =>
      result({
        tag: E2E_TAG,
        source: dag.host().directory(lab.fixtures.static),
        image: sourceImage,
        revision: fixture.commit,
        ...e2eArgs,
        ...loginArgs(),
      }),
    );
    expect(await digestOf(`${sourceImage}:${STAGING_TAG}`)).toBe(staged);
  });
});
