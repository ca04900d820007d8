/**
 * Issue 4, point 3: the build container of the exported Argo YAML (WorkflowTemplate and Workflow) runs in Docker the
 * way a pod would (its `prepare` init container as root, then the creator as its securityContext says, with the
 * template's volumes) and publishes the same digest as the local plan build for the same creation time: the cluster
 * path equals the local path, measured on a real image.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { RESULT_OUTPUTS, RESULT_SCRIPT } from "../../src/argo/scripts.js";
import { e2eState, registryClient, uniqueRepository } from "./harness.js";
import { E2E_TAG, exportFor, GREETING, planFor, registryAuthSecret, runArgoBuildPod, runPlanBuild, selectBuildPod } from "./packline.js";

/** The workflow's `result` step script, run with sh against the pod's layers dir: the digest the workflow outputs. */
function workflowOutputDigest(layersDir: string): string {
  const dir = mkdtempSync(join(tmpdir(), "packline-e2e-result-"));
  try {
    const script = RESULT_SCRIPT.split("/tmp/packline").join(dir).split("/layers/report.toml").join(join(layersDir, "report.toml"));
    execFileSync("sh", ["-c", script], { env: { PATH: process.env.PATH }, stdio: "pipe" });
    return readFileSync(RESULT_OUTPUTS.digest.replace("/tmp/packline", dir), "utf8").trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("exported Argo build pod == local plan build (issue 4: 3)", () => {
  const s = e2eState();
  let localDigest: string;

  beforeAll(async () => {
    const repository = uniqueRepository("e2e/argo-local");
    const local = await runPlanBuild(planFor(repository));
    expect(local.run.exitCode, local.run.output).toBe(0);
    localDigest = local.report!.digest;
  });

  for (const kind of ["workflow-template", "workflow"] as const) {
    it(`${kind}: its build pod publishes every tag at the local build's digest`, async () => {
      const repository = uniqueRepository(`e2e/argo-${kind}`);
      const image = `${s.registry}/${repository}`;
      const yaml = exportFor(repository, kind);
      const pod = selectBuildPod(yaml, E2E_TAG);
      expect(pod.workflow.kind).toBe(kind === "workflow" ? "Workflow" : "WorkflowTemplate");
      expect(pod.templateName).toBe("build-release");
      expect(pod.values["inputs.parameters.version"]).toBe("1.2.3");
      expect(pod.template.initContainers.map((c: { name: string }) => c.name)).toEqual(["prepare"]);
      expect(pod.template.container.securityContext.runAsUser).toBe(0);

      const run = await runArgoBuildPod(pod, {
        secrets: { regcred: { ".dockerconfigjson": registryAuthSecret() } },
        // the clone step's result: the app at work/source (the fixture, as Dagger's local source gives it)
        prefill: (dirs) => cpSync(s.fixtureApp, join(dirs.work!, "source"), { recursive: true }),
      });
      try {
        expect(run.prepare?.exitCode, run.output).toBe(0);
        expect(run.exitCode, run.output).toBe(0);
        // the init container wrote the plan's file from its base64 env value
        expect(run.output).toContain(`---> build-time env GREETING=${GREETING}`);
        expect(run.report, "report.toml").toBeDefined();
        const expectedTags = ["1.2.3", "1.2", "1", "latest"];
        expect(run.report!.tags).toEqual(expectedTags.map((t) => `${image}:${t}`));
        expect(run.report!.digest).toBe(localDigest);
        expect(workflowOutputDigest(join(run.workDir, "layers"))).toBe(localDigest);

        const registry = registryClient();
        expect(await registry.listTags(repository)).toEqual([...expectedTags].sort());
        for (const tag of expectedTags) expect(await registry.manifestDigest(repository, tag), tag).toBe(localDigest);
      } finally {
        run.cleanup();
      }
    });
  }

  it("the template's build container is the plan's creator step with the version's parts substituted", () => {
    const repository = "e2e/argo-shape";
    const pod = selectBuildPod(exportFor(repository, "workflow-template"), E2E_TAG);
    const plan = planFor(repository, { registryUsername: undefined, registryPassword: undefined, registrySecret: "regcred" });
    const c = pod.template.container;
    expect(c.image).toBe(plan.build.image);
    expect(c.command).toEqual(plan.build.command);
    expect((c.args as string[]).map((a) => a.replace(/\{\{inputs\.parameters\.(\w+)\}\}/g, (_, p: string) => pod.values[`inputs.parameters.${p}`]!))).toEqual(
      plan.build.args,
    );
    expect(c.workingDir).toBe(plan.build.workdir);
    expect(String(c.securityContext.runAsUser)).toBe(plan.build.user);
  });
});
