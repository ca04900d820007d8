/**
 * The shells some tests run packline's scripts with besides /bin/sh and bash: busybox sh (the shell of alpine/git and
 * of crane's debug image, which run them in the cluster and the engine) and dash. A machine without one runs fewer
 * tests, so the count would depend on the machine: elsewhere that is printed with the reason; under CI=true it is a
 * failure (`.ci/run` installs both before `npm test`).
 */
import { existsSync } from "node:fs";

export const SHELL_PACKAGES = { busybox: "busybox-static", dash: "dash", shellcheck: "shellcheck" } as const;
export type OptionalShell = keyof typeof SHELL_PACKAGES;

const CANDIDATES: Readonly<Record<OptionalShell, readonly string[]>> = {
  busybox: ["/usr/bin/busybox", "/bin/busybox"],
  dash: ["/usr/bin/dash", "/bin/dash"],
  // Not a shell: the linter test/ci/shellcheck.test.ts runs over every embedded script, found the same way.
  shellcheck: ["/usr/bin/shellcheck", "/bin/shellcheck"],
};

export interface FindShellOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly candidates?: readonly string[];
  readonly log?: (line: string) => void;
}

/**
 * The path of `shell`, or undefined (printed: who leaves out what, and how to get it). Throws under CI=true.
 * `user` names the test file; `leftOut` says which tests do not run without it.
 */
export function findShell(shell: OptionalShell, user: string, leftOut: string, options: FindShellOptions = {}): string | undefined {
  const env = options.env ?? process.env;
  const candidates = options.candidates ?? CANDIDATES[shell];
  const found = candidates.find((path) => existsSync(path));
  if (found) return found;
  const install = `apt-get install ${SHELL_PACKAGES[shell]}`;
  if (env.CI === "true") {
    throw new Error(
      `${user}: no ${shell} on this machine (looked for ${candidates.join(", ")}), and CI=true, where the test count must not depend on the machine: ${install} before npm test (.ci/run does).`,
    );
  }
  (options.log ?? console.log)(`${user}: no ${shell} on this machine (${candidates.join(", ")}): ${leftOut} do not run; ${install} to run them.`);
  return undefined;
}
