/**
 * `npm run bench:e2e` (`tsx test/e2e/bench.ts`): build times of packline's plan (its creator step run by the e2e
 * harness, as the e2e tests run it) against `pack build --publish`, with the same builder, app, registry and env.
 * Not a test: it prints figures. Figures, each repeated BENCH_RUNS times (default 3), median printed:
 *   - cold: a new repository and an empty cache (packline: a new cache dir; pack: a new image name and --clear-cache);
 *   - warm: the same build again with the cache kept (the buildpack's cache layer is checked to be reused).
 * It sets the environment up the way the e2e suite does (test/e2e/global-setup.ts: setup.sh, and teardown.sh at the
 * end unless PACKLINE_E2E_REUSE=1 or PACKLINE_E2E_KEEP=1).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import setup from "./global-setup.js";
import { copySource, e2eState, packBuild, removeTree, uniqueRepository } from "./harness.js";
import { GREETING, planFor, runPlanBuild } from "./packline.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const REUSED = "---> cache: reusing the stamp layer";
const FRESH = "---> cache: no stamp layer yet";

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timed(label: string, run: () => Promise<{ exitCode: number; output: string }>, expectInOutput: string): Promise<number> {
  const started = process.hrtime.bigint();
  const result = await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.exitCode !== 0) throw new Error(`${label}: exit ${result.exitCode}\n${result.output}`);
  if (!result.output.includes(expectInOutput)) throw new Error(`${label}: expected "${expectInOutput}" in the output\n${result.output}`);
  console.log(`  ${label}: ${seconds.toFixed(2)} s`);
  return seconds;
}

async function main(): Promise<void> {
  const teardown = setup();
  const times = { packlineCold: [] as number[], packlineWarm: [] as number[], packCold: [] as number[], packWarm: [] as number[] };
  try {
    const s = e2eState();
    const source = copySource();
    try {
      for (let i = 1; i <= RUNS; i++) {
        console.log(`run ${i}/${RUNS}`);
        const repository = uniqueRepository("e2e/bench-packline");
        const cache = mkdtempSync(join(tmpdir(), "packline-e2e-bench-cache-"));
        try {
          const plan = planFor(repository);
          const packline = async () => {
            const r = await runPlanBuild(plan, { source, cacheDir: cache });
            return { exitCode: r.run.exitCode, output: r.run.output };
          };
          times.packlineCold.push(await timed("packline cold", packline, FRESH));
          times.packlineWarm.push(await timed("packline warm", packline, REUSED));
        } finally {
          removeTree(cache);
        }

        const image = `${s.registry}/${uniqueRepository("e2e/bench-pack")}:1.2.3`;
        const pack = (extraArgs: string[]) => async () => {
          const r = await packBuild({ image, path: source, env: { GREETING }, extraArgs });
          return { exitCode: r.exitCode, output: r.stdout + r.stderr };
        };
        times.packCold.push(await timed("pack cold", pack(["--clear-cache"]), FRESH));
        times.packWarm.push(await timed("pack warm", pack([]), REUSED));
      }
    } finally {
      removeTree(source);
    }

    const line = (figure: string, ours: number[], theirs: number[]) => {
      const a = median(ours);
      const b = median(theirs);
      return `${figure}: packline median ${a.toFixed(2)}s, pack median ${b.toFixed(2)}s, ratio ${(a / b).toFixed(2)}`;
    };
    console.log(`\npackline (plan's creator step via docker) vs pack ${s.packVersion}, lifecycle ${s.lifecycleVersion}, ${RUNS} runs each:`);
    console.log(line("cold build", times.packlineCold, times.packCold));
    console.log(line("warm rebuild", times.packlineWarm, times.packWarm));
  } finally {
    if (typeof teardown === "function") teardown();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
