/**
 * Kubernetes expands `$(NAME)` and `$$` in a container's env values, command and args (the kubelet, before the
 * container starts), after Argo has substituted its `{{...}}`. A user value that holds them must still reach the
 * container as written: `--repo https://github.com/acme/a$$b` is cloned and labelled as `a$$b`, never `a$b`, and a
 * ref `x$(PACKLINE_TAG)` (given with --ref or submitted with -p ref=...) is fetched as that text by resolve and clone
 * alike. Every template goes through Argo's own substitution (tools/argo-lint resolve) and then Kubernetes' own
 * expansion in the kubelet's order (tools/kubernetes/expand); the control shows the same values placed raw are
 * rewritten.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { exportArgo } from "../../../src/backends/argo/export.js";
import { CLONE_SCRIPT, RESOLVE_SCRIPT } from "../../../src/backends/argo/scripts.js";
import { validateArgo } from "../../../src/core/options/validate.js";
import { planBuild } from "../../../src/core/plan/planner.js";
import { resolveText } from "../../../src/core/plan/text.js";
import type { Late } from "../../../src/core/plan/types.js";
import { ARGO_LINT_BUILD_TIMEOUT_MS, ensureArgoLint, type Json, resolveArgoTemplate } from "../../support/argo-lint.js";
import { BASE, RUN_VARS, templatesOf } from "../../support/argo-variants.js";
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
  const late = { ...values, now: RUN_VARS["workflow.creationTimestamp.s"], "run-id": RUN_VARS["workflow.uid"] };

  it("resolve gets the repository, the ref and the tag as given, and its script unchanged", async () => {
    const { main } = await started(yaml, "resolve", { ...RUN_VARS, "inputs.parameters.ref": REF });
    expect(envOf(main)).toMatchObject({ PACKLINE_REPO: REPO, PACKLINE_REF: REF, PACKLINE_TAG: "v1.2.3" });
    expect(main.args).toEqual([RESOLVE_SCRIPT]);
  });

  it("values submitted with -p (ref and tag) reach resolve and clone as given", async () => {
    const vars = { ...RUN_VARS, "inputs.parameters.ref": SUBMITTED_REF, "inputs.parameters.tag": SUBMITTED_TAG };
    const resolve = (await started(yaml, "resolve", vars)).main;
    const { clone } = await started(yaml, "build", vars);
    for (const c of [resolve, clone])
      expect(envOf(c)).toMatchObject({ PACKLINE_REPO: REPO, PACKLINE_REF: SUBMITTED_REF, PACKLINE_TAG: SUBMITTED_TAG });
  });

  it("the build pod: the clone's env and script, the creator's arguments and env as the plan says", async () => {
    const pod = await started(yaml, "build", { ...RUN_VARS, "inputs.parameters.ref": REF });
    expect(envOf(pod.clone)).toMatchObject({ PACKLINE_REPO: REPO, PACKLINE_REF: REF });
    expect(pod.clone.args).toEqual([CLONE_SCRIPT]);
    const step = plan.steps.build;
    expect([...pod.main.command, ...pod.main.args]).toEqual([...step.command, ...step.args].map((t) => resolveText(t, late)));
    expect(envOf(pod.main)).toEqual(Object.fromEntries(step.env.map((e) => [e.name, resolveText(e.value, late)])));
  });

  it("check and release: every env value and argument as the plan says (the source label is the URL as given)", async () => {
    for (const step of [plan.steps.check, plan.steps.release]) {
      const { main } = await started(yaml, step.name, RUN_VARS);
      const expected = Object.fromEntries(step.env.map((e) => [e.name, resolveText(e.value, late)]));
      expect(envOf(main), step.name).toEqual(expected);
      expect([...main.command, ...main.args], step.name).toEqual([...step.command, ...step.args].map((t) => resolveText(t, late)));
      if (step.name === "release") expect(Object.values(expected)).toContain(REPO);
    }
  });

  it("control: the same values placed raw in a container are rewritten by the kubelet", async () => {
    const document = parse(yaml);
    const resolve = templatesOf(document).resolve;
    resolve.container.env.push({ name: "RAW_REPO", value: REPO }, { name: "RAW_REF", value: "{{inputs.parameters.ref}}" });
    const { main } = await started(stringify(document), "resolve", { ...RUN_VARS, "inputs.parameters.ref": REF });
    expect(envOf(main).RAW_REPO).toBe("https://github.com/acme/a$bv1.2.3$");
    expect(envOf(main).RAW_REF).toBe("xv1.2.3$y" + REPO);
  });
});
