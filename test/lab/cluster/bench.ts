/**
 * `npm run bench:cluster` (test/lab/cluster/bench.sh runs it in the lab's network namespace): the time from submit
 * to Succeeded of packline's exported WorkflowTemplate on the real Argo controller, cold (a new cache claim) and warm
 * (the same claim, the next version), beside the same build on the real Dagger engine (`packline build`, a new cache
 * volume, then the same) and the plan's own steps in the lab's Docker daemon (a new cache dir, then the same). The
 * app is the deps fixture (real archives unpacked into a cached layer: where the cache matters). Not a test: it
 * prints one line per figure with the ratios; each figure is the median of BENCH_RUNS runs (default 1: a cluster
 * build takes most of a minute, most of it the controller's cadence).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeTree } from "../../e2e/harness.js";
import { planFor, runPlan } from "../../e2e/packline.js";
import { buildRepo } from "../engine/packline-lab.js";
import { readLab } from "../lab.js";
import { createClaim, deleteNamespace, describeWorkflow } from "./cluster.js";
import { buildSpace, renderAndApply, submitTemplate } from "./packline.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 1);
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

async function main(): Promise<void> {
  const lab = readLab();
  const fixture = lab.git.repos.depsFixture;
  const apps = lab.registries.apps.address;
  const figures: Record<string, number[]> = {};
  const add = (name: string, value: number) => {
    figures[name] = [...(figures[name] ?? []), value];
    console.log(`  ${name}: ${value.toFixed(1)} s`);
  };

  for (let run = 0; run < RUNS; run++) {
    // the cluster: a template with a cache claim; cold is the claim's first build, warm the next version's
    const space = await buildSpace("bench");
    try {
      await createClaim(space.namespace, "cache");
      const [template] = await renderAndApply(space, ["--cache-pvc", "cache", "--pod-gc", "none"], fixture.url);
      for (const [phase, tag] of [
        ["cold", "v1.0.0"],
        ["warm", "v1.0.1"],
      ] as const) {
        add(
          `cluster ${phase}`,
          await seconds(async () => {
            const r = await submitTemplate(space, template!, { tag, ref: fixture.tag }, { argoWait: true });
            if (r.phase !== "Succeeded") throw new Error(`cluster ${phase}: ${describeWorkflow(r)}`);
          }),
        );
      }
    } finally {
      await deleteNamespace(space.namespace, false);
    }

    // the Dagger engine: packline build, a new image (so a new cache volume), then its next version
    const image = `${apps}/bench/engine-${Date.now()}`;
    for (const [phase, tag] of [
      ["cold", "v1.0.0"],
      ["warm", "v1.0.1"],
    ] as const) {
      add(
        `engine ${phase}`,
        await seconds(async () => {
          const r = await buildRepo({ repo: fixture.url, ref: fixture.tag, tag, image });
          if (r.code !== 0) throw new Error(`engine ${phase}: ${r.stderr.slice(-3000)}`);
        }),
      );
    }

    // the plan's own steps in the lab's Docker daemon: a new cache dir, then the same for the next version
    const cacheDir = mkdtempSync(join(tmpdir(), "packline-bench-cache-"));
    try {
      const repository = `bench/plan-${Date.now()}`;
      for (const [phase, tag] of [
        ["cold", "v1.0.0"],
        ["warm", "v1.0.1"],
      ] as const) {
        add(
          `plan ${phase}`,
          await seconds(async () => {
            const plan = planFor(repository, { tag, repo: fixture.url, ref: fixture.tag, floatingTags: false, latest: false, env: [] });
            const r = await runPlan(plan, { source: lab.fixtures.deps, cacheDir, lates: { commit: fixture.commit } });
            if (r.failed) throw new Error(`plan ${phase}: ${r.failed.output.slice(-3000)}`);
            if (phase === "warm" && !r.build!.output.includes(WARM)) throw new Error(`plan warm: the cache was not reused\n${r.build!.output}`);
          }),
        );
      }
    } finally {
      removeTree(cacheDir);
    }
  }

  console.log(`\nbench:cluster (deps fixture, ${RUNS} run${RUNS === 1 ? "" : "s"}, medians):`);
  for (const phase of ["cold", "warm"]) {
    const plan = median(figures[`plan ${phase}`]!);
    for (const executor of ["cluster", "engine", "plan"]) {
      const value = median(figures[`${executor} ${phase}`]!);
      console.log(
        `${phase} ${executor}: ${value.toFixed(1)} s${executor === "plan" ? "" : `, ratio to the plan's steps ${(value / plan).toFixed(2)}`}`,
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
