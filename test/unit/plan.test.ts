import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseImageReference } from "../../src/image-ref.js";
import { IMAGES } from "../../src/images.js";
import type { BuildInput } from "../../src/options.js";
import {
  ENGINE_REGISTRY,
  PATHS,
  PLATFORM_API,
  planBuild,
  REGISTRY_AUTH_SECRET,
  type BuildPlan,
  type Mount,
} from "../../src/plan.js";

const REPO = "https://github.com/acme/web-shop.git";

function plan(input: Partial<BuildInput> = {}): BuildPlan {
  return planBuild({ tag: "v1.2.3", ...input });
}

/** The creator's arguments that are the same in every build. */
const FIXED_HEAD = ["-app=/workspace", "-layers=/layers", "-platform=/platform"];
const REPORT = ["-report=/layers/report.toml", "-log-level=info"];

const BASE_ENV = [
  { name: "CNB_PLATFORM_API", value: "0.13" },
  { name: "PACKLINE_RUN_ID", runtime: "run-id" },
];

const BASE_MOUNTS = [
  { kind: "source", path: "/workspace", ownedByBuildUser: true },
  { kind: "scratch", path: "/layers", ownedByBuildUser: true },
  { kind: "scratch", path: "/platform", ownedByBuildUser: false },
];

describe("constants the backends share", () => {
  it("has the paths, platform API and engine registry the creator notes describe", () => {
    expect(PLATFORM_API).toBe("0.13");
    expect(PATHS).toEqual({
      workspace: "/workspace",
      layers: "/layers",
      platform: "/platform",
      cache: "/cache",
      report: "/layers/report.toml",
      order: "/platform/order.toml",
      dockerConfigDir: "/packline/docker",
      dockerConfig: "/packline/docker/config.json",
    });
    expect(ENGINE_REGISTRY.host).toBe("registry:5000");
    expect(ENGINE_REGISTRY.image).toBe(IMAGES.registry);
    expect(REGISTRY_AUTH_SECRET).toEqual({ name: "registry-auth" });
  });
});

describe("the build step", () => {
  it("runs the builder's lifecycle creator as root in /workspace", () => {
    const { build } = plan();
    expect(build.name).toBe("build");
    expect(build.image).toBe("paketobuildpacks/builder-jammy-base");
    expect(build.user).toBe("0");
    expect(build.command).toEqual(["/cnb/lifecycle/creator"]);
    expect(build.workdir).toBe("/workspace");
  });

  it("uses the --builder reference as written", () => {
    expect(plan({ builder: "heroku/builder:24" }).build.image).toBe("heroku/builder:24");
  });

  it("minimal local build: cache dir, the engine registry as insecure, primary reference last", () => {
    expect(plan().build.args).toEqual([...FIXED_HEAD, "-cache-dir=/cache", "-insecure-registry=registry:5000", ...REPORT, "registry:5000/app:1.2.3"]);
  });

  it("an external image is not marked insecure", () => {
    expect(plan({ image: "ghcr.io/acme/app" }).build.args).toEqual([...FIXED_HEAD, "-cache-dir=/cache", ...REPORT, "ghcr.io/acme/app:1.2.3"]);
  });

  it("every option in its place: cache image, run image, order, skip-restore, insecure registries, extra tags", () => {
    const { build } = plan({
      image: "registry.local:5000/acme/app",
      cacheImage: "registry.local:5000/acme/app-cache",
      runImage: "paketobuildpacks/run-jammy-base:0.1.0",
      buildpacks: ["paketo-buildpacks/nodejs@7.5.0"],
      clearCache: true,
      insecureRegistries: ["registry.local:5000", "mirror.local"],
      floatingTags: true,
      latest: true,
    });
    expect(build.args).toEqual([
      ...FIXED_HEAD,
      "-cache-image=registry.local:5000/acme/app-cache",
      "-run-image=paketobuildpacks/run-jammy-base:0.1.0",
      "-order=/platform/order.toml",
      "-skip-restore",
      "-insecure-registry=registry.local:5000",
      "-insecure-registry=mirror.local",
      ...REPORT,
      "-tag=registry.local:5000/acme/app:1.2",
      "-tag=registry.local:5000/acme/app:1",
      "-tag=registry.local:5000/acme/app:latest",
      "registry.local:5000/acme/app:1.2.3",
    ]);
  });

  it("user insecure registries come before the engine registry", () => {
    expect(plan({ insecureRegistries: ["mirror.local:5000"] }).build.args).toEqual([
      ...FIXED_HEAD,
      "-cache-dir=/cache",
      "-insecure-registry=mirror.local:5000",
      "-insecure-registry=registry:5000",
      ...REPORT,
      "registry:5000/app:1.2.3",
    ]);
  });

  it("a prerelease publishes one reference even when floating tags and latest are asked for", () => {
    const p = plan({ tag: "2.0.0-rc.1", floatingTags: true, latest: true });
    expect(p.tags).toEqual(["2.0.0-rc.1"]);
    expect(p.references).toEqual(["registry:5000/app:2.0.0-rc.1"]);
    expect(p.notes).toEqual(["floating tags skipped: 2.0.0-rc.1 is a prerelease", "latest skipped: 2.0.0-rc.1 is a prerelease"]);
    expect(p.build.args.filter((a) => a.startsWith("-tag="))).toEqual([]);
    expect(p.build.args.at(-1)).toBe("registry:5000/app:2.0.0-rc.1");
  });
});

