/**
 * `npm run bench:engine` (`tsx test/lab/engine/bench.ts`): packline on the lab's real Dagger engine against the same
 * build run directly, with the same builder, app and registry: the plan's check, build and release steps run by the
 * e2e harness in the lab's Docker (test/e2e/packline.ts, what a cluster runs), and `pack build --publish`. Not a test:
 * it prints figures, one line each, with the ratios. Each figure is the median of BENCH_RUNS runs (default 3):
 *   - engine start (everything cached) and module load (`dagger functions` of this repository: the first on a fresh
 *     engine compiles the TypeScript runtime; then again, warm);
 *   - for the static fixture and the deps fixture (a few MB of real archives downloaded from the lab's file server,
 *     checked and unpacked into a cached layer, where the cache matters):
 *       cold: a new image name, so a new cache (packline: a new cache volume; e2e: a new cache dir; pack: a new image
 *             and --clear-cache);
 *       warm: the next version of the same image with the cache kept (the buildpack's message that it reused its
 *             layer is checked; the same version again would be "already published", nothing built).
 * packline runs as a process (`packline build`, bin/packline.js of a copy of this repository with its dist/ compiled),
 * as a user who installed it runs it;
 * beside its steps it prints where the rest of its time goes (start, session, before the steps, close, output, exit).
 * BENCH_ONLY=load times only the module load; BENCH_ONLY=builds only the builds.
 * Starts the lab (if none runs) and the engine, and stops what it started (global-setup.ts); readies the lab's dockerd
 * as the e2e suite does (test/e2e/setup.sh, in the lab's network namespace).
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { removeTree } from "../../e2e/harness.js";
import { planFor, rawCreator, runPlan } from "../../e2e/packline.js";
import { readLab, registryPassword } from "../lab.js";
import { moduleLoadFigures } from "./bench-load.js";
import { APPS_REGISTRY, IMAGES_REGISTRY, moduleCopy, type Ran, REPO_ROOT, removeDir, run, runPackline, tempCopy } from "./engine.js";
import setup from "./global-setup.js";
import { inLabNet } from "./packline-lab.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** The fixtures to time (BENCH_FIXTURES, comma-separated: static, deps; default both). */
const FIXTURES = (process.env.BENCH_FIXTURES ?? "static,deps").split(",").map((f) => f.trim());

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function timed(label: string, go: () => Promise<Ran>, expect?: string): Promise<number> {
  const r = await go();
  lastRun = r;
  const output = r.stdout + r.stderr;
  if (r.code !== 0) throw new Error(`${label}: exit ${r.code}\n${output.slice(-4000)}`);
  if (expect && !output.includes(expect)) throw new Error(`${label}: expected "${expect}" in the output\n${output.slice(-4000)}`);
  console.log(`  ${label}: ${(r.ms / 1000).toFixed(2)} s`);
  return r.ms / 1000;
}

/** Each step's seconds and the total of one run (`-` where a step did not run). */
type Steps = { check?: number; build?: number; release?: number; total: number };
const fmt = (s: number | undefined) => (s === undefined ? "-" : s.toFixed(2));
const stepsText = (t: Steps) => `${fmt(t.total)} s (check ${fmt(t.check)}, build ${fmt(t.build)}, release ${fmt(t.release)})`;
const medianSteps = (runs: readonly Steps[]): Steps => {
  const m = (k: keyof Steps) => (runs.some((r) => r[k] === undefined) ? undefined : median(runs.map((r) => r[k]!)));
  return { check: m("check"), build: m("build"), release: m("release"), total: m("total")! };
};

/** The e2e plan's check, build and release as a timed run (the build step's output is what is checked). */
async function e2ePlan(repository: string, tag: string, source: string, cacheDir: string, expect: string): Promise<Steps> {
  const r = await runPlan(planFor(repository, { tag, floatingTags: false, latest: false, env: [] }), { source, cacheDir });
  const output = `${r.check.output}${r.build?.output ?? ""}${r.release?.output ?? ""}`;
  if (r.failed || !r.digest) throw new Error(`e2e plan: failed\n${(r.failed?.output ?? output).slice(-4000)}`);
  if (!output.includes(expect)) throw new Error(`e2e plan: expected "${expect}" in the output\n${output.slice(-4000)}`);
  console.log(`  e2e plan in Docker, ${tag}: ${stepsText(r.seconds)}`);
  return r.seconds;
}

/**
 * Where a `packline build` process spends its time outside the steps (src/cli/build.ts, processSeconds): node and
 * packline's modules until the session is asked for, the Dagger session's start, the run's own work before its first
 * step (the source's upload and digest, the builder's user, the secret), the session's close, the wait for the CLI's
 * last output, and the process's exit after that (the wall time left).
 */
