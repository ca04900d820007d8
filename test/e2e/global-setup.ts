/**
 * vitest globalSetup of the e2e suite. The lab (test/lab/) is started by `npm run test:e2e` (test/lab/run.sh e2e),
 * which runs vitest in the lab's network namespace; here test/e2e/setup.sh readies dockerd and the test images in it,
 * and test/e2e/teardown.sh removes what the tests left there at the end.
 * If anything is missing (not root, no lab, vitest started outside the lab, dockerd not starting...) the run fails
 * and says why: an e2e run never skips silently, under CI=true or not.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { inLabNetwork, labRunning, readLab } from "../lab/lab.js";
import { E2E_DIR, stateFilePath } from "./harness.js";

function runScript(name: string): number {
  const result = spawnSync("bash", [join(E2E_DIR, name)], { stdio: ["ignore", "inherit", "inherit"], env: process.env });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

export default function setup(): (() => void) | undefined {
  const ci = process.env.CI === "true";
  const keep = process.env.PACKLINE_LAB_KEEP === "1" || process.env.PACKLINE_LAB_REUSE === "1";
  const banner = (why: string) =>
    `packline e2e: the real components could not be set up, so no e2e test can run${ci ? " (CI=true: this is a failure)" : ""}.\n` +
    `Why: ${why}\nRun the suite with \`npm run test:e2e\` (as root): test/lab/run.sh starts the lab and runs vitest inside it.`;

  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new Error(banner(`the suite must run as root (uid is ${process.getuid()}): it drives the lab's dockerd and registries`));
  }
  if (!existsSync(stateFilePath())) throw new Error(banner(`${stateFilePath()} does not exist: no lab is up`));
  if (!labRunning()) throw new Error(banner(`the lab in ${stateFilePath()} is not running (its PID 1, ${readLab().pid}, is gone)`));
  if (!inLabNetwork()) throw new Error(banner("this vitest runs outside the lab's network namespace, where 10.123.0.1 is unreachable"));

  const started = Date.now();
  const status = runScript("setup.sh");
  if (status !== 0) throw new Error(banner(`test/e2e/setup.sh exited ${status}; its output is above`));
  console.log(`packline e2e: lab ready in ${((Date.now() - started) / 1000).toFixed(0)} s (${stateFilePath()})`);
  return () => {
    if (keep) {
      console.log("packline e2e: PACKLINE_LAB_KEEP/REUSE=1: what the tests left in the lab's dockerd stays for a look");
      return;
    }
    runScript("teardown.sh");
  };
}