describe("the build step's env", () => {
  it("sets only the platform API (and the run id) by default: no SOURCE_DATE_EPOCH, no DOCKER_CONFIG", () => {
    expect(plan().build.env).toEqual(BASE_ENV);
  });

  it.each([
    ["1700000000", [{ name: "SOURCE_DATE_EPOCH", value: "1700000000" }]],
    ["0", [{ name: "SOURCE_DATE_EPOCH", value: "0" }]],
    ["now", [{ name: "SOURCE_DATE_EPOCH", runtime: "now" }]],
    ["default", []],
  ])("--creation-time %j", (creationTime, extra) => {
    const p = plan({ creationTime });
    expect(p.build.env).toEqual([...BASE_ENV, ...extra]);
    expect(p.commitTime).toBeUndefined();
  });

  it("--creation-time commit reads the time at runtime from a commit-time step", () => {
    const p = plan({ repo: REPO, creationTime: "commit" });
    expect(p.creationTime).toEqual({ kind: "commit" });
    expect(p.build.env).toEqual([...BASE_ENV, { name: "SOURCE_DATE_EPOCH", runtime: "commit-time" }]);
    expect(p.commitTime).toEqual({
      name: "commit-time",
      image: IMAGES.git,
      user: "0",
      command: ["git"],
      args: ["-c", "safe.directory=/workspace", "log", "-1", "--format=%ct"],
      env: [],
      files: [],
      mounts: [{ kind: "source", path: "/workspace", ownedByBuildUser: false }],
      workdir: "/workspace",
    });
  });

  it("sets DOCKER_CONFIG only with registry credentials", () => {
    const withAuth = plan({ image: "ghcr.io/acme/app", registryUsername: "bot", registryPassword: true, creationTime: "now" });
    expect(withAuth.build.env).toEqual([
      ...BASE_ENV,
      { name: "SOURCE_DATE_EPOCH", runtime: "now" },
      { name: "DOCKER_CONFIG", value: "/packline/docker" },
    ]);
    expect(plan({ image: "ghcr.io/acme/app" }).build.env.map((e) => e.name)).not.toContain("DOCKER_CONFIG");
  });
});