type Outside = { start: number; session: number; before: number; close: number; output: number; exit: number };
const OUTSIDE_PARTS = ["start", "session", "before", "close", "output", "exit"] as const;
const outsideText = (o: Outside) => OUTSIDE_PARTS.map((k) => `${k === "before" ? "before the steps" : k} ${fmt(o[k])}`).join(", ");

/** packline build as a process; its steps' seconds, and the rest, from the lines PACKLINE_STEP_TIMES=1 makes it print. */
async function packlineSteps(label: string, go: () => Promise<Ran>, expect: string): Promise<Steps & { outside: Outside }> {
  const total = await timed(label, go, expect);
  const r = lastRun!;
  const m = /packline: step seconds: check ([0-9.-]+), build ([0-9.-]+), release ([0-9.-]+), total ([0-9.]+), before the steps ([0-9.]+)/.exec(
    r.stderr,
  );
  const p = /packline: process seconds: start ([0-9.]+), session ([0-9.]+), run ([0-9.]+), close ([0-9.]+), output ([0-9.]+)/.exec(r.stderr);
  if (!m || !p) throw new Error(`${label}: no step or process times in its output (PACKLINE_STEP_TIMES=1)\n${r.stderr.slice(-2000)}`);
  const n = (v: string) => (v === "-" ? undefined : Number(v));
  const [start, session, run, close, output] = p.slice(1, 6).map(Number) as [number, number, number, number, number];
  const outside = { start, session, before: Number(m[5]), close, output, exit: Math.max(0, total - (start + session + run + close + output)) };
  const steps = { check: n(m[1]!), build: n(m[2]!), release: n(m[3]!), total, outside };
  console.log(`    steps: ${stepsText(steps)}; outside them: ${outsideText(outside)}`);
  return steps;
}

const medianOutside = (runs: readonly { outside: Outside }[]): Outside =>
  Object.fromEntries(OUTSIDE_PARTS.map((k) => [k, median(runs.map((r) => r.outside[k]))])) as Outside;

/** The machine's load averages, printed beside the figures (a shared machine's figures compare only loosely). */
const load = () =>
  `load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`;
let lastRun: Ran | undefined;

