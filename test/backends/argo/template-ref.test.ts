/**
 * The exported WorkflowTemplate is callable from another workflow with `templateRef` (issue 13, items 1 and 2),
 * checked statically here (the lab's cluster suite runs it for real): a caller's workflow gets none of the
 * template's workflow-level spec, so every template must bring its own volumes and read only its inputs (and Argo's
 * per-workflow variables, which a caller's workflow has too), and `main` must output the digest, tags, revision and
 * version, each also as a workflow output (globalName).
 */

import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ARGO_LINT_BUILD_TIMEOUT_MS, ensureArgoLint, type Json, lintArgoFiles, withYamlFiles } from "../../support/argo-lint.js";
import { buildPod, podContainer } from "../../support/argo-pod.js";
import { argoVariants, renderVariant, templatesOf } from "../../support/argo-variants.js";

const variants = argoVariants().map((v) => ({ ...v, rendered: renderVariant(v) }));

/** Every {{...}} a template reads. */
const tagsIn = (value: Json) => [...JSON.stringify(value).matchAll(/\{\{=?\s*([^}]*?)\s*\}\}/g)].map((m) => m[1]!);

/** The variables a template may read: its inputs, its steps' outputs (main), and Argo's own per-workflow values. */
const ARGO_VARIABLES = /^(inputs\.parameters\.[a-z-]+|steps\.[a-z-]+\.outputs\.parameters\.[a-z-]+|workflow\.uid|workflow\.creationTimestamp\.s)$/;

/** What would break a template called from another workflow (none: it is callable). */
function callableProblems(document: Json): string[] {
  const problems: string[] = [];
  const { spec } = document;
  // Nothing a template needs may live at the workflow level: a caller's workflow does not get it.
  for (const field of ["volumes", "volumeClaimTemplates", "podSpecPatch", "securityContext"]) {
    if (spec[field] !== undefined) problems.push(`spec.${field} is set`);
  }
  for (const template of spec.templates) {
    const own = new Set((template.volumes ?? []).map((vol: Json) => vol.name));
    const containers = [template.container, ...(template.initContainers ?? [])].filter(Boolean);
    for (const c of containers)
      for (const m of c.volumeMounts ?? []) if (!own.has(m.name)) problems.push(`${template.name}: mounts ${m.name}, not its own`);
    const inputs = new Set((template.inputs?.parameters ?? []).map((p: Json) => p.name));
    for (const tag of tagsIn({ ...template, name: undefined })) {
      // An expression names variables inside it: each must be allowed, and inputs must be declared.
      for (const name of tag.match(/[a-z][A-Za-z0-9-]*(\.[A-Za-z0-9-]+)+/g) ?? []) {
        if (!ARGO_VARIABLES.test(name)) problems.push(`${template.name}: reads ${name}`);
        const input = /^inputs\.parameters\.(.+)$/.exec(name)?.[1];
        if (input && !inputs.has(input)) problems.push(`${template.name}: reads ${name} without declaring it`);
      }
    }
  }
  return problems;
}

describe("every template works when called from another workflow", () => {
  it.each(variants.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    expect(callableProblems(v.rendered.document)).toEqual([]);
    // the submitted tag and ref (source), the run's id (check, release)
    expect(tagsIn(v.rendered.document.spec.templates).length).toBeGreaterThan(4);
  });

  it("control: a template reading the workflow's parameters, or a workflow volume, is caught", () => {
    const document = structuredClone(variants[0]!.rendered.document);
    podContainer(buildPod(document), "source").env[0].value = "{{workflow.parameters.tag}}";
    buildPod(document).container.volumeMounts.push({ name: "work", mountPath: "/work" });
    document.spec.volumes = [{ name: "work", emptyDir: {} }];
    expect(callableProblems(document)).toEqual(["spec.volumes is set", "build: mounts work, not its own", "build: reads workflow.parameters.tag"]);
  });

  it("main takes tag and ref as inputs and outputs digest, tags, revision and version, globally too", () => {
    const main = templatesOf(variants[0]!.rendered.document).main;
    expect(main.inputs.parameters).toEqual([{ name: "tag" }, { name: "ref", value: "" }]);
    const outputs = Object.fromEntries(main.outputs.parameters.map((p: Json) => [p.name, p]));
    expect(Object.keys(outputs)).toEqual(["digest", "tags", "revision", "version"]);
    for (const [name, p] of Object.entries(outputs) as [string, Json][]) {
      expect(p.globalName, name).toBe(name);
      expect(p.description, name).toEqual(expect.any(String));
    }
    // The entry point is main, fed by the workflow's own parameters.
    expect(variants[0]!.rendered.document.spec.entrypoint).toBe("main");
  });
});

describe("a caller workflow using templateRef passes Argo's validation", () => {
  beforeAll(async () => {
    await ensureArgoLint();
  }, ARGO_LINT_BUILD_TIMEOUT_MS);

  /** A user's own workflow: build with packline's template, then a step that uses the digest. */
  function caller(templateName: string, namespace?: string): string {
    return stringify({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: { generateName: "release-", ...(namespace ? { namespace } : {}) },
      spec: {
        entrypoint: "release",
        templates: [
          {
            name: "release",
            steps: [
              [
                {
                  name: "build",
                  templateRef: { name: templateName, template: "main" },
                  arguments: { parameters: [{ name: "tag", value: "v1.2.3" }] },
                },
              ],
              [
                {
                  name: "deploy",
                  template: "deploy",
                  arguments: { parameters: [{ name: "digest", value: "{{steps.build.outputs.parameters.digest}}" }] },
                },
              ],
            ],
          },
          {
            name: "deploy",
            inputs: { parameters: [{ name: "digest" }] },
            container: { image: "alpine:3.20", command: ["echo"], args: ["deploying {{inputs.parameters.digest}}"] },
          },
        ],
      },
    });
  }

  it.each(variants.filter((v) => v.rendered.kind === "WorkflowTemplate").map((v) => [v.name, v] as const))("%s", async (_name, v) => {
    const namespace = v.rendered.document.metadata.namespace;
    const r = await withYamlFiles({ template: v.rendered.yaml, caller: caller(v.rendered.name, namespace) }, (paths) =>
      lintArgoFiles([paths.template!, paths.caller!]),
    );
    expect(r.ok, r.output).toBe(true);
    expect(r.output).toMatch(/^OK .*caller\.yaml Workflow\/release-$/m);
  });

  it("control: a caller naming a template main does not have fails", async () => {
    const v = variants[0]!;
    const bad = caller(v.rendered.name).replace("template: main", "template: mian");
    const r = await withYamlFiles({ template: v.rendered.yaml, caller: bad }, (paths) => lintArgoFiles([paths.template!, paths.caller!]));
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/mian/);
  });
});
