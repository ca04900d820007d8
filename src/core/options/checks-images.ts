/**
 * Checks across the images of one build (called from validate.ts): where the run and cache images may live, and that
 * the cache image is never a tag packline itself writes (the cache would replace the image, or the image the cache).
 */
import { PacklineError, quote } from "../errors.js";
import { type ImageReference, type ImageRepository, loopbackHost, registryPort } from "../image-ref.js";
import { planBuild } from "../plan/planner.js";
import { publishedTags } from "../plan/published-tags.js";
import type { BuildOptions } from "./validate.js";

export function checkImages(options: BuildOptions): void {
  if (options.runsOn === "cluster") {
    for (const [flag, ref] of [
      ["--run-image", options.runImage],
      ["--cache-image", options.cacheImage],
    ] as const) {
      if (ref && loopbackHost(ref.repository.registry) !== undefined) {
        throw new PacklineError(
          `${flag} ${quote(ref.text)} is on "localhost", which inside a pod is the pod itself (the build pod's lifecycle reads it): give the registry's address as the cluster's pods reach it (kind and k3d name it, e.g. kind-registry:5000).`,
        );
      }
    }
    for (const registry of options.insecureRegistries) {
      if (loopbackHost(registry) !== undefined) {
        throw new PacklineError(
          `--insecure-registry ${quote(registry)} is on "localhost", which inside a pod is the pod itself (no registry a build reads or writes is there): give the registry's address as the cluster's pods reach it (kind and k3d name it, e.g. kind-registry:5000).`,
        );
      }
    }
  }
  if (options.cacheImage && options.image) checkCacheImage(options.cacheImage, options.image, options);
}

function checkCacheImage(cache: ImageReference, image: ImageRepository, options: BuildOptions): void {
  if (!sameRepository(cache.repository, image)) return;
  const tag = cache.tag ?? "latest";
  // The planner's own list of what it writes, so that no tag it or the release protocol adds is missed.
  const published = publishedTags(planBuild(options)).find((t) => t.matches(tag));
  if (published === undefined) return;
  const untagged = cache.tag === undefined ? " (no tag means latest)" : "";
  throw new PacklineError(
    `--cache-image ${quote(cache.text)}${untagged} is ${published.why(tag)} in ${image.name}: the cache would replace the image, or the image the cache. Give the cache a tag of its own, e.g. ${image.name}:buildcache, or a repository of its own.`,
  );
}

function sameRepository(a: ImageRepository, b: ImageRepository): boolean {
  return registryKey(a.registry) === registryKey(b.registry) && a.path === b.path;
}

/** One spelling per registry: host names in any case, Docker Hub's aliases, this machine however it is written. */
function registryKey(registry: string): string {
  const loopback = loopbackHost(registry);
  if (loopback !== undefined) return `this-machine:${registryPort(registry) ?? 80}`;
  const lower = registry.toLowerCase();
  return lower === "index.docker.io" || lower === "registry-1.docker.io" ? "docker.io" : lower;
}
