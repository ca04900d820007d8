/**
 * Restricted pods (issue 10, part 1): every pod the default workflow makes meets the Pod Security Standards'
 * "restricted" profile. The pod is the one Argo's controller makes of each template (tools/argo-lint pods: the
 * template's securityContext, its containers and init containers, Argo's own init and wait containers, the
 * template's podSpecPatch merged as Argo merges it), checked by our own checker (written from the standard's text)
 * and by the admission controller's code. `--executor pack` is the documented exception: it must NOT pass.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ARGO_LINT_BUILD_TIMEOUT_MS, type ArgoPod, argoPods, ensureArgoLint, type Json } from "../../support/argo-lint.js";
import { failedChecks } from "../../support/argo-pod-security.js";
import { argoVariants, isDefaultExecutor, RUN_VARS, renderVariant, templatesOf } from "../../support/argo-variants.js";

const variants = argoVariants();
const pods = new Map<string, ArgoPod[]>();

beforeAll(async () => {
  await ensureArgoLint();
  await Promise.all(variants.map(async (v) => pods.set(v.name, await argoPods(renderVariant(v).yaml, RUN_VARS))));
}, ARGO_LINT_BUILD_TIMEOUT_MS);

const podsOf = (name: string) => pods.get(name)!;

describe("the default executor: every pod meets restricted", () => {
  const defaults = variants.filter(isDefaultExecutor);

  it.each(defaults.map((v) => [v.name, v] as const))("%s", (name) => {
    const all = podsOf(name);
    // one pod with --build-user; else the builder-user pod, then the build pod
    expect(all.map((p) => p.template)).toEqual(name.includes("build user") || name.startsWith("everything") ? ["main"] : ["builder-user", "build"]);
    for (const { template, pod, podSecurity } of all) {
      expect(failedChecks(pod, "restricted"), `${template}: our checker`).toEqual([]);
      expect(podSecurity.restricted, `${template}: the admission's checks`).toEqual({ allowed: true, failures: [] });
      // Argo's own containers are in the pod and were reached by the patch.
      expect(pod.initContainers[0].name).toBe("init");
      expect(pod.containers.map((c: Json) => c.name)).toEqual(["wait", "main"]);
      expect(pod.securityContext.runAsUser, template).toBeGreaterThan(0);
    }
  });

  it("the build runs as the builder's user: read by the builder-user pod, or --build-user; the helper images' containers as their nonroot user", () => {
    const build = (name: string) => podsOf(name).find((p) => p.template !== "builder-user")!.pod;
    expect(build("minimal").securityContext).toMatchObject({ runAsUser: 1001, runAsGroup: 1000, fsGroup: 1000 });
    expect(templatesOf(renderVariant(variants.find((v) => v.name === "minimal")!).document)["builder-user"]).toBeDefined();
    const given = variants.find((v) => v.name === "build user")!;
    expect(templatesOf(renderVariant(given).document)["builder-user"]).toBeUndefined();
    expect(podsOf("build user").map((p) => p.template)).toEqual(["main"]);
    const pod = build("build user");
    expect(pod.securityContext).toMatchObject({ runAsUser: 1001, runAsGroup: 1000, fsGroup: 1000 });
    const users = Object.fromEntries(
      [...pod.initContainers, ...pod.containers].map((c: Json) => [c.name, c.securityContext?.runAsUser ?? pod.securityContext.runAsUser]),
    );
    expect(users).toMatchObject({ source: 1001, check: 65532, build: 1001, main: 65532 });
  });

  it("control: without its podSpecPatch no template would be restricted (Argo's init and wait containers)", async () => {
    const { document } = renderVariant(variants[0]!);
    for (const t of document.spec.templates) delete t.podSpecPatch;
    const { stringify } = await import("yaml");
    for (const { template, pod, podSecurity } of await argoPods(stringify(document), RUN_VARS)) {
      expect(podSecurity.restricted.allowed, template).toBe(false);
      expect(failedChecks(pod, "restricted"), template).toEqual(["allowPrivilegeEscalation", "capabilities_restricted"]);
      expect(podSecurity.restricted.failures.map((f) => f.detail).join(), template).toContain('"init", "wait"');
    }
  });
});

describe("--executor pack is the documented exception: its build pod is not restricted, nor even baseline", () => {
  const packs = variants.filter((v) => !isDefaultExecutor(v));
  it.each(packs.map((v) => [v.name, v] as const))("%s", (name, variant) => {
    const [build, ...others] = podsOf(name);
    expect(others, "one pod").toEqual([]);
    const ours = failedChecks(build!.pod, "restricted");
    expect(ours).toEqual(expect.arrayContaining(["privileged", "restrictedVolumes", "runAsUser"]));
    expect(build!.podSecurity.restricted.failures.map((f) => f.check).sort()).toEqual(ours);
    expect(build!.podSecurity.baseline.allowed).toBe(false);
    expect(failedChecks(build!.pod, "baseline")).toEqual(["hostPathVolumes", "privileged"]);
    expect(renderVariant(variant).warnings.join("\n")).toMatch(/privileged pod/);
    // The helper images' containers of a pack pod stay restricted.
    for (const c of [...build!.pod.initContainers, ...build!.pod.containers] as Json[]) {
      if (!["source", "check", "main"].includes(c.name)) continue;
      expect(c.securityContext, c.name).toMatchObject({
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        runAsNonRoot: true,
        runAsUser: 65532,
      });
    }
  });
});
