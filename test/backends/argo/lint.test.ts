/**
 * Every variant of `packline argo` passes the upstream JSON schema with unknown fields refused, and Argo's own strict
 * decoding and validation (tools/argo-lint), expressions included.
 */

import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { ARGO_LINT_BUILD_TIMEOUT_MS, ensureArgoLint, lintArgo, lintArgoFiles, withYamlFiles } from "../../support/argo-lint.js";
import { schemaErrors } from "../../support/argo-schema.js";
import { argoVariants, type Rendered, renderVariant } from "../../support/argo-variants.js";

const variants = argoVariants().map((v) => ({ ...v, rendered: renderVariant(v) }));

/**
 * The YAML as Argo validates it on submission: a Workflow without --tag gets its tag from `argo submit -p tag=...`,
 * which sets the parameter's value (a WorkflowTemplate is validated without it).
 */
function asSubmitted(rendered: Rendered): string {
  if (rendered.kind !== "Workflow" || rendered.document.spec.arguments.parameters[0].value !== undefined) return rendered.yaml;
  const document = structuredClone(rendered.document);
  document.spec.arguments.parameters[0].value = "v1.2.3";
  return stringify(document);
}

describe("the upstream Argo schema, unknown fields refused", () => {
  it.each(variants.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    expect(schemaErrors(v.rendered.document)).toEqual([]);
  });
});

describe("Argo's own validation (argo-lint, Argo v4.0.5)", () => {
  beforeAll(async () => {
    await ensureArgoLint();
  }, ARGO_LINT_BUILD_TIMEOUT_MS);

  it(`passes all ${variants.length} variants, as submitted`, async () => {
    const results = await Promise.all(
      variants.map((v) => withYamlFiles({ [v.name]: asSubmitted(v.rendered) }, (paths) => lintArgoFiles(Object.values(paths)))),
    );
    results.forEach((r, i) => {
      expect(r.output, variants[i]!.name).toMatch(/^OK /m);
      expect(r.ok, `${variants[i]!.name}:\n${r.output}`).toBe(true);
    });
  });

  it("a Workflow without --tag needs the tag at submit (argo submit -p tag=...), as its header says", async () => {
    const v = variants.find((x) => x.raw.kind === "workflow" && x.raw.tag === undefined)!;
    expect(v.rendered.yaml).toContain("# Submit (with this YAML saved as build.yaml): argo submit build.yaml -p tag=v1.2.3");
    const r = await lintArgo(v.rendered.yaml);
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/inputs\.parameters\.tag was not supplied/);
  });

  it("control: a misspelt field, a step naming no template and a broken expression each fail", async () => {
    type Doc = ReturnType<typeof parse>;
    const breakages: [string, (document: Doc, build: Doc) => void, RegExp][] = [
      ["misspelt field", (_d, build) => (build.container.imagee = build.container.image), /unknown field .*imagee/],
      ["no such template", (d) => (d.spec.templates[0].steps[0][0].template = "resolv"), /template name 'resolv' undefined/],
      ["broken expression", (_d, build) => (build.retryStrategy.expression += " &&"), /invalid expression/],
    ];
    for (const [name, breakIt, message] of breakages) {
      const document = parse(variants[0]!.rendered.yaml);
      breakIt(
        document,
        document.spec.templates.find((t: { name: string }) => t.name === "build"),
      );
      const r = await lintArgo(stringify(document));
      expect(r.ok, name).toBe(false);
      expect(r.output, name).toMatch(message);
      if (name === "misspelt field") expect(schemaErrors(document)).toContainEqual(expect.stringMatching(/additional properties: imagee/));
    }
  });
});
