/**
 * No credential in any manifest (Secrets by reference only); the default executor has no privileged container and no
 * host path; the pack executor is the article's privileged form, and says so.
 */
import { describe, expect, it } from "vitest";
import { PACK_WARNING } from "../../../src/core/options/validate.js";
import type { Json } from "../../support/argo-lint.js";
import { buildPod, podContainer, unwrap } from "../../support/argo-pod.js";
import { argoVariants, containersOf, isDefaultExecutor, renderVariant, templatesOf } from "../../support/argo-variants.js";

const variants = argoVariants().map((v) => ({ ...v, rendered: renderVariant(v) }));

/** Every value of a document, with its path: for scanning a manifest for anything that looks like a credential. */
function leaves(value: Json, path = ""): [string, unknown][] {
  if (value === null || typeof value !== "object") return [[path, value]];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, `${path}/${k}`));
}

describe("no credential is ever written into a manifest", () => {
  it.each(variants.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const { document, yaml } = v.rendered;
    // No docker config, no auths, no password or token values anywhere.
    expect(yaml).not.toMatch(/\.dockerconfigjson"?:\s*\S|"auths"|^\s*(password|token|auth):\s*\S/im);
    for (const [path, value] of leaves(document)) {
      if (typeof value === "string") expect(value, path).not.toMatch(/\bhunter2\b|ghp_|glpat-|Bearer |Basic [A-Za-z0-9+/=]{8}/);
    }
    // Credentials only by reference: a Secret volume, or an env value from a Secret key.
    for (const { template, container } of containersOf(document)) {
      for (const env of container.env ?? []) {
        if (/PASSWORD|TOKEN|USERNAME|AUTH|SECRET/.test(env.name)) {
          expect(env.value, `${template}: ${env.name}`).toBeUndefined();
          expect(env.valueFrom?.secretKeyRef, `${template}: ${env.name}`).toBeDefined();
        }
      }
    }
  });

  it("--registry-secret is a Secret volume mounted read-only for the lifecycle and the registry steps", () => {
    const v = variants.find((x) => x.name === "registry secret")!;
    const pod = buildPod(v.rendered.document);
    expect(pod.volumes).toContainEqual({
      name: "registry-auth",
      secret: { secretName: "regcred", items: [{ key: ".dockerconfigjson", path: "config.json" }] },
    });
    for (const name of ["check", "build", "release"]) {
      const c = podContainer(pod, name);
      expect(c.volumeMounts, name).toContainEqual({ name: "registry-auth", mountPath: "/packline/docker", readOnly: true });
      expect(c.env, name).toContainEqual({ name: "DOCKER_CONFIG", value: "/packline/docker" });
    }
    // The containers that never talk to the registry do not get it.
    expect(JSON.stringify(podContainer(pod, "source"))).not.toContain("registry-auth");
    expect(JSON.stringify(templatesOf(v.rendered.document)["builder-user"])).not.toContain("regcred");
  });

  it("--git-secret reaches only the steps that fetch, as Secret key references", () => {
    const v = variants.find((x) => x.name === "git secret")!;
    const refs = containersOf(v.rendered.document).filter(({ container }) => JSON.stringify(container).includes("git-token"));
    expect(refs.map(({ template, container }) => `${template}/${container.name ?? "main"}`).sort()).toEqual(["build/source"]);
    for (const { container } of refs) {
      expect(container.env).toContainEqual({ name: "GIT_PASSWORD", valueFrom: { secretKeyRef: { name: "git-token", key: "password" } } });
      expect(container.env).toContainEqual({
        name: "GIT_USERNAME",
        valueFrom: { secretKeyRef: { name: "git-token", key: "username", optional: true } },
      });
    }
  });
});

describe("the default executor (creator) is daemonless and unprivileged", () => {
  const defaults = variants.filter(isDefaultExecutor);
  it("covers many variants", () => expect(defaults.length).toBeGreaterThanOrEqual(20));

  it.each(defaults.map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const { document, yaml, warnings } = v.rendered;
    for (const { template, container } of containersOf(document)) {
      expect(container.securityContext?.privileged, template).not.toBe(true);
      expect(container.securityContext, template).toMatchObject({
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        runAsNonRoot: true,
      });
      expect(container.securityContext.runAsUser, template).not.toBe(0);
    }
    for (const template of document.spec.templates) {
      for (const volume of template.volumes ?? []) expect(volume.hostPath, `${template.name}/${volume.name}`).toBeUndefined();
      expect(template.securityContext?.runAsUser, template.name).not.toBe(0);
    }
    expect(yaml).not.toContain("docker.sock");
    expect(yaml).not.toContain("buildpacksio/pack");
    expect(warnings.filter((w) => w.includes("privileged"))).toEqual([]);
  });
});

describe("the pack executor is the article's form, explicitly", () => {
  it.each(variants.filter((v) => !isDefaultExecutor(v)).map((v) => [v.name, v] as const))("%s", (_name, v) => {
    const pod = buildPod(v.rendered.document);
    const build = podContainer(pod, "build");
    expect(build.image).toMatch(/^buildpacksio\/pack:/);
    expect(build.securityContext).toEqual({ runAsUser: 0, privileged: true });
    // no prelude: the pack image has no shell
    expect(unwrap(build).prelude).toBeUndefined();
    expect(build.command.slice(0, 2)).toEqual(["pack", "build"]);
    expect(build.command).toContain("--publish");
    expect(pod.volumes).toContainEqual({ name: "docker-socket", hostPath: { path: "/var/run/docker.sock", type: "Socket" } });
    expect(v.rendered.warnings).toContain(PACK_WARNING);
  });
});
