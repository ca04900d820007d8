/**
 * The workflow's expressions, evaluated by Argo's own code with the variables the controller gives them
 * (tools/argo-lint eval): retries only for transient exit codes (issue 13, item 3), the tags chosen by the version's
 * shape equal to what `packline tags` prints, build and release skipped when the version is already published, and
 * the outputs a caller reads.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { exportArgo } from "../../../src/backends/argo/export.js";
import { CLONE_EXIT, RESOLVE_EXIT } from "../../../src/backends/argo/scripts.js";
import { BAD_VERSION_EXIT } from "../../../src/backends/argo/version-script.js";
import type { RawInput } from "../../../src/core/options/input.js";
import { validateBuild } from "../../../src/core/options/validate.js";
import { LIFECYCLE_TRANSIENT_EXIT_CODES } from "../../../src/core/plan/creator.js";
import { planBuild } from "../../../src/core/plan/planner.js";
import { EXIT } from "../../../src/core/plan/scripts.js";
import { parseVersion } from "../../../src/core/version.js";
import { ARGO_LINT_BUILD_TIMEOUT_MS, argoEval, type EvalRequest, ensureArgoLint, type Json } from "../../support/argo-lint.js";
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
  const templates = templatesOf(renderVariant({ name: "minimal", raw: BASE }).document);
  const transient: Record<string, readonly number[]> = {
    resolve: [RESOLVE_EXIT.transient],
    "builder-user": [1],
    check: [EXIT.transient],
    build: LIFECYCLE_TRANSIENT_EXIT_CODES,
    release: [EXIT.transient],
  };
  const permanent: Record<string, readonly number[]> = {
    resolve: [BAD_VERSION_EXIT, RESOLVE_EXIT.credentials, RESOLVE_EXIT.missingRef, 128],
    "builder-user": [2],
    check: [EXIT.credentials, EXIT.refused, 2, 127],
    build: [1, 2, 20, 21, 51, 52, 128],
    release: [EXIT.credentials, EXIT.refused, EXIT.noDigest],
  };

  it.each(Object.keys(transient))("%s", async (name) => {
    const strategy = templates[name].retryStrategy;
    expect(strategy).toMatchObject({ limit: "2", retryPolicy: "Always" });
    const cases: [EvalRequest, boolean][] = [
      [retryRequest(strategy.expression, "Error", 0), true], // the pod itself failed (evicted, deleted): retry
      ...transient[name]!.map((code): [EvalRequest, boolean] => [retryRequest(strategy.expression, "Failed", code), true]),
      ...permanent[name]!.map((code): [EvalRequest, boolean] => [retryRequest(strategy.expression, "Failed", code), false]),
    ];
    expect(await evaluate(cases.map(([r]) => r))).toEqual(cases.map(([, retry]) => retry));
  });

  it("build: a failed clone init container is retried (the main container's exit code is then -1), not a moved ref nor a failed prepare", async () => {
    const expression = templates.build.retryStrategy.expression;
    const cases: [EvalRequest, boolean][] = [
      [retryRequest(expression, "Failed", -1, "clone: Error (exit code 128)"), true],
      [retryRequest(expression, "Failed", -1, "clone: Error (exit code 1)"), true],
      [retryRequest(expression, "Failed", -1, `clone: Error (exit code ${CLONE_EXIT.moved})`), false],
      [retryRequest(expression, "Failed", -1, "clone: Error (exit code 41)"), true],
      [retryRequest(expression, "Failed", -1, "prepare: Error (exit code 1)"), false],
      [retryRequest(expression, "Failed", 51, "main: Error (exit code 51)"), false],
    ];
    expect(await evaluate(cases.map(([r]) => r))).toEqual(cases.map(([, retry]) => retry));
  });

  it("the pack build: pod errors and a failed clone are retried, never the pack container's own failure", async () => {
    const expression = templatesOf(exportDoc({ executor: "pack" })).build.retryStrategy.expression;
    const cases: [EvalRequest, boolean][] = [
      [retryRequest(expression, "Error", 0), true],
      [retryRequest(expression, "Failed", -1, "clone: Error (exit code 128)"), true],
      [retryRequest(expression, "Failed", -1, `clone: Error (exit code ${CLONE_EXIT.moved})`), false],
      [retryRequest(expression, "Failed", 1, "main: Error (exit code 1)"), false],
    ];
    expect(await evaluate(cases.map(([r]) => r))).toEqual(cases.map(([, retry]) => retry));
  });

  it("a bad version and refused credentials are never retried, in any step", () => {
    expect(transient.resolve).not.toContain(BAD_VERSION_EXIT);
    for (const codes of Object.values(transient)) expect(codes).not.toContain(EXIT.credentials);
  });

  it("--retries sets the limit; --retries 0 leaves every template without a retry strategy, the pack build too", () => {
    expect(templatesOf(exportDoc({ retries: 5 })).build.retryStrategy.limit).toBe("5");
    for (const template of Object.values(templatesOf(exportDoc({ retries: 0 })))) expect(template.retryStrategy, template.name).toBeUndefined();
    expect(templatesOf(exportDoc({ executor: "pack", retries: 0 })).build.retryStrategy).toBeUndefined();
  });
});

function exportDoc(raw: RawInput): Json {
  return parse(exportArgo({ ...BASE, ...raw }).yaml);
}

describe("the tags the release step publishes are the tags packline tags prints", () => {
  const versions = ["v1.2.3", "1.2.3", "0.4.2", "v0.0.1", "1.2.3-rc.1", "0.1.0-alpha", "v10.20.30"];
  const flags = [
    { floatingTags: false, latest: false },
    { floatingTags: true, latest: false },
    { floatingTags: false, latest: true },
    { floatingTags: true, latest: true },
  ];

  it.each(flags.map((f) => [JSON.stringify(f), f] as const))("%s", async (_label, f) => {
    const main = templatesOf(exportDoc(f)).main;
    const releaseStep = main.steps.flat().find((s: Json) => s.name === "release");
    const tagsArgument = releaseStep.arguments.parameters.find((p: Json) => p.name === "tags").value as string;
    const tagsOutput = main.outputs.parameters.find((p: Json) => p.name === "tags").valueFrom.expression as string;
    const requests: EvalRequest[] = [];
    const expected: string[] = [];
    for (const input of versions) {
      const v = parseVersion(input);
      const vars = {
        "steps.resolve.outputs.parameters.version": v.version,
        "steps.resolve.outputs.parameters.major": v.major,
        "steps.resolve.outputs.parameters.minor": v.minor,
        "steps.resolve.outputs.parameters.shape": v.shape,
      };
      requests.push({ kind: "text", text: tagsArgument, vars }, { kind: "value", expression: tagsOutput, vars });
      const tags = planBuild(validateBuild("plan", { tag: input, ...f })).variants[0]!.tags.map((t) => t.join(""));
      expected.push(tags.join(" "), tags.join(" "));
    }
    expect(await evaluate(requests)).toEqual(expected);
  });
});

describe("a version already published from this revision: build and release are skipped, its digest is the result", () => {
  const main = templatesOf(exportDoc({})).main;
  const step = (name: string) => main.steps.flat().find((s: Json) => s.name === name);
  const digest = main.outputs.parameters.find((p: Json) => p.name === "digest").valueFrom.expression as string;

  it("published", async () => {
    const vars = { "steps.check.outputs.parameters.outcome": "published", "steps.check.outputs.parameters.digest": "sha256:aaa" };
    expect(
      await evaluate([
        { kind: "when", text: step("build").when, vars },
        { kind: "when", text: step("release").when, vars },
        // release did not run: its outputs are not in the scope at all
        { kind: "value", expression: digest, vars },
      ]),
    ).toEqual([false, false, "sha256:aaa"]);
  });

  it("unpublished", async () => {
    const vars = {
      "steps.check.outputs.parameters.outcome": "unpublished",
      "steps.check.outputs.parameters.digest": "",
      "steps.release.outputs.parameters.digest": "sha256:bbb",
    };
    expect(
      await evaluate([
        { kind: "when", text: step("build").when, vars },
        { kind: "when", text: step("release").when, vars },
        { kind: "value", expression: digest, vars },
      ]),
    ).toEqual([true, true, "sha256:bbb"]);
  });

  it("the revision and version outputs are the resolve step's", () => {
    const outputs = Object.fromEntries(main.outputs.parameters.map((p: Json) => [p.name, p.valueFrom]));
    expect(outputs.revision).toEqual({ parameter: "{{steps.resolve.outputs.parameters.commit}}" });
    expect(outputs.version).toEqual({ parameter: "{{steps.resolve.outputs.parameters.version}}" });
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
    expect(requests.length).toBeGreaterThan(50);
    const results = await evaluate(requests);
    expect(results.every((r) => typeof r === "boolean")).toBe(true);
  });
});
