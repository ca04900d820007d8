/**
 * The promise itself (issue 13): one commit, three executors, one image. The lab's fixture repository at its tag is
 * built by the exported WorkflowTemplate on the real Argo controller, by `packline build --repo` on the real Dagger
 * engine, and by the plan's own steps in the lab's Docker daemon (the e2e suite's way), each into its own
 * repository of the apps registry, with the same builder and options. The image each publishes (labels included:
 * version, revision, source, build inputs) has one digest, and so has the lifecycle's image each staged.
 *
 * Not a test file: promise.cluster.ts runs it with the template as rendered by default, promise-build-user.cluster.ts
 * with extra `packline argo` options (only the cluster's template takes them; the other two executors build as
 * always, and the digests must still be one).
 *
 * It needs the lab's Docker daemon (started here, `lab.sh docker-up`) and a Dagger engine (`engine.sh up`, which
 * reuses a running one: .ci/run keeps the engine suite's up). A missing piece fails the test; nothing is skipped.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { expect } from "vitest";
import { planFor, runPlan } from "../../e2e/packline.js";
import { buildRepo } from "../engine/packline-lab.js";
import { type Lab, readLab } from "../lab.js";
import { CLUSTER_DIR, deleteNamespace, describeWorkflow } from "./cluster.js";
import { buildSpace, publishedDigest, renderAndApply, STAGING_TAG, submitTemplate } from "./packline.js";

const LAB_DIR = join(CLUSTER_DIR, "..");

/** Starts what this test needs besides the cluster; each script is idempotent and says why when it cannot. */
function ensure(script: string, arg: string): void {
  execFileSync("bash", [join(LAB_DIR, script), arg], { stdio: ["ignore", "inherit", "inherit"], env: process.env });
}

/**
 * Builds the fixture's tag with the three executors and expects one staged and one final digest. `name` prefixes the
 * namespace and the repositories (so the two callers never share one); `extraArgoArgs` (given the lab) are added to
 * the cluster's `packline argo` options.
 */
export async function threeExecutors(name: string, extraArgoArgs: (lab: Lab) => readonly string[] = () => []): Promise<void> {
  ensure("lab.sh", "docker-up");
  execFileSync("bash", [join(LAB_DIR, "..", "e2e", "setup.sh")], { stdio: ["ignore", "inherit", "inherit"], env: process.env });
  ensure("engine/engine.sh", "up");
  const lab = readLab();
  const fixture = lab.git.repos.fixture;
  const apps = lab.registries.apps.address;
  const extra = extraArgoArgs(lab);

  // 1. the cluster
  const space = await buildSpace(name);
  let cluster: { digest: string; staged: string };
  try {
    const [template] = await renderAndApply(space, extra);
    const r = await submitTemplate(space, template!, { tag: fixture.tag }, { argoWait: true });
    expect(r.phase, describeWorkflow(r)).toBe("Succeeded");
    cluster = { digest: r.outputs.digest!, staged: (await publishedDigest(space, STAGING_TAG))! };
    expect(r.outputs.revision).toBe(fixture.commit);
  } finally {
    await deleteNamespace(space.namespace, false);
  }

  // 2. the Dagger engine: packline build --repo, as a user runs it (it has no cluster-only options)
  const built = await buildRepo({ repo: fixture.url, tag: fixture.tag, image: `${apps}/cluster/${name}-dagger-${Date.now()}` });
  expect(built.code, built.stderr).toBe(0);
  const dagger = /@(sha256:[0-9a-f]{64})/.exec(built.stdout)?.[1];
  expect(dagger, built.stdout).toBeDefined();

  // 3. the plan's own steps in the lab's Docker daemon, the same source (a git plan; the checkout's files)
  const plan = planFor(`cluster/${name}-plan-${Date.now()}`, { tag: fixture.tag, repo: fixture.url, floatingTags: false, latest: false, env: [] });
  const local = await runPlan(plan, { source: lab.fixtures.static, lates: { commit: fixture.commit } });
  expect(local.failed?.output).toBeUndefined();

  console.log(
    `${name}${extra.length > 0 ? ` (${extra.join(" ")})` : ""}: cluster ${cluster.digest} (staged ${cluster.staged}), dagger ${dagger}, plan ${local.digest} (staged ${local.report!.digest})`,
  );
  expect(local.report!.digest).toBe(cluster.staged);
  expect(dagger).toBe(cluster.digest);
  expect(local.digest).toBe(cluster.digest);
}
