/**
 * The Dagger backend (src/backends/dagger/runner.ts) driven through the real `@dagger.io/dagger` SDK against the fake
 * engine: the exact pipeline it sends for a plan (images, users, mounts and owners, env, files, secrets by id, exec
 * args equal to the plan's), the check -> build -> release flow, its messages, and the route of the result container.
 */
import { type Directory, dag, type Secret } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { type RunResult, runPlan } from "../../../src/backends/dagger/runner.js";
import { PacklineError } from "../../../src/core/errors.js";
import type { RawInput } from "../../../src/core/options/input.js";
import { validateBuild } from "../../../src/core/options/validate.js";
import { type BuildPlan, type ContainerStep, planBuild } from "../../../src/core/plan/planner.js";
import { resolveText } from "../../../src/core/plan/text.js";
import { type Answer, type Expanded, type FakeEngine, graphqlError, withFakeEngine } from "../../support/fake-engine.js";
import {
  BUILDER_USER,
  type ContainerView,
  CREATOR,
  containerView,
  EXISTING_DIGEST,
  isCreator,
  onlyInSetSecret,
  PINS,
  RELEASED_DIGEST,
  report,
  STAGED_DIGEST,
  stepOfExec,
  stepsRun,
  stepViews,
  TOOL_USER,
  UUID,
  type WorldOptions,
  world,
} from "./pipeline.js";

const IMAGE = "registry.example.com/acme/app";
const REPO = "https://github.com/acme/app";
const PASSWORD = "pw-8Hq!x-not-real";
const BUILD_USER = `${BUILDER_USER.uid}:${BUILDER_USER.gid}`;

interface Inputs {
  /** A local source directory (default: /home/dev/app on the host) unless the plan clones. */
  source?: () => Directory;
  password?: () => Secret;
  /** Changes the plan before it runs. */
  plan?: (plan: BuildPlan) => BuildPlan;
  /** Answers tried before the world's. */
  answers?: Answer[];
}

/** Plans `raw` as `dagger call build` would, runs it on a fresh fake engine, and hands both to `check`. */
async function run<T>(
  raw: RawInput,
  opts: { world?: WorldOptions; inputs?: Inputs } = {},
  check: (ctx: { engine: FakeEngine; plan: BuildPlan; result: RunResult }) => Promise<T> | T = () => undefined as T,
): Promise<T> {
  const planned = planBuild(validateBuild("build", { ...raw, registryPassword: raw.registryUsername !== undefined }));
  const plan = opts.inputs?.plan?.(planned) ?? planned;
  return withFakeEngine({ answers: [...(opts.inputs?.answers ?? []), ...world(opts.world)] }, async (engine) => {
    const source = plan.source.kind === "local" ? (opts.inputs?.source ?? (() => dag.host().directory("/home/dev/app")))() : undefined;
    const registryPassword = raw.registryUsername !== undefined ? (opts.inputs?.password ?? (() => dag.setSecret("pw", PASSWORD)))() : undefined;
    const result = await runPlan(plan, { source, registryPassword });
    return check({ engine, plan, result });
  });
}

/** Like run, for a run that must fail: the error and the engine. */
async function failure(raw: RawInput, opts: { world?: WorldOptions; inputs?: Inputs } = {}): Promise<{ error: Error; engine: FakeEngine }> {
  let seen: FakeEngine | undefined;
  const planned = planBuild(validateBuild("build", { ...raw, registryPassword: raw.registryUsername !== undefined }));
  const plan = opts.inputs?.plan?.(planned) ?? planned;
  const error = await withFakeEngine({ answers: [...(opts.inputs?.answers ?? []), ...world(opts.world)] }, async (engine) => {
    seen = engine;
    const source = plan.source.kind === "local" ? (opts.inputs?.source ?? (() => dag.host().directory("/home/dev/app")))() : undefined;
    const registryPassword = raw.registryUsername !== undefined ? (opts.inputs?.password ?? (() => dag.setSecret("pw", PASSWORD)))() : undefined;
    return runPlan(plan, { source, registryPassword }).then(
      () => new Error("expected the run to fail"),
      (e: unknown) => e as Error,
    );
  });
  return { error, engine: seen! };
}

/** A step's env as the runner must send it: the plan's values with the late values of this run. */
function planEnv(step: ContainerStep, lates: Record<string, string>): [string, string][] {
  return step.env.map((e) => [e.name, resolveText(e.value, lates)]);
}

function argv(step: ContainerStep, lates: Record<string, string> = {}): string[] {
  return [...step.command, ...step.args].map((t) => resolveText(t, lates));
}

const ENGINE_REGISTRY_SERVICE: Expanded[] = [
  { field: "container", args: {} },
  { field: "from", args: { address: "registry:3" } },
  {
    field: "withMountedCache",
    args: { path: "/var/lib/registry", cache: { ref: [{ field: "cacheVolume", args: { key: "packline-registry-storage" } }] } },
  },
  { field: "withExposedPort", args: { port: 5000 } },
  { field: "asService", args: {} },
];

const env = (view: ContainerView | undefined, name: string) => view?.env.find(([n]) => n === name)?.[1];

