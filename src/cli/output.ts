/**
 * Where `packline argo -o PATH` writes, and how. Only a regular file (or nothing) is replaced atomically, by a
 * temporary file beside it and a rename, so a failure leaves the old file whole; the new file keeps the old one's
 * mode and owner. Anything else at the path (a device such as /dev/null, a FIFO, a symbolic link such as
 * /dev/stdout or a link to /proc/self/fd/1, a file with other hard links, a file of another user that only root
 * could give back) is written through, in place, as a shell's `>` would: a rename would replace it. A directory is
 * refused, and `-o -` is stdout.
 */
import { chmodSync, chownSync, lstatSync, renameSync, rmSync, type Stats, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { PacklineError, quote } from "../core/errors.js";

/** How `-o PATH` is written, from what is at the path now (lstat: a link is not followed). */
export type OutputMode = "stdout" | "atomic" | "through" | "directory";

export function outputMode(file: string, stats: Stats | undefined): OutputMode {
  if (file === "-") return "stdout";
  if (stats === undefined) return "atomic";
  if (stats.isDirectory()) return "directory";
  if (stats.isFile() && stats.nlink <= 1) return "atomic";
  return "through";
}

/** Writes `contents` to `file` as `-o` asks; `stdout` prints it. Throws a PacklineError naming the path and the fix. */
export function writeOutput(file: string, contents: string, stdout: (text: string) => void): void {
  if (file === "") throw new PacklineError('-o "" names no file: give a file path such as build.yaml, or - for stdout.');
  let stats: Stats | undefined;
  try {
    stats = file === "-" ? undefined : lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw couldNotWrite(file, error);
  }
  switch (outputMode(file, stats)) {
    case "stdout":
      stdout(contents);
      return;
    case "directory":
      throw new PacklineError(`-o ${quote(file)} is a directory: give a file path, e.g. -o ${join(file, "build.yaml")} (or -o - for stdout).`);
    case "through":
      writeThrough(file, contents);
      return;
    case "atomic":
      if (!writeAtomically(file, contents, stats)) writeThrough(file, contents);
  }
}

function writeThrough(file: string, contents: string): void {
  try {
    writeFileSync(file, contents);
  } catch (error) {
    throw new PacklineError(
      `-o ${quote(file)}: could not write to it (${codeOf(error)}); it was written in place and may hold part of the YAML: check it is writable and has space.`,
    );
  }
}

/**
 * Writes `file` only whole: a temporary file beside it, then a rename, so a failure leaves no partial file. Returns
 * false, having written nothing, when the old file's owner cannot be given back (a file of another user that this
 * user may write): the caller writes it in place, which keeps the owner.
 */
function writeAtomically(file: string, contents: string, old: Stats | undefined): boolean {
  const temporary = join(dirname(file), `.${basename(file)}.packline-${process.pid}.tmp`);
  try {
    writeFileSync(temporary, contents, { flag: "wx", mode: old ? old.mode & 0o7777 : 0o666 });
    if (old) {
      // The file keeps what it was: its mode exactly (the umask applied to the create), and its owner where that
      // can be given back (only root may give a file away; a user's own file is already theirs).
      chmodSync(temporary, old.mode & 0o7777);
      if (old.uid !== process.getuid?.() || old.gid !== process.getgid?.()) {
        try {
          chownSync(temporary, old.uid, old.gid);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EPERM") throw error;
          rmSync(temporary, { force: true });
          return false;
        }
      }
    }
    renameSync(temporary, file);
    return true;
  } catch (error) {
    rmSync(temporary, { force: true });
    throw couldNotWrite(file, error);
  }
}

function couldNotWrite(file: string, error: unknown): PacklineError {
  return new PacklineError(
    `-o ${quote(file)}: could not write the file (${codeOf(error)}); nothing was written: check the directory exists, is writable and has space.`,
  );
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? "error";
}
