/**
 * The workflow's expressions, evaluated by Argo's own code with the variables the controller gives them
 * (tools/argo-lint eval): retries only for transient exit codes (issue 13, item 3); and the build pod's late-value
 * preludes run with sh: the tags chosen by the version's shape equal to what `packline tags` prints, build and release
 * skipped when the version is already published, and the outputs a caller reads.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { exportArgo } from "../../../src/backends/argo/export.js";
import { SOURCE_EXIT } from "../../../src/backends/argo/scripts.js";
import { BAD_VERSION_EXIT } from "../../../src/backends/argo/version-script.js";
import type { RawInput } from "../../../src/core/options/input.js";
import { validateBuild } from "../../../src/core/options/validate.js";
import { LIFECYCLE_TRANSIENT_EXIT_CODES } from "../../../src/core/plan/creator.js";
import { planBuild } from "../../../src/core/plan/planner.js";
import { EXIT } from "../../../src/core/plan/scripts.js";
import { parseVersion } from "../../../src/core/version.js";
import { ARGO_LINT_BUILD_TIMEOUT_MS, argoEval, type EvalRequest, ensureArgoLint, type Json } from "../../support/argo-lint.js";
import { buildPod, podContainer, runPrelude, unwrap } from "../../support/argo-pod.js";
import { argoVariants, BASE, renderVariant, templatesOf } from "../../support/argo-variants.js";

beforeAll(async () => {
  await ensureArgoLint();
}, ARGO_LINT_BUILD_TIMEOUT_MS);

/** Evaluates requests in one run of the tool; an error from Argo fails the test with its message. */
async function evaluate(requests: EvalRequest[]): Promise<Json[]> {
  const results = await argoEval(requests);
  return results.map((r, i) => {
    if (r.error !== undefined) throw new Error(`Argo refused ${JSON.stringify(requests[i])}: ${r.error}`);
    return r.result;
  });
}

/** Would Argo retry after an attempt that ended so? (processNodeRetries' scope: lastRetry.*) */
function retryRequest(expression: string, status: "Failed" | "Error", exitCode: number, message = ""): EvalRequest {
  return {
    kind: "retry",
    expression,
    vars: {
      retries: "0",
      "lastRetry.exitCode": String(exitCode),
      "lastRetry.status": status,
      "lastRetry.duration": "12",
      "lastRetry.message": message,
    },
  };
}

