/**
 * `npm run bench:rebase` (`tsx test/e2e/bench-rebase.ts` through test/lab/run.sh): what carrying a patched run image
 * into a released version costs, by rebase against by a warm rebuild, on the deps fixture, for the executor the e2e
 * harness is (the plan's steps in the lab's Docker, as restricted pods). Not a test: it prints figures.
 *
 * Setup: a run image of the lab named in a builder's run.toml (test/e2e/rebase.ts), version 1.0.0 of the deps
 * fixture built on it (cold, which fills the cache). Then BENCH_RUNS times (default 3): a newly patched run image is
 * pushed; the warm rebuild (the same source as the next version, the cache kept: a rebuild must publish a new version,
 * as 1.0.0's tag moves only by a rebase) and the rebase of 1.0.0 onto it are timed, the whole plan each (what a user
 * waits for) and each step. Prints the medians, their ratio (the issue's aim: 0.3x or less) and `uptime`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import setup from "./global-setup.js";
import { e2eState, removeTree, uniqueRepository } from "./harness.js";
import { planFor, runPlan } from "./packline.js";
import { pushBuilder, pushRunImage, rebasePlanFor, runRebase } from "./rebase.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const fmt = (s: number | undefined) => (s === undefined ? "-" : s.toFixed(2));

async function main(): Promise<void> {
  const teardown = setup();
  const cacheDir = mkdtempSync(join(tmpdir(), "packline-bench-rebase-cache-"));
  try {
    const s = e2eState();
    const repository = uniqueRepository("bench/rebase");
    const runName = `${s.registry}/${uniqueRepository("bench/rebase-run")}:stack`;
    const builder = `${s.registry}/${uniqueRepository("bench/rebase-builder")}:1`;
    console.log(`uptime: ${execFileSync("uptime", { encoding: "utf8" }).trim()}`);
    await pushRunImage(runName, "patch 0");
    await pushBuilder(builder, runName);
    const plan = (tag: string) => planFor(repository, { tag, builder });
    const cold = await runPlan(plan("v1.0.0"), { source: s.depsFixtureApp, cacheDir });
    if (!cold.digest) throw new Error(`the cold build of 1.0.0 failed:\n${cold.failed?.output.slice(-4000)}`);
    console.log(`deps fixture 1.0.0, cold: ${fmt(cold.seconds.total)} s`);
    const rebuilds: number[] = [];
    const rebases: number[] = [];
    for (let i = 1; i <= RUNS; i++) {
      await pushRunImage(runName, `patch ${i}`);
      const rebuild = await runPlan(plan(`v1.0.${i}`), { source: s.depsFixtureApp, cacheDir });
      if (!rebuild.digest) throw new Error(`the warm rebuild ${i} failed:\n${rebuild.failed?.output.slice(-4000)}`);
      if (!rebuild.build?.output.includes("---> deps: reusing the cached deps layer"))
        throw new Error(`the rebuild ${i} was not warm:\n${rebuild.build?.output.slice(-4000)}`);
      const rebase = await runRebase(rebasePlanFor(repository, "1.0.0", { builder }));
      if (rebase.failed || rebase.outcome !== "rebase")
        throw new Error(`the rebase ${i} failed (${rebase.outcome}):\n${rebase.failed?.output.slice(-4000)}`);
      rebuilds.push(rebuild.seconds.total);
      rebases.push(rebase.seconds.total);
      const b = rebuild.seconds;
      const r = rebase.seconds;
      console.log(
        `run ${i}: warm rebuild ${fmt(b.total)} s (check ${fmt(b.check)}, build ${fmt(b.build)}, release ${fmt(b.release)}); ` +
          `rebase ${fmt(r.total)} s (check ${fmt(r.check)}, rebaser ${fmt(r.rebase)}, release ${fmt(r.release)}); ratio ${(r.total / b.total).toFixed(2)}x`,
      );
    }
    const ratio = median(rebases) / median(rebuilds);
    console.log(
      `e2e executor (plan steps in Docker), deps fixture, medians of ${RUNS}: warm rebuild ${fmt(median(rebuilds))} s, rebase ${fmt(median(rebases))} s, rebase/rebuild ${ratio.toFixed(2)}x (aim 0.3x or less)`,
    );
    console.log(`uptime: ${execFileSync("uptime", { encoding: "utf8" }).trim()}`);
  } finally {
    removeTree(cacheDir);
    await teardown?.();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