describe("the build step's files", () => {
  it("writes no files by default", () => {
    expect(plan().build.files).toEqual([]);
  });

  it("writes one /platform/env file per --env, holding the exact value", () => {
    expect(plan({ env: ["BP_NODE_VERSION=20", "A=b=c", "EMPTY=", "MULTI=line 1\nline 2 "] }).build.files).toEqual([
      { path: "/platform/env/BP_NODE_VERSION", contents: "20" },
      { path: "/platform/env/A", contents: "b=c" },
      { path: "/platform/env/EMPTY", contents: "" },
      { path: "/platform/env/MULTI", contents: "line 1\nline 2 " },
    ]);
  });

  it("writes order.toml with one group of the buildpacks, in the given order", () => {
    const { build } = plan({ env: ["X=1"], buildpacks: ["paketo-buildpacks/nodejs@7.5.0", "paketo-buildpacks/npm-start@2.0.1"] });
    expect(build.files).toEqual([
      { path: "/platform/env/X", contents: "1" },
      {
        path: "/platform/order.toml",
        contents:
          "[[order]]\n" +
          '[[order.group]]\nid = "paketo-buildpacks/nodejs"\nversion = "7.5.0"\n' +
          "\n" +
          '[[order.group]]\nid = "paketo-buildpacks/npm-start"\nversion = "2.0.1"\n',
      },
    ]);
    expect(build.args).toContain("-order=/platform/order.toml");
  });

  it("every file lies directly under /platform (no path escapes)", () => {
    const { build } = plan({ env: ["A=1", "_B=2"], buildpacks: ["x@1"] });
    for (const file of build.files) expect(file.path).toMatch(/^\/platform\/(env\/[A-Za-z_][A-Za-z0-9_]*|order\.toml)$/);
  });
});

describe("the build step's mounts", () => {
  it("source, layers, platform and a cache volume keyed by the image repository", () => {
    expect(plan().build.mounts).toEqual([
      ...BASE_MOUNTS,
      { kind: "cache", path: "/cache", key: "packline-buildpacks-cache-registry:5000/app", ownedByBuildUser: true },
    ]);
  });

  it("no cache volume with --cache-image", () => {
    expect(plan({ cacheImage: "ghcr.io/acme/app-cache" }).build.mounts).toEqual(BASE_MOUNTS);
  });

  it("the docker config secret, read-only by reference, with credentials", () => {
    const mounts = plan({ image: "registry.example.com:5000/acme/app", registryUsername: "bot", registryPassword: true }).build
      .mounts;
    expect(mounts).toEqual<Mount[]>([
      ...(BASE_MOUNTS as Mount[]),
      {
        kind: "cache",
        path: "/cache",
        key: "packline-buildpacks-cache-registry.example.com:5000/acme/app",
        ownedByBuildUser: true,
      },
      { kind: "secret", path: "/packline/docker/config.json", secret: { name: "registry-auth" } },
    ]);
  });
});

