/**
 * tools/argo-lint/build.sh while another process holds its build lock (another npm test, another checkout, CI on the
 * same machine): it says that it waits, on which lock and for which process, instead of waiting minutes in silence;
 * and ensureArgoLint passes that on to the terminal as it comes. No Go build runs here: the "other process" leaves a
 * binary behind, as a finished build would.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ARGO_LINT_BUILD_SCRIPT, run } from "./argo-lint.js";

const work = mkdtempSync(join(tmpdir(), "packline-argo-lint-build-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
  rmSync(work, { recursive: true, force: true });
});

/** Resolves when `text` (so far) matches, or rejects after `ms`. */
function waitFor(read: () => string, pattern: RegExp, ms: number): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (pattern.test(read())) {
        clearInterval(poll);
        resolve();
      } else if (Date.now() - start > ms) {
        clearInterval(poll);
        reject(new Error(`no ${pattern} within ${ms} ms; got: ${JSON.stringify(read())}`));
      }
    }, 50);
  });
}

describe("argo-lint build.sh: waiting for the build lock", () => {
  it("says it is waiting, on which lock file and for which process, then goes on when the lock is free", async () => {
    const cache = join(work, "cache");
    const bin = join(cache, "bin");
    mkdirSync(bin, { recursive: true });
    const lock = join(bin, ".argo-lint.lock");
    // The other build: holds the lock until killed.
    // In a process group of its own: flock's child (the sleep) holds the lock too, and both must go.
    const holder = spawn("flock", [lock, "sh", "-c", "echo locked; exec sleep 300"], { stdio: ["ignore", "pipe", "ignore"], detached: true });
    children.push(holder);
    let held = "";
    holder.stdout!.on("data", (chunk) => {
      held += String(chunk);
    });
    await waitFor(() => held, /locked/, 10_000);

    let relayed = "";
    const build = run("bash", [ARGO_LINT_BUILD_SCRIPT], {
      timeoutMs: 60_000,
      relayStderr: (chunk) => {
        relayed += chunk;
      },
      env: { ...process.env, PACKLINE_TOOLS_CACHE: cache },
    });
    await waitFor(() => relayed, /waiting for the validator's build lock/, 10_000);
    expect(relayed).toContain(`waiting for the validator's build lock ${lock}, held by pid `);
    expect(relayed).toMatch(/held by pid [0-9]+, running for [0-9:]+: flock /);
    expect(relayed).toContain("a cold build takes minutes");

    // The other build finishes: it leaves a binary newer than the sources, and releases the lock.
    writeFileSync(join(bin, "argo-lint"), "#!/bin/sh\n");
    chmodSync(join(bin, "argo-lint"), 0o755);
    process.kill(-holder.pid!, "SIGKILL");
    const r = await build;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${join(bin, "argo-lint")}\n`);
    expect(r.stderr).toMatch(/got the build lock after [0-9]+ s/);
    expect(relayed).toBe(r.stderr);
  }, 60_000);
});
