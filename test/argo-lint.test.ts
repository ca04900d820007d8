// The Argo checker (test/argo-lint) must pass valid manifests and fail each kind
// of invalid one with a message that names the problem.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { ARGO_LINT_BUILD_TIMEOUT_MS, ensureArgoLint, lintArgo, lintArgoFiles } from "./support/argo-lint.js";

const fixture = (name: string) => fileURLToPath(new URL(`./argo-lint/testdata/${name}`, import.meta.url));

describe("argo-lint (Argo's own strict lint code)", () => {
  let bin = "";
  beforeAll(async () => {
    bin = await ensureArgoLint();
  }, ARGO_LINT_BUILD_TIMEOUT_MS);

  it("passes the valid WorkflowTemplate", async () => {
    const r = await lintArgoFiles([fixture("valid-workflowtemplate.yaml")]);
    expect(r.output).toContain("OK ");
    expect(r.output).toContain("WorkflowTemplate/packline-build");
    expect(r.ok).toBe(true);
  });

  it("passes the valid Workflow", async () => {
    const r = await lintArgoFiles([fixture("valid-workflow.yaml")]);
    expect(r.output).toMatch(/^OK .*valid-workflow\.yaml Workflow\/build-and-push-$/m);
    expect(r.ok).toBe(true);
  });

  it("resolves a workflowTemplateRef to a WorkflowTemplate in another linted file", async () => {
    const both = await lintArgoFiles([fixture("valid-workflowtemplate.yaml"), fixture("valid-workflow-from-template.yaml")]);
    expect(both.output).toMatch(/^OK .* Workflow\/packline-build-$/m);
    expect(both.ok).toBe(true);

    const alone = await lintArgoFiles([fixture("valid-workflow-from-template.yaml")]);
    expect(alone.ok).toBe(false);
    expect(alone.output).toContain('couldn\'t find workflow template "packline-build"');
  });

  const invalid: Array<[string, RegExp]> = [
    ["invalid-unknown-field.yaml", /unknown field "spec\.templates\[2\]\.container\.imagee"/],
    ["invalid-undefined-parameter.yaml", /failed to resolve \{\{inputs\.parameters\.nope\}\}/],
    ["invalid-missing-template.yaml", /template name 'build-imag' undefined/],
    ["invalid-bad-expression.yaml", /invalid expression \{\{=sprig\.trim\(inputs\.parameters\.tag \+\)\}\}/],
  ];
  for (const [name, message] of invalid) {
    it(`fails ${name}`, async () => {
      const r = await lintArgoFiles([fixture(name)]);
      expect(r.ok).toBe(false);
      expect(r.exitCode).toBe(1);
      expect(r.output).toMatch(new RegExp(`^ERROR .*${name.replace(/\./g, "\\.")} document 1 WorkflowTemplate/`, "m"));
      expect(r.output).toMatch(message);
      expect(r.output).not.toMatch(/^OK /m);
    });
  }

  it("lintArgo() lints YAML text, several documents at once", async () => {
    const template = await readFile(fixture("valid-workflowtemplate.yaml"), "utf8");
    const workflow = await readFile(fixture("valid-workflow-from-template.yaml"), "utf8");
    const good = await lintArgo(`${template}\n---\n${workflow}`);
    expect(good.ok, good.output).toBe(true);
    expect(good.output.match(/^OK /gm)).toHaveLength(2);

    const bad = await lintArgo(template.replace("  entrypoint: main\n", "  entrypoint: main\n  entrypoint: main\n"));
    expect(bad.ok).toBe(false);
    expect(bad.output).toMatch(/key "entrypoint" already set/);
  });

  it("exits 2 on a usage error", async () => {
    const code = await new Promise<number | string | null | undefined>((resolve) =>
      execFile(bin, [], (error) => resolve(error ? error.code : 0)),
    );
    expect(code).toBe(2);
  });
});