describe("retries: only what a retry can fix", () => {
  const pod = buildPod(exportDoc({}));
  const expression = pod.retryStrategy.expression as string;
  // Argo reports an init container's failure with the exit code -1 and "<container>: Error (exit code N)".
  const initFailed = (container: string, code: number) => retryRequest(expression, "Failed", -1, `${container}: Error (exit code ${code})`);
  const transient: Record<string, readonly number[]> = {
    source: [SOURCE_EXIT.transient],
    check: [EXIT.transient],
    build: LIFECYCLE_TRANSIENT_EXIT_CODES,
  };
  const permanent: Record<string, readonly number[]> = {
    source: [BAD_VERSION_EXIT, SOURCE_EXIT.credentials, SOURCE_EXIT.missingRef, 128],
    check: [EXIT.credentials, EXIT.refused, 2, 127],
    build: [1, 2, 20, 21, 51, 52, 128],
  };

  it("the build pod is retried as a whole: a pod error, or an init container's failure a retry can fix", async () => {
    expect(pod.retryStrategy).toMatchObject({ limit: "2", retryPolicy: "Always" });
    const cases: [EvalRequest, boolean][] = [
      [retryRequest(expression, "Error", 0), true], // the pod itself failed (evicted, deleted): retry
      ...Object.entries(transient).flatMap(([c, codes]) => codes.map((code): [EvalRequest, boolean] => [initFailed(c, code), true])),
      ...Object.entries(permanent).flatMap(([c, codes]) => codes.map((code): [EvalRequest, boolean] => [initFailed(c, code), false])),
      // the release (main container) retries in place: a failed pod after it is never run again
      ...[EXIT.transient, EXIT.credentials, EXIT.refused, EXIT.noDigest].map((code): [EvalRequest, boolean] => [
        retryRequest(expression, "Failed", code, `Error (exit code ${code})`),
        false,
      ]),
    ];
    expect(await evaluate(cases.map(([r]) => r))).toEqual(cases.map(([, retry]) => retry));
  });

  it("the release retries its own transient failures in place, with the same limit, never the others", () => {
    const release = podContainer(pod, "release");
    const prelude = unwrap(release).prelude!;
    expect(prelude).toContain(`case "$rc" in 0) exit 0 ;; ${EXIT.transient}) ;; *) exit "$rc" ;; esac`);
    expect(prelude).toContain('if [ "$n" -ge 2 ]; then exit "$rc"; fi');
    expect(unwrap(podContainer(buildPod(exportDoc({ retries: 5 })), "release")).prelude).toContain('if [ "$n" -ge 5 ]; then');
    expect(unwrap(podContainer(buildPod(exportDoc({ retries: 0 })), "release")).prelude).not.toContain("while");
  });

  it("the builder-user pod: a pod error or its main container's exit 1; never a bad version (its version init container) nor a non-builder", async () => {
    const expression = templatesOf(exportDoc({}))["builder-user"].retryStrategy.expression;
    const cases: [EvalRequest, boolean][] = [
      [retryRequest(expression, "Error", 0), true],
      [retryRequest(expression, "Failed", 1, "Error (exit code 1)"), true],
      [retryRequest(expression, "Failed", 2, "Error (exit code 2)"), false],
      [retryRequest(expression, "Failed", -1, `version: Error (exit code ${BAD_VERSION_EXIT})`), false],
    ];
    expect(await evaluate(cases.map(([r]) => r))).toEqual(cases.map(([, retry]) => retry));
  });

  it("the pack build: pod errors and a failed fetch are retried, never the pack container's own failure", async () => {
    const expression = buildPod(exportDoc({ executor: "pack" })).retryStrategy.expression;
    const cases: [EvalRequest, boolean][] = [
      [retryRequest(expression, "Error", 0), true],
      [retryRequest(expression, "Failed", -1, `source: Error (exit code ${SOURCE_EXIT.transient})`), true],
      [retryRequest(expression, "Failed", -1, `source: Error (exit code ${SOURCE_EXIT.missingRef})`), false],
      [retryRequest(expression, "Failed", -1, "build: Error (exit code 1)"), false],
    ];
    expect(await evaluate(cases.map(([r]) => r))).toEqual(cases.map(([, retry]) => retry));
  });

  it("a bad version and refused credentials are never retried, in any step", () => {
    expect(transient.source).not.toContain(BAD_VERSION_EXIT);
    for (const codes of Object.values(transient)) expect(codes).not.toContain(EXIT.credentials);
  });

  it("--retries sets the limit; --retries 0 leaves every template without a retry strategy, the pack build too", () => {
    expect(buildPod(exportDoc({ retries: 5 })).retryStrategy.limit).toBe("5");
    for (const template of Object.values(templatesOf(exportDoc({ retries: 0 })))) expect(template.retryStrategy, template.name).toBeUndefined();
    expect(buildPod(exportDoc({ executor: "pack", retries: 0 })).retryStrategy).toBeUndefined();
  });
});

function exportDoc(raw: RawInput): Json {
  return parse(exportArgo({ ...BASE, ...raw }).yaml);
}

/** The files the source container writes for a version (its version check, as the cluster runs it). */
function resolved(input: string): Record<string, string> {
  const v = parseVersion(input);
  return { version: v.version, major: v.major, minor: v.minor, shape: v.shape, commit: "c0ffee", "commit-time": "1712345678" };
}

const REPORT = '[image]\n  tags = ["x"]\n  digest = "sha256:' + "b".repeat(64) + '"\n';

