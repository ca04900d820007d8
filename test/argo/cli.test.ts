import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";

const BASE = ["--repo", "https://github.com/acme/app", "--image", "registry.example.com/acme/app"];

async function run(...args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(["node", "packline", "argo", ...args], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: {},
  });
  return { code, stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), "packline-argo-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("packline argo", () => {
  it("makes the version a required parameter without --tag, and its default with --tag", async () => {
    const without = parse((await run(...BASE)).stdout);
    expect(without.spec.arguments.parameters[0]).toEqual({ name: "tag", description: expect.any(String) });
    const withTag = parse((await run(...BASE, "--tag", "v1.2.3")).stdout);
    expect(withTag.spec.arguments.parameters[0]).toMatchObject({ name: "tag", value: "v1.2.3" });
  });

  it("makes --ref the ref parameter's default, empty (clone the tag) without it", async () => {
    const withRef = parse((await run(...BASE, "--ref", "release/1.x")).stdout);
    expect(withRef.spec.arguments.parameters[1]).toMatchObject({ name: "ref", value: "release/1.x" });
    const withoutRef = parse((await run(...BASE, "--tag", "v1.2.3")).stdout);
    expect(withoutRef.spec.arguments.parameters[1]).toMatchObject({ name: "ref", value: "" });
  });

  it("gives a WorkflowTemplate by default and a Workflow with generateName on request", async () => {
    const template = parse((await run(...BASE, "--name", "web", "--namespace", "builds", "--service-account", "builder")).stdout);
    expect(template.kind).toBe("WorkflowTemplate");
    expect(template.metadata).toMatchObject({ name: "web", namespace: "builds" });
    expect(template.spec.serviceAccountName).toBe("builder");
    const workflow = parse((await run(...BASE, "--kind", "workflow", "--name", "web")).stdout);
    expect(workflow.kind).toBe("Workflow");
    expect(workflow.metadata.generateName).toBe("web-");
    expect(workflow.metadata.name).toBeUndefined();
  });

  it("warns on stderr for the pack executor, and only then", async () => {
    const pack = await run(...BASE, "--executor", "pack");
    expect(pack.code).toBe(0);
    expect(pack.stderr).toMatch(/warning: --executor pack mounts the node's Docker socket into a privileged pod/);
    expect((await run(...BASE)).stderr).toBe("");
  });

  it("writes -o only when everything is valid", async () => {
    const good = join(dir, "good.yaml");
    expect((await run(...BASE, "-o", good)).code).toBe(0);
    expect(readFileSync(good, "utf8")).toContain("kind: WorkflowTemplate");
    const bad = join(dir, "bad.yaml");
    expect((await run(...BASE, "--name", "Not_Valid", "-o", bad)).code).toBe(1);
    expect(existsSync(bad)).toBe(false);
  });

  it.each([
    [["--kind", "cronworkflow"], 2, /'cronworkflow' is invalid\. Allowed choices are workflow-template, workflow/],
    [["--executor", "kaniko"], 2, /'kaniko' is invalid\. Allowed choices are creator, pack/],
    [["--name", "Not_Valid"], 1, /--name "Not_Valid" is not a valid Kubernetes name: .* e\.g\. "not-valid"/],
    [["--namespace", "-x"], 1, /--namespace "-x" is not a valid Kubernetes name/],
    [["--registry-secret", "Reg Cred"], 1, /--registry-secret "Reg Cred" is not a valid Kubernetes name/],
    [["--registry-secret", "regcred", "--registry-password", "hunter2"], 1, /--registry-secret "regcred" and --registry-username\/--registry-password were both given/],
    [["--registry-username", "me", "--registry-password", "env:X"], 1, /packline argo takes registry credentials from a Kubernetes Secret/],
    [["--tag", "1.0"], 1, /--tag "1\.0" is not a semantic version/],
    [["--memory-limit", "4 GB"], 1, /--memory-limit "4 GB" is not a Kubernetes quantity/],
    [["--retries", "-1"], 1, /--retries "-1" must be a whole number from 0 to 10/],
    [["--deadline", "soon"], 1, /--deadline "soon" must be a whole number/],
    [["--source", "."], 1, /packline argo takes no --source/],
  ] as const)("refuses %j", async (args, code, message) => {
    const result = await run(...BASE, ...args);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe("");
    expect(result.stderr).not.toContain("hunter2");
  });

  it("refuses a build without --repo or --image", async () => {
    expect((await run("--image", "registry.example.com/acme/app")).stderr).toMatch(/packline argo needs --repo/);
    expect((await run("--repo", "https://github.com/acme/app")).stderr).toMatch(/packline argo needs --image/);
  });
});
