/**
 * Helper images packline runs besides the builder, pinned so that the same inputs run the same containers.
 * Changing one of these changes what every backend runs: the plan carries them, no backend names its own.
 */
export const IMAGES = {
  /** Clones the repository in clusters and reads the commit time (Dagger clones with its own git support). */
  git: "alpine/git:v2.49.1",
  /** The registry that lives inside the Dagger engine when no --image is given. */
  registry: "registry:3",
  /** Copies an image out of a registry as a tarball, so Dagger can hand it back as a Container. */
  crane: "gcr.io/go-containerregistry/crane:v0.20.6",
  /** The article's form: pack against a Docker daemon (Argo `--executor pack` only). */
  pack: "buildpacksio/pack:0.40.0",
} as const;
