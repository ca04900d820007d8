/**
 * vitest globalSetup of the real-engine suite: `engine.sh up` before the tests, `engine.sh down` after. If no lab
 * runs, it starts one (test/lab/lab.sh up) and stops it at the end. If the engine cannot be had (not root, a build
 * failing, the lab missing) the run fails and says why: this suite never skips for want of an engine, under CI=true
 * or not.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ENGINE_DIR, findEngine, LAB_STATE, REPO_ROOT } from "./engine.js";

function script(path: string, arg: string): number {
  const r = spawnSync("bash", [path, arg], { stdio: ["ignore", "inherit", "inherit"], env: process.env });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function labRunning(): boolean {
  const pidFile = join(LAB_STATE, "lab.pid");
  if (!existsSync(pidFile)) return false;
  return existsSync(`/proc/${readFileSync(pidFile, "utf8").trim()}/ns/net`);
}

/**
 * The tests' temp dirs (fixture and module copies, what the e2e helpers mount into the lab's Docker) go in the lab's
 * state, as test/lab/run.sh puts its suites': lab.sh down removes them, and no other lab's ever meet them.
 */
function useLabTmp(): void {
  const tmp = join(LAB_STATE, "tmp");
  mkdirSync(tmp, { recursive: true });
  chmodSync(tmp, 0o1777);
  process.env.TMPDIR = tmp;
}

export default function setup(): (() => void) | undefined {
  const ci = process.env.CI === "true";
  const fail = (why: string) =>
    new Error(`packline engine suite: no Dagger engine, so no test can run${ci ? " (CI=true: a failure)" : ""}.\nWhy: ${why}`);
  if (process.env.PACKLINE_ENGINE_REUSE === "1") {
    if (!findEngine()) throw fail(`PACKLINE_ENGINE_REUSE=1 but no engine is up (${join(LAB_STATE, "engine", "env")})`);
    console.log("packline engine suite: reusing the engine that is up (no setup, no teardown)");
    useLabTmp();
    return;
  }
  const engineSh = join(ENGINE_DIR, "engine.sh");
  const labSh = join(REPO_ROOT, "test", "lab", "lab.sh");
  let startedLab = false;
  // an engine given by the caller (_EXPERIMENTAL_DAGGER_RUNNER_HOST, a working `dagger`) needs no lab of ours
  if (!process.env._EXPERIMENTAL_DAGGER_RUNNER_HOST && !labRunning()) {
    if (!existsSync(labSh)) throw fail(`no lab runs in ${LAB_STATE} and ${labSh} does not exist`);
    if (script(labSh, "up") !== 0) {
      script(labSh, "down");
      throw fail("test/lab/lab.sh up failed; its output is above");
    }
    startedLab = true;
  }
  if (labRunning()) useLabTmp();
  const started = Date.now();
  if (script(engineSh, "up") !== 0) {
    script(engineSh, "down");
    if (startedLab) script(labSh, "down");
    throw fail("test/lab/engine/engine.sh up failed; its output is above");
  }
  console.log(`packline engine suite: engine ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return () => {
    if (process.env.PACKLINE_ENGINE_KEEP === "1") {
      console.log("packline engine suite: PACKLINE_ENGINE_KEEP=1, leaving the engine up");
      return;
    }
    script(engineSh, "down");
    if (startedLab) script(labSh, "down");
  };
}
