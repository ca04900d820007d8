/**
 * `packline build`: runs the plan with the Dagger backend, through the Dagger SDK's own connection, on the Dagger the
 * user has (engine.ts chooses: a `dagger run` session, a `dagger` on PATH, an engine at
 * `_EXPERIMENTAL_DAGGER_RUNNER_HOST`; a download only when nothing else exists, announced first).
 * Every failure ends in one message: packline's own (the SDK would wrap it), or what was tried to reach an engine.
 */

import { Writable } from "node:stream";
import { connection, dag } from "@dagger.io/dagger";
import { type RunResult, runPlan } from "../backends/dagger/runner.js";
import { PacklineError } from "../core/errors.js";
import type { BuildPlan } from "../core/plan/planner.js";
import { chooseEngine, downloadNotice, type EngineChoice, engineError } from "./engine.js";

import { CONTEXT_EXCLUDES } from "./source-dir.js";

/** What the context directory leaves out (src/index.ts's `ignore` says the same for `dagger call`; a test ties them). */
export { CONTEXT_EXCLUDES };

export interface CliBuildInputs {
  readonly sourceDir?: string;
  readonly password?: string;
  readonly sbomDir?: string;
  /** More of the source directory to leave out (the SBOM directory, when it is inside: sbom-dir.ts). */
  readonly exclude?: readonly string[];
}

export function buildThroughEngine(
  plan: BuildPlan,
  inputs: CliBuildInputs,
  stderr: NodeJS.WritableStream,
  choice: EngineChoice = chooseEngine(),
): Promise<RunResult> {
  return throughEngine(
    async () => {
      const source =
        plan.source.kind === "local"
          ? dag.host().directory(inputs.sourceDir ?? ".", { exclude: [...CONTEXT_EXCLUDES, ...(inputs.exclude ?? [])] })
          : undefined;
      const registryPassword = inputs.password === undefined ? undefined : dag.setSecret("packline-registry-password", inputs.password);
      const result = await runPlan(plan, { source, registryPassword });
      if (inputs.sbomDir && result.sbom) await result.sbom.export(inputs.sbomDir);
      return result;
    },
    stderr,
    choice,
  );
}

/**
 * Runs `work` in a session of the Dagger the user has (packline build's, and packline rebase's), with one message for
 * every failure: packline's own, or what was tried to reach an engine.
 */
export async function throughEngine<T>(work: () => Promise<T>, stderr: NodeJS.WritableStream, choice: EngineChoice = chooseEngine()): Promise<T> {
  // Where a run's time goes outside the steps (README, "What each step costs"): printed with PACKLINE_STEP_TIMES=1.
  const marks = { entered: performance.now(), session: Number.NaN, ran: Number.NaN, closed: Number.NaN, ended: Number.NaN };
  if (choice.route.via === "download") stderr.write(downloadNotice(choice));
  // The SDK takes its CLI from _EXPERIMENTAL_DAGGER_CLI_BIN (else it downloads one): hand it the one chosen.
  const savedCliBin = process.env._EXPERIMENTAL_DAGGER_CLI_BIN;
  if (choice.route.via === "cli") process.env._EXPERIMENTAL_DAGGER_CLI_BIN = choice.route.bin;
  const log = new LineTrackingStream(stderr);
  let own: unknown;
  let result: T | undefined;
  let done = false;
  // The SDK rethrows a failed session from a callback it does not await, a moment after the connection itself has
  // failed with a TypeError on the missing connect parameters: wait for it, and prefer it (it holds the CLI's
  // stderr), so the user sees one message that says what went wrong, and no unhandled rejection.
  let sessionError: unknown;
  let connectionError: unknown;
  const onRejection = (reason: unknown) => {
    sessionError ??= reason;
  };
  process.on("unhandledRejection", onRejection);
  try {
    await connection(
      async () => {
        marks.session = performance.now();
        try {
          result = await work();
          done = true;
        } catch (error) {
          own = error;
        }
        marks.ran = performance.now();
      },
      { LogOutput: log },
    );
  } catch (error) {
    connectionError = error;
  } finally {
    await new Promise((resolve) => setImmediate(resolve));
    process.off("unhandledRejection", onRejection);
    if (savedCliBin === undefined) delete process.env._EXPERIMENTAL_DAGGER_CLI_BIN;
    else process.env._EXPERIMENTAL_DAGGER_CLI_BIN = savedCliBin;
    // The SDK closes a session it started with a SIGTERM it does not wait for: the CLI's progress output goes on for
    // a moment. Let it end first, so that what packline prints next (the summary, or its one message) comes last.
    marks.closed = performance.now();
    await log.ended(SESSION_OUTPUT_WAIT_MS);
    marks.ended = performance.now();
    if (process.env.PACKLINE_STEP_TIMES === "1") stderr.write(`packline: ${processSeconds(marks)}\n`);
  }
  if (own === undefined && (sessionError !== undefined || connectionError !== undefined)) own = engineError(sessionError ?? connectionError, choice);
  if (own !== undefined) {
    if (!log.atLineStart) stderr.write("\n");
    throw own instanceof PacklineError ? own : new PacklineError(firstLines(own));
  }
  if (!done) throw engineError(undefined, choice);
  return result as T;
}

/**
 * The process's own time outside the plan's steps, in seconds: `start` from the process's start to the engine's
 * session being asked for (node, packline's modules, the options); `session` until it answered (the SDK's telemetry, the
 * Dagger CLI's `dagger session`); `run` the run itself (the runner's own line splits it into steps); `close` until the
 * SDK let go of the session; `output` the wait for the CLI's last progress lines.
 */
function processSeconds(marks: { entered: number; session: number; ran: number; closed: number; ended: number }): string {
  const s = (ms: number) => (Number.isNaN(ms) ? "-" : (ms / 1000).toFixed(2));
  return `process seconds: start ${s(marks.entered)}, session ${s(marks.session - marks.entered)}, run ${s(marks.ran - marks.session)}, close ${s(marks.closed - marks.ran)}, output ${s(marks.ended - marks.closed)}`;
}

function firstLines(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n").slice(0, 20).join("\n");
}

/** How long packline waits for a closed session's progress output to end before it prints. */
const SESSION_OUTPUT_WAIT_MS = 30_000;

/**
 * Forwards the SDK's progress lines, remembering whether the last one ended ("Downloading CLI... " does not), and
 * whether the output of a session CLI piped into it has ended.
 */
class LineTrackingStream extends Writable {
  atLineStart = true;
  private piped = false;
  private finished = false;
  constructor(private readonly target: NodeJS.WritableStream) {
    super();
    this.once("pipe", () => {
      this.piped = true;
    });
    this.once("finish", () => {
      this.finished = true;
    });
  }

  /** Resolves when the piped session output has ended (at once if nothing was piped), or after `ms`. */
  ended(ms: number): Promise<void> {
    if (!this.piped || this.finished) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.once("finish", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const text = chunk.toString();
    if (text.length > 0) this.atLineStart = text.endsWith("\n");
    this.target.write(text);
    callback();
  }
}
