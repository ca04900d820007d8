/** The fixed names and places of a plan: every backend uses exactly these. */
import { IMAGES } from "../images.js";
import type { SecretRef } from "./types.js";

/**
 * Platform API the creator is asked to speak: 0.13 is the lowest that has everything packline uses
 * (SOURCE_DATE_EPOCH needs 0.9, -insecure-registry 0.13); lifecycle 0.21 supports 0.7 to 0.15.
 */
export const PLATFORM_API = "0.13";

/** Where things live inside the build container. Every backend mounts exactly these. */
export const PATHS = {
  workspace: "/workspace",
  layers: "/layers",
  platform: "/platform",
  cache: "/cache",
  report: "/layers/report.toml",
  sbom: "/layers/sbom",
  order: "/platform/order.toml",
  dockerConfigDir: "/packline/docker",
  dockerConfigFile: "config.json",
} as const;

/** Where the check and release steps write what later steps and the result read (scripts.ts, pin.ts). */
export const OUT = { dir: "/tmp/packline", outcome: "/tmp/packline/outcome", digest: "/tmp/packline/digest" } as const;

/** The tag the build pushes to; the release step then labels that image and points the version's tags at it. */
export const STAGING_TAG = "packline-staging";

/** The registry that lives inside the Dagger engine, used when no --image is given. */
export const ENGINE_REGISTRY = {
  alias: "registry",
  port: 5000,
  image: IMAGES.registry,
  /** Cache volume that keeps the registry's storage between calls on one engine. */
  storageKey: "packline-registry-storage",
  storagePath: "/var/lib/registry",
  /** Repository name used there when the source has none. */
  defaultRepository: "app",
} as const;

/** The name the build containers reach a registry on the user's own machine by (a tunnel from the engine). */
export const HOST_REGISTRY_ALIAS = "packline-host-registry";

/** The secret the registry steps read credentials from: a docker config.json document. */
export const REGISTRY_AUTH_SECRET: SecretRef = { name: "registry-auth" };

export const VOLUMES = {
  source: "source",
  layers: "layers",
  platform: "platform",
  cache: "cache",
  registryAuth: "registry-auth",
  dockerSocket: "docker-socket",
} as const;
