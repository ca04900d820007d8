import { describe, expect, it } from "vitest";
import { argoVariants, renderVariant } from "../support/argo-variants.js";

/** Every container of every template (main containers and init containers). */
function containers(document: Record<string, any>): Record<string, any>[] {
  return document.spec.templates.flatMap((t: any) => [...(t.container ? [t.container] : []), ...(t.initContainers ?? [])]);
}

describe("the default executor (creator) is daemonless and unprivileged", () => {
  const creatorVariants = argoVariants().filter((v) => v.argo.executor === undefined);

  it("covers several variants", () => expect(creatorVariants.length).toBeGreaterThanOrEqual(7));

  it.each(creatorVariants.map((v) => [v.name, v] as const))("%s", (_name, variant) => {
    const { document, yaml } = renderVariant(variant);
    for (const container of containers(document)) {
      expect(container.securityContext?.privileged, container.image).not.toBe(true);
      expect(container.securityContext?.allowPrivilegeEscalation, container.image).toBe(false);
    }
    expect((document.spec.volumes ?? []).filter((v: any) => v.hostPath)).toEqual([]);
    expect(yaml).not.toContain("docker.sock");
    expect(yaml).not.toContain("buildpacksio/pack");
  });
});

describe("the pack executor is the article's form, explicitly", () => {
  it.each(argoVariants().filter((v) => v.argo.executor === "pack").map((v) => [v.name, v] as const))("%s", (_name, variant) => {
    const { document } = renderVariant(variant);
    const pack = containers(document).find((c) => c.image.startsWith("buildpacksio/pack"));
    expect(pack?.securityContext?.privileged).toBe(true);
    expect(pack?.command).toEqual(["pack", "build"]);
    expect(pack?.args).toContain("--publish");
    expect(document.spec.volumes).toContainEqual({ name: "docker-socket", hostPath: { path: "/var/run/docker.sock", type: "Socket" } });
  });
});

describe("no credential is ever written into a manifest", () => {
  it.each(argoVariants().map((v) => [v.name, v] as const))("%s", (_name, variant) => {
    const { document, yaml } = renderVariant(variant);
    // Credentials only by Secret reference: a secret volume, or env valueFrom.secretKeyRef.
    expect(yaml).not.toMatch(/^\s*(\.dockerconfigjson|auths|password|token):\s*\S/im);
    for (const container of containers(document)) {
      for (const env of container.env ?? []) {
        if (/PASSWORD|TOKEN|AUTH/.test(env.name)) expect(env.valueFrom?.secretKeyRef, env.name).toBeDefined();
      }
    }
  });
});
