/**
 * The Dagger object (src/index.ts) through the real SDK against the fake engine: `build` returns the summary a user
 * reads, `result` a BuildResult to chain (container, sbom), `argo` a File equal to `packline argo`'s output; bad
 * input is refused before anything reaches the engine.
 */
import { dag } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { exportArgo } from "../../../src/backends/argo/export.js";
import { main } from "../../../src/cli/program.js";
import { PacklineError } from "../../../src/core/errors.js";
import { CREATOR_COMMAND } from "../../../src/core/plan/creator.js";
import { ArgoKind, BuildResult, Executor, PodGc } from "../../../src/index.js";
import { withFakeEngine } from "../../support/fake-engine.js";
import { callArgo, callBuild, callResult } from "./module-call.js";
import { EXISTING_DIGEST, onlyInSetSecret, RELEASED_DIGEST, stepsRun, stepViews, world } from "./pipeline.js";

const IMAGE = "registry.example.com/acme/app";
const REPO = "https://github.com/acme/app";
const PASSWORD = "pw-Zk2-not-real";

describe("Packline.build", () => {
  it("returns the summary: every reference pinned to the digest, and how to chain the result", async () => {
    await withFakeEngine({ answers: world() }, async (engine) => {
      const summary = await callBuild({ tag: "v1.0.0", floatingTags: true });
      expect(typeof summary).toBe("string");
      expect(summary).toBe(
        [
          "published:",
          `  registry:5000/app:1.0.0@${RELEASED_DIGEST}`,
          `  registry:5000/app:1.0@${RELEASED_DIGEST}`,
          `  registry:5000/app:1@${RELEASED_DIGEST}`,
          `revision ${stepViews(engine).check!.env.find(([n]) => n === "PACKLINE_REVISION")![1]}`,
          "",
          "use it:",
          "  dagger call --floating-tags result --tag v1.0.0 container up --ports 8080:8080      run it",
          "  dagger call --floating-tags result --tag v1.0.0 container export --path image.tar  save it as a tarball",
          "  dagger call --floating-tags result --tag v1.0.0 sbom export --path sbom            its SBOM files",
          "",
          "(registry:5000 lives inside the Dagger engine; pass --image to publish where you can pull from)",
        ].join("\n"),
      );
      expect(stepsRun(engine)).toEqual(["check", "build", "release"]);
      // The context directory (the module's repository root) is what is built.
      expect(stepViews(engine).build!.sources["/workspace"]).toEqual({
        ref: [
          { field: "host", args: {} },
          { field: "directory", args: { path: "/home/dev/app" } },
          { field: "filter", args: { exclude: [".git"] } },
        ],
      });
    });
  });

  it("the chained commands repeat the settings as typed: lists once per value, quoted where the shell needs it", async () => {
    await withFakeEngine({ answers: world() }, async () => {
      const summary = await callBuild({ tag: "v1.0.0", env: ["A=1", "GREETING=hello world"], latest: true });
      expect(summary).toContain("  dagger call --env A=1 --env 'GREETING=hello world' --latest result --tag v1.0.0 container up");
    });
  });

  it("builds --source instead of the context directory when given", async () => {
    await withFakeEngine({ answers: world() }, async (engine) => {
      const summary = await callBuild({ tag: "v1.0.0", source: dag.host().directory("/elsewhere/src") });
      expect(summary).toContain("  dagger call --source <dir> result --tag v1.0.0 container up");
      expect(stepViews(engine).build!.sources["/workspace"]).toEqual({
        ref: [
          { field: "host", args: {} },
          { field: "directory", args: { path: "/elsewhere/src" } },
          { field: "filter", args: { exclude: [".git"] } },
        ],
      });
    });
  });

  it("with --image and credentials: pull hints name the image, the password stays in setSecret", async () => {
    await withFakeEngine({ answers: world() }, async (engine) => {
      const summary = await callBuild({
        tag: "v1.2.3",
        repo: REPO,
        image: IMAGE,
        registryUsername: "me",
        registryPassword: dag.setSecret("pw", PASSWORD),
        revision: undefined,
      });
      expect(summary).toContain(`  ${IMAGE}:1.2.3@${RELEASED_DIGEST}\n`);
      // The settings go before the function, as the constructor takes them; the password is only hinted at.
      expect(summary).toContain(
        `dagger call --repo ${REPO} --image ${IMAGE} --registry-username me --registry-password <secret> result --tag v1.2.3 container up`,
      );
      expect(summary).toContain(`pull it: docker pull ${IMAGE}:1.2.3@${RELEASED_DIGEST}`);
      expect(summary).not.toContain(PASSWORD);
      expect(onlyInSetSecret(engine, PASSWORD).length).toBeGreaterThan(0);
    });
  });

  it("says when the version was already published and nothing was built", async () => {
    await withFakeEngine({ answers: world({ check: { outcome: "published", digest: EXISTING_DIGEST } }) }, async (engine) => {
      const summary = await callBuild({ tag: "v1.0.0", revision: "abc123" });
      expect(summary.split("\n").slice(0, 2)).toEqual([
        "already published from revision abc123 (nothing was built):",
        `  registry:5000/app:1.0.0@${EXISTING_DIGEST}`,
      ]);
      expect(stepsRun(engine)).toEqual(["check"]);
      // --revision replaces the content digest: no digest of the directory is asked for.
      expect(engine.leaves("digest")).toEqual([]);
    });
  });

  const refused: [string, () => Parameters<typeof callBuild>[0], RegExp][] = [
    ["a tag that is not MAJOR.MINOR.PATCH", () => ({ tag: "1.0" }), /^--tag "1\.0" is not a semantic version/],
    [
      "--repo together with --source",
      () => ({ tag: "v1.0.0", repo: REPO, source: dag.host().directory("/src") }),
      /--repo "https:\/\/github\.com\/acme\/app" and --source were both given/,
    ],
    ["--registry-username without a password", () => ({ tag: "v1.0.0", image: IMAGE, registryUsername: "me" }), /without --registry-password/],
    [
      "a password without --registry-username",
      () => ({ tag: "v1.0.0", image: IMAGE, registryPassword: dag.setSecret("pw", PASSWORD) }),
      /without --registry-username/,
    ],
    ["--image ''", () => ({ tag: "v1.0.0", image: "" }), /^--image is empty/],
    ["--builder ''", () => ({ tag: "v1.0.0", builder: "" }), /^--builder is empty: leave it out for the default/],
    ["--revision with --repo", () => ({ tag: "v1.0.0", repo: REPO, revision: "abc" }), /--revision "abc" and --repo were both given/],
    ["--creation-time commit without --repo", () => ({ tag: "v1.0.0", creationTime: "commit" }), /--creation-time commit needs --repo/],
    ["a token in the repo URL", () => ({ tag: "v1.0.0", repo: `${REPO}?access_token=${PASSWORD}` }), /--repo has a query or fragment/],
    ["--env without =", () => ({ tag: "v1.0.0", env: ["BP_NODE_VERSION"] }), /--env "BP_NODE_VERSION" has no "="/],
  ];
  for (const [name, args, message] of refused) {
    it(`refuses ${name} before anything reaches the engine`, async () => {
      await withFakeEngine({ answers: world() }, async (engine) => {
        for (const call of [callBuild, callResult]) {
          const error = await call(args()).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(PacklineError);
          expect((error as Error).message).toMatch(message);
          expect((error as Error).message).not.toContain(PASSWORD);
        }
        expect(engine.queries).toEqual([]);
      });
    });
  }
});

