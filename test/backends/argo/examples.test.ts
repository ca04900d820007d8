/**
 * ci/argo/ holds what packline generates (npm run generate): no drift, every file passes the schema and Argo's own
 * validation (the caller workflow together with the template it calls), and README.md lists every file.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { EXAMPLES } from "../../../ci/argo/examples.js";
import { CALLED_TEMPLATE, renderExample } from "../../../scripts/render-example.js";
import { ARGO_LINT_BUILD_TIMEOUT_MS, ensureArgoLint, lintArgoFiles } from "../../support/argo-lint.js";
import { schemaErrors } from "../../support/argo-schema.js";

const dir = fileURLToPath(new URL("../../../ci/argo/", import.meta.url));
const committed = (file: string) => readFileSync(`${dir}${file}`, "utf8");

describe("ci/argo examples match what packline generates (npm run generate)", () => {
  it.each(EXAMPLES.map((e) => [e.file, e] as const))("%s", (file, example) => {
    expect(committed(file), `ci/argo/${file} drifted: run npm run generate`).toBe(renderExample(example));
    expect(schemaErrors(parse(committed(file)))).toEqual([]);
  });

  it("every YAML file in ci/argo is an example, and README.md names each one", () => {
    const yamls = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
    expect(yamls.sort()).toEqual(EXAMPLES.map((e) => e.file).sort());
    const readme = committed("README.md");
    for (const e of EXAMPLES) expect(readme, e.file).toContain(`[\`${e.file}\`](${e.file})`);
  });

  it("the caller calls the template of workflow-template.yaml", () => {
    expect(parse(committed("workflow-template.yaml")).metadata.name).toBe(CALLED_TEMPLATE);
  });
});

describe("ci/argo examples pass Argo's own validation", () => {
  beforeAll(async () => {
    await ensureArgoLint();
  }, ARGO_LINT_BUILD_TIMEOUT_MS);

  it("all together (the caller's templateRef resolves to workflow-template.yaml)", async () => {
    const r = await lintArgoFiles(EXAMPLES.map((e) => `${dir}${e.file}`));
    expect(r.ok, r.output).toBe(true);
    expect(r.output.match(/^OK /gm)).toHaveLength(EXAMPLES.length);
  });
});
