/**
 * --revision names what the local source is, and the release check compares it: a version already published from the
 * same revision is not built again. A name git resolves to a different commit every time (HEAD, FETCH_HEAD, ...)
 * would make a version published from another commit look like this source's, and the build would publish nothing.
 */
import { PacklineError, quote } from "../errors.js";

const SYMBOLIC = /^(HEAD|FETCH_HEAD|ORIG_HEAD|MERGE_HEAD|CHERRY_PICK_HEAD|REBASE_HEAD|@)$/i;

export function checkRevisionName(revision: string): void {
  if (SYMBOLIC.test(revision)) {
    throw new PacklineError(
      `--revision ${quote(revision)} names no fixed commit (git resolves it anew each time): the release check would take a version published from any other commit labelled ${quote(revision)} as this source and not build it again; give the commit itself, e.g. --revision "$(git rev-parse HEAD)" or $GITHUB_SHA.`,
    );
  }
}