describe("Packline.result", () => {
  it("returns a BuildResult whose container is the published image and whose sbom is the build's", async () => {
    await withFakeEngine({ answers: world() }, async (engine) => {
      const result = await callResult({ tag: "v1.0.0" });
      expect(result).toBeInstanceOf(BuildResult);
      expect(result.digest).toBe(RELEASED_DIGEST);
      expect(result.references).toEqual([`registry:5000/app:1.0.0@${RELEASED_DIGEST}`]);
      expect(result.summary).toContain(`registry:5000/app:1.0.0@${RELEASED_DIGEST}`);
      expect(result.revision).toMatch(/^sha256:[0-9a-f]{64}$/);

      await result.container.id();
      const container = engine.expand(engine.leaves("id").at(-1)!.resolved);
      expect(container.map((s) => s.field)).toEqual(["container", "import", "id"]);
      await result.sbom.id();
      const sbom = engine.expand(engine.leaves("id").at(-1)!.resolved);
      expect(sbom.slice(-2)).toEqual([
        { field: "directory", args: { path: "/layers/sbom" } },
        { field: "id", args: {} },
      ]);
      expect((sbom.find((s) => s.field === "withExec")!.args.args as string[]).slice(0, 4)).toEqual([...CREATOR_COMMAND]);
    });
  });

  it("an image already published has an empty sbom directory (nothing was built)", async () => {
    await withFakeEngine({ answers: world({ check: { outcome: "published", digest: EXISTING_DIGEST } }) }, async (engine) => {
      const result = await callResult({ tag: "v1.0.0" });
      expect(result.digest).toBe(EXISTING_DIGEST);
      await result.sbom.id();
      expect(engine.leaves("id").at(-1)!.resolved).toEqual([
        { field: "directory", args: {} },
        { field: "id", args: {} },
      ]);
    });
  });
});

