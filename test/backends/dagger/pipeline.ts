/**
 * packline's pipeline on the fake engine (test/support/fake-engine.ts): answers that play the registry, the builder
 * and the lifecycle for the runner's three steps (check -> build -> release), and readers that turn the recorded
 * queries back into one description per container the runner sent. Shared by the Dagger backend, CLI and parity
 * tests.
 */
import { expect } from "vitest";
import { PATHS } from "../../../src/core/plan/constants.js";
import { CREATOR_COMMAND } from "../../../src/core/plan/creator.js";
import { CHECK_SCRIPT, OUT } from "../../../src/core/plan/scripts.js";
import { type Answer, answerEnv, type Expanded, type FakeEngine, type RecordedQuery } from "../../support/fake-engine.js";

export const STAGED_DIGEST = `sha256:${"5a".repeat(32)}`;
export const RELEASED_DIGEST = `sha256:${"7e".repeat(32)}`;
export const EXISTING_DIGEST = `sha256:${"e0".repeat(32)}`;
/** What the fake check pins (pin.ts): the builder's digest, the run image by digest, the lifecycle's version. */
export const PINS = {
  "builder-digest": `sha256:${"b1".repeat(32)}`,
  "run-image": `index.docker.io/paketobuildpacks/run-jammy-base:latest@sha256:${"c2".repeat(32)}`,
  "lifecycle-version": "0.21.17",
} as const;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** The builder's CNB user the fake builder image sets (uid != gid on purpose, as paketobuildpacks' 1001:1000). */
export const BUILDER_USER = { uid: "1001", gid: "1000" };
export const TOOL_USER = "65532:65532";
/** How the build step starts the creator (with umask 022: src/core/plan/creator.ts). */
export const CREATOR = CREATOR_COMMAND;

/** Whether an exec's args start the lifecycle's creator. */
export function isCreator(args: unknown): boolean {
  return Array.isArray(args) && CREATOR.every((part, i) => args[i] === part);
}

/** A report.toml as the lifecycle writes it after pushing the staging tag. */
export function report(digest = STAGED_DIGEST): string {
  return `[image]\n  tags = ["x:packline-staging"]\n  image-id = "sha256:${"0f".repeat(32)}"\n  digest = "${digest}"\n  manifest-size = 1234\n\n[build]\n`;
}

export type StepName = "check" | "build" | "release" | "commit-time";

/** Which of the runner's containers an exec's args belong to. */
export function stepOfExec(args: unknown): StepName | undefined {
  if (!Array.isArray(args)) return undefined;
  if (isCreator(args)) return "build";
  if (args[0] === "/busybox/sh" && args[2] === CHECK_SCRIPT) return "check";
  if (args[0] === "/busybox/sh" && typeof args[2] === "string" && args[2].includes("PACKLINE_BUILD_REPORT")) return "release";
  if (args[0] === "git" && args.includes("log")) return "commit-time";
  return undefined;
}

export interface Outcome {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
}

export interface WorldOptions {
  /** The builder image's CNB_USER_ID/CNB_GROUP_ID; null: the builder sets neither. */
  builderUser?: { uid: string; gid: string } | null;
  /** What the check step finds: the version unpublished (default), published by this revision, or a failure. */
  check?: { outcome: "unpublished" } | { outcome: "published"; digest: string } | ({ outcome: "failed" } & Outcome);
  /** The build step: its report.toml (default: one with STAGED_DIGEST), or a failure. */
  build?: { report?: string } & Outcome;
  /** The release step: the digest it writes (default RELEASED_DIGEST), or a failure. */
  release?: { digest?: string } & Outcome;
  /** What `git log -1 --format=%ct` prints for --creation-time commit. */
  commitTime?: string;
}

/**
 * Answers for the runner's steps, each told apart by its exec (the check and release scripts write files at the
 * same paths). Every exec is expected with `expect: ANY`: the runner reads exit codes itself.
 */
export function world(opts: WorldOptions = {}): Answer[] {
  const user = opts.builderUser === undefined ? BUILDER_USER : opts.builderUser;
  const check = opts.check ?? { outcome: "unpublished" };
  const build = opts.build ?? {};
  const release = opts.release ?? {};
  const outcomes: Partial<Record<StepName, Outcome>> = {
    check: check.outcome === "failed" ? check : { stdout: "packline: checked\n" },
    build: { stdout: "===> EXPORTING\n", ...build },
    release,
    "commit-time": { stdout: `${opts.commitTime ?? "1712345678"}\n` },
  };
  const files: Partial<Record<StepName, Record<string, string>>> = {
    check: {
      [OUT.outcome]: check.outcome === "published" ? "published\n" : "unpublished\n",
      [OUT.digest]: check.outcome === "published" ? check.digest : "",
      ...Object.fromEntries(Object.entries(PINS).map(([name, value]) => [`${OUT.dir}/${name}`, `${value}\n`])),
    },
    build: { [PATHS.report]: build.report ?? report() },
    release: { [OUT.digest]: release.digest ?? RELEASED_DIGEST },
  };
  const answer: Answer = (q) => {
    const exec = q.last("withExec");
    const step = stepOfExec(exec?.args.args);
    if (!step) return undefined;
    if (exec!.args.expect !== "ANY" && step !== "commit-time") {
      throw new Error(`the runner ran the ${step} step without expect: ANY (it reads exit codes itself)`);
    }
    const direct = q.parent.at(-1) === exec;
    const outcome = outcomes[step] ?? {};
    if (direct && q.field === "exitCode") return outcome.exitCode ?? 0;
    if (direct && q.field === "stdout") return outcome.stdout ?? "";
    if (direct && q.field === "stderr") return outcome.stderr ?? "";
    if (q.field === "contents") {
      const path = q.last("file")?.args.path;
      const contents = typeof path === "string" ? files[step]?.[path] : undefined;
      if (contents !== undefined) return contents;
    }
    return undefined;
  };
  return [answer, ...(user ? [answerEnv("CNB_USER_ID", user.uid), answerEnv("CNB_GROUP_ID", user.gid)] : [answerEnv("CNB_USER_ID", null)])];
}

