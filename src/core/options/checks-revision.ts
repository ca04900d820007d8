/**
 * --revision names what the local source is, and the release check compares it: a version already published from the
 * same revision is not built again. A name git resolves to a different commit every time (HEAD, FETCH_HEAD, ...)
 * would make a version published from another commit look like this source's, and the build would publish nothing.
 */
import { PacklineError, quote } from "../errors.js";

const SYMBOLIC = /^(HEAD|FETCH_HEAD|ORIG_HEAD|MERGE_HEAD|CHERRY_PICK_HEAD|REBASE_HEAD|@)$/i;

/** At most this many characters: a commit SHA has 40 (SHA-1) or 64 (SHA-256). */
export const MAX_REVISION = 128;

export function checkRevisionName(revision: string): void {
  if (revision.length > MAX_REVISION) {
    throw new PacklineError(
      `--revision ${quote(`${revision.slice(0, 40)}...`)} is ${revision.length} characters long, more than ${MAX_REVISION}: give the commit SHA (40 or 64 hex digits) or a short name.`,
    );
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._:+-]*$/.test(revision)) {
    throw new PacklineError(
      `--revision ${quote(revision)} is not a revision: give a commit SHA or a short name of letters, digits, ".", "_", ":", "+" and "-".`,
    );
  }
  if (SYMBOLIC.test(revision)) {
    throw new PacklineError(
      `--revision ${quote(revision)} names no fixed commit (git resolves it anew each time): the release check would take a version published from any other commit labelled ${quote(revision)} as this source and not build it again; give the commit itself, e.g. --revision "$(git rev-parse HEAD)" or $GITHUB_SHA.`,
    );
  }
}
