/**
 * `--name`: the workflow that runs is named `<name>-` and 5 random characters, whether the export is a Workflow
 * (`generateName: <name>-`) or a WorkflowTemplate (`argo submit --from workflowtemplate/<name>`; Argo's resubmit and
 * event dispatch add the suffix themselves, untruncated: workflow/util FormulateResubmitWorkflow, RandSuffix), and
 * Argo's validation refuses workflow names over 63 characters. So a name over 57 characters is refused by packline,
 * and the longest it takes is one Argo runs: proved with Argo's own validation (tools/argo-lint).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { exportArgo } from "../../../src/backends/argo/export.js";
import { MAX_ARGO_NAME } from "../../../src/core/options/checks-argo.js";
import { ARGO_LINT_BUILD_TIMEOUT_MS, ensureArgoLint, lintArgoFiles, withYamlFiles } from "../../support/argo-lint.js";
import { BASE } from "../../support/argo-variants.js";
import { packlineError } from "../../support/errors.js";

beforeAll(async () => {
  await ensureArgoLint();
}, ARGO_LINT_BUILD_TIMEOUT_MS);

/** The Workflow `argo submit --from workflowtemplate/<template> -p tag=v1.2.3` makes, once it has its name. */
const submitted = (template: string, name: string) =>
  stringify({
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { name },
    spec: { workflowTemplateRef: { name: template }, arguments: { parameters: [{ name: "tag", value: "v1.2.3" }] } },
  });

describe("--name: the workflow it makes fits Argo's 63 characters", () => {
  it(`a name of ${MAX_ARGO_NAME} characters: the template and its submitted workflow (<name>-xxxxx, 63) pass Argo's validation`, async () => {
    const name = `a${"b".repeat(MAX_ARGO_NAME - 1)}`;
    for (const kind of ["workflow-template", "workflow"]) {
      const exported = exportArgo({ ...BASE, kind, name, tag: "v1.2.3" });
      if (kind === "workflow") {
        const named = exported.yaml.replace(`generateName: ${name}-`, `name: ${name}-x7k2p`);
        const r = await withYamlFiles({ wf: named }, (p) => lintArgoFiles([p.wf!]));
        expect(r.ok, r.output).toBe(true);
      } else {
        const r = await withYamlFiles({ template: exported.yaml, wf: submitted(name, `${name}-x7k2p`) }, (p) => lintArgoFiles([p.template!, p.wf!]));
        expect(r.ok, r.output).toBe(true);
      }
    }
  });

  it("one character more is refused by packline, as Argo refuses the workflow it would make", async () => {
    const name = "a".repeat(MAX_ARGO_NAME + 1);
    for (const kind of ["workflow-template", "workflow"]) {
      expect(packlineError(() => exportArgo({ ...BASE, kind, name })).message).toMatch(
        /^--name "a{58}" is not a valid Kubernetes name: use at most 57/,
      );
    }
    // Control: the same template under a 58-character name, as an older packline wrote it, and its submitted workflow.
    const template = exportArgo({ ...BASE, name: "a".repeat(MAX_ARGO_NAME) }).yaml.replaceAll("a".repeat(MAX_ARGO_NAME), name);
    const r = await withYamlFiles({ template, wf: submitted(name, `${name}-x7k2p`) }, (p) => lintArgoFiles([p.template!, p.wf!]));
    expect(r.ok).toBe(false);
    expect(r.output).toContain(`workflow name "${name}-x7k2p" must not be more than 63 characters long (currently 64)`);
  });
});
