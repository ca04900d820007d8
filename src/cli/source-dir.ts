/**
 * The local directory `packline build` uploads to the engine when there is no --repo: --source, or the current
 * directory. `plan` names it (absolute); run from / or the home directory (or above it) without --source, both refuse
 * instead of uploading the whole file system or every file of the user.
 */
import { realpathSync } from "node:fs";
import { homedir } from "node:os";
import { resolve, sep } from "node:path";
import { PacklineError, quote } from "../core/errors.js";

/** What the upload leaves out (Dagger's host directory excludes). */
export const CONTEXT_EXCLUDES = [".git", "**/node_modules", ".dagger", "sdk"] as const;

export interface LocalSource {
  /** Absolute, links resolved. */
  readonly dir: string;
  /** --source named it (otherwise: the current directory). */
  readonly given: boolean;
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** The directory the build would upload; throws when it is / or the home directory (or above it) and --source was not given. */
export function localSource(source: string | undefined, cwd: string, env: NodeJS.ProcessEnv): LocalSource {
  const dir = real(source ?? cwd);
  if (source !== undefined) return { dir, given: true };
  const homeSetting = env.HOME || homedir();
  const home = homeSetting ? real(homeSetting) : undefined;
  const what =
    dir === sep
      ? "the root of the file system"
      : home !== undefined && dir === home
        ? "your home directory"
        : home?.startsWith(dir.endsWith(sep) ? dir : dir + sep)
          ? `above your home directory (${home})`
          : undefined;
  if (what !== undefined) {
    throw new PacklineError(
      `without --source, packline builds the current directory, ${quote(dir)}, which is ${what}: it would upload all of it to the engine. Run packline in the project's directory, or name the directory with --source (e.g. --source ./app; --source ${dir} if you mean it).`,
    );
  }
  return { dir, given: false };
}

/** For the plan: `/abs/dir (the current directory; --source names another), without .git, ...`. */
export function describeLocalSource(source: LocalSource): string {
  const left = CONTEXT_EXCLUDES.map((e) => (e.startsWith("**/") ? `any ${e.slice(3)}` : e));
  const without = `${left.slice(0, -1).join(", ")} and ${left.at(-1)}`;
  return `local directory ${source.dir} (${source.given ? "--source" : "the current directory; --source names another"}), without ${without}`;
}
