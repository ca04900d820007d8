import { PacklineError, quote } from "./errors.js";

/**
 * Kubernetes resource quantities (`500m`, `2`, `1.5Gi`, `1e3`), as the API server reads them, so packline can refuse
 * what a cluster would refuse (a request above its limit, a zero size) before anything is written.
 */
const QUANTITY = /^([+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;
const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The quantity's value in base units (cores, bytes); throws naming the flag and an example. */
export function parseQuantity(flag: string, value: string, example: string): number {
  const match = QUANTITY.exec(value);
  if (!match) throw new PacklineError(`${flag} ${quote(value)} is not a Kubernetes quantity: e.g. ${example}.`);
  const suffix = match[2] ?? "";
  const factor = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIX[suffix]!;
  return Number(match[1]) * factor;
}
