/**
 * `packline build --sbom-dir DIR`, checked before anything runs: the SBOM is written after the release, so a
 * directory that cannot take it would fail the command after the image was published. The directory is made if
 * missing (and removed again if the build then writes nothing into it), and a probe file is written and removed.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, rmdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
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
  if (dir.trim() === "") {
    throw new PacklineError(`--sbom-dir ${quote(dir)} is only blanks: give a directory to write the SBOM files into (e.g. --sbom-dir sbom).`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is looked for
  if (/[\u0000-\u001f\u007f]/.test(dir)) {
    throw new PacklineError(
      `--sbom-dir ${quote(dir)} has a control character (a newline or tab pasted with it?): give the directory's name alone, e.g. --sbom-dir sbom.`,
    );
  }
  let made: string | undefined;
  let exists = true;
  try {
    if (!statSync(dir).isDirectory()) {
      throw new PacklineError(`--sbom-dir ${quote(dir)} is not a directory: give a directory (it is made if missing), e.g. --sbom-dir sbom.`);
    }
  } catch (error) {
    if (error instanceof PacklineError) throw error;
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw unusable(dir, error);
    if (isLink(dir)) {
      throw new PacklineError(
        `--sbom-dir ${quote(dir)} is a symbolic link to a path that does not exist: make the directory it points to, or give another directory.`,
      );
    }
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

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * The exclude pattern that keeps the SBOM directory out of the local source the build uploads, when it is inside
 * it (`--sbom-dir sbom` run in the project): its files from one build would otherwise become part of the next
 * build's source, changing the source's digest (the revision the release check compares: a retry of the same
 * version was refused as "from another revision") and adding the old SBOM to the image. Undefined when it is
 * outside. The source directory itself is refused: the export would write into what is uploaded.
 */
export function sbomExclude(sbomDir: string, sourceDir: string): string | undefined {
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  };
  const rel = relative(real(sourceDir), real(sbomDir));
  if (rel === "") {
    throw new PacklineError(
      `--sbom-dir ${quote(sbomDir)} is the source directory the build uploads: the SBOM files would become part of the next build's source; give a directory of its own, e.g. --sbom-dir sbom.`,
    );
  }
  if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  // A dockerignore pattern (Dagger's excludes): * ? [ and \ in a name are taken literally.
  return rel
    .split(sep)
    .join("/")
    .replace(/[*?[\\]/g, "\\$&");
}

function unusable(dir: string, error: unknown): PacklineError {
  const code = (error as NodeJS.ErrnoException).code ?? "error";
  return new PacklineError(
    `--sbom-dir ${quote(dir)} cannot take the SBOM files (${code}): give a directory you can write to, e.g. --sbom-dir sbom; nothing was built.`,
  );
}
