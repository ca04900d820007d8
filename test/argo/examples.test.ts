import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EXAMPLES } from "../../ci/argo/examples.js";
import { renderExample } from "../../scripts/render-example.js";

describe("ci/argo examples match what packline generates (npm run generate)", () => {
  it.each(EXAMPLES.map((e) => [e.file, e] as const))("%s", async (file, example) => {
    const committed = readFileSync(new URL(`../../ci/argo/${file}`, import.meta.url), "utf8");
    expect(committed, `ci/argo/${file} drifted: run npm run generate`).toBe(await renderExample(example));
  });

  it("renders byte-identical YAML for the same input", async () => {
    const [first, second] = await Promise.all([renderExample(EXAMPLES[0]!), renderExample(EXAMPLES[0]!)]);
    expect(first).toBe(second);
    expect(first.length).toBeGreaterThan(1000);
  });
});
