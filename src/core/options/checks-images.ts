/**
 * Checks across the images of one build (called from validate.ts): where the run and cache images may live, and that
 * the cache image is never a tag packline itself writes (the cache would replace the image, or the image the cache).
 */
import { PacklineError, quote } from "../errors.js";
import { type ImageReference, type ImageRepository, loopbackHost, registryPort } from "../image-ref.js";
import { STAGING_TAG } from "../plan/constants.js";
import { VERSION_ERE } from "../version.js";
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
  }
  if (options.cacheImage && options.image) checkCacheImage(options.cacheImage, options.image, options);
}

function checkCacheImage(cache: ImageReference, image: ImageRepository, options: BuildOptions): void {
  if (!sameRepository(cache.repository, image)) return;
  const tag = cache.tag ?? "latest";
  const why = publishedAs(tag, options);
  if (why === undefined) return;
  const untagged = cache.tag === undefined ? " (no tag means latest)" : "";
  throw new PacklineError(
    `--cache-image ${quote(cache.text)}${untagged} is ${why} in ${image.name}: the cache would replace the image, or the image the cache. Give the cache a tag of its own, e.g. ${image.name}:buildcache, or a repository of its own.`,
  );
}

/** Why packline writes `tag` of the image, if it does. */
function publishedAs(tag: string, options: BuildOptions): string | undefined {
  if (tag === STAGING_TAG) return `the tag ${STAGING_TAG}, which the build pushes to before the release`;
  const v = options.version;
  if (v.kind === "known") {
    const { version, major, minor, shape } = v.version;
    if (tag === version) return `the version tag ${version}, which this build publishes`;
    if (shape === "prerelease") return undefined;
    if (options.floatingTags && tag === `${major}.${minor}`) return `the tag ${tag}, which --floating-tags publishes`;
    if (options.floatingTags && shape === "release" && tag === major) return `the tag ${tag}, which --floating-tags publishes`;
    if (options.latest && tag === "latest") return "the tag latest, which --latest publishes";
    return undefined;
  }
  // The version is given when the workflow is submitted: any version's tags may be published.
  if (new RegExp(VERSION_ERE).test(tag)) return `a version tag, which the workflow publishes when it is submitted with that version`;
  if (options.floatingTags && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?$/.test(tag)) {
    return `a MAJOR or MAJOR.MINOR tag, which --floating-tags publishes`;
  }
  if (options.latest && tag === "latest") return "the tag latest, which --latest publishes";
  return undefined;
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
