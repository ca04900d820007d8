import { beforeAll, describe, expect, it } from "vitest";
import { ARGO_LINT_BUILD_TIMEOUT_MS, ensureArgoLint, lintArgo } from "../support/argo-lint.js";
import { argoVariants, renderVariant } from "../support/argo-variants.js";

describe("exported Argo YAML passes Argo's own validation (argo lint --offline --strict code)", () => {
  beforeAll(async () => {
    await ensureArgoLint();
  }, ARGO_LINT_BUILD_TIMEOUT_MS);

  it.each(argoVariants().map((v) => [v.name, v] as const))("%s", async (_name, variant) => {
    const { yaml } = renderVariant(variant);
    const result = await lintArgo(yaml);
    expect(result.output).toMatch(/^OK /m);
    expect(result.ok, result.output).toBe(true);
  });

  it("fails an exported workflow with a broken parameter reference, so the check above can fail", async () => {
    const { yaml } = renderVariant(argoVariants()[0]!);
    const broken = yaml.replace("{{steps.version.outputs.parameters.shape}}", "{{steps.version.outputs.parameters.shapes}}");
    expect(broken).not.toBe(yaml);
    const result = await lintArgo(broken);
    expect(result.ok).toBe(false);
    expect(result.output).toContain("shapes");
  });
});
