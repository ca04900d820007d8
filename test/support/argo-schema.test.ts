/** Self-test of the strict schema validator: the vendored schema is upstream's, and the strictness is ours. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ARGO_LINT_DIR } from "./argo-lint.js";
import { SCHEMA_PATH, schemaErrors } from "./argo-schema.js";

const Ajv2020 = createRequire(import.meta.url)("ajv/dist/2020") as typeof import("ajv/dist/2020").default;
const fixture = (name: string) => parse(readFileSync(join(ARGO_LINT_DIR, "testdata", name), "utf8"));

describe("the vendored Argo schema", () => {
  it("is the file its README names, byte for byte, with its licence beside it", () => {
    const readme = readFileSync(join(ARGO_LINT_DIR, "schema", "README.md"), "utf8");
    const recorded = /sha256 \| `([0-9a-f]{64})`/.exec(readme)?.[1];
    expect(createHash("sha256").update(readFileSync(SCHEMA_PATH)).digest("hex")).toBe(recorded);
    expect(readFileSync(join(ARGO_LINT_DIR, "schema", "LICENSE"), "utf8")).toMatch(/Apache License\s+Version 2\.0/);
  });
});

describe("schemaErrors", () => {
  it("passes valid documents of each kind", () => {
    expect(schemaErrors(fixture("valid-workflowtemplate.yaml"))).toEqual([]);
    expect(schemaErrors(fixture("valid-workflow.yaml"))).toEqual([]);
    expect(schemaErrors(fixture("pod-patch.yaml"))).toEqual([]);
  });

  it("refuses an unknown field, which the raw schema lets through", () => {
    const document = fixture("valid-workflowtemplate.yaml");
    document.spec.templates[2].container.imagee = "alpine";
    expect(schemaErrors(document)).toEqual(["/spec/templates/2/container must NOT have additional properties: imagee"]);
    const raw = new Ajv2020({ strict: false, validateFormats: false }).compile(JSON.parse(readFileSync(SCHEMA_PATH, "utf8")));
    expect(raw(document)).toBe(true);
  });

  it("refuses a bare number where Argo's schema types IntOrString as a string", () => {
    const document = fixture("pod-patch.yaml");
    document.spec.templates[0].retryStrategy = { limit: 3 };
    expect(schemaErrors(document)).toContainEqual("/spec/templates/0/retryStrategy/limit must be string");
    document.spec.templates[0].retryStrategy = { limit: "3" };
    expect(schemaErrors(document)).toEqual([]);
  });

  it("refuses a document of no Argo kind", () => {
    expect(schemaErrors({ apiVersion: "v1", kind: "Pod" })).toEqual(['/kind "Pod" is not an Argo Workflows kind']);
    expect(schemaErrors(null)).toEqual(["/kind undefined is not an Argo Workflows kind"]);
  });
});
