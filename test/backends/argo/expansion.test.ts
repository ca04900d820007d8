/**
 * Kubernetes expands `$(NAME)` and `$$` in a container's env values, command and args (the kubelet, before the
 * container starts), after Argo has substituted its `{{...}}`. A user value that holds them must still reach the
 * container as written: `--repo https://github.com/acme/a$$b` is cloned and labelled as `a$$b`, never `a$b`, and a
 * ref `x$(PACKLINE_TAG)` (given with --ref or submitted with -p ref=...) is fetched as that text by the source
 * container. The build pod goes through Argo's own substitution (tools/argo-lint resolve) and then Kubernetes' own
 * expansion in the kubelet's order (tools/kubernetes/expand), and each container's late-value prelude runs with sh;
 * the control shows the same values placed raw are rewritten.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { exportArgo } from "../../../src/backends/argo/export.js";
import { PREPARE_MARK, SOURCE_SCRIPT } from "../../../src/backends/argo/scripts.js";
import { validateArgo } from "../../../src/core/options/validate.js";
import { planBuild, variantFor } from "../../../src/core/plan/planner.js";
import { resolveText } from "../../../src/core/plan/text.js";
import type { Late } from "../../../src/core/plan/types.js";
import { ARGO_LINT_BUILD_TIMEOUT_MS, ensureArgoLint, type Json, resolveArgoTemplate } from "../../support/argo-lint.js";
import { buildPod, CHECK_PINS, podContainer, runPrelude, unwrap } from "../../support/argo-pod.js";
import { BASE, RUN_VARS } from "../../support/argo-variants.js";
import { ensureK8sExpand, kubeletExpand } from "../../support/k8s-expand.js";

const REPO = "https://github.com/acme/a$$b$(PACKLINE_TAG)$";
const REF = "x$(PACKLINE_TAG)$$y$(PACKLINE_REPO)";
const SUBMITTED_REF = "z$(PACKLINE_TAG)$$w$";
const SUBMITTED_TAG = "1.2.3$(PACKLINE_REF)";

const envOf = (c: Json): Record<string, string> =>
  Object.fromEntries((c.env ?? []).filter((e: Json) => !e.valueFrom).map((e: Json) => [e.name, e.value]));

beforeAll(async () => {
  await Promise.all([ensureArgoLint(), ensureK8sExpand()]);
}, ARGO_LINT_BUILD_TIMEOUT_MS);

/** Every container of a template as it starts: Argo's substitution, then the kubelet's expansion. */
async function started(yaml: string, template: string, vars: Record<string, string>): Promise<Record<string, Json>> {
  const resolved = await resolveArgoTemplate(yaml, template, vars);
  const containers = [...(resolved.initContainers ?? []), { ...resolved.container, name: "main" }];
  const expanded = await kubeletExpand(containers);
  return Object.fromEntries(expanded.map((c) => [c.name, c]));
}