describe("Packline.argo", () => {
  const cliArgs = [
    "--repo",
    REPO,
    "--image",
    IMAGE,
    "--tag",
    "v1.2.3",
    "--registry-secret",
    "regcred",
    "--kind",
    "workflow",
    "--executor",
    "creator",
    "--pod-gc",
    "none",
    "--floating-tags",
    "--env",
    "BP_NODE_VERSION=20",
    "--retries",
    "3",
  ];

  it("returns a File named build.yaml whose contents equal packline argo's output", async () => {
    let cli = "";
    const code = await main(["node", "packline", "argo", ...cliArgs], {
      stdout: (t) => {
        cli += t;
      },
      stderr: () => {},
      stderrStream: process.stderr,
      env: {},
    });
    expect(code).toBe(0);
    await withFakeEngine(async (engine) => {
      const file = callArgo({
        repo: REPO,
        image: IMAGE,
        tag: "v1.2.3",
        registrySecret: "regcred",
        kind: ArgoKind.Workflow,
        executor: Executor.Creator,
        podGc: PodGc.None,
        floatingTags: true,
        env: ["BP_NODE_VERSION=20"],
        retries: 3,
      });
      await file.id();
      expect(engine.expand(engine.queries.at(-1)!.resolved)).toEqual([
        { field: "directory", args: {} },
        { field: "withNewFile", args: { path: "build.yaml", contents: cli } },
        { field: "file", args: { path: "build.yaml" } },
        { field: "id", args: {} },
      ]);
      expect(cli).toContain("kind: Workflow\n");
      expect(cli).not.toContain("podGC");
    });
  });

  it("takes enum values as Dagger sends them (WORKFLOW_TEMPLATE) and the defaults as the table gives them", async () => {
    await withFakeEngine(async (engine) => {
      await callArgo({ repo: REPO, image: IMAGE, kind: "WORKFLOW", executor: "CREATOR", podGc: "ON_WORKFLOW_SUCCESS" }).id();
      const yaml = engine.find("withNewFile")[0]!.args.contents as string;
      expect(yaml).toBe(exportArgo({ repo: REPO, image: IMAGE, kind: "workflow", podGc: "OnWorkflowSuccess" }).yaml);
      await callArgo({ repo: REPO, image: IMAGE }).id();
      const defaults = engine.find("withNewFile")[1]!.args.contents as string;
      expect(defaults).toBe(exportArgo({ repo: REPO, image: IMAGE }).yaml);
      expect(defaults).toContain("kind: WorkflowTemplate\n");
    });
  });

  it("refuses the constructor's build-only settings, naming why, before anything is sent", async () => {
    await withFakeEngine(async (engine) => {
      expect(() => callArgo({ repo: REPO, image: IMAGE, revision: "abc" })).toThrow(
        "argo does not take --revision (given before argo): a clone's revision is its commit; drop it.",
      );
      expect(() => callArgo({ repo: REPO, image: IMAGE, source: dag.host().directory("/src") })).toThrow(/argo does not take --source/);
      expect(() => callArgo({ repo: REPO, image: IMAGE, registryUsername: "me" })).toThrow(/--registry-secret, a Secret in the cluster/);
      expect(engine.queries).toEqual([]);
    });
  });

  it("refuses bad input before anything is sent", async () => {
    await withFakeEngine(async (engine) => {
      expect(() => callArgo({ repo: REPO, image: IMAGE, kind: "cron" })).toThrow(
        /--kind "cron" does not exist: choose one of workflow-template, workflow/,
      );
      expect(() => callArgo({ repo: REPO, image: "localhost:5000/app" })).toThrow(/is on "localhost"/);
      expect(engine.queries).toEqual([]);
    });
  });
});
