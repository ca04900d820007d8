/**
 * The exported build pod, taken apart for tests: its containers by name (the init containers source, check, build;
 * the main container is the release), the step's own argv behind a container's late-value prelude
 * (src/backends/argo/late-prelude.ts), and what that prelude exports when it runs with sh over given files.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Json } from "./argo-lint.js";

/** The build pod's template: `main` with --build-user (or pack), else `build` after the builder-user pod. */
export function buildPod(document: Json): Json {
  const pod = (document.spec.templates as Json[]).find((t) => (t.initContainers ?? []).some((c: Json) => c.name === "build"));
  if (!pod) throw new Error("no build pod in the workflow");
  return pod;
}

/** A container of the build pod by its step's name (`release` is the main container). */
export function podContainer(pod: Json, name: string): Json {
  if (name === "release" || name === "main") return { name: "release", ...pod.container };
  const c = (pod.initContainers as Json[]).find((i) => i.name === name);
  if (!c) throw new Error(`the build pod has no ${name} container`);
  return c;
}

/** Every container of the build pod, in the order they run. */
export function podContainers(pod: Json): Json[] {
  return [...(pod.initContainers as Json[]), podContainer(pod, "release")];
}

/** A container's prelude (if it has one) and the argv it then runs: the step's own command and arguments. */
export function unwrap(container: Json): { prelude?: string; argv: string[] } {
  const argv = [...(container.command ?? []), ...(container.args ?? [])] as string[];
  // The prelude's $0 is the step's name (the main container's is `release`, whatever Argo calls it).
  const name = container.name === "main" || container.name === undefined ? "release" : container.name;
  if (argv.length > 4 && /(^|\/)sh$/.test(argv[0]!) && argv[1] === "-c" && argv[3] === name) return { prelude: argv[2], argv: argv.slice(4) };
  return { argv };
}

/** The script of a `sh -c SCRIPT` argv (the step's own, behind any prelude). */
export function scriptOf(container: Json): string {
  const { argv } = unwrap(container);
  const i = argv.indexOf("-c");
  if (i < 0) throw new Error(`${container.name}: no sh -c script`);
  return argv[i + 1]!;
}

/** Kubernetes' expansion where no $(NAME) names a variable: `$$` is `$`. */
export function kubelet(text: string): string {
  return text.replace(/\$\$/g, "$");
}

/** The files the check container writes with its pins (pin.ts), as a prelude reads them. */
export const CHECK_PINS = {
  "builder-digest": `sha256:${"b1".repeat(32)}`,
  "run-image": `registry.example.com/run:1@sha256:${"c2".repeat(32)}`,
  "lifecycle-version": "0.21.17",
} as const;

export interface PreludeRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The env values the prelude exported (undefined: it exited before running the command). */
  readonly env?: Record<string, string>;
  /** The shared folder's files after the run. */
  readonly files: Record<string, string>;
}

/**
 * Runs a container's prelude (already substituted by Argo; `$$` not yet expanded unless `expanded`) with sh: `files` are the shared
 * folder's files (version, commit, outcome...), `report` the build's report.toml; the command it runs is replaced by
 * a dump of its env.
 */
export function runPrelude(container: Json, files: Record<string, string>, report?: string, opts: { expanded?: boolean } = {}): PreludeRun {
  const { prelude } = unwrap(container);
  if (prelude === undefined) throw new Error(`${container.name}: no prelude`);
  const dir = mkdtempSync(join(tmpdir(), "packline-prelude-"));
  try {
    // what the check container pins (pin.ts), unless the test says otherwise
    for (const [name, value] of Object.entries({ ...CHECK_PINS, ...files })) writeFileSync(join(dir, name), value);
    if (report !== undefined) writeFileSync(join(dir, "report.toml"), report);
    const script = (opts.expanded ? prelude : kubelet(prelude))
      .replace(/^d='[^']*'$/m, `d='${dir}'`)
      .replace(/cat '\/layers\/report\.toml'/, `cat '${dir}/report.toml'`);
    const out = join(dir, "env.out");
    const r = spawnSync("sh", ["-c", script, container.name, "sh", "-c", 'env -0 > "$0"', out], {
      encoding: "utf8",
      env: { PATH: process.env.PATH },
    });
    const exported = [...script.matchAll(/^export ([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]!);
    let env: Record<string, string> | undefined;
    if (existsSync(out)) {
      const pairs = readFileSync(out, "utf8").split("\0").filter(Boolean);
      const all = Object.fromEntries(pairs.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
      env = Object.fromEntries(exported.map((name) => [name, all[name]!]));
    }
    const after = Object.fromEntries(
      readdirSync(dir)
        .filter((f) => f !== "env.out" && f !== "report.toml")
        .map((f) => [f, readFileSync(join(dir, f), "utf8")]),
    );
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, env, files: after };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
