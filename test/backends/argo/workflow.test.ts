/**
 * How the plan's options land in the workflow: parameters, kind and metadata, the submit hint, resources and volumes,
 * creation times as late values, the SBOM artifact. Deterministic: the same input gives the same bytes.
 */

import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { exportArgo } from "../../../src/backends/argo/export.js";
import type { RawInput } from "../../../src/core/options/input.js";
import type { Json } from "../../support/argo-lint.js";
import { argoVariants, BASE, templatesOf } from "../../support/argo-variants.js";

const render = (raw: RawInput = {}) => {
  const result = exportArgo({ ...BASE, ...raw });
  const document = parse(result.yaml);
  return { ...result, document, templates: templatesOf(document) };
};
const envOf = (container: Json) => Object.fromEntries((container.env ?? []).map((e: Json) => [e.name, e.value]));
const stepOf = (main: Json, name: string) => main.steps.flat().find((s: Json) => s.name === name);

describe("parameters", () => {
  it("without --tag the version is required at submit time; with --tag it is the default", () => {
    expect(render().document.spec.arguments.parameters[0]).toEqual({ name: "tag", description: expect.stringContaining("v1.2.3") });
    expect(render({ tag: "v1.2.3" }).document.spec.arguments.parameters[0]).toMatchObject({ name: "tag", value: "v1.2.3" });
  });

  it("--ref is the ref parameter's default; without it, empty (the tag is cloned)", () => {
    expect(render({ ref: "release/1.x" }).document.spec.arguments.parameters[1]).toMatchObject({ name: "ref", value: "release/1.x" });
    expect(render({ tag: "v1.2.3" }).document.spec.arguments.parameters[1]).toMatchObject({ name: "ref", value: "" });
  });
});

describe("kind, metadata and the submit hint", () => {
  it("a WorkflowTemplate by default, named and namespaced", () => {
    const r = render({ name: "web", namespace: "builds", serviceAccount: "builder" });
    expect(r.kind).toBe("WorkflowTemplate");
    expect(r.document.metadata).toMatchObject({
      name: "web",
      namespace: "builds",
      labels: { "app.kubernetes.io/managed-by": "packline", "app.kubernetes.io/name": "web" },
    });
    expect(r.document.spec.serviceAccountName).toBe("builder");
    expect(r.yaml).toContain(
      "# Submit (with this YAML saved as build.yaml): kubectl apply -f build.yaml && argo submit --from workflowtemplate/web -p tag=v1.2.3\n",
    );
  });

  it("a Workflow with generateName on request; its hint passes the default tag when there is one", () => {
    const r = render({ kind: "workflow", name: "web", tag: "v2.0.0" });
    expect(r.kind).toBe("Workflow");
    expect(r.document.metadata.generateName).toBe("web-");
    expect(r.document.metadata.name).toBeUndefined();
    expect(r.yaml).toContain("# Submit (with this YAML saved as build.yaml): argo submit build.yaml [-p tag=v2.0.0]\n");
  });

  it("the default name comes from the repository", () => {
    expect(render({ repo: "https://github.com/acme/My_Service.git" }).name).toBe("packline-my-service");
  });

  it("pod GC, deadline and retries go where Argo reads them", () => {
    const r = render({ podGc: "OnWorkflowSuccess", deadline: 3600 });
    expect(r.document.spec).toMatchObject({ podGC: { strategy: "OnWorkflowSuccess" }, activeDeadlineSeconds: 3600 });
    expect(render({ podGc: "none" }).document.spec.podGC).toBeUndefined();
  });
});

describe("the build pod", () => {
  it("resources on the build container only; the workspace size on its scratch volumes", () => {
    const { templates } = render({ cpuRequest: "500m", memoryRequest: "1Gi", cpuLimit: "2", memoryLimit: "4Gi", workspaceSize: "10Gi" });
    expect(templates.build.container.resources).toEqual({ requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } });
    for (const t of Object.values(templates)) if (t.name !== "build") expect(t.container?.resources, t.name).toBeUndefined();
    expect(templates.build.volumes).toEqual(
      expect.arrayContaining([
        { name: "source", emptyDir: { sizeLimit: "10Gi" } },
        { name: "layers", emptyDir: { sizeLimit: "10Gi" } },
      ]),
    );
  });

  it("the cache: an emptyDir by default, the claim with --cache-pvc, none with --cache-image", () => {
    expect(render().templates.build.volumes).toContainEqual({ name: "cache", emptyDir: {} });
    expect(render({ cachePvc: "buildpacks-cache" }).templates.build.volumes).toContainEqual({
      name: "cache",
      persistentVolumeClaim: { claimName: "buildpacks-cache" },
    });
    const withImage = render({ cacheImage: "registry.example.com/acme/cache:build" }).templates.build;
    expect(withImage.volumes.map((v: Json) => v.name)).not.toContain("cache");
    expect(withImage.container.args).toContain("-cache-image=registry.example.com/acme/cache:build");
  });

  it("the clone runs first, then prepare writes the plan's files, then the creator", () => {
    expect(render().templates.build.initContainers[0].name).toBe("clone");
    const build = render({ env: ["A=1"], buildpack: ["acme/x@1.0.0"] }).templates.build;
    expect(build.initContainers.map((c: Json) => c.name)).toEqual(["clone", "prepare"]);
    expect(build.initContainers[1].args[0]).toContain("'/platform/order.toml'");
    expect(build.initContainers[1].args[0]).toContain("'/platform/env/A'");
    expect(build.container.args).toContain("-order=/platform/order.toml");
  });

  it("--sbom-artifact keeps /layers/sbom as an optional output artifact", () => {
    expect(render().templates.build.outputs.artifacts).toBeUndefined();
    expect(render({ sbomArtifact: true }).templates.build.outputs.artifacts).toEqual([
      { name: "sbom", path: "/layers/sbom", optional: true, archive: { tar: {} } },
    ]);
  });
});

describe("creation time: a late value each backend supplies", () => {
  it.each([
    ["default", undefined],
    ["now", "{{workflow.creationTimestamp.s}}"],
    ["commit", "{{inputs.parameters.commit-time}}"],
    ["1700000000", "1700000000"],
  ] as const)("%s", (creationTime, epoch) => {
    const { templates } = render({ creationTime });
    expect(envOf(templates.build.container).SOURCE_DATE_EPOCH).toBe(epoch);
    const argument = stepOf(templates.main, "build").arguments.parameters.find((p: Json) => p.name === "commit-time");
    if (creationTime === "commit") expect(argument).toEqual({ name: "commit-time", value: "{{steps.resolve.outputs.parameters.commit-time}}" });
    else expect(argument).toBeUndefined();
  });
});

describe("determinism", () => {
  it("the same input gives the same bytes, for every variant", () => {
    for (const v of argoVariants()) expect(exportArgo(v.raw).yaml, v.name).toBe(exportArgo(structuredClone(v.raw)).yaml);
  });
});
