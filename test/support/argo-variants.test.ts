/** Self-test of the variant matrix: it exercises every `argo` option, renders, and RUN_VARS feed every template. */
import { describe, expect, it } from "vitest";
import { OPTIONS } from "../../src/core/options/table.js";
import { argoVariants, containersOf, isDefaultExecutor, RUN_VARS, renderVariant, templatesOf } from "./argo-variants.js";

const variants = argoVariants();

describe("argoVariants", () => {
  it("gives every option of packline argo a value other than its default somewhere", () => {
    const options = OPTIONS.filter((o) => o.commands.includes("argo") && o.only !== "cli");
    expect(options.length).toBeGreaterThan(30);
    const given = (v: (typeof variants)[number], name: string): unknown => (v.raw as Readonly<Record<string, unknown>>)[name];
    const missing = options.filter(
      (o) => !variants.some((v) => given(v, o.name) !== undefined && JSON.stringify(given(v, o.name)) !== JSON.stringify(o.default)),
    );
    expect(missing.map((o) => o.name)).toEqual([]);
  });

  it("covers both kinds and both executors, the default executor more than once", () => {
    const rendered = variants.map((v) => ({ v, r: renderVariant(v) }));
    expect(new Set(rendered.map(({ r }) => r.kind))).toEqual(new Set(["Workflow", "WorkflowTemplate"]));
    expect(variants.filter((v) => !isDefaultExecutor(v)).length).toBeGreaterThanOrEqual(4);
    expect(variants.filter(isDefaultExecutor).length).toBeGreaterThanOrEqual(20);
    expect(new Set(variants.map((v) => v.name)).size).toBe(variants.length);
  });

  it("RUN_VARS give every input parameter of every container template a value", () => {
    for (const variant of variants) {
      const { document } = renderVariant(variant);
      for (const template of Object.values(templatesOf(document))) {
        if (!template.container) continue;
        for (const input of template.inputs?.parameters ?? []) {
          expect(RUN_VARS[`inputs.parameters.${input.name}`], `${variant.name}: ${template.name}.${input.name}`).toBeDefined();
        }
      }
    }
  });

  it("containersOf finds init containers too", () => {
    const { document } = renderVariant(variants[0]!);
    const names = containersOf(document).map(({ template, container }) => `${template}/${container.name ?? "main"}`);
    expect(names).toContain("build/source");
    expect(names).toContain("build/main");
  });
});
