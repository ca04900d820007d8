/**
 * Which versions a scheduled rebase rebases (README, "Scheduled rebase: which versions"): of a repository's tags, the
 * releases (`MAJOR.MINOR.PATCH`, no prerelease, numbers of at most 15 digits: the version rule's), and of those the
 * newest patch of each `MAJOR.MINOR` line, ordered by major, then minor. Once here for packline, and once as an awk
 * program for the cluster's schedule, which lists the tags when it runs (a test holds the two equal).
 */

const NUMBER = /^(0|[1-9][0-9]{0,14})$/;

export function newestPatches(tags: readonly string[]): string[] {
  const best = new Map<string, { major: bigint; minor: bigint; patch: bigint }>();
  for (const tag of tags) {
    const parts = tag.split(".");
    if (parts.length !== 3 || !parts.every((p) => NUMBER.test(p))) continue;
    const [major, minor, patch] = parts.map((p) => BigInt(p)) as [bigint, bigint, bigint];
    const line = `${major}.${minor}`;
    const known = best.get(line);
    if (!known || patch > known.patch) best.set(line, { major, minor, patch });
  }
  return [...best.values()]
    .sort((a, b) => (a.major !== b.major ? (a.major < b.major ? -1 : 1) : a.minor < b.minor ? -1 : a.minor > b.minor ? 1 : 0))
    .map((v) => `${v.major}.${v.minor}.${v.patch}`);
}

/**
 * The same rule for the cluster: tags on stdin, one a line (what `crane ls` prints) -> the versions to rebase, one a
 * line, in the same order. POSIX sh with awk and sort (busybox's in the crane image). No `'` inside.
 */
export const NEWEST_PATCHES_SH = `awk '
  /^(0|[1-9][0-9]*)[.](0|[1-9][0-9]*)[.](0|[1-9][0-9]*)$/ {
    n = split($0, p, ".")
    if (length(p[1]) > 15 || length(p[2]) > 15 || length(p[3]) > 15) next
    line = p[1] "." p[2]
    if (!(line in best) || p[3] + 0 > best[line] + 0) best[line] = p[3]
  }
  END { for (line in best) print line "." best[line] }
' | sort -t . -k 1,1n -k 2,2n`;
