/**
 * `npm run bench:cluster` (test/lab/cluster/bench.sh runs it in the lab's network namespace): what a cluster build
 * costs beyond the build itself, on the deps fixture (real archives unpacked into a cached layer), warm (the cache
 * claim filled by a first, uncounted build):
 * - submit-to-Succeeded (`argo submit --wait`, wall clock);
 * - the creator container's own run time (its start and end as Kubernetes reports them, to the second);
 * - the fixed cost: the difference (the controller's rounds, pods starting, the source, check and release containers);
 * - pods per build;
 * - the ratio of submit-to-Succeeded to the plan's own steps in the lab's Docker daemon (also warm);
 * with `--build-user` (one pod) and without (the builder-user pod, then the build pod), on Argo's default controller
 * settings; then with `--build-user` again with the controller's requeue time at 2 s (DEFAULT_REQUEUE_TIME, set on
 * the workflow-controller Deployment and set back afterwards), for cluster admins. Each figure is the median of
 * BENCH_RUNS runs (default 3). Where the time goes: each milestone of a build (the controller's rounds, the pod made and
 * scheduled, each container done, the workflow Succeeded) as a watch on the namespace saw it (timeline.ts), the median
 * over the counted runs, printed per configuration. BENCH_ONLY=plan,build-user,no-build-user,requeue (a comma list)
 * runs only those parts (the ratio needs `plan`). Not a test: it prints the figures.
 */
import { mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { removeTree } from "../../e2e/harness.js";
import { planFor, runPlan } from "../../e2e/packline.js";
import { readLab } from "../lab.js";
import { clusterInfo, createClaim, deleteNamespace, describeWorkflow, getJson, type KubeList, type KubeObject, kubectl } from "./cluster.js";
import { buildSpace, renderAndApply, submitTemplate } from "./packline.js";
import { type Mark, segments, Timeline } from "./timeline.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ONLY = process.env.BENCH_ONLY?.split(",").map((s) => s.trim());
const runs = (part: string) => !ONLY || ONLY.includes(part);
const WARM = "---> deps: reusing the cached deps layer";

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function seconds(go: () => Promise<void>): Promise<number> {
  const t = Date.now();
  await go();
  return (Date.now() - t) / 1000;
}

type Pod = KubeObject & {
  status?: { initContainerStatuses?: { name: string; state?: { terminated?: { startedAt?: string; finishedAt?: string } } }[] };
};

/** The creator (`build` init container) run time of a workflow's build pod, from the pod's status. */
async function creatorSeconds(namespace: string, workflow: string): Promise<number> {
  const pods = await getJson<KubeList<Pod>>(["-n", namespace, "pods", "-l", `workflows.argoproj.io/workflow=${workflow}`]);
  for (const pod of pods.items) {
    const build = pod.status?.initContainerStatuses?.find((c) => c.name === "build")?.state?.terminated;
    if (build?.startedAt && build.finishedAt) return (Date.parse(build.finishedAt) - Date.parse(build.startedAt)) / 1000;
  }
  throw new Error(`${workflow}: no build pod with a finished build container`);
}

interface Figures {
  total: number[];
  creator: number[];
  pods: number[];
  /** Each counted run's milestones, in ms from the submit. */
  marks: Mark[][];
}

/** BENCH_RUNS warm builds of the deps fixture from one template (after a first build fills the cache claim). */
async function clusterRuns(label: string, extra: readonly string[]): Promise<Figures> {
  const lab = readLab();
  const fixture = lab.git.repos.depsFixture;
  const space = await buildSpace("bench");
  const figures: Figures = { total: [], creator: [], pods: [], marks: [] };
  try {
    await createClaim(space.namespace, "cache");
    const [template] = await renderAndApply(space, ["--cache-pvc", "cache", "--pod-gc", "none", ...extra], fixture.url);
    for (let run = 0; run <= RUNS; run++) {
      const tag = `v1.0.${run}`;
      let result: Awaited<ReturnType<typeof submitTemplate>> | undefined;
      const timeline = new Timeline(space.namespace);
      let submitted = 0;
      let returned = 0;
      let total = 0;
      try {
        // the watch needs a moment to start listening
        await new Promise((r) => setTimeout(r, 2000));
        submitted = timeline.now();
        total = await seconds(async () => {
          result = await submitTemplate(space, template!, { tag, ref: fixture.tag }, { argoWait: true });
        });
        returned = submitted + total * 1000;
        await timeline.settle(result!.name);
      } finally {
        timeline.stop();
      }
      const r = result!;
      if (r.phase !== "Succeeded") throw new Error(`${label} ${tag}: ${describeWorkflow(r)}`);
      const marks = [...timeline.marksOf(r.name), { what: "argo submit --wait returned", at: returned }].map((m) => ({
        what: m.what,
        at: m.at - submitted,
      }));
      const creator = await creatorSeconds(space.namespace, r.name);
      const pods = r.nodes.filter((n) => n.type === "Pod").length;
      const warm = r.logs.includes(WARM);
      const at = (what: string) => marks.find((m) => m.what === what)?.at;
      const writes = marks.filter((m) => m.what.startsWith("workflow written")).map((m) => (m.at / 1000).toFixed(1));
      const podSpan = [at("pod created"), at("pod Succeeded")].map((t) => (t === undefined ? "?" : (t / 1000).toFixed(1)));
      console.log(
        `  ${label} ${tag}${run === 0 ? " (fills the cache, not counted)" : ""}: ${total.toFixed(1)} s, creator ${creator.toFixed(0)} s, ${pods} pod(s)${run > 0 && !warm ? " (cache NOT reused)" : ""}; build pod ${podSpan.join("-")} s, the controller wrote the workflow at ${writes.join(", ")} s`,
      );
      if (run === 0) continue;
      if (!warm) throw new Error(`${label} ${tag}: the cache was not reused`);
      figures.total.push(total);
      figures.creator.push(creator);
      figures.pods.push(pods);
      figures.marks.push(marks);
    }
  } finally {
    await deleteNamespace(space.namespace, false);
  }
  return figures;
}

/** The plan's own steps in the lab's Docker daemon, warm: the median of BENCH_RUNS runs after a first one. */
async function planRuns(): Promise<number[]> {
  const lab = readLab();
  const fixture = lab.git.repos.depsFixture;
  const cacheDir = mkdtempSync(join(tmpdir(), "packline-bench-cache-"));
  const times: number[] = [];
  try {
    const repository = `bench/plan-${Date.now()}`;
    for (let run = 0; run <= RUNS; run++) {
      const tag = `v1.0.${run}`;
      const t = await seconds(async () => {
        const plan = planFor(repository, { tag, repo: fixture.url, ref: fixture.tag, floatingTags: false, latest: false, env: [] });
        const r = await runPlan(plan, { source: lab.fixtures.deps, cacheDir, lates: { commit: fixture.commit } });
        if (r.failed) throw new Error(`plan ${tag}: ${r.failed.output.slice(-3000)}`);
        if (run > 0 && !r.build!.output.includes(WARM)) throw new Error(`plan ${tag}: the cache was not reused\n${r.build!.output}`);
      });
      console.log(`  plan's steps in Docker ${tag}${run === 0 ? " (fills the cache, not counted)" : ""}: ${t.toFixed(1)} s`);
      if (run > 0) times.push(t);
    }
  } finally {
    removeTree(cacheDir);
  }
  return times;
}

/** Sets (or, with undefined, removes) DEFAULT_REQUEUE_TIME on the controller and waits for it to run again. */
async function requeueTime(value: string | undefined): Promise<void> {
  const ns = clusterInfo().argoNamespace;
  await kubectl(["-n", ns, "set", "env", "deployment/workflow-controller", value ? `DEFAULT_REQUEUE_TIME=${value}` : "DEFAULT_REQUEUE_TIME-"]);
  await kubectl(["-n", ns, "rollout", "status", "deployment/workflow-controller", "--timeout=180s"], { timeoutMs: 200_000 });
}

async function main(): Promise<void> {
  const lab = readLab();
  const buildUser = `${lab.cnb.uid}:${lab.cnb.gid}`;
  const plan = runs("plan") ? median(await planRuns()) : undefined;
  const rows: [string, Figures][] = [];
  if (runs("build-user")) rows.push(["--build-user, default controller", await clusterRuns("--build-user", ["--build-user", buildUser])]);
  if (runs("no-build-user")) rows.push(["no --build-user, default controller", await clusterRuns("no --build-user", [])]);
  if (runs("requeue")) {
    await requeueTime("2s");
    try {
      rows.push(["--build-user, requeue time 2 s", await clusterRuns("--build-user, requeue 2 s", ["--build-user", buildUser])]);
    } finally {
      await requeueTime(undefined);
    }
  }
  for (const [label, f] of rows) printTimeline(label, f.marks);

  console.log(
    `\nbench:cluster (deps fixture, warm, medians of ${RUNS} run${RUNS === 1 ? "" : "s"}; the plan's steps in Docker: ${plan === undefined ? "not run" : `${plan.toFixed(1)} s`}):`,
  );
  console.log(
    `load average (1, 5, 15 min): ${loadavg()
      .map((l) => l.toFixed(2))
      .join(", ")}`,
  );
  for (const [label, f] of rows) {
    const total = median(f.total);
    const creator = median(f.creator);
    const fixed = median(f.total.map((t, i) => t - f.creator[i]!));
    console.log(
      `${label}: submit-to-Succeeded ${total.toFixed(1)} s, creator ${creator.toFixed(0)} s, fixed cost ${fixed.toFixed(1)} s, ${median(f.pods)} pod(s) per build, ratio to the plan's steps ${plan === undefined ? "(plan not run)" : `${(total / plan).toFixed(2)}x`}`,
    );
  }
}

/**
 * Where the time went: each milestone's median time from the submit, and the median of its gap from the milestone
 * before it (in each run's own order), over the counted runs; a milestone missing from some runs says so.
 */
function printTimeline(label: string, runs: readonly Mark[][]): void {
  const at = new Map<string, number[]>();
  const gap = new Map<string, number[]>();
  for (const marks of runs) {
    for (const s of segments(marks)) {
      at.set(s.what, [...(at.get(s.what) ?? []), s.at]);
      gap.set(s.what, [...(gap.get(s.what) ?? []), s.seconds]);
    }
  }
  const rows = [...at.entries()].map(([what, times]) => ({ what, at: median(times), gap: median(gap.get(what)!), n: times.length }));
  rows.sort((a, b) => a.at - b.at);
  console.log(`\nwhere the time goes, ${label} (s from the submit, as a watch saw it; median of ${runs.length}; +gap from the milestone before):`);
  for (const r of rows) {
    console.log(
      `  ${r.at.toFixed(2).padStart(6)}  +${r.gap.toFixed(2).padStart(5)}  ${r.what}${r.n < runs.length ? ` (in ${r.n} of ${runs.length} runs)` : ""}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