/** The container each step's exit code was read from (the exec included), expanded, by step. */
export function stepChains(engine: FakeEngine): Partial<Record<StepName, Expanded[]>> {
  const out: Partial<Record<StepName, Expanded[]>> = {};
  for (const q of [...engine.leaves("exitCode"), ...engine.leaves("stdout")]) {
    const exec = q.resolved.at(-2);
    if (exec?.field !== "withExec") continue;
    const step = stepOfExec(exec.args.args);
    if (step && !out[step]) out[step] = engine.expand(q.resolved.slice(0, -1));
  }
  return out;
}

/** The steps run, in order (by their exit code reads). */
export function stepsRun(engine: FakeEngine): StepName[] {
  return engine
    .leaves("exitCode")
    .map((q) => stepOfExec(q.resolved.at(-2)?.args.args))
    .filter((s): s is StepName => s !== undefined);
}

/** A mount as a backend-neutral description: where, what, and who owns it. */
export interface MountView {
  path: string;
  /** `source` (the source tree), `scratch` (an empty directory), `cache:<key>`, `secret:<file>`. */
  kind: string;
  owner?: string;
  readOnly?: boolean;
}

/** One container as the Dagger backend sent it. */
export interface ContainerView {
  image: string;
  user: string;
  workdir: string;
  env: [string, string][];
  files: { path: string; contents: string; owner?: string }[];
  mounts: MountView[];
  services: { alias: string; service: Expanded[] }[];
  argv: string[];
  expect?: string;
  /** The mounted objects, for assertions on what exactly was mounted. */
  sources: Record<string, unknown>;
}

/** Reads a container description from an expanded chain `container.from(...)...withExec(...)`. */
export function containerView(chain: Expanded[]): ContainerView {
  const view: ContainerView = { image: "", user: "", workdir: "", env: [], files: [], mounts: [], services: [], argv: [], sources: {} };
  if (chain[0]?.field !== "container") throw new Error(`not a container chain: ${chain.map((s) => s.field).join(".")}`);
  for (const step of chain.slice(1)) {
    const a = step.args as Record<string, unknown> & { path: string; owner?: string };
    const owner = a.owner === undefined ? {} : { owner: a.owner };
    switch (step.field) {
      case "from":
        view.image = a.address as string;
        break;
      case "withEnvVariable":
        view.env.push([a.name as string, a.value as string]);
        break;
      case "withNewFile":
        view.files.push({ path: a.path, contents: a.contents as string, ...owner });
        break;
      case "withMountedDirectory":
        view.mounts.push({ path: a.path, kind: "source", ...owner });
        view.sources[a.path] = a.source;
        break;
      case "withDirectory": {
        const empty = JSON.stringify(a.source) === JSON.stringify({ ref: [{ field: "directory", args: {} }] });
        view.mounts.push({ path: a.path, kind: empty ? "scratch" : "directory", ...owner });
        view.sources[a.path] = a.source;
        break;
      }
      case "withMountedCache": {
        const cache = (a.cache as { ref: Expanded[] }).ref;
        expect(cache.map((s) => s.field)).toEqual(["cacheVolume"]);
        expect(a.sharing, `sharing of the cache at ${a.path}`).toBe("LOCKED");
        view.mounts.push({ path: a.path, kind: `cache:${cache[0]!.args.key}`, ...owner });
        break;
      }
      case "withMountedSecret": {
        const dir = a.path.slice(0, a.path.lastIndexOf("/"));
        const file = a.path.slice(a.path.lastIndexOf("/") + 1);
        view.mounts.push({ path: dir, kind: `secret:${file}`, ...owner, readOnly: a.mode === 0o400 });
        view.sources[a.path] = a.source;
        break;
      }
      case "withServiceBinding":
        view.services.push({ alias: a.alias as string, service: (a.service as { ref: Expanded[] }).ref });
        break;
      case "withUser":
        view.user = a.name as string;
        break;
      case "withWorkdir":
        view.workdir = a.path;
        break;
      case "withExec":
        view.argv = a.args as string[];
        view.expect = a.expect as string | undefined;
        break;
      default:
        throw new Error(`containerView: unexpected step ${step.field}`);
    }
  }
  return view;
}

/** The container of each step the runner ran. */
export function stepViews(engine: FakeEngine): Partial<Record<StepName, ContainerView>> {
  return Object.fromEntries(Object.entries(stepChains(engine)).map(([name, chain]) => [name, containerView(chain)]));
}

/** Every query whose text holds `value` is a setSecret query: the only way a plaintext may reach the engine. */
export function onlyInSetSecret(engine: FakeEngine, value: string): RecordedQuery[] {
  const carrying = engine.queries.filter((q) => q.text.includes(value));
  for (const q of carrying) expect(q.chain[0]?.field, q.text).toBe("setSecret");
  return carrying;
}
