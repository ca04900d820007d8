/**
 * `packline build --sbom-dir DIR`, checked before anything runs: the SBOM is written after the release, so a
 * directory that cannot take it would fail the command after the image was published. The directory is made if
 * missing (and removed again if the build then writes nothing into it), and a probe file is written and removed.
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { PacklineError, quote } from "../core/errors.js";

export interface SbomDir {
  readonly path: string;
  /** Removes the directory if this check made it and nothing was written into it. */
  readonly cleanUp: () => void;
}

export function checkSbomDir(dir: string | undefined): SbomDir | undefined {
  if (dir === undefined) return undefined;
  if (dir === "")
    throw new PacklineError("--sbom-dir is empty: give a directory to write the SBOM files into (e.g. --sbom-dir sbom), or leave the option out.");
  let made: string | undefined;
  let exists = true;
  try {
    if (!statSync(dir).isDirectory()) {
      throw new PacklineError(`--sbom-dir ${quote(dir)} is not a directory: give a directory (it is made if missing), e.g. --sbom-dir sbom.`);
    }
  } catch (error) {
    if (error instanceof PacklineError) throw error;
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw unusable(dir, error);
    exists = false;
  }
  try {
    if (!exists) made = makeDirectories(dir);
    const probe = join(dir, `.packline-probe-${process.pid}`);
    writeFileSync(probe, "", { flag: "wx" });
    unlinkSync(probe);
  } catch (error) {
    if (made !== undefined) removeMade(made, dir);
    throw unusable(dir, error);
  }
  return {
    path: dir,
    cleanUp: () => {
      if (made !== undefined) removeMade(made, dir);
    },
  };
}

/**
 * mkdir -p, one level at a time, returning the first directory made. (Node's own recursive mkdir retries forever
 * where a parent exists but refuses new entries, as /proc does.)
 */
function makeDirectories(dir: string): string | undefined {
  const missing: string[] = [];
  for (let current = resolve(dir); !existsSync(current); current = dirname(current)) missing.unshift(current);
  for (const [i, path] of missing.entries()) {
    try {
      mkdirSync(path);
    } catch (error) {
      if (i > 0) removeMade(missing[0]!, missing[i - 1]!);
      throw error;
    }
  }
  return missing[0];
}

/** Removes the empty directories mkdir made, from `dir` up to the first one it made. */
function removeMade(first: string, dir: string): void {
  let current = resolve(dir);
  const top = resolve(first);
  try {
    for (;;) {
      if (readdirSync(current).length > 0) return;
      rmdirSync(current);
      if (current === top) return;
      current = resolve(current, "..");
    }
  } catch {
    // Left as it is: what remains is an empty directory, never a file of the user's.
  }
}

function unusable(dir: string, error: unknown): PacklineError {
  const code = (error as NodeJS.ErrnoException).code ?? "error";
  return new PacklineError(
    `--sbom-dir ${quote(dir)} cannot take the SBOM files (${code}): give a directory you can write to, e.g. --sbom-dir sbom; nothing was built.`,
  );
}
