/**
 * Values with "{{ }}", quotes, $(...), spaces or newlines must reach the container exactly as given. Argo expands
 * {{...}} in every string of a template, several times, with no escape, and re-expands values inserted from
 * parameters (see test/argo-lint/resolve.go); Kubernetes expands $(VAR) in command, args and env values; and a shell
 * runs the preparation script. So the exporter sends such values base64-encoded and decodes them inside the pod.
 *
 * This test shows how Argo sees them: the template goes through Argo's own substitution code (argo-lint resolve), and
 * the resolved preparation script runs with /bin/sh, as in the pod, writing the files the lifecycle reads.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportArgo } from "../../src/argo/export.js";
import { ARGO_LINT_BUILD_TIMEOUT_MS, ensureArgoLint, lintArgo, resolveArgoTemplate } from "../support/argo-lint.js";

const NASTY: Record<string, string> = {
  TEMPLATE: "{{workflow.name}} and {{inputs.parameters.version}}",
  EXPRESSION: "{{=sprig.upper('x')}}",
  UNKNOWN_TAG: "{{nope}}",
  QUOTES: `it's "quoted" and \`backticked\``,
  SUBSHELL: "$(touch /tmp/packline-pwned) ${HOME} $HOME $(HOME)",
  SPACES: "  leading and trailing  ",
  NEWLINES: "line one\nline two\r\n\ttabbed\n",
  UNICODE: "naïve ☃ 日本",
  BACKSLASH: "C:\\path\\n not a newline",
};

const VARS = {
  "workflow.name": "wf-abc",
  "workflow.uid": "6f1c2e64-0000-4000-8000-000000000000",
  "inputs.parameters.version": "1.2.3",
  "inputs.parameters.major": "1",
  "inputs.parameters.minor": "2",
};

const work = mkdtempSync(join(tmpdir(), "packline-injection-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("user values reach the container unchanged through Argo", () => {
  let yaml = "";
  beforeAll(async () => {
    await ensureArgoLint();
    yaml = exportArgo(
      {
        repo: "https://github.com/acme/app",
        image: "registry.example.com/acme/app",
        tag: "v1.2.3",
        env: Object.entries(NASTY).map(([k, v]) => `${k}=${v}`),
      },
      {},
    ).yaml;
  }, ARGO_LINT_BUILD_TIMEOUT_MS);

  it("the YAML carries none of the values in the clear, and passes Argo's lint", async () => {
    for (const value of Object.values(NASTY)) {
      if (value.trim().length > 6) expect(yaml).not.toContain(value.trim());
    }
    expect((await lintArgo(yaml)).ok).toBe(true);
  });

  it("after Argo's substitution, the preparation script writes every value byte for byte", async () => {
    const template = await resolveArgoTemplate(yaml, "build", VARS);
    const prepare = template.initContainers[0];
    // Map the pod's paths into a scratch directory and run the resolved script as the pod would.
    const root = join(work, "pod");
    for (const dir of ["workspace", "layers", "cache", "platform"]) mkdirSync(join(root, dir), { recursive: true });
    const script = (prepare.args[0] as string).replace(/'\/(workspace|layers|cache|platform)/g, `'${root}/$1`);
    const env: Record<string, string> = { PATH: process.env.PATH!, CNB_USER_ID: String(process.getuid!()), CNB_GROUP_ID: String(process.getgid!()) };
    for (const e of prepare.env) env[e.name] = e.value;
    execFileSync("sh", ["-c", script], { env, stdio: "pipe" });

    for (const [name, value] of Object.entries(NASTY)) {
      expect(readFileSync(join(root, "platform", "env", name), "utf8"), name).toBe(value);
    }
    expect(() => readFileSync("/tmp/packline-pwned")).toThrow();
    // And the creator's own arguments got the version, resolved by the same code.
    expect(template.container.args.at(-1)).toBe("registry.example.com/acme/app:1.2.3");
  });

  it("control: the same values placed directly in a template would be rewritten by Argo", async () => {
    const naive = parse(yaml);
    const build = naive.spec.templates.find((t: any) => t.name === "build");
    build.container.env.push(...Object.entries(NASTY).map(([name, value]) => ({ name: `RAW_${name}`, value })));
    const { stringify } = await import("yaml");
    const template = await resolveArgoTemplate(stringify(naive), "build", VARS);
    const raw = Object.fromEntries(template.container.env.map((e: any) => [e.name, e.value]));
    expect(raw.RAW_TEMPLATE).toBe("wf-abc and 1.2.3");
    expect(raw.RAW_EXPRESSION).toBe("X");
    expect(raw.RAW_TEMPLATE).not.toBe(NASTY.TEMPLATE);
  });

  it("a submit-time ref with shell syntax is passed to git as one argument, never run", async () => {
    const template = await resolveArgoTemplate(yaml, "clone", { ...VARS, "workflow.parameters.ref": "$(touch /tmp/packline-pwned-ref)" });
    const env = Object.fromEntries(template.container.env.map((e: any) => [e.name, e.value]));
    expect(env.PACKLINE_REF).toBe("$(touch /tmp/packline-pwned-ref)");
    // Run the resolved clone script against a local repository: git refuses the ref, and nothing else runs.
    const origin = join(work, "origin");
    execFileSync("sh", ["-c", `git init -q ${origin} && cd ${origin} && echo hi > a && git add a && git -c user.email=a@b -c user.name=n commit -qm x`]);
    const script = (template.container.args[0] as string).split("/work/").join(`${work}/clone/`).split("/tmp/packline").join(`${work}/out`);
    let failed = false;
    try {
      execFileSync("sh", ["-c", script], { env: { PATH: process.env.PATH!, PACKLINE_REPO: `file://${origin}`, PACKLINE_REF: env.PACKLINE_REF, PACKLINE_TAG: "v1.2.3" }, stdio: "pipe" });
    } catch {
      failed = true;
    }
    expect(failed).toBe(true);
    expect(() => readFileSync("/tmp/packline-pwned-ref")).toThrow();
  });
});