async function main(): Promise<void> {
  const t0 = Date.now();
  // a fresh engine (empty cache) for the first-load figures: engine.sh down removes its state, setup starts a new one
  if (process.env.BENCH_FRESH === "1") spawnSync("bash", [join(REPO_ROOT, "test", "lab", "engine", "engine.sh"), "down"], { stdio: "inherit" });
  const teardown = setup();
  const lines: string[] = [`engine ready (lab and engine up, builds cached): ${((Date.now() - t0) / 1000).toFixed(1)} s`];
  const mod = await moduleCopy();
  try {
    const lab = readLab();
    const prepared = await inLabNet("bash", [join(REPO_ROOT, "test", "e2e", "setup.sh")]);
    if (prepared.code !== 0) throw new Error(`test/e2e/setup.sh failed:\n${prepared.stdout}${prepared.stderr}`);
    if (process.env.BENCH_ONLY !== "builds") lines.push(...(await moduleLoadFigures(mod)));
    if (process.env.BENCH_ONLY === "load") {
      console.log("\nbench:engine (module load only, BENCH_ONLY=load):");
      for (const l of lines) console.log(l);
      return;
    }

    // packline build as npm installs it: bin/packline.js runs the compiled dist/ (a source checkout runs src/ through
    // tsx, which a user does not).
    const built = await run(process.execPath, [join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"], {
      cwd: mod,
    });
    if (built.code !== 0) throw new Error(`tsc -p tsconfig.build.json in the module copy failed:\n${built.stdout}${built.stderr}`);
    const fixtures = [
      { name: "static", dir: lab.fixtures.static, fresh: "---> cache: no stamp layer yet", reused: "---> cache: reusing the stamp layer" },
      {
        name: "deps",
        dir: lab.fixtures.deps,
        fresh: "---> deps: no cached deps layer, installing",
        reused: "---> deps: reusing the cached deps layer",
      },
    ].filter((f) => FIXTURES.includes(f.name));
    if (fixtures.length === 0) throw new Error(`BENCH_FIXTURES=${FIXTURES.join(",")} names no fixture (static, deps)`);
    const password = registryPassword(lab);
    const insecure = ["--insecure-registry", IMAGES_REGISTRY, "--insecure-registry", APPS_REGISTRY];
    for (const f of fixtures) {
      const source = tempCopy(f.dir);
      const t = {
        engine: [[], []] as (Steps & { outside: Outside })[][],
        e2e: [[], []] as Steps[][],
        raw: [[], []] as number[][],
        pack: [[], []] as number[][],
      };
      try {
        for (let i = 1; i <= RUNS; i++) {
          console.log(`${f.name} fixture, run ${i}/${RUNS} (${load()})`);
          const image = `${APPS_REGISTRY}/bench-engine-${randomBytes(4).toString("hex")}/${f.name}`;
          const packline = (tag: string) => () =>
            runPackline(
              [
                "build",
                "--tag",
                tag,
                "--source",
                source,
                "--builder",
                lab.images.builder.ref,
                "--image",
                image,
                "--registry-username",
                lab.registries.apps.username,
                "--registry-password",
                "env:BENCH_REGISTRY_PASSWORD",
                ...insecure,
              ],
              { root: mod, env: { BENCH_REGISTRY_PASSWORD: password, PACKLINE_STEP_TIMES: "1" } },
            );
          t.engine[0]!.push(await packlineSteps("packline on the engine, cold", packline("v1.2.3"), f.fresh));
          t.engine[1]!.push(await packlineSteps("packline on the engine, warm", packline("v1.2.4"), f.reused));

          const cacheDir = mkdtempSync(join(tmpdir(), "packline-bench-cache-"));
          try {
            const repository = `bench-e2e-${randomBytes(4).toString("hex")}/${f.name}`;
            // warm: the same repository (the lifecycle restores a launch layer's cache from the previous image's metadata)
            t.e2e[0]!.push(await e2ePlan(repository, "v1.2.3", source, cacheDir, f.fresh));
            t.e2e[1]!.push(await e2ePlan(repository, "v1.2.4", source, cacheDir, f.reused));
          } finally {
            removeTree(cacheDir);
          }

          // the raw creator: one docker run of the builder with the plan's build arguments (test/e2e/packline.ts)
          const rawCache = mkdtempSync(join(tmpdir(), "packline-bench-cache-"));
          const rawWork = mkdtempSync(join(tmpdir(), "packline-bench-raw-"));
          const rawSource = tempCopy(f.dir);
          try {
            const rawRepository = `bench-raw-${randomBytes(4).toString("hex")}/${f.name}`;
            const raw = () => async (): Promise<Ran> => {
              const started = Date.now();
              const r = await rawCreator(rawRepository, rawSource, rawCache, rawWork, { floatingTags: false, latest: false, env: [] });
              return { code: r.exitCode, stdout: r.output, stderr: "", ms: Date.now() - started };
            };
            t.raw[0]!.push(await timed("raw creator, cold", raw(), f.fresh));
            t.raw[1]!.push(await timed("raw creator, warm", raw(), f.reused));
          } finally {
            removeTree(rawCache);
            removeTree(rawWork);
            removeDir(rawSource);
          }

          const packImage = `${APPS_REGISTRY}/bench-pack-${randomBytes(4).toString("hex")}/${f.name}:1.2.3`;
          const pack = (extra: string[]) => () =>
            run(
              "nsenter",
              [
                "-t",
                String(lab.pid),
                "-n",
                lab.tools.pack,
                "--no-color",
                "build",
                packImage,
                "--builder",
                lab.images.builder.ref,
                "--trust-builder",
                "--path",
                source,
                "--network",
                "host",
                "--pull-policy",
                "if-not-present",
                "--publish",
                ...insecure,
                ...extra,
              ],
              { env: { ...process.env, DOCKER_HOST: lab.docker.host, DOCKER_CONFIG: lab.dockerConfigDir, PACK_HOME: lab.tools.packHome } },
            );
          t.pack[0]!.push(await timed("pack build --publish, cold", pack(["--clear-cache"]), f.fresh));
          t.pack[1]!.push(await timed("pack build --publish, warm", pack([]), f.reused));
        }
      } finally {
        removeDir(source);
      }
      for (const [i, figure] of ["cold", "warm"].entries()) {
        const ours = medianSteps(t.engine[i]!);
        const e2e = medianSteps(t.e2e[i]!);
        const raw = median(t.raw[i]!);
        const pack = median(t.pack[i]!);
        lines.push(
          `${f.name} ${figure}: packline on the engine ${stepsText(ours)} | e2e plan in Docker ${stepsText(e2e)} | raw creator ${fmt(raw)} s | pack ${fmt(pack)} s`,
          `${f.name} ${figure}: packline on the engine outside its steps: ${outsideText(medianOutside(t.engine[i]!))}`,
          `${f.name} ${figure} ratios: engine/raw creator ${(ours.total / raw).toFixed(2)}, engine/pack ${(ours.total / pack).toFixed(2)}; e2e plan/raw creator ${(e2e.total / raw).toFixed(2)}, e2e plan/pack ${(e2e.total / pack).toFixed(2)}`,
        );
      }
    }
    console.log(`\nbench:engine (${RUNS} runs each, medians; ${load()} at the end):`);
    for (const l of lines) console.log(l);
  } finally {
    removeDir(mod);
    if (typeof teardown === "function") teardown();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
