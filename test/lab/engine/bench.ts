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
 * packline runs as a process (`packline build`, bin/packline.js of a copy of this repository), as a user runs it.
 * Starts the lab (if none runs) and the engine, and stops what it started (global-setup.ts); readies the lab's dockerd
 * as the e2e suite does (test/e2e/setup.sh, in the lab's network namespace).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeTree } from "../../e2e/harness.js";
import { planFor, runPlan } from "../../e2e/packline.js";
import { readLab, registryPassword } from "../lab.js";
import { APPS_REGISTRY, IMAGES_REGISTRY, moduleCopy, type Ran, REPO_ROOT, removeDir, run, runDagger, runPackline, tempCopy } from "./engine.js";
import setup from "./global-setup.js";
import { inLabNet } from "./packline-lab.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function timed(label: string, go: () => Promise<Ran>, expect?: string): Promise<number> {
  const r = await go();
  const output = r.stdout + r.stderr;
  if (r.code !== 0) throw new Error(`${label}: exit ${r.code}\n${output.slice(-4000)}`);
  if (expect && !output.includes(expect)) throw new Error(`${label}: expected "${expect}" in the output\n${output.slice(-4000)}`);
  console.log(`  ${label}: ${(r.ms / 1000).toFixed(2)} s`);
  return r.ms / 1000;
}

/** The e2e plan's check, build and release as a timed run (the build step's output is what is checked). */
async function e2ePlan(repository: string, tag: string, source: string, cacheDir: string): Promise<Ran> {
  const started = Date.now();
  const r = await runPlan(planFor(repository, { tag, floatingTags: false, latest: false, env: [] }), { source, cacheDir });
  const output = `${r.check.output}${r.build?.output ?? ""}${r.release?.output ?? ""}`;
  return { code: r.failed ? 1 : r.digest ? 0 : 1, stdout: output, stderr: r.failed?.output ?? "", ms: Date.now() - started };
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const teardown = setup();
  const lines: string[] = [`engine ready (lab and engine up, builds cached): ${((Date.now() - t0) / 1000).toFixed(1)} s`];
  const mod = await moduleCopy();
  try {
    const lab = readLab();
    const prepared = await inLabNet("bash", [join(REPO_ROOT, "test", "e2e", "setup.sh")]);
    if (prepared.code !== 0) throw new Error(`test/e2e/setup.sh failed:\n${prepared.stdout}${prepared.stderr}`);
    const first = await timed("dagger functions (first on this engine)", () => runDagger(["functions"], { cwd: mod }));
    const again = await timed("dagger functions (again)", () => runDagger(["functions"], { cwd: mod }));
    lines.push(`module load: first ${first.toFixed(1)} s, again ${again.toFixed(1)} s, ratio ${(first / again).toFixed(1)}`);

    const fixtures = [
      { name: "static", dir: lab.fixtures.static, fresh: "---> cache: no stamp layer yet", reused: "---> cache: reusing the stamp layer" },
      {
        name: "deps",
        dir: lab.fixtures.deps,
        fresh: "---> deps: no cached deps layer, installing",
        reused: "---> deps: reusing the cached deps layer",
      },
    ];
    const password = registryPassword(lab);
    const insecure = ["--insecure-registry", IMAGES_REGISTRY, "--insecure-registry", APPS_REGISTRY];
    for (const f of fixtures) {
      const source = tempCopy(f.dir);
      const t = { engine: [[], []] as number[][], e2e: [[], []] as number[][], pack: [[], []] as number[][] };
      try {
        for (let i = 1; i <= RUNS; i++) {
          console.log(`${f.name} fixture, run ${i}/${RUNS}`);
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
              { root: mod, env: { BENCH_REGISTRY_PASSWORD: password } },
            );
          t.engine[0]!.push(await timed("packline on the engine, cold", packline("v1.2.3"), f.fresh));
          t.engine[1]!.push(await timed("packline on the engine, warm", packline("v1.2.4"), f.reused));

          const cacheDir = mkdtempSync(join(tmpdir(), "packline-bench-cache-"));
          try {
            const repository = `bench-e2e-${randomBytes(4).toString("hex")}/${f.name}`;
            // warm: the same repository (the lifecycle restores a launch layer's cache from the previous image's metadata)
            t.e2e[0]!.push(await timed("e2e plan in Docker, cold", () => e2ePlan(repository, "v1.2.3", source, cacheDir), f.fresh));
            t.e2e[1]!.push(await timed("e2e plan in Docker, warm", () => e2ePlan(repository, "v1.2.4", source, cacheDir), f.reused));
          } finally {
            removeTree(cacheDir);
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
      for (const [i, figure] of ["cold build", "warm rebuild"].entries()) {
        const ours = median(t.engine[i]!);
        const e2e = median(t.e2e[i]!);
        const pack = median(t.pack[i]!);
        lines.push(
          `${f.name} fixture, ${figure}: packline on the engine ${ours.toFixed(2)} s; e2e plan in Docker ${e2e.toFixed(2)} s, ratio ${(ours / e2e).toFixed(2)}; pack ${pack.toFixed(2)} s, ratio ${(ours / pack).toFixed(2)}`,
        );
      }
    }
    console.log(`\nbench:engine (${RUNS} runs each, medians):`);
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
