/**
 * Self-test of the Argo checker (tools/argo-lint): it passes valid manifests and fails each kind of invalid one with a
 * message naming the problem; its substitution, pods, Pod Security verdicts and expressions are Argo's.
 */
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ARGO_LINT_BUILD_TIMEOUT_MS,
  ARGO_LINT_DIR,
  argoEval,
  argoLint,
  argoPods,
  ensureArgoLint,
  lintArgo,
  lintArgoFiles,
  resolveArgoTemplate,
} from "./argo-lint.js";

const fixture = (name: string) => join(ARGO_LINT_DIR, "testdata", name);

beforeAll(async () => {
  await ensureArgoLint();
}, ARGO_LINT_BUILD_TIMEOUT_MS);

describe("argo-lint: Argo's own strict lint", () => {
  it("passes the valid WorkflowTemplate and Workflow", async () => {
    const r = await lintArgoFiles([fixture("valid-workflowtemplate.yaml"), fixture("valid-workflow.yaml")]);
    expect(r.output).toMatch(/^OK .*valid-workflowtemplate\.yaml WorkflowTemplate\/packline-build$/m);
    expect(r.output).toMatch(/^OK .*valid-workflow\.yaml Workflow\/build-and-push-$/m);
    expect(r.ok).toBe(true);
  });

  it("resolves a workflowTemplateRef to a WorkflowTemplate in another linted file, and only then", async () => {
    const both = await lintArgoFiles([fixture("valid-workflowtemplate.yaml"), fixture("valid-workflow-from-template.yaml")]);
    expect(both.output).toMatch(/^OK .* Workflow\/packline-build-$/m);
    expect(both.ok).toBe(true);
    const alone = await lintArgoFiles([fixture("valid-workflow-from-template.yaml")]);
    expect(alone.ok).toBe(false);
    expect(alone.output).toContain('couldn\'t find workflow template "packline-build"');
  });

  const invalid: [string, RegExp][] = [
    ["invalid-unknown-field.yaml", /unknown field "spec\.templates\[2\]\.container\.imagee"/],
    ["invalid-undefined-parameter.yaml", /failed to resolve \{\{inputs\.parameters\.nope\}\}/],
    ["invalid-missing-template.yaml", /template name 'build-imag' undefined/],
    ["invalid-bad-expression.yaml", /invalid expression \{\{=sprig\.trim\(inputs\.parameters\.tag \+\)\}\}/],
    ["invalid-bad-retry-expression.yaml", /template main: invalid expression "asInt\(lastRetry\.exitCode\) in \[1, 2"/],
  ];
  it.each(invalid)("fails %s", async (name, message) => {
    const r = await lintArgoFiles([fixture(name)]);
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(new RegExp(`^ERROR .*${name.replace(/\./g, "\\.")} document 1 WorkflowTemplate/`, "m"));
    expect(r.output).toMatch(message);
    expect(r.output).not.toMatch(/^OK /m);
  });

  it("lints YAML text, several documents at once, and refuses a duplicate key", async () => {
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
    await expect(argoLint([])).rejects.toThrow(/exited 2/);
    await expect(argoLint(["resolve", fixture("pod-patch.yaml")])).rejects.toThrow(/exited 2/);
  });
});

describe("argo-lint resolve: the controller's substitution", () => {
  it("puts input values and globals in, and refuses an input without a value", async () => {
    const resolved = await resolveArgoTemplate(await readFile(fixture("valid-workflowtemplate.yaml"), "utf8"), "build", {
      "inputs.parameters.tag": "v9.9.9",
    });
    expect(resolved.container.args[0]).toBe("registry.example.com/acme/app:v9.9.9");
    await expect(resolveArgoTemplate(await readFile(fixture("valid-workflowtemplate.yaml"), "utf8"), "build", {})).rejects.toThrow(
      /inputs\.parameters\.tag had no value/,
    );
  });
});