describe("image, publish target and references", () => {
  it("defaults to registry:5000/app on the engine registry for a local source", () => {
    const p = plan({ floatingTags: true, latest: true });
    expect(p.image).toBe("registry:5000/app");
    expect(p.publishTo).toEqual({ kind: "engine-registry", host: "registry:5000" });
    expect(p.references).toEqual(["registry:5000/app:1.2.3", "registry:5000/app:1.2", "registry:5000/app:1", "registry:5000/app:latest"]);
    expect(p.registryAuth).toBeUndefined();
  });

  it.each([
    ["https://github.com/acme/web-shop.git", "registry:5000/web-shop"],
    ["https://github.com/acme/web-shop", "registry:5000/web-shop"],
    ["git@github.com:Acme/My_App.git", "registry:5000/my_app"],
    ["ssh://git@host/team/Some+Repo.git", "registry:5000/some-repo"],
    ["https://host/team/.hidden", "registry:5000/hidden"],
    ["https://host/team/___", "registry:5000/app"],
  ])("names the engine-registry repository after %s -> %s", (repo, image) => {
    const p = plan({ repo });
    expect(p.image).toBe(image);
    expect(p.references).toEqual([`${image}:1.2.3`]);
    expect(p.publishTo).toEqual({ kind: "engine-registry", host: "registry:5000" });
  });

  // Regression (src/plan.ts defaultRepositoryName): it keeps any run of [a-z0-9._-], but an image path component allows only
  // ".", "_", "__" or runs of "-" between alphanumerics, so these repositories give references the creator refuses.
  // Fix: replace every other separator run with "-":
  //   last.toLowerCase().replace(/[^a-z0-9]+/g, (sep) => (sep === "." || sep === "_" || sep === "__" || /^-+$/.test(sep) ? sep : "-"))
  // (then trim separators as today).
  it.each(["https://github.com/acme/my..app.git", "https://github.com/acme/a___b", "https://github.com/acme/x.-y"])(
    "the default reference derived from %s is a valid image reference",
    (repo) => {
      const p = plan({ repo });
      expect(() => parseImageReference(p.references[0]!, "--image")).not.toThrow();
    },
  );

  it("property: the default reference is a valid image reference for any repository name", () => {
    const name = fc.string({ unit: fc.constantFrom(..."aZ09._-+"), minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(name, (repoName) => {
        const p = plan({ repo: `https://github.com/acme/${repoName}` });
        expect(() => parseImageReference(p.references[0]!, "--image")).not.toThrow();
      }),
    );
  });

  it("publishes to the --image registry, as written, for every tag", () => {
    const p = plan({ repo: REPO, image: "registry.example.com:5000/acme/app", floatingTags: true });
    expect(p.image).toBe("registry.example.com:5000/acme/app");
    expect(p.publishTo).toEqual({ kind: "registry", registry: "registry.example.com:5000" });
    expect(p.references).toEqual([
      "registry.example.com:5000/acme/app:1.2.3",
      "registry.example.com:5000/acme/app:1.2",
      "registry.example.com:5000/acme/app:1",
    ]);
    expect(p.source).toEqual({ kind: "git", url: REPO, ref: "v1.2.3" });
  });

  it("0.x floating tags: no 0 reference", () => {
    expect(plan({ tag: "0.3.1", floatingTags: true }).references).toEqual(["registry:5000/app:0.3.1", "registry:5000/app:0.3"]);
  });

  it("a stored docker config secret is carried by name, mounted like the password's config", () => {
    const p = plan({ image: "ghcr.io/acme/app", registrySecret: "ghcr-pull-push" });
    expect(p.registryAuth).toEqual({ kind: "docker-config-secret", registry: "ghcr.io", secretName: "ghcr-pull-push" });
    expect(p.build.env).toEqual([...BASE_ENV, { name: "DOCKER_CONFIG", value: "/packline/docker" }]);
    expect(p.build.mounts.at(-1)).toEqual({ kind: "secret", path: "/packline/docker/config.json", secret: { name: "registry-auth" } });
  });

  it("credentials for Docker Hub use the Docker Hub config key", () => {
    expect(plan({ image: "acme/app", registryUsername: "bot", registryPassword: true }).registryAuth).toEqual({
      kind: "password",
      registry: "https://index.docker.io/v1/",
      username: "bot",
      password: { name: "registry-password" },
    });
  });
});

describe("secrets and plain data", () => {
  const SENTINEL_PASSWORD = "s3ntinel-Pa55word-do-not-leak";

  /** Every key that sounds like a secret must hold a reference ({ name }), never a string. */
  function secretKeysHoldReferences(value: unknown, path = "plan"): void {
    if (Array.isArray(value)) value.forEach((item, i) => secretKeysHoldReferences(item, `${path}[${i}]`));
    else if (value !== null && typeof value === "object") {
      for (const [key, child] of Object.entries(value)) {
        if (/^(password|secret|token|credentials?)$/i.test(key)) {
          expect(child, `${path}.${key}`).toEqual({ name: expect.any(String) });
        }
        secretKeysHoldReferences(child, `${path}.${key}`);
      }
    }
  }

  /** Only strings, finite numbers, booleans, arrays and plain objects (no classes, functions, dates, undefined in arrays). */
  function expectPlainData(value: unknown, path = "plan"): void {
    if (typeof value === "string" || typeof value === "boolean") return;
    if (typeof value === "number") return void expect(Number.isFinite(value), path).toBe(true);
    if (Array.isArray(value)) return value.forEach((item, i) => expectPlainData(item, `${path}[${i}]`));
    expect(value, path).not.toBeNull();
    expect(typeof value, path).toBe("object");
    expect(Object.getPrototypeOf(value), path).toBe(Object.prototype);
    for (const [key, child] of Object.entries(value as object)) {
      if (child !== undefined) expectPlainData(child, `${path}.${key}`);
    }
  }

  const full: Partial<BuildInput> = {
    repo: REPO,
    ref: "main",
    image: "ghcr.io/acme/web-shop",
    registryUsername: "ci-bot",
    registryPassword: true,
    env: ["BP_NODE_VERSION=20"],
    buildpacks: ["paketo-buildpacks/nodejs@7.5.0"],
    runImage: "paketobuildpacks/run-jammy-base",
    creationTime: "commit",
    floatingTags: true,
    latest: true,
    clearCache: true,
    insecureRegistries: ["mirror.local:5000"],
  };

  it("carries the password only as a reference", () => {
    const p = plan(full);
    expect(p.registryAuth).toEqual({
      kind: "password",
      registry: "ghcr.io",
      username: "ci-bot",
      password: { name: "registry-password" },
    });
    const json = JSON.stringify(p);
    expect(json).not.toContain(SENTINEL_PASSWORD);
    // The one "password" key in the whole plan holds the reference.
    expect(json.match(/"password":/g)).toHaveLength(1);
    expect(json).toContain('"password":{"name":"registry-password"}');
    secretKeysHoldReferences(p);
  });

  it.each([
    ["a minimal build", {}],
    ["a full build", full],
    ["a build with a cache image and unix creation time", { cacheImage: "ghcr.io/acme/c", creationTime: "1700000000" }],
  ])("%s is plain data: the JSON round trip gives the same plan", (_, input) => {
    const p = plan(input as Partial<BuildInput>);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
    expectPlainData(p);
  });
});

describe("a whole plan", () => {
  it("a repository build with credentials, floating tags, latest and env", () => {
    const p = planBuild({
      tag: "v1.4.2",
      repo: "https://github.com/acme/web-shop.git",
      image: "ghcr.io/acme/web-shop",
      registryUsername: "ci-bot",
      registryPassword: true,
      floatingTags: true,
      latest: true,
      env: ["BP_NODE_VERSION=20", "NODE_ENV=production"],
    });
    expect(p).toEqual({
      version: "1.4.2",
      tags: ["1.4.2", "1.4", "1", "latest"],
      notes: [],
      image: "ghcr.io/acme/web-shop",
      references: [
        "ghcr.io/acme/web-shop:1.4.2",
        "ghcr.io/acme/web-shop:1.4",
        "ghcr.io/acme/web-shop:1",
        "ghcr.io/acme/web-shop:latest",
      ],
      publishTo: { kind: "registry", registry: "ghcr.io" },
      source: { kind: "git", url: "https://github.com/acme/web-shop.git", ref: "v1.4.2" },
      registryAuth: { kind: "password", registry: "ghcr.io", username: "ci-bot", password: { name: "registry-password" } },
      creationTime: { kind: "default" },
      commitTime: undefined,
      build: {
        name: "build",
        image: "paketobuildpacks/builder-jammy-base",
        user: "0",
        command: ["/cnb/lifecycle/creator"],
        args: [
          "-app=/workspace",
          "-layers=/layers",
          "-platform=/platform",
          "-cache-dir=/cache",
          "-report=/layers/report.toml",
          "-log-level=info",
          "-tag=ghcr.io/acme/web-shop:1.4",
          "-tag=ghcr.io/acme/web-shop:1",
          "-tag=ghcr.io/acme/web-shop:latest",
          "ghcr.io/acme/web-shop:1.4.2",
        ],
        env: [
          { name: "CNB_PLATFORM_API", value: "0.13" },
          { name: "PACKLINE_RUN_ID", runtime: "run-id" },
          { name: "DOCKER_CONFIG", value: "/packline/docker" },
        ],
        files: [
          { path: "/platform/env/BP_NODE_VERSION", contents: "20" },
          { path: "/platform/env/NODE_ENV", contents: "production" },
        ],
        mounts: [
          { kind: "source", path: "/workspace", ownedByBuildUser: true },
          { kind: "scratch", path: "/layers", ownedByBuildUser: true },
          { kind: "scratch", path: "/platform", ownedByBuildUser: false },
          { kind: "cache", path: "/cache", key: "packline-buildpacks-cache-ghcr.io/acme/web-shop", ownedByBuildUser: true },
          { kind: "secret", path: "/packline/docker/config.json", secret: { name: "registry-auth" } },
        ],
        workdir: "/workspace",
      },
      reportPath: "/layers/report.toml",
    });
  });
});
