/**
 * Checks of `packline argo` options that only a cluster needs: what would export fine but could never run there.
 */
import { PacklineError, quote } from "../errors.js";
import type { GitUrl } from "../git-url.js";

/**
 * `argo submit --from workflowtemplate/<name>` and a Workflow's `generateName: <name>-` both make a workflow named
 * `<name>-` and 5 random characters, and Argo refuses workflow names over 63 characters (a label value).
 */
export const MAX_ARGO_NAME = 63 - "-xxxxx".length;

/**
 * A cluster clone reaches the repository over https (or http, git) with at most a token from --git-secret: it has no
 * ssh key, so an ssh URL can never be fetched there. Refused with the https form to give instead.
 */
export function checkClusterRepo(repo: GitUrl, gitSecret: string | undefined): void {
  if (repo.protocol !== "ssh") return;
  const https = httpsForm(repo.url);
  const instead = https ? `give its https form, ${quote(https)}` : "give its https URL";
  throw new PacklineError(
    gitSecret !== undefined
      ? `--git-secret ${quote(gitSecret)} holds a token for https, but --repo ${quote(repo.url)} is not an https URL: ${instead}, with a token in the Secret.`
      : `--repo ${quote(repo.url)} is an ssh URL, which no cluster clone can fetch (its pod has no ssh key): ${instead} (and --git-secret <name> with a token for a private repository).`,
  );
}

/** `git@host:owner/repo.git` or `ssh://git@host[:port]/owner/repo.git` -> `https://host/owner/repo.git`. */
export function httpsForm(url: string): string | undefined {
  const scp = /^[^@/]+@([^:/]+):(?!\/)(.+)$/.exec(url);
  if (scp) return `https://${scp[1]}/${scp[2]}`;
  const ssh = /^ssh:\/\/(?:[^@/]*@)?([^/:]+)(?::[0-9]*)?\/(.+)$/.exec(url);
  return ssh ? `https://${ssh[1]}/${ssh[2]}` : undefined;
}
