/**
 * Helper images packline runs besides the builder, pinned so that the same inputs run the same containers.
 * Changing one of these changes what every backend runs: the plan carries those of its steps, the backends take the
 * others (git, the engine's registry, crane to copy an image out) from here; no backend names its own.
 */
export const IMAGES = {
  /** Clones the repository and checks the version in clusters; reads the commit time on Dagger. */
  git: "alpine/git:v2.49.1",
  /** The registry that lives inside the Dagger engine when no --image is given. */
  registry: "registry:3",
  /**
   * crane with a shell (upstream's "debug" image: busybox at /busybox): looks up the version's tag, labels and tags
   * the image, and copies an image out of a registry the engine itself cannot reach.
   */
  crane: "ghcr.io/google/go-containerregistry/crane/debug:v0.20.6",
  /** The article's form: pack against a Docker daemon (Argo `--executor pack` only). */
  pack: "buildpacksio/pack:0.40.0",
} as const;

/** Where the crane image keeps its tools. */
export const CRANE = { bin: "/ko-app/crane", sh: "/busybox/sh" } as const;
