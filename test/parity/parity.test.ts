/**
 * "A laptop build equals a cluster build", measured: for one set of options, the check, build and release
 * containers the Dagger backend sends (fake engine) equal, field by field, the containers of the Argo templates
 * (image, command and arguments with late values resolved the same way, env, files, mounts, working directory,
 * user). A change to one backend alone fails here. test/parity/property.test.ts feeds random values through both.
 */
import { describe, expect, it } from "vitest";
import { argoSide, daggerSide, expectPlaceholdersOnlyAtLateValues, type ParityOptions, STEPS } from "./render.js";

const REPO = "https://github.com/acme/app";
const IMAGE = "registry.example.com/acme/app";

const CASES: [string, ParityOptions][] = [
  ["the defaults", { build: { tag: "v1.2.3", repo: REPO, image: IMAGE } }],
  [
    "credentials, floating tags, latest, env with quotes, braces, $(...) and a newline",
    {
      build: {
        tag: "v1.2.3",
        repo: REPO,
        image: IMAGE,
        floatingTags: true,
        latest: true,
        env: ["BP_NODE_VERSION=20", 'QUOTED=it\'s "{{x}}" $(id) `uname`\nline ünï'],
      },
      credentials: true,
    },
  ],
  ["a prerelease with floating tags and latest", { build: { tag: "v2.0.0-rc.1", repo: REPO, image: IMAGE, floatingTags: true, latest: true } }],
  ["a 0.x version with floating tags", { build: { tag: "0.4.2", repo: REPO, image: IMAGE, floatingTags: true } }],
  [
    "cache image, run image, buildpacks, unix time, insecure registry, clear cache, ref, allow overwrite",
    {
      build: {
        tag: "v3.1.4",
        repo: REPO,
        ref: "main",
        image: "registry.lan:5000/acme/app",
        builder: "registry.lan:5000/acme/builder:1",
        cacheImage: "registry.lan:5000/acme/app-cache:build",
        runImage: "registry.lan:5000/acme/run:jammy",
        buildpack: ["paketo-buildpacks/nodejs@7.5.0", "paketo-buildpacks/npm-start@1.0.0"],
        creationTime: "1700000000",
        insecureRegistry: ["registry.lan:5000"],
        clearCache: true,
        allowOverwrite: true,
      },
    },
  ],
  ["creation time now", { build: { tag: "v1.0.0", repo: REPO, image: IMAGE, creationTime: "now" } }],
  ["creation time of the commit", { build: { tag: "v1.0.0", repo: REPO, image: IMAGE, creationTime: "commit" } }],
  [
    "values that look like versions (issue 7)",
    {
      build: {
        tag: "v1.2.3",
        repo: "https://github.com/acme/web-app/",
        image: "registry.example.com/team90001/app",
        builder: "registry.example.com/builder:90001",
        runImage: "registry.example.com/run:90001.90002",
        cacheImage: "registry.example.com/cache:v90001",
        env: ["PORT_90001=1"],
        floatingTags: true,
      },
      credentials: true,
    },
  ],
];

describe("the Argo containers equal the Dagger containers", () => {
  it.each(CASES)("%s", async (_name, options) => {
    const dagger = await daggerSide(options);
    const argo = argoSide(options, dagger);
    for (const step of STEPS) expect(argo.steps[step], step).toEqual(dagger.steps[step]);
    // Both clone the same commit's tree without .git.
    expect(argo.cloned).toEqual({ url: dagger.cloned.url, ref: dagger.cloned.ref });
    expect(dagger.cloned.discardGitDir).toBe(true);
    expectPlaceholdersOnlyAtLateValues(argo);
  });

  it("a difference in one backend fails the comparison (the test can fail)", async () => {
    const options: ParityOptions = { build: { tag: "v1.2.3", repo: REPO, image: IMAGE, env: ["A=1"] } };
    const dagger = await daggerSide(options);
    const argo = argoSide(options, dagger);
    const build = argo.steps.build;
    for (const changed of [
      { ...build, argv: [...build.argv.slice(0, -1), `${IMAGE}:1.2.3`] },
      { ...build, env: build.env.filter(([n]) => n !== "PACKLINE_RUN_ID") },
      { ...build, files: { "/platform/env/A": "1\n" } },
      { ...build, user: "0:0" },
      { ...build, mounts: build.mounts.filter((m) => m.path !== "/cache") },
    ]) {
      expect(changed).not.toEqual(dagger.steps.build);
    }
    expect(build).toEqual(dagger.steps.build);
  });
});
