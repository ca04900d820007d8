/**
 * "Local equals cluster", measured: for the same options, the build container the Argo YAML runs equals what the
 * Dagger runner sends to the engine (image, command, arguments, env, files, mounts, working directory, user).
 * The Dagger side is read from the queries the real SDK sent; the Argo side from the exported YAML, with the version
 * step's own script run to get the parameters Argo would pass. A change to one backend alone fails this test.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dag } from "@dagger.io/dagger";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { exportArgo, type ArgoBuildInput } from "../src/argo/export.js";
import { VERSION_OUTPUTS, VERSION_SCRIPT } from "../src/argo/version-script.js";
import { Packline } from "../src/index.js";
import { answerEnv, answerFile, withFakeEngine, type Chain, type FakeEngine } from "./support/fake-engine.js";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const REPORT = `[image]\n  tags = []\n  digest = "${DIGEST}"\n  manifest-size = 1\n`;

/** What a backend runs as the build container, in comparable form. */
interface BuildContainer {
  image: string;
  argv: string[];
  env: Record<string, string>;
  files: Record<string, string>;
  mounts: string[];
  workdir: string;
  user: string;
}

interface Case {
  name: string;
  tag: string;
  build: Omit<ArgoBuildInput, "tag" | "registrySecret">;
  credentials?: boolean;
}

const REPO = "https://github.com/acme/app";
const IMAGE = "registry.example.com/acme/app";
const CASES: Case[] = [
  {
    name: "release with credentials, floating tags, latest, env",
    tag: "v1.2.3",
    build: { repo: REPO, image: IMAGE, floatingTags: true, latest: true, env: ["BP_NODE_VERSION=20", "QUOTED=it's \"{{x}}\" $(id)\nline"] },
    credentials: true,
  },
  { name: "prerelease with floating tags", tag: "v2.0.0-rc.1", build: { repo: REPO, image: IMAGE, floatingTags: true, latest: true } },
  { name: "0.x with floating tags", tag: "0.4.2", build: { repo: REPO, image: IMAGE, floatingTags: true } },
  {
    name: "cache image, run image, buildpacks, unix creation time, insecure registry, clear cache, ref",
    tag: "v3.1.4",
    build: {
      repo: REPO,
      ref: "main",
      image: IMAGE,
      cacheImage: "registry.example.com/acme/app-cache:build",
      runImage: "registry.example.com/acme/run:jammy",
      buildpacks: ["paketo-buildpacks/nodejs@7.5.0"],
      creationTime: "1700000000",
      insecureRegistries: ["registry.example.com"],
      clearCache: true,
    },
  },
];

describe("the Argo build container equals the Dagger build container", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, testCase) => {
    const local = await daggerBuildContainer(testCase);
    const cluster = argoBuildContainer(testCase);

    expect(cluster.image).toBe(local.image);
    expect(cluster.argv).toEqual(local.argv);
    expect(cluster.workdir).toBe(local.workdir);
    expect(cluster.user).toBe(local.user);
    expect(cluster.files).toEqual(local.files);
    expect(cluster.mounts).toEqual(local.mounts);
    expect(Object.keys(cluster.env)).toEqual(Object.keys(local.env));
    for (const [name, value] of Object.entries(local.env)) {
      if (name === "PACKLINE_RUN_ID") {
        // Unique per run on both sides: a fresh UUID per Dagger call, the workflow's uid in Argo.
        expect(value).toMatch(/^[0-9a-f-]{36}$/);
        expect(cluster.env[name]).toBe("{{workflow.uid}}");
      } else {
        expect(cluster.env[name], name).toBe(value);
      }
    }
  });
});

async function daggerBuildContainer(testCase: Case): Promise<BuildContainer> {
  return withFakeEngine(
    { answers: [answerFile("/layers/report.toml", REPORT), answerEnv("CNB_USER_ID", "1001"), answerEnv("CNB_GROUP_ID", "1000")] },
    async (engine) => {
      const b = testCase.build;
      const password = testCase.credentials ? dag.setSecret("pw", "not-a-real-password") : undefined;
      await new Packline().build(
        testCase.tag,
        dag.directory(),
        undefined,
        b.repo,
        b.ref,
        b.image,
        b.builder,
        b.runImage,
        [...(b.env ?? [])],
        [...(b.buildpacks ?? [])],
        testCase.credentials ? "me" : undefined,
        password,
        b.cacheImage,
        b.clearCache ?? false,
        b.creationTime ?? "default",
        b.floatingTags ?? false,
        b.latest ?? false,
        [...(b.insecureRegistries ?? [])],
      );
      return fromChain(engine, buildChain(engine));
    },
  );
}

