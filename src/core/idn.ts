/**
 * International host names (bücher.example): git, ssh, registries and Kubernetes take only their ASCII form
 * (punycode, xn--bcher-kva.example). packline does not convert silently, since the user's URL ends up in manifests and
 * labels as written; it refuses the Unicode form and gives the ASCII one.
 */

export function hasNonAscii(text: string): boolean {
  return [...text].some((c) => c.charCodeAt(0) > 127);
}

/** The ASCII (punycode) form of a host that has non-ASCII characters; undefined when it has none or is no valid name. */
export function punycodeHost(host: string): string | undefined {
  if (!hasNonAscii(host)) return undefined;
  let ascii: string;
  try {
    ascii = new URL(`http://${host}/`).hostname;
  } catch {
    return undefined;
  }
  // URL's IDNA mapping also drops invisible characters and folds look-alikes (ＡＢＣ -> abc): give the result only
  // when it is a plain name whose non-ASCII labels became punycode labels, never a silently different ASCII name.
  const labels = ascii.split(".");
  const plain = labels.every((l) => /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(l));
  const sourceLabels = host.split(".");
  const same =
    labels.length === sourceLabels.length &&
    labels.every((l, i) => (hasNonAscii(sourceLabels[i]!) ? l.startsWith("xn--") : l === sourceLabels[i]!.toLowerCase()));
  return plain && same ? ascii : undefined;
}

/** A message for a non-ASCII host: `<what> <why>: <fix>.`, with its ASCII form to use instead, or why there is none. */
export function nonAsciiHostMessage(what: string, host: string): string {
  const ascii = punycodeHost(host);
  return ascii === undefined
    ? `${what} has the host ${JSON.stringify(host)}, whose non-ASCII characters make no international domain name (look-alike or invisible characters?): type the host name in ASCII.`
    : `${what} has the international host name ${JSON.stringify(host)}, which git, ssh and registries take only in its ASCII (punycode) form: write the host as ${ascii}.`;
}
