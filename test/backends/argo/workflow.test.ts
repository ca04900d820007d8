/**
 * How the plan's options land in the workflow: parameters, kind and metadata, the submit hint, resources and volumes,
 * creation times as late values, the SBOM artifact. Deterministic: the same input gives the same bytes.
 */

import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { exportArgo } from "../../../src/backends/argo/export.js";
import type { RawInput } from "../../../src/core/options/input.js";
import type { Json } from "../../support/argo-lint.js";
import { buildPod, podContainer, podContainers, runPrelude, scriptOf, unwrap } from "../../support/argo-pod.js";
import { argoVariants, BASE, templatesOf } from "../../support/argo-variants.js";

const render = (raw: RawInput = {}) => {
  const result = exportArgo({ ...BASE, ...raw });
  const document = parse(result.yaml);
  return { ...result, document, templates: templatesOf(document) };
};
const envOf = (container: Json) => Object.fromEntries((container.env ?? []).map((e: Json) => [e.name, e.value]));
const podOf = (raw: RawInput = {}) => buildPod(render(raw).document);

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
  it("one pod: the source, the check and the build in order, the release last; a second pod only to read the builder's user", () => {
    const names = (pod: Json) => podContainers(pod).map((c: Json) => c.name);
    expect(names(podOf())).toEqual(["source", "check", "build", "release"]);
    expect(Object.keys(render().templates).sort()).toEqual(["build", "builder-user", "main"]);
    // --build-user: `main` is the pod itself
    const given = render({ buildUser: "1001:1000" });
    expect(Object.keys(given.templates)).toEqual(["main"]);
    expect(names(buildPod(given.document))).toEqual(["source", "check", "build", "release"]);
    expect(names(podOf({ executor: "pack" }))).toEqual(["source", "check", "build", "release"]);
  });

  it("resources on the build container only; the workspace size on its scratch volumes", () => {
    const pod = podOf({ cpuRequest: "500m", memoryRequest: "1Gi", cpuLimit: "2", memoryLimit: "4Gi", workspaceSize: "10Gi" });
    expect(podContainer(pod, "build").resources).toEqual({ requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } });
    for (const c of podContainers(pod)) if (c.name !== "build") expect(c.resources, c.name).toBeUndefined();
    expect(pod.volumes).toEqual(
      expect.arrayContaining([
        { name: "source", emptyDir: { sizeLimit: "10Gi" } },
        { name: "layers", emptyDir: { sizeLimit: "10Gi" } },
      ]),
    );
  });

  it("the cache: an emptyDir by default, the claim with --cache-pvc, none with --cache-image", () => {
    expect(podOf().volumes).toContainEqual({ name: "cache", emptyDir: {} });
    expect(podOf({ cachePvc: "buildpacks-cache" }).volumes).toContainEqual({
      name: "cache",
      persistentVolumeClaim: { claimName: "buildpacks-cache" },
    });
    const withImage = podOf({ cacheImage: "registry.example.com/acme/cache:build" });
    expect(withImage.volumes.map((v: Json) => v.name)).not.toContain("cache");
    expect(unwrap(podContainer(withImage, "build")).argv).toContain("-cache-image=registry.example.com/acme/cache:build");
  });

  it("the source container writes the plan's files for the creator, on the platform volume the build mounts", () => {
    const pod = podOf({ env: ["A=1"], buildpack: ["acme/x@1.0.0"] });
    expect(scriptOf(podContainer(pod, "source"))).toContain("'/platform/order.toml'");
    expect(scriptOf(podContainer(pod, "source"))).toContain("'/platform/env/A'");
    expect(podContainer(pod, "source").volumeMounts).toContainEqual({ name: "platform", mountPath: "/platform" });
    expect(unwrap(podContainer(pod, "build")).argv).toContain("-order=/platform/order.toml");
  });

  it("--sbom-artifact keeps /layers/sbom as an optional output artifact, where the release (main) container sees it", () => {
    expect(podOf().outputs.artifacts).toBeUndefined();
    const pod = podOf({ sbomArtifact: true });
    expect(pod.outputs.artifacts).toEqual([{ name: "sbom", path: "/layers/sbom", optional: true, archive: { tar: {} } }]);
    expect(podContainer(pod, "release").volumeMounts).toContainEqual({ name: "layers", mountPath: "/layers", subPath: "layers", readOnly: true });
  });
});

describe("creation time: a late value each backend supplies", () => {
  it.each([
    ["default", undefined],
    ["now", "{{workflow.creationTimestamp.s}}"],
    ["1700000000", "1700000000"],
  ] as const)("%s: a plain env value", (creationTime, epoch) => {
    expect(envOf(podContainer(podOf({ creationTime }), "build")).SOURCE_DATE_EPOCH).toBe(epoch);
  });

  it("commit: the creator's prelude reads the commit time the source container wrote", () => {
    const build = podContainer(podOf({ creationTime: "commit" }), "build");
    expect(envOf(build).SOURCE_DATE_EPOCH).toBeUndefined();
    const run = runPrelude(build, { "commit-time": "1712345678", outcome: "unpublished" });
    expect(run.env?.SOURCE_DATE_EPOCH, run.stderr).toBe("1712345678");
  });
});

describe("determinism", () => {
  it("the same input gives the same bytes, for every variant", () => {
    for (const v of argoVariants()) expect(exportArgo(v.raw).yaml, v.name).toBe(exportArgo(structuredClone(v.raw)).yaml);
  });
});