/** The chain that read report.toml: it holds every step applied to the build container. */
function buildChain(engine: FakeEngine): Chain {
  const read = engine.leaves("contents").find((q) => q.resolved.some((s) => s.field === "file" && s.args.path === "/layers/report.toml"));
  if (!read) throw new Error("the runner never read report.toml");
  return read.resolved;
}

function fromChain(engine: FakeEngine, chain: Chain): BuildContainer {
  const out: BuildContainer = { image: "", argv: [], env: {}, files: {}, mounts: [], workdir: "", user: "" };
  for (const step of chain) {
    const a = step.args as Record<string, any>;
    switch (step.field) {
      case "from":
        out.image = a.address;
        break;
      case "withEnvVariable":
        out.env[a.name] = a.value;
        break;
      case "withNewFile":
        out.files[a.path] = a.contents;
        break;
      case "withMountedDirectory":
      case "withDirectory":
      case "withMountedCache":
      case "withMountedSecret":
        out.mounts.push(a.path);
        break;
      case "withWorkdir":
        out.workdir = a.path;
        break;
      case "withUser":
        out.user = a.name;
        break;
      case "withExec":
        out.argv = a.args;
        break;
    }
  }
  void engine;
  out.mounts.sort();
  return out;
}

function argoBuildContainer(testCase: Case): BuildContainer {
  const { yaml } = exportArgo(
    { ...testCase.build, tag: testCase.tag, ...(testCase.credentials ? { registrySecret: "regcred" } : {}) },
    {},
  );
  const workflow = parse(yaml);
  const params = runVersionScript(testCase.tag);
  const main = workflow.spec.templates.find((t: any) => t.name === "main");
  const step = main.steps.flat().find((s: any) => s.when === `'{{steps.version.outputs.parameters.shape}}' == '${params.shape}'`);
  const template = workflow.spec.templates.find((t: any) => t.name === step.template);
  const substitute = (text: string) => text.replace(/\{\{inputs\.parameters\.(version|major|minor)\}\}/g, (_m, name: string) => params[name]!);

  const container = template.container;
  const init = template.initContainers?.[0];
  const files: Record<string, string> = {};
  if (init) {
    // The prepare script writes each file from a base64 env value: decode them as the container would.
    for (const match of init.args[0].matchAll(/"\$(PACKLINE_FILE_\d+)" \| base64 -d > '([^']+)'/g)) {
      const value = init.env.find((e: any) => e.name === match[1]).value;
      files[match[2]] = Buffer.from(value, "base64").toString("utf8");
    }
  }
  const mounts = (container.volumeMounts as any[]).map((m) => {
    if (m.name !== "registry-auth") return m.mountPath;
    const volume = workflow.spec.volumes.find((v: any) => v.name === "registry-auth");
    return `${m.mountPath}/${volume.secret.items[0].path}`;
  });
  return {
    image: container.image,
    argv: [...container.command, ...container.args].map(substitute),
    env: Object.fromEntries(container.env.map((e: any) => [e.name, e.value])),
    files,
    mounts: mounts.sort(),
    workdir: container.workingDir,
    user: String(container.securityContext.runAsUser),
  };
}

/** Runs the cluster's version step script with /bin/sh, as its container would, and reads its outputs. */
function runVersionScript(tag: string): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), "packline-version-"));
  try {
    const script = VERSION_SCRIPT.split("/tmp/packline").join(dir);
    execFileSync("sh", ["-c", script], { env: { PATH: process.env.PATH, PACKLINE_VERSION: tag }, stdio: "pipe" });
    return Object.fromEntries(
      Object.entries(VERSION_OUTPUTS).map(([name, path]) => [name, readFileSync(path.replace("/tmp/packline", dir), "utf8")]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