describe("runPlan: a local source published to the registry inside the engine", () => {
  it("sends the check, build and release containers exactly as the plan states them", async () => {
    await run({ tag: "v1.0.0" }, {}, ({ engine, plan, result }) => {
      const views = stepViews(engine);
      expect(stepsRun(engine)).toEqual(["check", "build", "release"]);
      const runId = env(views.check, "PACKLINE_RUN_ID")!;
      expect(runId).toMatch(UUID);
      // The revision of a local source is the digest of its content, asked of the engine.
      const [digestQuery] = engine.leaves("digest");
      expect(engine.expand(digestQuery!.resolved)).toEqual([
        { field: "host", args: {} },
        { field: "directory", args: { path: "/home/dev/app" } },
        // never .git: the revision is the digest of what the build sees
        { field: "filter", args: { exclude: [".git"] } },
        { field: "digest", args: {} },
      ]);
      const revision = digestQuery!.result as { data: string };
      const lates = { "run-id": runId, "source-digest": revision.data, "build-report": report(), ...PINS };

      const service = [{ alias: "registry", service: ENGINE_REGISTRY_SERVICE }];
      expect(views.check).toEqual({
        image: plan.steps.check.image.join(""),
        user: TOOL_USER,
        workdir: "/",
        env: planEnv(plan.steps.check, lates),
        files: [],
        mounts: [],
        services: service,
        argv: argv(plan.steps.check),
        expect: "ANY",
        sources: {},
      });
      expect(views.build).toEqual({
        // by the digest the check pinned (pin.ts)
        image: `paketobuildpacks/builder-jammy-base@${PINS["builder-digest"]}`,
        user: BUILD_USER,
        workdir: "/workspace",
        env: planEnv(plan.steps.build, lates),
        files: [],
        mounts: [
          { path: "/workspace", kind: "source", owner: BUILD_USER },
          { path: "/layers", kind: "scratch", owner: BUILD_USER },
          { path: "/platform", kind: "scratch" },
          { path: "/cache", kind: "cache:packline-buildpacks-cache-registry:5000/app", owner: BUILD_USER },
        ],
        services: service,
        argv: argv(plan.steps.build),
        expect: "ANY",
        sources: {
          "/workspace": {
            ref: [
              { field: "host", args: {} },
              { field: "directory", args: { path: "/home/dev/app" } },
              { field: "filter", args: { exclude: [".git"] } },
            ],
          },
          "/layers": { ref: [{ field: "directory", args: {} }] },
          "/platform": { ref: [{ field: "directory", args: {} }] },
        },
      });
      expect(views.build!.argv).toEqual([
        ...CREATOR,
        "-app=/workspace",
        "-layers=/layers",
        "-platform=/platform",
        "-cache-dir=/cache",
        "-insecure-registry=registry:5000",
        "-report=/layers/report.toml",
        "-log-level=info",
        "-no-color",
        "registry:5000/app:packline-staging",
      ]);
      // The release step reads the build's report.toml (the staged digest) from its env.
      expect(views.release).toEqual({ ...views.check, env: planEnv(plan.steps.release, lates), argv: argv(plan.steps.release) });
      expect(env(views.release, "PACKLINE_BUILD_REPORT")).toContain(STAGED_DIGEST);
      expect(env(views.release, "PACKLINE_TAGS")).toBe("1.0.0");

      // What each step wrote is read from that step's own container.
      const reads = engine.leaves("contents").map((q) => [stepOf(q.resolved), q.resolved.at(-2)?.args.path]);
      expect(reads).toEqual([
        ["check", "/tmp/packline/outcome"],
        // what the check pinned, for the build and release (pin.ts)
        ["check", "/tmp/packline/builder-digest"],
        ["check", "/tmp/packline/run-image"],
        ["check", "/tmp/packline/lifecycle-version"],
        ["build", "/layers/report.toml"],
        ["release", "/tmp/packline/digest"],
      ]);

      expect(result).toMatchObject({
        digest: RELEASED_DIGEST,
        references: ["registry:5000/app:1.0.0"],
        published: [`registry:5000/app:1.0.0@${RELEASED_DIGEST}`],
        revision: revision.data,
        alreadyPublished: false,
      });
      // Nothing is published by the engine itself: the lifecycle and crane push.
      expect(engine.leaves("publish")).toEqual([]);
    });
  });

  it("gives every run its own PACKLINE_RUN_ID, the same in all its steps", async () => {
    const ids: (string | undefined)[] = [];
    for (const _ of [0, 1]) {
      // One after the other: the fake engine and the SDK's global client serve one run at a time.
      ids.push(
        await run({ tag: "v1.0.0" }, {}, ({ engine }) => {
          const views = stepViews(engine);
          const id = env(views.check, "PACKLINE_RUN_ID");
          expect([env(views.build, "PACKLINE_RUN_ID"), env(views.release, "PACKLINE_RUN_ID")]).toEqual([id, id]);
          return id;
        }),
      );
    }
    expect(ids[0]).toMatch(UUID);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it("hands back the SBOM directory the lifecycle wrote, from the build's own container", async () => {
    await run({ tag: "v1.0.0" }, {}, async ({ engine, result }) => {
      await result.sbom!.id();
      const chain = engine.expand(engine.leaves("id").at(-1)!.resolved);
      expect(chain.at(-2)).toEqual({ field: "directory", args: { path: "/layers/sbom" } });
      expect(isCreator(containerView(chain.slice(0, -2)).argv)).toBe(true);
    });
  });
});

describe("runPlan: the check decides", () => {
  it("a version already published from this revision is not built again: the existing digest is the result", async () => {
    await run({ tag: "v1.0.0" }, { world: { check: { outcome: "published", digest: EXISTING_DIGEST } } }, ({ engine, result }) => {
      expect(stepsRun(engine)).toEqual(["check"]);
      expect(engine.find("withExec").some((s) => isCreator(s.args.args))).toBe(false);
      expect(result).toMatchObject({ digest: EXISTING_DIGEST, alreadyPublished: true, published: [`registry:5000/app:1.0.0@${EXISTING_DIGEST}`] });
      expect(result.sbom).toBeUndefined();
    });
  });

  it("a refused version fails with packline's own message from the step's stderr, and nothing is built", async () => {
    const stderr =
      "\u001b[31mpackline: registry.example.com/acme/app:1.0.0 is already published (sha256:e0e0, revision abc) and this build is from revision def: a released version is never overwritten; publish a new version, or pass --allow-overwrite.\u001b[0m\n" +
      "crane: some noise\n";
    const { error, engine } = await failure({ tag: "v1.0.0", image: IMAGE }, { world: { check: { outcome: "failed", exitCode: 4, stderr } } });
    expect(error).toBeInstanceOf(PacklineError);
    expect(error.message).toBe(
      "registry.example.com/acme/app:1.0.0 is already published (sha256:e0e0, revision abc) and this build is from revision def: a released version is never overwritten; publish a new version, or pass --allow-overwrite.",
    );
    expect(stepsRun(engine)).toEqual(["check"]);
  });

  it("a message that ends in a colon keeps the cause the step printed after it (a registry that does not answer)", async () => {
    const stderr =
      "packline: could not look up registry.example.com/acme/app:1.0.0 in registry registry.example.com (a retry may help):\n" +
      'Error: fetching config: Get "https://registry.example.com/v2/": dial tcp 10.0.0.1:443: connect: connection refused\n';
    const { error } = await failure({ tag: "v1.0.0", image: IMAGE }, { world: { check: { outcome: "failed", exitCode: 1, stderr } } });
    expect(error.message).toBe(
      "could not look up registry.example.com/acme/app:1.0.0 in registry registry.example.com (a retry may help):\n" +
        'Error: fetching config: Get "https://registry.example.com/v2/": dial tcp 10.0.0.1:443: connect: connection refused',
    );
  });

  it("a step failing without a packline line reports its exit code and the end of its stderr", async () => {
    const stderr = `${Array.from({ length: 12 }, (_, i) => `line ${i}`).join("\n")}\n`;
    const { error } = await failure({ tag: "v1.0.0" }, { world: { check: { outcome: "failed", exitCode: 1, stderr } } });
    expect(error.message).toBe(`the check step failed (exit code 1):\n${Array.from({ length: 10 }, (_, i) => `line ${i + 2}`).join("\n")}`);
  });

  it("a release refused by a concurrent build fails with its message, after the build", async () => {
    const stderr =
      "packline: registry.example.com/acme/app:1.0.0 was published by another build (revision x) while this one ran: nothing was tagged.\n";
    const { error, engine } = await failure({ tag: "v1.0.0", image: IMAGE }, { world: { release: { exitCode: 4, stderr } } });
    expect(error.message).toBe(
      "registry.example.com/acme/app:1.0.0 was published by another build (revision x) while this one ran: nothing was tagged.",
    );
    expect(stepsRun(engine)).toEqual(["check", "build", "release"]);
  });

  it("a report.toml without a digest stops before the release", async () => {
    const { error, engine } = await failure({ tag: "v1.0.0" }, { world: { build: { report: "[image]\n  tags = []\n" } } });
    expect(error).toBeInstanceOf(PacklineError);
    expect(error.message).toMatch(/report\.toml has no image digest/);
    expect(stepsRun(engine)).toEqual(["check", "build"]);
  });
});

describe("runPlan: the build's container made beside the check, the creator after it", () => {
  /** Whether `q` evaluates the build step's container without an exec (its `sync`, sent while the check runs). */
  const isBuildSync = (q: { leaf: { field: string }; resolved: { field: string; args: Record<string, unknown> }[] }) =>
    q.leaf.field === "sync" &&
    !q.resolved.some((s) => s.field === "withExec") &&
    q.resolved.some((s) => s.field === "withMountedCache" || (s.field === "withDirectory" && s.args.path === "/layers"));
  /**
   * Holds the check's exit code (`code`) until the build's container has been asked for, or 3 s: a runner that
   * waits for the check before it makes that container shows.
   */
  const holdCheck =
    (code = 0): Answer =>
    (q) => {
      const exec = q.last("withExec");
      if (q.field !== "exitCode" || q.parent.at(-1) !== exec || stepOfExec(exec?.args.args) !== "check") return undefined;
      const prepared = () => q.engine.queries.some(isBuildSync);
      return (async () => {
        for (const until = Date.now() + 3000; Date.now() < until && !prepared(); ) await new Promise((resolve) => setTimeout(resolve, 20));
        return code;
      })();
    };
  /**
   * The plan of a build that needs nothing the check pins (as one with the builder and run image given by digest
   * could be): the machinery under test here; packline's plans pin, so their build starts after the check (pin.ts).
   */
  const unpinned = (plan: BuildPlan): BuildPlan => ({
    ...plan,
    overlap: { checkBesideBuild: true },
    steps: {
      ...plan.steps,
      build: { ...plan.steps.build, image: [plan.builder], env: plan.steps.build.env.filter((e) => e.name !== "CNB_RUN_IMAGE") },
    },
  });
  const held = { answers: [holdCheck()], plan: unpinned };
  /** The position of the first query whose leaf is `leaf` on `step`'s container (the order the runner sent them in). */
  const sent = (engine: FakeEngine, leaf: string, step: string, path?: string) =>
    engine.queries.findIndex(
      (q) =>
        q.leaf.field === leaf &&
        stepOfExec(q.resolved.find((s) => s.field === "withExec")?.args.args) === step &&
        (path === undefined || q.resolved.at(-2)?.args.path === path),
    );
  const prepared = (engine: FakeEngine) => engine.queries.findIndex(isBuildSync);

  it("the plan allows it: the build's container is made before the check's outcome is read, the creator only after it, the release after both", async () => {
    await run({ tag: "v1.0.0" }, { inputs: held }, ({ engine, plan, result }) => {
      expect(plan.overlap.checkBesideBuild).toBe(true);
      expect(planBuild(validateBuild("build", { tag: "v1.0.0" })).overlap.checkBesideBuild).toBe(false);
      const outcome = sent(engine, "contents", "check", "/tmp/packline/outcome");
      expect(prepared(engine)).toBeGreaterThanOrEqual(0);
      expect(prepared(engine)).toBeLessThan(outcome);
      // the container made beside the check is the one the creator runs in: the same chain, then the exec
      const sync = engine.queries[prepared(engine)]!;
      const exec = engine.leaves("exitCode").find((q) => stepOfExec(q.resolved.at(-2)?.args.args) === "build")!;
      expect(engine.expand(exec.resolved.slice(0, -2))).toEqual(engine.expand(sync.resolved.slice(0, -1)));
      expect(sent(engine, "exitCode", "build")).toBeGreaterThan(outcome);
      expect(sent(engine, "exitCode", "release")).toBeGreaterThan(Math.max(outcome, sent(engine, "contents", "build")));
      expect(result).toMatchObject({ digest: RELEASED_DIGEST, alreadyPublished: false });
      expect(result.seconds.check).toBeGreaterThanOrEqual(0);
      expect(result.seconds.build).toBeGreaterThanOrEqual(0);
    });
  });

  it("the check says published: no creator runs, the existing digest is the result, nothing is released", async () => {
    await run({ tag: "v1.0.0" }, { world: { check: { outcome: "published", digest: EXISTING_DIGEST } }, inputs: held }, ({ engine, result }) => {
      expect(prepared(engine)).toBeGreaterThanOrEqual(0);
      expect(stepsRun(engine)).toEqual(["check"]);
      expect(result).toMatchObject({ digest: EXISTING_DIGEST, alreadyPublished: true });
      expect(result.sbom).toBeUndefined();
    });
  });

  it("the check refuses: its message is the error, and no creator runs", async () => {
    const stderr = "packline: registry.example.com/acme/app:1.0.0 is already published (sha256:e0e0, revision abc): refused.\n";
    const { error, engine } = await failure(
      { tag: "v1.0.0", image: IMAGE },
      { world: { check: { outcome: "failed", exitCode: 4, stderr } }, inputs: { answers: [holdCheck(4)], plan: unpinned } },
    );
    expect(error.message).toBe("registry.example.com/acme/app:1.0.0 is already published (sha256:e0e0, revision abc): refused.");
    expect(stepsRun(engine)).toEqual(["check"]);
  });

  it("a plan that does not allow it (Overlap false) makes nothing of the build before the check's outcome", async () => {
    const sequential = (plan: BuildPlan): BuildPlan => ({ ...plan, overlap: { checkBesideBuild: false } });
    await run({ tag: "v1.0.0" }, { inputs: { ...held, plan: sequential } }, ({ engine }) => {
      expect(prepared(engine)).toBe(-1);
      expect(sent(engine, "exitCode", "build")).toBeGreaterThan(sent(engine, "contents", "check", "/tmp/packline/outcome"));
    });
    await run(
      { tag: "v1.0.0" },
      { world: { check: { outcome: "published", digest: EXISTING_DIGEST } }, inputs: { plan: sequential } },
      ({ engine }) => {
        expect(stepsRun(engine)).toEqual(["check"]);
      },
    );
  });
});

describe("runPlan: a failed build", () => {
  const colour = (text: string) => `\u001b[31;1m${text}\u001b[0m`;

  it("names the run image it could not read, without colour codes, and stops before the release", async () => {
    const stderr = `${colour("ERROR:")} failed to find accessible run image: registry.example.com/acme/run:jammy\n`;
    const { error, engine } = await failure(
      { tag: "v1.0.0", image: IMAGE, runImage: "registry.example.com/acme/run:jammy" },
      { world: { build: { exitCode: 1, stderr } } },
    );
    expect(error).toBeInstanceOf(PacklineError);
    expect(error.message).toMatch(/^the build failed \(lifecycle creator exit code 1\); nothing new was tagged\.\n/);
    // the run image the check pinned (pin.ts)
    expect(error.message).toContain(`cause: the run image ${PINS["run-image"]} could not be read`);
    expect(error.message).not.toContain("--registry-username");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes are what must not appear
    expect(error.message).not.toMatch(/\u001b/);
    expect(error.message).toContain("ERROR: failed to find accessible run image");
    expect(stepsRun(engine)).toEqual(["check", "build"]);
    expect(engine.leaves("contents").map((q) => q.resolved.at(-2)?.args.path)).toEqual([
      "/tmp/packline/outcome",
      "/tmp/packline/builder-digest",
      "/tmp/packline/run-image",
      "/tmp/packline/lifecycle-version",
    ]);
  });

  it("without --run-image, names the builder's run image the check pinned", async () => {
    const { error } = await failure(
      { tag: "v1.0.0", builder: "registry.example.com/acme/builder:1" },
      { world: { build: { exitCode: 1, stderr: "failed to find accessible run image\n" } } },
    );
    expect(error.message).toContain(`cause: the run image ${PINS["run-image"]} could not be read`);
  });

  it("names the registry that refused the credentials, with the password redacted", async () => {
    const stderr = `ERROR: failed to export: PUT https://registry.example.com/v2/acme/app/manifests/packline-staging: UNAUTHORIZED: authentication required (tried ${PASSWORD})\n`;
    const { error } = await failure(
      { tag: "v1.0.0", image: IMAGE, registryUsername: "me" },
      { world: { build: { exitCode: 1, stdout: "===> EXPORTING\n", stderr } } },
    );
    expect(error.message).toContain("cause: registry registry.example.com refused the credentials");
    expect(error.message).toContain("UNAUTHORIZED: authentication required (tried ***)");
    expect(error.message).not.toContain(PASSWORD);
  });
});

describe("runPlan: credentials", () => {
  const raw = { tag: "v1.2.3", image: IMAGE, registryUsername: "me", floatingTags: true };

  it("mounts a docker config made from the secret, owned by each step's user, and sends the password only in setSecret", async () => {
    await run(raw, {}, ({ engine, plan }) => {
      const views = stepViews(engine);
      for (const [step, owner] of [
        ["check", TOOL_USER],
        ["build", BUILD_USER],
        ["release", TOOL_USER],
      ] as const) {
        const view = views[step]!;
        expect(
          view.mounts.filter((m) => m.kind.startsWith("secret")),
          step,
        ).toEqual([{ path: "/packline/docker", kind: "secret:config.json", owner, readOnly: true }]);
        expect(env(view, "DOCKER_CONFIG"), step).toBe("/packline/docker");
        // The secret is the docker config.json for exactly this registry and user, made inside the engine.
        const secret = view.sources["/packline/docker/config.json"] as { ref: Expanded[] };
        expect(secret.ref.map((s) => s.field)).toEqual(["setSecret"]);
        expect(secret.ref[0]!.args.name).toBe("packline-registry-auth-registry.example.com-me");
        expect(JSON.parse(secret.ref[0]!.args.plaintext as string)).toEqual({
          auths: { "registry.example.com": { auth: Buffer.from(`me:${PASSWORD}`).toString("base64") } },
        });
      }
      expect(views.build!.argv).toEqual(argv(plan.steps.build));
      expect(views.build!.argv.some((a) => a.startsWith("-insecure-registry"))).toBe(false);
      expect(views.build!.services).toEqual([]);
      expect(onlyInSetSecret(engine, PASSWORD).length).toBeGreaterThan(0);
      expect(onlyInSetSecret(engine, Buffer.from(`me:${PASSWORD}`).toString("base64")).length).toBeGreaterThan(0);
    });
  });

  it("publishes the version's tags and pulls the result by digest with the user's credentials", async () => {
    await run(raw, {}, async ({ engine, result }) => {
      expect(env(stepViews(engine).release, "PACKLINE_TAGS")).toBe("1.2.3 1.2 1");
      expect(result.published).toEqual([`${IMAGE}:1.2.3`, `${IMAGE}:1.2`, `${IMAGE}:1`].map((r) => `${r}@${RELEASED_DIGEST}`));
      await result.container.id();
      expect(engine.expand(engine.leaves("id").at(-1)!.resolved)).toEqual([
        { field: "container", args: {} },
        {
          field: "withRegistryAuth",
          args: {
            address: "registry.example.com",
            username: "me",
            secret: { ref: [{ field: "setSecret", args: { name: "pw", plaintext: PASSWORD } }] },
          },
        },
        { field: "from", args: { address: `${IMAGE}@${RELEASED_DIGEST}` } },
        { field: "id", args: {} },
      ]);
    });
  });

  it("refuses an empty password before any step runs", async () => {
    const { error, engine } = await failure(raw, { inputs: { password: () => dag.setSecret("pw", "") } });
    expect(error).toBeInstanceOf(PacklineError);
    expect(error.message).toBe("--registry-password is empty: give the password or token the registry expects.");
    expect(stepsRun(engine)).toEqual([]);
  });
});

describe("runPlan: the result container's route", () => {
  /** The crane container that copies the image out, and what the engine imports. */
  async function route(raw: RawInput): Promise<Expanded[]> {
    return run(raw, {}, async ({ engine, result }) => {
      await result.container.id();
      return engine.expand(engine.leaves("id").at(-1)!.resolved);
    });
  }
  function crane(chain: Expanded[]): ContainerView {
    expect(chain.map((s) => s.field)).toEqual(["container", "import", "id"]);
    const tarball = (chain[1]!.args.source as { ref: Expanded[] }).ref;
    expect(tarball.at(-1)).toEqual({ field: "file", args: { path: "/tmp/image.tar" } });
    return containerView(tarball.slice(0, -1));
  }

  it("the registry inside the engine: crane pulls through the engine's registry service, the engine imports", async () => {
    const view = crane(await route({ tag: "v1.0.0" }));
    expect(view).toMatchObject({
      image: "ghcr.io/google/go-containerregistry/crane/debug:v0.20.6",
      user: TOOL_USER,
      services: [{ alias: "registry", service: ENGINE_REGISTRY_SERVICE }],
      argv: ["/ko-app/crane", "pull", "--insecure", `registry:5000/app@${RELEASED_DIGEST}`, "/tmp/image.tar"],
      mounts: [],
    });
  });

  it("a registry over plain HTTP: crane pulls with --insecure and the credentials, no service", async () => {
    const view = crane(
      await route({ tag: "v1.0.0", image: "registry.lan:5000/acme/app", insecureRegistry: ["registry.lan:5000"], registryUsername: "me" }),
    );
    expect(view).toMatchObject({
      services: [],
      argv: ["/ko-app/crane", "pull", "--insecure", `registry.lan:5000/acme/app@${RELEASED_DIGEST}`, "/tmp/image.tar"],
      mounts: [{ path: "/packline/docker", kind: "secret:config.json", owner: TOOL_USER, readOnly: true }],
      env: [["DOCKER_CONFIG", "/packline/docker"]],
    });
  });

  it("a registry on the user's machine: crane pulls through the tunnel", async () => {
    const view = crane(await route({ tag: "v1.0.0", image: "localhost:5000/app" }));
    expect(view.services.map((s) => s.alias)).toEqual(["packline-host-registry"]);
    expect(view.argv).toEqual(["/ko-app/crane", "pull", "--insecure", `packline-host-registry:5000/app@${RELEASED_DIGEST}`, "/tmp/image.tar"]);
  });
});

describe("runPlan: a local source holding .git", () => {
  it("builds it without its top-level .git, and its revision is the digest of what is built", async () => {
    // `dagger call --source . build` in a checkout uploads .git; another module may pass a git tree that keeps it.
    // The plan's source never holds .git (as the cluster's clone and packline build), so the image is the same.
    const checkout = () => dag.git("https://github.com/acme/app").head().tree({ discardGitDir: false });
    await run({ tag: "v1.0.0" }, { inputs: { source: checkout } }, ({ engine, result }) => {
      const withoutGit = [
        { field: "git", args: { url: "https://github.com/acme/app" } },
        { field: "head", args: {} },
        { field: "tree", args: { discardGitDir: false } },
        { field: "filter", args: { exclude: [".git"] } },
      ];
      expect(stepViews(engine).build!.sources["/workspace"]).toEqual({ ref: withoutGit });
      const [digestQuery] = engine.leaves("digest");
      expect(engine.expand(digestQuery!.resolved)).toEqual([...withoutGit, { field: "digest", args: {} }]);
      expect(result.revision).toBe((digestQuery!.result as { data: string }).data);
    });
  });
});

describe("runPlan: a registry on the user's machine (--image localhost:5000/app)", () => {
  it("reaches it through dag.host().service in every step and reports the user's names", async () => {
    await run({ tag: "v1.0.0", image: "localhost:5000/app", floatingTags: true }, {}, ({ engine, result }) => {
      const views = stepViews(engine);
      const tunnel = [
        { field: "host", args: {} },
        { field: "service", args: { ports: [{ frontend: 5000, backend: 5000 }], host: "localhost" } },
      ];
      for (const step of ["check", "build", "release"] as const) {
        expect(views[step]!.services, step).toEqual([{ alias: "packline-host-registry", service: tunnel }]);
      }
      expect(views.build!.argv.at(-1)).toBe("packline-host-registry:5000/app:packline-staging");
      expect(views.build!.argv).toContain("-insecure-registry=packline-host-registry:5000");
      expect(env(views.check, "PACKLINE_IMAGE")).toBe("packline-host-registry:5000/app");
      expect(result.references).toEqual(["localhost:5000/app:1.0.0", "localhost:5000/app:1.0", "localhost:5000/app:1"]);
      expect(result.published.every((r) => r.startsWith("localhost:5000/app:"))).toBe(true);
    });
  });
});

describe("runPlan: a run or cache image on the user's machine (--run-image localhost:5001/run)", () => {
  it("reaches them through one tunnel to every port, while the image itself is pulled from its registry", async () => {
    const raw = { tag: "v1.0.0", image: "registry.example.com/acme/app", runImage: "localhost:5001/run", cacheImage: "LOCALHOST:5002/cache" };
    await run(raw, {}, async ({ engine, result }) => {
      const tunnel = [
        { field: "host", args: {} },
        {
          field: "service",
          args: {
            ports: [
              { frontend: 5001, backend: 5001 },
              { frontend: 5002, backend: 5002 },
            ],
            host: "localhost",
          },
        },
      ];
      const views = stepViews(engine);
      expect(views.build!.services).toEqual([{ alias: "packline-host-registry", service: tunnel }]);
      // the check pins the run image through the tunnel (pin.ts); the build runs what it pinned
      expect(env(views.check, "PACKLINE_RUN_IMAGE")).toBe("packline-host-registry:5001/run");
      expect(env(views.check, "PACKLINE_PIN_INSECURE")?.split(" ")).toContain("packline-host-registry:5001");
      expect(views.check!.services).toEqual([{ alias: "packline-host-registry", service: tunnel }]);
      expect(env(views.build, "CNB_RUN_IMAGE")).toBe(PINS["run-image"]);
      expect(views.build!.argv).toContain("-cache-image=packline-host-registry:5002/cache");
      await result.container.id();
      const chain = engine.expand(engine.leaves("id").at(-1)!.resolved);
      expect(chain.map((step) => step.field)).toEqual(["container", "from", "id"]);
    });
  });
});

describe("runPlan: a git repository (--repo)", () => {
  it("clones the tag without .git, and the commit is the revision", async () => {
    await run({ tag: "v1.2.3", repo: REPO }, {}, ({ engine, plan, result }) => {
      const views = stepViews(engine);
      expect(views.build!.sources["/workspace"]).toEqual({
        ref: [
          { field: "git", args: { url: REPO } },
          { field: "ref", args: { name: "v1.2.3" } },
          { field: "tree", args: { discardGitDir: true } },
        ],
      });
      const [commit] = engine.leaves("commit");
      expect(commit!.resolved).toEqual([
        { field: "git", args: { url: REPO } },
        { field: "ref", args: { name: "v1.2.3" } },
        { field: "commit", args: {} },
      ]);
      const sha = (commit!.result as { data: string }).data;
      expect(result.revision).toBe(sha);
      expect(env(views.check, "PACKLINE_REVISION")).toBe(sha);
      expect(env(views.release, "PACKLINE_LABEL_1")).toBe(sha);
      expect(env(views.release, "PACKLINE_LABEL_2")).toBe(REPO);
      expect(engine.leaves("digest")).toEqual([]);
      // Named after the repository inside the engine's registry.
      expect(plan.image.name).toBe("registry:5000/app");
    });
  });

  it("clones --ref when given", async () => {
    await run({ tag: "v1.2.3", repo: REPO, ref: "main" }, {}, ({ engine }) => {
      expect(engine.find("ref").map((s) => s.args.name)).toEqual(["main"]);
    });
  });

  it("--creation-time commit reads the commit's time from a checkout with .git, and passes it on", async () => {
    await run({ tag: "v1.2.3", repo: REPO, creationTime: "commit" }, { world: { commitTime: "1712345678" } }, ({ engine }) => {
      const [log] = engine.leaves("stdout").filter((q) => q.resolved.some((s) => s.field === "withExec" && (s.args.args as string[])[0] === "git"));
      const view = containerView(engine.expand(log!.resolved.slice(0, -1)));
      expect(view).toMatchObject({
        image: "alpine/git:v2.49.1",
        argv: ["git", "-c", "safe.directory=/src", "log", "-1", "--format=%ct"],
        expect: "ANY",
        workdir: "/src",
      });
      expect(view.sources["/src"]).toEqual({
        ref: [
          { field: "git", args: { url: REPO } },
          { field: "ref", args: { name: "v1.2.3" } },
          { field: "tree", args: { discardGitDir: false } },
        ],
      });
      expect(env(stepViews(engine).build, "SOURCE_DATE_EPOCH")).toBe("1712345678");
    });
  });

  it("a ref that cannot be resolved names the URL and the ref, and nothing runs", async () => {
    const plan = planBuild(validateBuild("build", { tag: "v1.2.3", repo: REPO }));
    await withFakeEngine(
      { answers: [(q) => (q.field === "commit" ? graphqlError("git error: couldn't find remote ref v1.2.3") : undefined), ...world()] },
      async (engine) => {
        const error = await runPlan(plan, {}).catch((e: Error) => e);
        expect(error).toBeInstanceOf(PacklineError);
        expect((error as Error).message).toMatch(
          /^--repo "https:\/\/github\.com\/acme\/app" at "v1\.2\.3" could not be resolved: .*couldn't find remote ref v1\.2\.3/,
        );
        expect(stepsRun(engine)).toEqual([]);
      },
    );
  });
});

describe("runPlan: creation time, env, buildpacks", () => {
  it("now: SOURCE_DATE_EPOCH is the unix time of the run", async () => {
    const before = Math.floor(Date.now() / 1000);
    const value = await run({ tag: "v1.0.0", creationTime: "now" }, {}, ({ engine }) => env(stepViews(engine).build, "SOURCE_DATE_EPOCH"));
    expect(Number(value)).toBeGreaterThanOrEqual(before);
    expect(Number(value)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
  });

  it("unix seconds are passed as given; the default sets none", async () => {
    expect(await run({ tag: "v1.0.0", creationTime: "1700000000" }, {}, ({ engine }) => env(stepViews(engine).build, "SOURCE_DATE_EPOCH"))).toBe(
      "1700000000",
    );
    expect(await run({ tag: "v1.0.0" }, {}, ({ engine }) => env(stepViews(engine).build, "SOURCE_DATE_EPOCH"))).toBeUndefined();
  });

  it("writes --env values and the buildpacks order as files owned by the build user", async () => {
    const value = 'it\'s "{{x}}" $(id) `uname`\nline 2 ünïcødé';
    await run(
      { tag: "v1.0.0", env: [`BP_NODE_VERSION=20`, `ODD=${value}`], buildpack: ["paketo-buildpacks/nodejs@7.5.0"] },
      {},
      ({ engine, plan }) => {
        const build = stepViews(engine).build!;
        expect(build.files).toEqual(plan.steps.build.files.map((f) => ({ ...f, owner: BUILD_USER })));
        expect(build.files.map((f) => [f.path, f.contents])).toEqual([
          ["/platform/env/BP_NODE_VERSION", "20"],
          ["/platform/env/ODD", value],
          ["/platform/order.toml", '[[order]]\n[[order.group]]\nid = "paketo-buildpacks/nodejs"\nversion = "7.5.0"\n'],
        ]);
        expect(build.argv).toContain("-order=/platform/order.toml");
      },
    );
  });

  it("values that look like versions reach the build unchanged (issue 7)", async () => {
    const raw = {
      tag: "v1.2.3",
      repo: "https://github.com/acme/web-app/",
      image: "registry.example.com/team90001/app",
      builder: "registry.example.com/builder:90001",
      runImage: "registry.example.com/run:90001.90002",
      cacheImage: "registry.example.com/cache:v90001",
      env: ["PORT_90001=1"],
    };
    await run(raw, {}, ({ engine }) => {
      const build = stepViews(engine).build!;
      expect(build.image).toBe(`registry.example.com/builder:90001@${PINS["builder-digest"]}`);
      expect(stepViews(engine).check!.env).toContainEqual(["PACKLINE_RUN_IMAGE", "registry.example.com/run:90001.90002"]);
      expect(build.argv).toEqual([
        ...CREATOR,
        "-app=/workspace",
        "-layers=/layers",
        "-platform=/platform",
        "-cache-image=registry.example.com/cache:v90001",
        "-report=/layers/report.toml",
        "-log-level=info",
        "-no-color",
        "registry.example.com/team90001/app:packline-staging",
      ]);
      expect(build.files).toEqual([{ path: "/platform/env/PORT_90001", contents: "1", owner: BUILD_USER }]);
      expect(build.mounts.map((m) => m.path)).not.toContain("/cache");
      expect(env(stepViews(engine).check, "PACKLINE_IMAGE")).toBe("registry.example.com/team90001/app");
      expect(engine.find("git").map((s) => s.args.url)).toEqual(["https://github.com/acme/web-app/"]);
    });
  });
});

describe("runPlan: the builder", () => {
  it("a builder without CNB_USER_ID/CNB_GROUP_ID stops before any step and names the builder", async () => {
    const { error, engine } = await failure({ tag: "v1.0.0", builder: "alpine:3.20" }, { world: { builderUser: null } });
    expect(error).toBeInstanceOf(PacklineError);
    expect(error.message).toContain('--builder "alpine:3.20" does not set CNB_USER_ID and CNB_GROUP_ID');
    expect(engine.find("withExec")).toEqual([]);
    expect(engine.leaves("envVariable").map((q) => engine.render(q.resolved))).toContain(
      'container.from(address: "alpine:3.20").envVariable(name: "CNB_USER_ID")',
    );
  });
});

function stepOf(chain: { field: string; args: Record<string, unknown> }[]): string | undefined {
  const exec = [...chain].reverse().find((s) => s.field === "withExec");
  const args = exec?.args.args as string[] | undefined;
  if (!args) return undefined;
  if (isCreator(args)) return "build";
  return (args[2] ?? "").includes("PACKLINE_BUILD_REPORT") ? "release" : "check";
}
