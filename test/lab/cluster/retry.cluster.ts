/**
 * What the build pod retries, on the real controller (README, "Argo Workflows": retries). The pod is the unit: Argo's
 * retryStrategy makes a new pod when an init container failed with an exit code a retry can fix, and never for one
 * it cannot. A git server that fails on purpose (faulty-git.ts) stands between the pod and the lab's fixture:
 * - a fetch answered 503 once: the source container exits 1, the controller makes a second pod, which publishes;
 * - a fetch answered 403 every time: the source container exits 3 (refused credentials), and no second pod is made;
 * - a bad version: the source container exits 2 before it fetches anything, no second pod, and the check and the
 *   build never start (their images are never pulled for it).
 * With --build-user, so the build is the one pod and its attempts are the workflow's only pods.
 */
import { describe, type ExpectStatic, it } from "vitest";
import { deleteNamespace, describeWorkflow, getJson, type KubeList, type KubeObject, type WorkflowResult } from "./cluster.js";
import { faultyGit } from "./faulty-git.js";
import { buildSpace, published, renderAndApply, submitTemplate } from "./packline.js";

const BUILD_TIMEOUT = 10 * 60_000;

const pods = (r: WorkflowResult) => r.nodes.filter((n) => n.type === "Pod");

type Pod = KubeObject & { status?: { initContainerStatuses?: { name: string; state?: Record<string, unknown> }[] } };

/** The init containers of a workflow's pods that ever started (running or terminated), by pod. */
async function startedInits(namespace: string, workflow: string): Promise<string[][]> {
  const list = await getJson<KubeList<Pod>>(["-n", namespace, "pods", "-l", `workflows.argoproj.io/workflow=${workflow}`]);
  return list.items.map((p) => (p.status?.initContainerStatuses ?? []).filter((c) => c.state?.running || c.state?.terminated).map((c) => c.name));
}

function expectOnePodFailed(expect: ExpectStatic, r: WorkflowResult, exitCode: number): void {
  expect(r.phase, describeWorkflow(r)).toBe("Failed");
  expect(pods(r), describeWorkflow(r)).toHaveLength(1);
  expect(pods(r)[0]!.message, describeWorkflow(r)).toMatch(new RegExp(`^source: Error \\(exit code ${exitCode}\\)`));
}

describe.concurrent("the build pod is retried for what a retry can fix, and only that", () => {
  it(
    "a git server that fails once (HTTP 503): the source container exits 1, a second pod is made and publishes",
    async ({ expect }) => {
      const space = await buildSpace("retry-once");
      const git = await faultyGit(space.lab.git.repos.fixture.url, { status: 503, failFirst: 1 });
      try {
        const user = `${space.lab.cnb.uid}:${space.lab.cnb.gid}`;
        const [template] = await renderAndApply(space, ["--build-user", user, "--pod-gc", "none"], git.url);
        const r = await submitTemplate(space, template!, { tag: "v1.0.0" });
        expect(r.phase, describeWorkflow(r)).toBe("Succeeded");
        const attempts = pods(r);
        expect(attempts, describeWorkflow(r)).toHaveLength(2);
        const [first, second] = [attempts.find((n) => n.phase === "Failed"), attempts.find((n) => n.phase === "Succeeded")];
        expect(first?.message, describeWorkflow(r)).toMatch(/^source: Error \(exit code 1\)/);
        expect(second, describeWorkflow(r)).toBeDefined();
        expect(Object.values(r.failedPodLogs).join("\n")).toContain("(a retry may help)");
        expect(git.counts().failed).toBe(1);
        expect(await published(space)).toEqual(["1.0.0"]);
        expect(r.outputs.revision).toBe(space.lab.git.repos.fixture.commit);
      } finally {
        await git.close();
        await deleteNamespace(space.namespace, false);
      }
    },
    BUILD_TIMEOUT,
  );

  it(
    "a git server that refuses the credentials (HTTP 403): the source container exits 3, and no second pod is made",
    async ({ expect }) => {
      const space = await buildSpace("retry-never");
      const git = await faultyGit(space.lab.git.repos.fixture.url, { status: 403, failFirst: Number.POSITIVE_INFINITY });
      try {
        const user = `${space.lab.cnb.uid}:${space.lab.cnb.gid}`;
        const [template] = await renderAndApply(space, ["--build-user", user, "--pod-gc", "none"], git.url);
        const r = await submitTemplate(space, template!, { tag: "v1.0.0" });
        expectOnePodFailed(expect, r, 3);
        expect(r.logs + Object.values(r.failedPodLogs).join("\n")).toContain("refused the credentials");
        expect(await startedInits(space.namespace, r.name)).toEqual([["init", "source"]]);
        expect(await published(space)).toEqual([]);
      } finally {
        await git.close();
        await deleteNamespace(space.namespace, false);
      }
    },
    BUILD_TIMEOUT,
  );

  it(
    "a bad version: the source container exits 2 before any fetch, no second pod, and the check and the build never start",
    async ({ expect }) => {
      const space = await buildSpace("retry-badver");
      const git = await faultyGit(space.lab.git.repos.fixture.url, { status: 503, failFirst: 0 });
      try {
        const user = `${space.lab.cnb.uid}:${space.lab.cnb.gid}`;
        const [template] = await renderAndApply(space, ["--build-user", user, "--pod-gc", "none"], git.url);
        const r = await submitTemplate(space, template!, { tag: "1.0" });
        expectOnePodFailed(expect, r, 2);
        expect(r.logs + Object.values(r.failedPodLogs).join("\n")).toContain('packline: tag "1.0" is not a semantic version');
        expect(git.counts().requests).toBe(0);
        expect(await startedInits(space.namespace, r.name)).toEqual([["init", "source"]]);
        expect(await published(space)).toEqual([]);
      } finally {
        await git.close();
        await deleteNamespace(space.namespace, false);
      }
    },
    BUILD_TIMEOUT,
  );
});
