/**
 * vitest globalSetup of the e2e suite: runs test/e2e/setup.sh before the tests and test/e2e/teardown.sh after.
 * If the environment cannot be set up (not root, no Docker, a Go build failing...) the run fails and says why: an
 * e2e run never skips silently, under CI=true or not.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { E2E_DIR, stateFilePath } from "./harness.js";

function runScript(name: string): number {
  const result = spawnSync("bash", [join(E2E_DIR, name)], { stdio: ["ignore", "inherit", "inherit"], env: process.env });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

export default function setup(): (() => void) | void {
  const ci = process.env.CI === "true";
  const reuse = process.env.PACKLINE_E2E_REUSE === "1";
  const keep = process.env.PACKLINE_E2E_KEEP === "1";
  const banner = (why: string) =>
    `packline e2e: the real components could not be set up, so no e2e test can run${ci ? " (CI=true: this is a failure)" : ""}.\n` +
    `Why: ${why}`;

  if (reuse) {
    if (!existsSync(stateFilePath())) throw new Error(banner(`PACKLINE_E2E_REUSE=1 but ${stateFilePath()} does not exist (run test/e2e/setup.sh)`));
    console.log(`packline e2e: reusing the environment in ${stateFilePath()} (no setup, no teardown)`);
    return;
  }
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new Error(banner(`the suite must run as root (uid is ${process.getuid()}): setup.sh starts its own dockerd and registry and installs Debian packages`));
  }
  const started = Date.now();
  const status = runScript("setup.sh");
  if (status !== 0) {
    runScript("teardown.sh");
    throw new Error(banner(`test/e2e/setup.sh exited ${status}; its output is above`));
  }
  console.log(`packline e2e: environment ready in ${((Date.now() - started) / 1000).toFixed(0)} s (${stateFilePath()})`);
  return () => {
    if (keep) {
      console.log(`packline e2e: PACKLINE_E2E_KEEP=1, leaving the environment running (${stateFilePath()})`);
      return;
    }
    runScript("teardown.sh");
  };
}