describe("no user value is rewritten by Kubernetes' $(VAR) and $$ expansion", () => {
  const raw = { ...BASE, repo: REPO, ref: REF, tag: "v1.2.3", env: ["DOLLARS=$(PACKLINE_RUN_ID) $$(X) $"] };
  const yaml = exportArgo(raw).yaml;
  const { build } = validateArgo(raw);
  const plan = planBuild(build);
  const values = Object.fromEntries(
    Object.entries(RUN_VARS)
      .filter(([k]) => k.startsWith("inputs.parameters."))
      .map(([k, v]) => [k.slice("inputs.parameters.".length), v]),
  ) as Partial<Record<Late, string>>;
  // what the check pins (pin.ts): runPrelude's files
  const late: Partial<Record<Late, string>> = {
    ...values,
    ...CHECK_PINS,
    now: RUN_VARS["workflow.creationTimestamp.s"],
    "run-id": RUN_VARS["workflow.uid"],
  };
  late.tags = variantFor(plan, "release")
    .tags.map((t) => resolveText(t, late))
    .join(" ");
  // What the source container writes for v1.2.3 and the commit, and the check's outcome.
  const files = {
    version: "1.2.3",
    major: "1",
    minor: "2",
    shape: "release",
    commit: late.commit!,
    "commit-time": late["commit-time"]!,
    outcome: "unpublished",
  };

  /** A container as its step runs it: the argv behind its prelude, its env with what the prelude exports. */
  const asRun = (c: Json) => {
    const { prelude, argv } = unwrap(c);
    if (prelude === undefined) return { argv, env: envOf(c) };
    const run = runPrelude(c, files, late["build-report"], { expanded: true });
    expect(run.env, `${c.name}: ${run.stderr}`).toBeDefined();
    return { argv, env: { ...envOf(c), ...run.env } };
  };

  it("the source container gets the repository, the ref and the tag as given, and its script unchanged", async () => {
    const { source } = await started(yaml, "build", { ...RUN_VARS, "inputs.parameters.ref": REF });
    expect(envOf(source)).toMatchObject({ PACKLINE_REPO: REPO, PACKLINE_REF: REF, PACKLINE_TAG: "v1.2.3" });
    expect(source.command.slice(0, 2)).toEqual(["sh", "-c"]);
    // the clone, then the prepare part (the plan's files: here the DOLLARS env file), both as written
    expect(source.command[2]).toBe(SOURCE_SCRIPT + source.command[2].slice(SOURCE_SCRIPT.length));
    expect(source.command[2].slice(SOURCE_SCRIPT.length)).toMatch(new RegExp(`^${PREPARE_MARK}\n`));
  });

  it("values submitted with -p (ref and tag) reach the source container as given", async () => {
    const vars = { ...RUN_VARS, "inputs.parameters.ref": SUBMITTED_REF, "inputs.parameters.tag": SUBMITTED_TAG };
    const { source } = await started(yaml, "build", vars);
    expect(envOf(source!)).toMatchObject({ PACKLINE_REPO: REPO, PACKLINE_REF: SUBMITTED_REF, PACKLINE_TAG: SUBMITTED_TAG });
  });

  it("the build pod: the creator's arguments and env as the plan says", async () => {
    const pod = await started(yaml, "build", { ...RUN_VARS, "inputs.parameters.ref": REF });
    const step = plan.steps.build;
    const creator = asRun(pod.build!);
    expect(creator.argv).toEqual([...step.command, ...step.args].map((t) => resolveText(t, late)));
    expect(creator.env).toEqual(Object.fromEntries(step.env.map((e) => [e.name, resolveText(e.value, late)])));
  });

  it("check and release: every env value and argument as the plan says (the source label is the URL as given)", async () => {
    const pod = await started(yaml, "build", RUN_VARS);
    for (const step of [plan.steps.check, plan.steps.release]) {
      const c = asRun(pod[step.name === "release" ? "main" : step.name]!);
      const expected = Object.fromEntries(step.env.map((e) => [e.name, resolveText(e.value, late)]));
      expect(c.env, step.name).toEqual(expected);
      expect(c.argv, step.name).toEqual([...step.command, ...step.args].map((t) => resolveText(t, late)));
      if (step.name === "release") expect(Object.values(expected)).toContain(REPO);
    }
  });

  it("control: the same values placed raw in a container are rewritten by the kubelet", async () => {
    const document = parse(yaml);
    const source = podContainer(buildPod(document), "source");
    source.env.push({ name: "RAW_REPO", value: REPO }, { name: "RAW_REF", value: "{{inputs.parameters.ref}}" });
    const pod = await started(stringify(document), "build", { ...RUN_VARS, "inputs.parameters.ref": REF });
    expect(envOf(pod.source!).RAW_REPO).toBe("https://github.com/acme/a$bv1.2.3$");
    expect(envOf(pod.source!).RAW_REF).toBe("xv1.2.3$y" + REPO);
  });
});