describe("the tags the release step publishes are the tags packline tags prints", () => {
  const versions = ["v1.2.3", "1.2.3", "0.4.2", "v0.0.1", "1.2.3-rc.1", "0.1.0-alpha", "v10.20.30"];
  const flags = [
    { floatingTags: false, latest: false },
    { floatingTags: true, latest: false },
    { floatingTags: false, latest: true },
    { floatingTags: true, latest: true },
  ];

  it.each(flags.map((f) => [JSON.stringify(f), f] as const))("%s", (_label, f) => {
    const release = podContainer(buildPod(exportDoc(f)), "release");
    for (const input of versions) {
      const run = runPrelude(release, { ...resolved(input), outcome: "unpublished" }, REPORT);
      const tags = planBuild(validateBuild("plan", { tag: input, ...f })).variants[0]!.tags.map((t) => t.join(""));
      expect(run.env?.PACKLINE_TAGS, `${input}: ${run.stderr}`).toBe(tags.join(" "));
      // the pod's `tags` output, a file the main container writes
      expect(run.files.tags, input).toBe(tags.join(" "));
    }
  });
});

describe("a version already published from this revision: build and release are skipped, its digest is the result", () => {
  const pod = buildPod(exportDoc({}));
  const digest = pod.outputs.parameters.find((p: Json) => p.name === "digest").valueFrom.path as string;

  it("published: build and release run nothing; the check's digest file is the output", () => {
    const files = { ...resolved("v1.2.3"), outcome: "published", digest: "sha256:aaa" };
    for (const name of ["build", "release"]) {
      const run = runPrelude(podContainer(pod, name), files);
      expect(run.status, `${name}: ${run.stderr}`).toBe(0);
      expect(run.env, `${name} ran its command`).toBeUndefined();
    }
    expect(runPrelude(podContainer(pod, "release"), files).files).toMatchObject({ digest: "sha256:aaa", tags: "1.2.3" });
    expect(digest).toBe("/tmp/packline/digest");
  });

  it("unpublished: each runs its command", () => {
    const files = { ...resolved("v1.2.3"), outcome: "unpublished" };
    for (const name of ["build", "release"]) {
      const run = runPrelude(podContainer(pod, name), files, REPORT);
      expect(run.status, `${name}: ${run.stderr}`).toBe(0);
      expect(run.env, `${name} ran its command`).toBeDefined();
    }
    expect(runPrelude(podContainer(pod, "release"), files, REPORT).env?.PACKLINE_BUILD_REPORT).toBe(REPORT);
  });

  it("the revision and version outputs are the source container's files; every output is global", () => {
    const outputs = Object.fromEntries(buildPod(exportDoc({ buildUser: "1001:1000" })).outputs.parameters.map((p: Json) => [p.name, p]));
    expect(outputs.revision).toMatchObject({ globalName: "revision", valueFrom: { path: "/tmp/packline/commit" } });
    expect(outputs.version).toMatchObject({ globalName: "version", valueFrom: { path: "/tmp/packline/version" } });
    const main = templatesOf(exportDoc({})).main;
    for (const name of ["digest", "tags", "revision", "version"]) {
      expect(main.outputs.parameters.find((p: Json) => p.name === name)).toMatchObject({
        globalName: name,
        valueFrom: { parameter: `{{steps.build.outputs.parameters.${name}}}` },
      });
    }
  });
});

describe("every variant's expressions evaluate", () => {
  it("retry expressions of every template of every variant", async () => {
    const requests: EvalRequest[] = [];
    for (const v of argoVariants()) {
      for (const t of renderVariant(v).document.spec.templates) {
        if (t.retryStrategy?.expression) requests.push(retryRequest(t.retryStrategy.expression, "Failed", 1));
      }
    }
    expect(requests.length).toBeGreaterThan(25);
    const results = await evaluate(requests);
    expect(results.every((r) => typeof r === "boolean")).toBe(true);
  });
});
