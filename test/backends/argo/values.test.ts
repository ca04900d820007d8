/**
 * Values the old stand-in versions (90001.90002.90003, text-replaced afterwards) corrupted or refused (issue 7) appear
 * unchanged in the workflow, where they belong, and the workflow passes Argo's validation.
 */
import { Buffer } from "node:buffer";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { exportArgo } from "../../../src/backends/argo/export.js";
import type { RawInput } from "../../../src/core/options/input.js";
import { ARGO_LINT_BUILD_TIMEOUT_MS, ensureArgoLint, type Json, lintArgo } from "../../support/argo-lint.js";
import { buildPod, podContainer, scriptOf, unwrap } from "../../support/argo-pod.js";
import { BASE, templatesOf } from "../../support/argo-variants.js";

const render = (raw: RawInput) => {
  const { yaml, name } = exportArgo({ ...BASE, tag: "1.2.3", ...raw });
  const document = parse(yaml);
  const pod = buildPod(document);
  return { yaml, name, templates: templatesOf(document), c: (step: string) => podContainer(pod, step) };
};
const envOf = (container: Json) => Object.fromEntries((container.env ?? []).map((e: Json) => [e.name, e.value]));

beforeAll(async () => {
  await ensureArgoLint();
}, ARGO_LINT_BUILD_TIMEOUT_MS);

describe("values with the old stand-in digits, and a repository URL with a trailing slash", () => {
  it("--image registry.example.com/team90001/app", async () => {
    const { yaml, c } = render({ image: "registry.example.com/team90001/app" });
    expect(unwrap(c("build")).argv.at(-1)).toBe("registry.example.com/team90001/app:packline-staging");
    for (const step of ["check", "release"]) expect(envOf(c(step)).PACKLINE_IMAGE).toBe("registry.example.com/team90001/app");
    expect(yaml).not.toMatch(/team\{\{/);
    expect((await lintArgo(yaml)).ok).toBe(true);
  });

  it("--run-image ...:90001.90002", async () => {
    const { yaml, c } = render({ runImage: "registry.example.com/acme/run:90001.90002" });
    // the check pins it (pin.ts); the build reads what it pinned
    expect(c("check").env).toContainEqual({ name: "PACKLINE_RUN_IMAGE", value: "registry.example.com/acme/run:90001.90002" });
    expect((await lintArgo(yaml)).ok).toBe(true);
  });

  it("--cache-image ...:v90001", async () => {
    const { yaml, c } = render({ cacheImage: "registry.example.com/acme/cache:v90001" });
    expect(unwrap(c("build")).argv).toContain("-cache-image=registry.example.com/acme/cache:v90001");
    expect((await lintArgo(yaml)).ok).toBe(true);
  });

  it("--builder registry.example.com/builder:90001", async () => {
    const { yaml, templates, c } = render({ builder: "registry.example.com/builder:90001" });
    expect(c("build").image).toBe("registry.example.com/builder:90001");
    expect(templates["builder-user"].container.image).toBe("registry.example.com/builder:90001");
    expect((await lintArgo(yaml)).ok).toBe(true);
  });

  it("--env PORT_90001=1", async () => {
    const { yaml, c } = render({ env: ["PORT_90001=1"] });
    const source = c("source");
    expect(scriptOf(source)).toContain("'/platform/env/PORT_90001'");
    expect(envOf(source).PACKLINE_FILE_0).toEqual(Buffer.from("1").toString("base64"));
    expect((await lintArgo(yaml)).ok).toBe(true);
  });

  it("--tag 90001.90002.90003 itself is just a version", async () => {
    const { yaml } = render({ tag: "90001.90002.90003" });
    const document = parse(yaml);
    expect(document.spec.arguments.parameters[0]).toMatchObject({ name: "tag", value: "90001.90002.90003" });
    expect(yaml.match(/90001/g)).toHaveLength(2); // the parameter's default and the submit hint in the header
    expect((await lintArgo(yaml)).ok).toBe(true);
  });

  it("--repo https://github.com/acme/web-app/ (trailing slash) names the template after web-app, and is cloned as given", async () => {
    const { yaml, name, c } = render({ repo: "https://github.com/acme/web-app/" });
    expect(name).toBe("packline-web-app");
    expect(envOf(c("source")).PACKLINE_REPO).toBe("https://github.com/acme/web-app/");
    expect((await lintArgo(yaml)).ok).toBe(true);
  });
});
