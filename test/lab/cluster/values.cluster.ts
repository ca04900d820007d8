/**
 * Issue 16's cluster-only defects on the real controller and kubelet:
 * - `$(VAR)` and `$$` in a repository URL, a `--ref` and a ref submitted with `-p ref=...` reach the source container
 *   as written (the kubelet expands them in env values unless escaped): its own message quotes them back;
 * - `--env` values of the most packline takes (64 KiB together) start the build pod and reach the build.
 */
import { describe, type ExpectStatic, it } from "vitest";
import { MAX_ENV_BYTES } from "../../../src/core/options/checks-env.js";
import { deleteNamespace, describeWorkflow, type WorkflowResult } from "./cluster.js";
import { attempts, buildSpace, published, renderAndApply, submitTemplate } from "./packline.js";

const BUILD_TIMEOUT = 10 * 60_000;

const failedLogs = (r: WorkflowResult) => r.logs + Object.values(r.failedPodLogs).join("\n");

function expectFailedResolve(expect: ExpectStatic, r: WorkflowResult): void {
  expect(r.phase, describeWorkflow(r)).toBe("Failed");
  // A ref that does not exist (the source container's exit 4, the build pod's first) is never retried.
  expect(attempts(r, "build"), describeWorkflow(r)).toBe(1);
}

describe.concurrent("user values reach the cluster's containers as written", () => {
  it(
    "a repository and refs with $(PACKLINE_TAG) and $$, given to packline and at submit time, are not expanded by the kubelet",
    async ({ expect }) => {
      const space = await buildSpace("dollars");
      try {
        const repo = `${space.lab.git.repos.fixture.url}$$x`;
        const ref = "x$(PACKLINE_TAG)$$y";
        const [template] = await renderAndApply(space, ["--ref", ref], repo);
        const given = await submitTemplate(space, template!, { tag: "v1.0.0" });
        expectFailedResolve(expect, given);
        expect(failedLogs(given)).toContain(`packline: ${repo} has no ref "${ref}"`);
        const submitted = "z$(PACKLINE_REPO)$$w";
        const atSubmit = await submitTemplate(space, template!, { tag: "v1.0.0", ref: submitted });
        expectFailedResolve(expect, atSubmit);
        expect(failedLogs(atSubmit)).toContain(`packline: ${repo} has no ref "${submitted}"`);
        expect(await published(space)).toEqual([]);
      } finally {
        await deleteNamespace(space.namespace, false);
      }
    },
    BUILD_TIMEOUT,
  );

  it(
    `--env values of ${MAX_ENV_BYTES} bytes together start the build pod and reach the build`,
    async ({ expect }) => {
      const space = await buildSpace("bigenv");
      try {
        const big = "0123456789abcdef".repeat(MAX_ENV_BYTES / 16).slice(2); // with GREETING's 2 bytes: the limit
        const [template] = await renderAndApply(space, ["--env", `BIG=${big}`, "--env", "GREETING=hi", "--pod-gc", "none"]);
        const r = await submitTemplate(space, template!, { tag: "v1.0.0" });
        expect(r.phase, describeWorkflow(r)).toBe("Succeeded");
        expect(r.logs).toContain("---> build-time env GREETING=hi\n");
        expect(await published(space)).toEqual(["1.0.0"]);
      } finally {
        await deleteNamespace(space.namespace, false);
      }
    },
    BUILD_TIMEOUT,
  );
});
