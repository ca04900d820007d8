/**
 * `npm run bench:e2e` (`tsx test/e2e/bench.ts`): build times of packline's plan (its creator step run by the e2e
 * harness, as the e2e tests run it) against `pack build --publish`, with the same builder, app, registry and env.
 * Not a test: it prints figures. Figures, each repeated BENCH_RUNS times (default 3), median printed, for two apps:
 * the static fixture (a cache layer of a few bytes) and the deps fixture (a few MB of real archives downloaded,
 * checked and unpacked into a cached layer, where the cache matters):
 *   - cold: a new repository and an empty cache (packline: a new cache dir; pack: a new image name and --clear-cache);
 *   - warm: the same build again with the cache kept (the buildpack's cache layer is checked to be reused).
 * Run it with `npm run bench:e2e` (test/lab/run.sh bench: in the lab's network namespace, the lab started and stopped
 * around it unless PACKLINE_LAB_REUSE=1 or PACKLINE_LAB_KEEP=1); test/e2e/global-setup.ts readies dockerd as for
 * the e2e suite.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import setup from "./global-setup.js";
import { copySource, e2eState, packBuild, removeTree, uniqueRepository } from "./harness.js";
import { GREETING, planFor, runBuildStep } from "./packline.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Fixture {
  readonly name: string;
  readonly dir: string;
  /** What the buildpack prints on a cold build and on a warm one (checked, so a warm build that was not is an error). */
  readonly fresh: string;
  readonly reused: string;
}

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
  try {
    const s = e2eState();
    const fixtures: Fixture[] = [
      { name: "static", dir: s.fixtureApp, fresh: "---> cache: no stamp layer yet", reused: "---> cache: reusing the stamp layer" },
      {
        name: "deps",
        dir: s.depsFixtureApp,
        fresh: "---> deps: no cached deps layer, installing",
        reused: "---> deps: reusing the cached deps layer",
      },
    ];
    const lines: string[] = [];
    for (const fixture of fixtures) lines.push(...(await benchFixture(fixture)));
    console.log(`\npackline (plan's creator step via docker) vs pack ${s.packVersion}, lifecycle ${s.lifecycleVersion}, ${RUNS} runs each:`);
    for (const line of lines) console.log(line);
  } finally {
    if (typeof teardown === "function") teardown();
  }
}

async function benchFixture(fixture: Fixture): Promise<string[]> {
  const s = e2eState();
  const times = { packlineCold: [] as number[], packlineWarm: [] as number[], packCold: [] as number[], packWarm: [] as number[] };
  const source = copySource(fixture.dir);
  try {
    for (let i = 1; i <= RUNS; i++) {
      console.log(`${fixture.name} fixture, run ${i}/${RUNS}`);
      const repository = uniqueRepository(`e2e/bench-packline-${fixture.name}`);
      const cache = mkdtempSync(join(tmpdir(), "packline-e2e-bench-cache-"));
      try {
        const plan = planFor(repository);
        const packline = async () => {
          const r = await runBuildStep(plan, { source, cacheDir: cache });
          return { exitCode: r.run.exitCode, output: r.run.output };
        };
        times.packlineCold.push(await timed("packline cold", packline, fixture.fresh));
        times.packlineWarm.push(await timed("packline warm", packline, fixture.reused));
      } finally {
        removeTree(cache);
      }

      const image = `${s.registry}/${uniqueRepository(`e2e/bench-pack-${fixture.name}`)}:1.2.3`;
      const pack = (extraArgs: string[]) => async () => {
        const r = await packBuild({ image, path: source, env: { GREETING }, extraArgs });
        return { exitCode: r.exitCode, output: r.stdout + r.stderr };
      };
      times.packCold.push(await timed("pack cold", pack(["--clear-cache"]), fixture.fresh));
      times.packWarm.push(await timed("pack warm", pack([]), fixture.reused));
    }
  } finally {
    removeTree(source);
  }
  const line = (figure: string, ours: number[], theirs: number[]) => {
    const a = median(ours);
    const b = median(theirs);
    return `${fixture.name} fixture, ${figure}: packline median ${a.toFixed(2)}s, pack median ${b.toFixed(2)}s, ratio ${(a / b).toFixed(2)}`;
  };
  return [line("cold build", times.packlineCold, times.packCold), line("warm rebuild", times.packlineWarm, times.packWarm)];
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
