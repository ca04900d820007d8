/**
 * Registries on the user's own machine, for a build on the Dagger engine: inside the engine's containers localhost is
 * the container, so the build reaches the user's `localhost:PORT` (however spelt: `127.1`, `[::1]`, `LOCALHOST`)
 * through one tunnel, as `packline-host-registry:PORT`. The image's own repository is named so in the image plan; the
 * run and cache images are rewritten here, and their registries marked insecure (a tunnel's far end is the user's
 * plain-HTTP registry, as for --image). A cluster refuses localhost before this (validate.ts).
 */
import { PacklineError, quote } from "../errors.js";
import { type ImageReference, loopbackHost, registryPort } from "../image-ref.js";
import type { BuildOptions } from "../options/validate.js";
import { HOST_REGISTRY_ALIAS } from "./constants.js";
import type { HostTunnel } from "./types.js";

export function hostTunnelOf(options: BuildOptions): { tunnel?: HostTunnel; reach: BuildOptions } {
  if (options.runsOn !== "engine") return { reach: options };
  const local: { flag: string; registry: string; host: string }[] = [];
  const note = (flag: string, registry: string | undefined) => {
    const host = registry === undefined ? undefined : loopbackHost(registry);
    if (registry !== undefined && host !== undefined) local.push({ flag, registry, host });
  };
  note("--image", options.image?.registry);
  note("--run-image", options.runImage?.repository.registry);
  note("--cache-image", options.cacheImage?.repository.registry);
  if (local.length === 0) return { reach: options };
  const other = local.find((l) => l.host !== local[0]!.host);
  if (other) {
    throw new PacklineError(
      `${local[0]!.flag} (${quote(local[0]!.registry)}) and ${other.flag} (${quote(other.registry)}) name this machine by different hosts, which one tunnel from the engine cannot both reach: name them alike, e.g. localhost:PORT.`,
    );
  }
  const ports = [...new Set(local.map((l) => registryPort(l.registry) ?? 80))].sort((a, b) => a - b);
  const tunnel: HostTunnel = { alias: HOST_REGISTRY_ALIAS, host: local[0]!.host.replace(/^\[(.*)\]$/, "$1"), ports };
  const through = (ref: ImageReference | undefined): ImageReference | undefined => {
    if (ref === undefined || loopbackHost(ref.repository.registry) === undefined) return ref;
    const address = `${HOST_REGISTRY_ALIAS}:${registryPort(ref.repository.registry) ?? 80}/${ref.repository.path}`;
    const text = `${address}${ref.tag === undefined ? "" : `:${ref.tag}`}${ref.digest === undefined ? "" : `@${ref.digest}`}`;
    return { ...ref, text };
  };
  const insecure = new Set(options.insecureRegistries);
  for (const l of local) if (l.flag !== "--image") insecure.add(`${HOST_REGISTRY_ALIAS}:${registryPort(l.registry) ?? 80}`);
  return {
    tunnel,
    reach: { ...options, runImage: through(options.runImage), cacheImage: through(options.cacheImage), insecureRegistries: [...insecure] },
  };
}