describe("argo-lint pods: the pod the controller makes, with its Pod Security verdict", () => {
  it("adds Argo's init and wait containers and applies the template's podSpecPatch by container name", async () => {
    const pods = await argoPods(await readFile(fixture("pod-patch.yaml"), "utf8"), { "inputs.parameters.uid": "1001" });
    const byName = Object.fromEntries(pods.map((p) => [p.template, p]));
    const patched = byName.patched!;
    expect(patched.pod.initContainers.map((c: { name: string }) => c.name)).toEqual(["init", "prepare"]);
    expect(patched.pod.containers.map((c: { name: string }) => c.name)).toEqual(["wait", "main"]);
    expect(patched.pod.containers[0].image).toBe("quay.io/argoproj/argoexec:v4.0.5");
    expect(patched.pod.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    // The patch's pod securityContext merges into the template's: both fields are there.
    expect(patched.pod.securityContext).toEqual({ runAsUser: 1001, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(patched.pod.volumes.map((v: { name: string }) => v.name)).toEqual(["var-run-argo", "tmp-dir-argo"]);
    expect(patched.podSecurity.restricted).toEqual({ allowed: true, failures: [] });
  });

  it("finds Argo's own containers outside restricted when nothing patches them", async () => {
    const pods = await argoPods(await readFile(fixture("pod-patch.yaml"), "utf8"), { "inputs.parameters.uid": "1001" });
    const unpatched = pods.find((p) => p.template === "unpatched")!;
    expect(unpatched.podSecurity.restricted.allowed).toBe(false);
    expect(unpatched.podSecurity.restricted.failures.map((f) => f.check)).toEqual(["allowPrivilegeEscalation", "capabilities_restricted"]);
    expect(unpatched.podSecurity.restricted.failures[0]!.detail).toContain('"init", "wait"');
    expect(unpatched.podSecurity.baseline.allowed).toBe(true);
  });
});

describe("argo-lint eval: expressions as the controller evaluates them", () => {
  it("evaluates each kind with Argo's variables and functions, and reports errors", async () => {
    const results = await argoEval([
      { kind: "retry", expression: "asInt(lastRetry.exitCode) in [1, 62]", vars: { "lastRetry.exitCode": "62", "lastRetry.status": "Failed" } },
      { kind: "retry", expression: "asInt(lastRetry.exitCode) in [1, 62]", vars: { "lastRetry.exitCode": "3", "lastRetry.status": "Failed" } },
      { kind: "value", expression: "steps.a.outputs.parameters.x + '!'", vars: { "steps.a.outputs.parameters.x": "hi" } },
      { kind: "text", text: "v{{=sprig.upper(inputs.parameters.v)}} {{inputs.parameters.v}}", vars: { "inputs.parameters.v": "rc" } },
      { kind: "when", text: "{{steps.a.outputs.parameters.x}} == yes", vars: { "steps.a.outputs.parameters.x": "yes" } },
      { kind: "when", text: "{{steps.a.outputs.parameters.x}} == yes", vars: { "steps.a.outputs.parameters.x": "no" } },
      { kind: "text", text: "{{steps.missing.outputs.parameters.x}}", vars: {} },
      { kind: "value", expression: "1 +", vars: {} },
    ]);
    expect(results.slice(0, 6).map((r) => r.result)).toEqual([true, false, "hi!", "vRC rc", true, false]);
    expect(results[6]!.error).toMatch(/failed to resolve \{\{steps\.missing/);
    expect(results[7]!.error).toMatch(/unexpected token EOF/);
  });
});

describe("argoLint: a checker that exits before it reads its input", () => {
  // A checker that refuses its arguments exits without reading stdin, and the write then fails with EPIPE. Unhandled,
  // that error failed a whole `npm test` run with every test green (issue 18). Run in a process of its own, where an
  // unhandled error ends the process, so that this test, and not only the run, fails.
  it("gives the exit code and stderr, and the EPIPE of the unread input is no error", () => {
    const script = `
      import { argoLint } from ${JSON.stringify(join(ARGO_LINT_DIR, "../../test/support/argo-lint.ts"))};
      const input = "x".repeat(16 * 1024 * 1024);
      for (let i = 0; i < 3; i++) {
        await argoLint(["/nonexistent/packline-argo-lint.yaml"], input).then(
          () => console.log("resolved"),
          (error) => console.log(error.message.split("\\n")[0]),
        );
      }`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 120_000 });
    expect(r.stderr).not.toMatch(/EPIPE/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("argo-lint /nonexistent/packline-argo-lint.yaml exited 2 (usage or I/O error):\n".repeat(3));
  });
});
