import { PacklineError, quote } from "./errors.js";
import { hasNonAscii, nonAsciiHostMessage } from "./idn.js";

/**
 * Git repository URLs and refs as packline accepts them. A URL ends up in git's argv, in cluster manifests and in
 * image labels, so anything that could carry a credential or be read as an option or a template is refused.
 */

const SCP_LIKE = /^([A-Za-z0-9_][A-Za-z0-9._-]*)@([A-Za-z0-9][A-Za-z0-9.-]*):([^\s]+)$/; // git@github.com:acme/app.git
const FORMS = "https://host/owner/repo(.git), ssh://git@host/owner/repo or git@host:owner/repo";

export interface GitUrl {
  readonly url: string;
  readonly protocol: "https" | "http" | "ssh" | "git";
}

export function parseRepoUrl(url: string): GitUrl {
  const bad = (why: string, fix: string) => new PacklineError(`--repo ${quote(shown(url))} ${why}: ${fix}.`);
  if (/[\s"'`\\{}<>^|]/.test(url) || [...url].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127)) {
    throw bad("has blanks, quotes, braces or control characters", "percent-encode them (e.g. %7B for {) or fix the URL");
  }
  const scpHost = /^[A-Za-z0-9_][A-Za-z0-9._-]*@([^:/\s]+):/.exec(url)?.[1];
  if (scpHost !== undefined && hasNonAscii(scpHost)) {
    throw new PacklineError(nonAsciiHostMessage(`--repo ${quote(shown(url))}`, scpHost));
  }
  const scp = SCP_LIKE.exec(url);
  if (scp) {
    if (scp[3]!.startsWith("-")) throw bad('has a path starting with "-", which git could read as an option', "fix the path");
    return { url, protocol: "ssh" };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad("is not a git URL", `use ${FORMS}`);
  }
  const protocol = parsed.protocol.replace(/:$/, "");
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1] ?? protocol;
  if (scheme !== scheme.toLowerCase() && ["https", "http", "ssh", "git"].includes(protocol)) {
    // The URL parser lower-cases it, git does not: HTTPS:// fails with "'remote-HTTPS' is not a git command".
    throw bad(`has its scheme in upper case (${scheme}), which git does not read`, `write ${protocol}://${shown(url).slice(scheme.length + 3)}`);
  }
  if (protocol !== "https" && protocol !== "http" && protocol !== "ssh" && protocol !== "git") {
    throw bad(`uses ${quote(parsed.protocol)}`, `use ${FORMS}`);
  }
  // The WHATWG parser lower-cases and may accept odd hosts: check the host as written.
  const host = /^[a-z]+:\/\/(?:[^@/]*@)?(\[[^\]]*\]|[^/:?#]*)/i.exec(url)?.[1] ?? "";
  if (hasNonAscii(host)) {
    throw new PacklineError(nonAsciiHostMessage(`--repo ${quote(shown(url))}`, host));
  }
  if (host === "" || host.startsWith("-") || !/^([A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])$/.test(host)) {
    throw bad(`has the host ${quote(host)}`, 'give a host name or address (a host starting with "-" would be read by ssh as an option)');
  }
  if (parsed.password || (parsed.username && protocol !== "ssh") || parsed.username.startsWith("-")) {
    throw new PacklineError(
      "--repo has credentials in its URL: remove them (they would be printed, stored in manifests and put in image labels); for a private repository give a token as a secret instead.",
    );
  }
  if (parsed.search !== "" || parsed.hash !== "" || url.includes("?") || url.includes("#")) {
    throw new PacklineError(
      "--repo has a query or fragment (?... or #...), which may carry a token: remove it; for a private repository give a token as a secret instead.",
    );
  }
  if (parsed.pathname === "/" || parsed.pathname === "") throw bad("has no repository path", `use ${FORMS}`);
  return { url, protocol };
}

/** Hides anything before an "@" after the scheme, and any query: they may hold a password. */
function shown(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@\s]*@/i, "$1***@").replace(/[?#].*$/, "?***");
}

/** The repository's own name: `https://github.com/acme/web-app.git/` -> `web-app`. The one place it is derived. */
export function repositoryName(url: string): string {
  const path = url.replace(/\/+$/, "").replace(/\.git$/, "");
  return path.split(/[/:]/).pop() ?? "";
}

export function parseGitRef(ref: string, flag = "--ref"): string {
  // git check-ref-format's main rules, so that a typo fails here instead of after the clone started. Braces are
  // refused too: a ref is placed in cluster manifests, where "{{" would start an Argo expression.
  const bad = /(^[-/.])|\/\.|\.\.|[\s~^:?*[\\{}]|\/\/|\.lock$|\/$|\.$|^@$|@\{/;
  if (ref === "" || bad.test(ref) || [...ref].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) > 126)) {
    throw new PacklineError(`${flag} ${quote(ref)} is not a valid git ref: give a tag, branch or commit, e.g. v1.2.3, main or a commit SHA.`);
  }
  // A short commit: git fetches a commit only by its full SHA (40 hex digits; 64 in a SHA-256 repository), so every
  // backend would fail on it, each in its own words. A branch or tag spelt like one is given by its full name.
  if (/^(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{7,63}$/.test(ref) && ref.length !== 40) {
    throw new PacklineError(
      `${flag} ${quote(ref)} looks like a short commit SHA, which git cannot fetch: give the full SHA (git rev-parse ${ref}), or for a branch or tag of that name refs/heads/${ref} or refs/tags/${ref}.`,
    );
  }
  return ref;
}
