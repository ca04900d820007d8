/**
 * `npm run bench:e2e` (`tsx test/e2e/bench.ts`): what a user waits for. packline's whole plan (check, build,
 * release: run by the e2e harness in the lab's Docker as the plan states them, the check beside the build, where
 * `packline build` makes only the build's container beside it: README, "Releases") beside the raw lifecycle
 * `creator` (one `docker run` of the builder, publishing, the same arguments the plan's build step gives) and
 * `pack build --publish`, with the same builder, app, registry and env. Not a test: it prints figures.
 *
 * Each figure is the median of BENCH_RUNS runs (default 3), for the fixtures in BENCH_FIXTURES (default `deps`: a
 * few MB of real archives downloaded, checked and unpacked into a cached layer, where the cache matters; `static`
 * has a cache layer of a few bytes):
 *   - cold: a new repository and an empty cache (packline: a new cache dir; the raw creator: the same; pack: a new
 *     image name and --clear-cache);
 *   - warm: the next build with the cache kept, into the same repository (packline publishes the next version, since
 *     the same version again is "already published"; the buildpack's message that it reused its layer is checked).
 * packline's line gives each step (check, build, release) beside the total, so the next regression shows at once,
 * and the ratios packline/raw creator and packline/pack. The check runs beside the build where the plan allows it
 * (types.ts, Overlap): then the total is about the longer of the two plus the release, not their sum.
 * Run it with `npm run bench:e2e` (test/lab/run.sh bench: in the lab's network namespace, the lab started and stopped
 * around it unless PACKLINE_LAB_REUSE=1 or PACKLINE_LAB_KEEP=1); test/e2e/global-setup.ts readies dockerd as for
 * the e2e suite.
 */
import { mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import setup from "./global-setup.js";
import { copySource, e2eState, packBuild, removeTree, uniqueRepository } from "./harness.js";
import { GREETING, planFor, rawCreator, runPlan, type StepSeconds } from "./packline.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const FIXTURES = (process.env.BENCH_FIXTURES ?? "deps").split(",").map((f) => f.trim());

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

function check(label: string, exitCode: number, output: string, expectInOutput: string): void {
  if (exitCode !== 0) throw new Error(`${label}: exit ${exitCode}\n${output.slice(-4000)}`);
  if (!output.includes(expectInOutput)) throw new Error(`${label}: expected "${expectInOutput}" in the output\n${output.slice(-4000)}`);
}

async function timed(label: string, run: () => Promise<{ exitCode: number; output: string }>, expectInOutput: string): Promise<number> {
  const started = process.hrtime.bigint();
  const result = await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  check(label, result.exitCode, result.output, expectInOutput);
  console.log(`  ${label}: ${seconds.toFixed(2)} s`);
  return seconds;
}

/** The machine's load averages, printed beside the figures (a shared machine's figures compare only loosely). */
const load = () =>
  `load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`;

const fmt = (s: number | undefined) => (s === undefined ? "-" : s.toFixed(2));

/** packline's whole plan for one version; returns its step times (the total is what the user waits for). */
async function packline(label: string, repository: string, tag: string, source: string, cacheDir: string, expect: string): Promise<StepSeconds> {
  const r = await runPlan(planFor(repository, { tag }), { source, cacheDir });
  const output = `${r.check.output}${r.build?.output ?? ""}${r.release?.output ?? ""}`;
  check(label, r.failed ? r.failed.exitCode || 1 : r.digest ? 0 : 1, r.failed ? r.failed.output : output, expect);
  const t = r.seconds;
  console.log(`  ${label}: ${fmt(t.total)} s (check ${fmt(t.check)}, build ${fmt(t.build)}, release ${fmt(t.release)})`);
  return t;
}

async function main(): Promise<void> {
  const teardown = setup();
  try {
    const s = e2eState();
    const all: Fixture[] = [
      { name: "static", dir: s.fixtureApp, fresh: "---> cache: no stamp layer yet", reused: "---> cache: reusing the stamp layer" },
      {
        name: "deps",
        dir: s.depsFixtureApp,
        fresh: "---> deps: no cached deps layer, installing",
        reused: "---> deps: reusing the cached deps layer",
      },
    ];
    const fixtures = all.filter((f) => FIXTURES.includes(f.name));
    if (fixtures.length === 0) throw new Error(`BENCH_FIXTURES=${FIXTURES.join(",")} names no fixture (static, deps)`);
    const lines: string[] = [];
    for (const fixture of fixtures) lines.push(...(await benchFixture(fixture)));
    console.log(
      `\nbench:e2e: packline's plan (check, build, release) in the lab's Docker vs the raw creator vs pack ${s.packVersion}, lifecycle ${s.lifecycleVersion}; medians of ${RUNS} runs, seconds (${load()} at the end):`,
    );
    for (const line of lines) console.log(line);
  } finally {
    if (typeof teardown === "function") teardown();
  }
}

async function benchFixture(fixture: Fixture): Promise<string[]> {
  const s = e2eState();
  const t = {
    packline: [[], []] as StepSeconds[][],
    raw: [[], []] as number[][],
    pack: [[], []] as number[][],
  };
  const source = copySource(fixture.dir);
  try {
    for (let i = 1; i <= RUNS; i++) {
      console.log(`${fixture.name} fixture, run ${i}/${RUNS} (${load()})`);
      const repository = uniqueRepository(`e2e/bench-packline-${fixture.name}`);
      let cache = mkdtempSync(join(tmpdir(), "packline-e2e-bench-cache-"));
      try {
        t.packline[0]!.push(await packline("packline cold", repository, "v1.2.3", source, cache, fixture.fresh));
        t.packline[1]!.push(await packline("packline warm", repository, "v1.2.4", source, cache, fixture.reused));
      } finally {
        removeTree(cache);
      }

      const rawRepository = uniqueRepository(`e2e/bench-raw-${fixture.name}`);
      cache = mkdtempSync(join(tmpdir(), "packline-e2e-bench-cache-"));
      const work = mkdtempSync(join(tmpdir(), "packline-e2e-bench-raw-"));
      const rawSource = copySource(fixture.dir);
      try {
        t.raw[0]!.push(await timed("raw creator cold", () => rawCreator(rawRepository, rawSource, cache, work), fixture.fresh));
        t.raw[1]!.push(await timed("raw creator warm", () => rawCreator(rawRepository, rawSource, cache, work), fixture.reused));
      } finally {
        removeTree(cache);
        removeTree(work);
        removeTree(rawSource);
      }

      const image = `${s.registry}/${uniqueRepository(`e2e/bench-pack-${fixture.name}`)}:1.2.3`;
      const pack = (extraArgs: string[]) => async () => {
        const r = await packBuild({ image, path: source, env: { GREETING }, extraArgs });
        return { exitCode: r.exitCode, output: r.stdout + r.stderr };
      };
      t.pack[0]!.push(await timed("pack cold", pack(["--clear-cache"]), fixture.fresh));
      t.pack[1]!.push(await timed("pack warm", pack([]), fixture.reused));
    }
  } finally {
    removeTree(source);
  }
  return ["cold", "warm"].map((figure, i) => {
    const runs = t.packline[i]!;
    const step = (name: keyof StepSeconds) => median(runs.map((r) => r[name] ?? 0));
    const total = step("total");
    const raw = median(t.raw[i]!);
    const pack = median(t.pack[i]!);
    return `${fixture.name} ${figure}: packline ${fmt(total)} (check ${fmt(step("check"))}, build ${fmt(step("build"))}, release ${fmt(step("release"))}) | raw creator ${fmt(raw)} | pack ${fmt(pack)} | packline/raw creator ${(total / raw).toFixed(2)}, packline/pack ${(total / pack).toFixed(2)}`;
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
