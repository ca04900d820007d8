/**
 * `npm run bench:engine` (`tsx test/lab/engine/bench.ts`): packline on the lab's real Dagger engine against the same
 * build run directly by `pack build --publish` on the lab's Docker, with the same builder, app and registry. Not a
 * test: it prints figures, one line each, with the ratio. Each figure is the median of BENCH_RUNS runs (default 3):
 *   - engine start (everything cached) and module load (`dagger functions` of this repository: the first on a fresh
 *     engine compiles the TypeScript runtime; then again, warm);
 *   - for the static fixture and the deps fixture (a few MB of real archives downloaded from the lab's file server,
 *     checked and unpacked into a cached layer, where the cache matters):
 *       cold: a new image name, so a new cache (packline: a new cache volume; pack: a new image and --clear-cache);
 *       warm: the same build again with the cache kept (the buildpack's message that it reused its layer is checked).
 * packline runs as a process (`packline build`, bin/packline.js of a copy of this repository), as a user runs it.
 * Starts the lab (if none runs) and the engine, and stops what it started (global-setup.ts); `lab.sh docker-up`.
 */
import { randomBytes } from "node:crypto";
import { readLab, labSh, registryPassword } from "../lab.js";
import { APPS_REGISTRY, IMAGES_REGISTRY, moduleCopy, removeDir, run, runDagger, runPackline, tempCopy, type Ran } from "./engine.js";
import setup from "./global-setup.js";

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

async function main(): Promise<void> {
  const t0 = Date.now();
  const teardown = setup();
  const lines: string[] = [`engine ready (lab and engine up, builds cached): ${((Date.now() - t0) / 1000).toFixed(1)} s`];
  const mod = await moduleCopy();
  try {
    const lab = readLab();
    labSh(["docker-up"]);
    const first = await timed("dagger functions (first on this engine)", () => runDagger(["functions"], { cwd: mod }));
    const again = await timed("dagger functions (again)", () => runDagger(["functions"], { cwd: mod }));
    lines.push(`module load: first ${first.toFixed(1)} s, again ${again.toFixed(1)} s, ratio ${(first / again).toFixed(1)}`);

    const fixtures = [
      { name: "static", dir: lab.fixtures.static, fresh: "---> cache: no stamp layer yet", reused: "---> cache: reusing the stamp layer" },
      { name: "deps", dir: lab.fixtures.deps, fresh: "---> deps: no cached deps layer, installing", reused: "---> deps: reusing the cached deps layer" },
    ];
    const password = registryPassword(lab);
    const insecure = ["--insecure-registry", IMAGES_REGISTRY, "--insecure-registry", APPS_REGISTRY];
    for (const f of fixtures) {
      const source = tempCopy(f.dir);
      const t = { engineCold: [] as number[], engineWarm: [] as number[], packCold: [] as number[], packWarm: [] as number[] };
      try {
        for (let i = 1; i <= RUNS; i++) {
          console.log(`${f.name} fixture, run ${i}/${RUNS}`);
          const image = `${APPS_REGISTRY}/bench-engine-${randomBytes(4).toString("hex")}/${f.name}`;
          const packline = () =>
            runPackline(
              ["build", "--tag", "v1.2.3", "--source", source, "--builder", lab.images.builder.ref, "--image", image,
                "--registry-username", lab.registries.apps.username, "--registry-password", "env:BENCH_REGISTRY_PASSWORD", ...insecure],
              { root: mod, env: { BENCH_REGISTRY_PASSWORD: password } },
            );
          t.engineCold.push(await timed("packline on the engine, cold", packline, f.fresh));
          t.engineWarm.push(await timed("packline on the engine, warm", packline, f.reused));

          const packImage = `${APPS_REGISTRY}/bench-pack-${randomBytes(4).toString("hex")}/${f.name}:1.2.3`;
          const pack = (extra: string[]) => () =>
            run(
              "nsenter",
              ["-t", String(lab.pid), "-n", lab.tools.pack, "--no-color", "build", packImage, "--builder", lab.images.builder.ref,
                "--trust-builder", "--path", source, "--network", "host", "--pull-policy", "if-not-present", "--publish", ...insecure, ...extra],
              { env: { ...process.env, DOCKER_HOST: lab.docker.host, DOCKER_CONFIG: lab.dockerConfigDir, PACK_HOME: lab.tools.packHome } },
            );
          t.packCold.push(await timed("pack build --publish, cold", pack(["--clear-cache"]), f.fresh));
          t.packWarm.push(await timed("pack build --publish, warm", pack([]), f.reused));
        }
      } finally {
        removeDir(source);
      }
      const line = (figure: string, ours: number[], theirs: number[]) =>
        `${f.name} fixture, ${figure}: packline on the engine ${median(ours).toFixed(2)} s, pack ${median(theirs).toFixed(2)} s, ratio ${(median(ours) / median(theirs)).toFixed(2)}`;
      lines.push(line("cold build", t.engineCold, t.packCold), line("warm rebuild", t.engineWarm, t.packWarm));
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
