/**
 * The module-load part of `npm run bench:engine`: what a Dagger user waits for the first time the engine loads
 * packline, and what of it is packline's own.
 *
 *   - `dagger functions`, first on this engine and again: the type definitions (the TypeScript SDK's runtime module,
 *     compiled by the Go SDK on a fresh engine, then the ts-introspector over src/; no npm install);
 *   - `dagger call ... argo contents`, first and again: the module's runtime container (node image, the SDK library's
 *     codegen, `npm install --omit=dev` of package.json's dependencies) and two calls into it;
 *   - with BENCH_BASELINE=1, the same two first, for a module with nothing of packline's (what `dagger init` writes: no
 *     dependency but the typescript the runtime mounts from its own copy, so no npm install): on a fresh engine this
 *     pays what every TypeScript module pays, and packline's figures after it are packline's own share.
 * The first figures are a fresh engine's only when the engine is fresh: BENCH_FRESH=1 (bench.ts) stops the engine
 * first (engine.sh down removes its state), so setup starts a new one with an empty cache.
 * The first call's slowest steps (from --progress=plain) are printed too, so the npm install's part is visible.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { APPS_REGISTRY, type Ran, removeDir, run, runDagger } from "./engine.js";

const argoArgs = ["--repo", "https://example.invalid/acme/app", "--image", `${APPS_REGISTRY}/acme/app`];

/** With BENCH_SAVE=<dir>, each run's --progress=plain output (at -vvv: every span with its time) is kept there. */
const SAVE = process.env.BENCH_SAVE;
const dagger = (args: string[], cwd: string) => runDagger(SAVE ? ["-vvv", ...args] : args, { cwd, env: { NO_COLOR: "1" } });

async function timed(label: string, go: () => Promise<Ran>): Promise<Ran> {
  const r = await go();
  if (SAVE) writeFileSync(join(SAVE, `${label.replace(/[^a-z0-9]+/gi, "-")}.log`), r.stderr);
  if (r.code !== 0) throw new Error(`${label}: exit ${r.code}\n${(r.stdout + r.stderr).slice(-4000)}`);
  console.log(`  ${label}: ${(r.ms / 1000).toFixed(2)} s`);
  return r;
}

const s = (r: Ran) => (r.ms / 1000).toFixed(1);

/**
 * The slowest finished steps of a `--progress=plain` run ("<id>: <name> DONE [1.2s]"), slowest first: where a first
 * load spends its time (npm install, codegen, the runtime's compile).
 */
export function slowestSteps(plain: string, count = 8): string[] {
  const steps = new Map<string, number>();
  for (const line of plain.split("\n")) {
    // durations read 850ms, 4.2s or 1m5s
    const m = /^\s*\d+\s*:\s*(.*?)\s+DONE \[(?:(\d+)m)?([0-9.]+)(m?s)\]\s*$/.exec(line);
    if (!m) continue;
    const name = m[1]!
      .replace(/[┆│╵╷]/g, "")
      .replace(/\s+/g, " ")
      .trim();
    const secs = Number(m[2] ?? 0) * 60 + Number(m[3]) / (m[4] === "ms" ? 1000 : 1);
    steps.set(name, Math.max(steps.get(name) ?? 0, secs));
  }
  return [...steps.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, secs]) => `${secs.toFixed(1)} s ${name.length > 110 ? `${name.slice(0, 107)}...` : name}`);
}

/** A TypeScript module with nothing of packline's: one function, package.json as `dagger init` writes it. */
async function baselineModule(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "packline-baseline-"));
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "dagger.json"), JSON.stringify({ name: "baseline", engineVersion: "v0.21.9", sdk: { source: "typescript" } }));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", dependencies: { typescript: "5.9.3" } }));
  writeFileSync(
    join(dir, "src", "index.ts"),
    'import { func, object } from "@dagger.io/dagger";\n\n@object()\nexport class Baseline {\n  @func()\n  hello(): string {\n    return "hello";\n  }\n}\n',
  );
  const g = await run("sh", ["-c", "git init -q && git add -A && git -c user.name=lab -c user.email=lab@packline.invalid commit -qm baseline"], {
    cwd: dir,
  });
  if (g.code !== 0) throw new Error(`git init of the baseline module failed: ${g.stderr}`);
  return dir;
}

/** Runs the module-load figures against the module copy `mod`; returns the summary lines. */
export async function moduleLoadFigures(mod: string): Promise<string[]> {
  const lines: string[] = [];
  if (process.env.BENCH_BASELINE === "1") {
    const base = await baselineModule();
    try {
      const f = await timed("baseline module: dagger functions (first on this engine)", () => dagger(["functions"], base));
      const c = await timed("baseline module: dagger call hello (first)", () => dagger(["call", "hello"], base));
      lines.push(`baseline module (nothing of packline's) first: dagger functions ${s(f)} s, dagger call ${s(c)} s`);
      for (const step of slowestSteps(c.stderr, 5)) console.log(`    baseline call step: ${step}`);
    } finally {
      removeDir(base);
    }
  }
  const first = await timed("dagger functions (first on this engine)", () => dagger(["functions"], mod));
  for (const step of slowestSteps(first.stderr)) console.log(`    functions step: ${step}`);
  const again = await timed("dagger functions (again)", () => dagger(["functions"], mod));
  const call = await timed("dagger call ... argo contents (first)", () => dagger(["call", ...argoArgs, "argo", "contents"], mod));
  for (const step of slowestSteps(call.stderr)) console.log(`    call step: ${step}`);
  const callAgain = await timed("dagger call ... argo contents (again)", () => dagger(["call", ...argoArgs, "argo", "contents"], mod));
  const firstTotal = (first.ms + call.ms) / 1000;
  lines.push(
    `module load: first ${s(first)} s, again ${s(again)} s, ratio ${(first.ms / again.ms).toFixed(1)}`,
    `first dagger call (runtime container, npm install): first ${s(call)} s, again ${s(callAgain)} s; first functions + first call ${firstTotal.toFixed(1)} s`,
  );
  return lines;
}
