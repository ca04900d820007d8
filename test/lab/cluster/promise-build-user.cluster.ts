/**
 * Issue 21: `packline argo --build-user` naming the builder's own CNB user gave another final digest than a build
 * without it (the build-inputs label digested the option's spelling). The promise of promise.cluster.ts (one commit,
 * three executors, one image), with the cluster's template rendered with `--build-user <the lab builder's
 * CNB_USER_ID:CNB_GROUP_ID>`: the cluster, `packline build --repo` on the real Dagger engine (which has no
 * --build-user) and the plan's own steps in the lab's Docker publish one digest, labels included.
 *
 * Needs what promise.cluster.ts needs (the lab's Docker daemon, started here; a Dagger engine, `engine.sh up`).
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { planFor, runPlan } from "../../e2e/packline.js";
import { runPackline } from "../engine/engine.js";
import { readLab, registryPassword } from "../lab.js";
import { CLUSTER_DIR, deleteNamespace, describeWorkflow } from "./cluster.js";
import { buildSpace, publishedDigest, renderAndApply, STAGING_TAG, submitTemplate } from "./packline.js";

const LAB_DIR = join(CLUSTER_DIR, "..");

function ensure(script: string, arg: string): void {
  execFileSync("bash", [join(LAB_DIR, script), arg], { stdio: ["ignore", "inherit", "inherit"], env: process.env });
}

describe("--build-user naming the builder's own user changes nothing", () => {
  it("the cluster with --build-user, the Dagger engine and the plan's own steps publish the same image", { timeout: 20 * 60_000 }, async () => {
    ensure("lab.sh", "docker-up");
    execFileSync("bash", [join(LAB_DIR, "..", "e2e", "setup.sh")], { stdio: ["ignore", "inherit", "inherit"], env: process.env });
    ensure("engine/engine.sh", "up");
    const lab = readLab();
    const fixture = lab.git.repos.fixture;
    const apps = lab.registries.apps.address;
    const insecure = lab.insecureRegistries.flatMap((r) => ["--insecure-registry", r]);
    const buildUser = `${lab.cnb.uid}:${lab.cnb.gid}`;

    // 1. the cluster, the pod's user given as the builder's own
    const space = await buildSpace("build-user");
    let cluster: { digest: string; staged: string };
    try {
      const [template] = await renderAndApply(space, ["--build-user", buildUser]);
      const r = await submitTemplate(space, template!, { tag: fixture.tag }, { argoWait: true });
      expect(r.phase, describeWorkflow(r)).toBe("Succeeded");
      cluster = { digest: r.outputs.digest!, staged: (await publishedDigest(space, STAGING_TAG))! };
      expect(r.outputs.revision).toBe(fixture.commit);
    } finally {
      await deleteNamespace(space.namespace, false);
    }

    // 2. the Dagger engine: packline build --repo (no --build-user there)
    const built = await runPackline(
      [
        "build",
        "--repo",
        fixture.url,
        "--tag",
        fixture.tag,
        "--image",
        `${apps}/cluster/build-user-dagger-${Date.now()}`,
        "--builder",
        lab.images.builder.ref,
        ...insecure,
        "--registry-username",
        lab.registries.apps.username,
        "--registry-password",
        "env:PACKLINE_TEST_REGISTRY_PASSWORD",
      ],
      { env: { PACKLINE_TEST_REGISTRY_PASSWORD: registryPassword(lab) }, timeoutMs: 15 * 60_000 },
    );
    expect(built.code, built.stderr).toBe(0);
    const dagger = /@(sha256:[0-9a-f]{64})/.exec(built.stdout)?.[1];
    expect(dagger, built.stdout).toBeDefined();

    // 3. the plan's own steps in the lab's Docker
    const plan = planFor(`cluster/build-user-plan-${Date.now()}`, {
      tag: fixture.tag,
      repo: fixture.url,
      floatingTags: false,
      latest: false,
      env: [],
    });
    const local = await runPlan(plan, { source: lab.fixtures.static, lates: { commit: fixture.commit } });
    expect(local.failed?.output).toBeUndefined();

    console.log(`build-user ${buildUser}: cluster ${cluster.digest} (staged ${cluster.staged}), dagger ${dagger}, plan ${local.digest}`);
    expect(local.report!.digest).toBe(cluster.staged);
    expect(dagger).toBe(cluster.digest);
    expect(local.digest).toBe(cluster.digest);
  });
});
