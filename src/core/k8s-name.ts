import { PacklineError, quote } from "./errors.js";

/**
 * Kubernetes object names. A DNS-1123 label (namespaces, and names that become pod name prefixes) or a DNS-1123
 * subdomain (most other objects: Secrets, PVCs, service accounts).
 */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Returns `value` if it is a valid name of that kind and length, else throws with a corrected suggestion. */
export function kubernetesName(flag: string, value: string, options: { max?: number; label?: boolean } = {}): string {
  const pattern = options.label ? DNS1123_LABEL : DNS1123_SUBDOMAIN;
  const max = options.max ?? (options.label ? 63 : 253);
  if (value.length > max || !pattern.test(value)) {
    throw new PacklineError(
      `${flag} ${quote(value)} is not a valid Kubernetes name: use at most ${max} lower-case letters, digits and "-"` +
        `${options.label ? "" : ' (and ".")'}, starting and ending with a letter or digit, e.g. ${quote(suggestName(value))}.`,
    );
  }
  return value;
}

/** A DNS-1123 label close to what the user typed, for error messages and default names. */
export function suggestName(value: string): string {
  const name = value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 52)
    .replace(/-+$/, "");
  return name || "packline-build";
}
