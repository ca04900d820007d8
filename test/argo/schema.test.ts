import { describe, expect, it } from "vitest";
import { schemaErrors } from "../support/argo-schema.js";
import { argoVariants, renderVariant } from "../support/argo-variants.js";

describe("exported Argo YAML against the upstream schema (unknown fields refused)", () => {
  it.each(argoVariants().map((v) => [v.name, v] as const))("%s", (_name, variant) => {
    const { document } = renderVariant(variant);
    expect(schemaErrors(document)).toEqual([]);
  });

  it("refuses a misspelt field, so the check above can fail", () => {
    const { document } = renderVariant(argoVariants()[0]!);
    document.spec.templates[1].container.imagee = document.spec.templates[1].container.image;
    expect(schemaErrors(document).join("\n")).toContain("imagee");
  });

  it("refuses a bare number where Kubernetes takes IntOrString", () => {
    const variant = argoVariants().find((v) => v.argo.retries === 3)!;
    const { document } = renderVariant(variant);
    const clone = document.spec.templates.find((t: any) => t.name === "clone");
    expect(clone.retryStrategy.limit).toBe("3");
    clone.retryStrategy.limit = 3;
    expect(schemaErrors(document).length).toBeGreaterThan(0);
  });
});
