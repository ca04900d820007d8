/**
 * The real module code (`new Packline().build(...)` from src/index.ts) driven through the real `@dagger.io/dagger`
 * SDK against the fake engine of test/support/fake-engine.ts: these tests assert the exact pipeline the module sends
 * (images, mounts and their owners, env, files, secrets by id, exec args) and what it makes of the answers.
 * No Dagger engine runs here; what is verified is the GraphQL the SDK sends and the module's handling of replies.
 */
import { describe, expect, it } from "vitest"
import { dag, type Directory, type Secret } from "@dagger.io/dagger"
import { PacklineError } from "../src/errors.js"
import { BuildResult, Packline } from "../src/index.js"
import { planBuild } from "../src/plan.js"
import type { BuildInput } from "../src/options.js"
import {
  answerEnv,
  answerFile,
  execError,
  graphqlError,
  withFakeEngine,
  type Answer,
  type Chain,
  type FakeEngine,
  type RecordedQuery,
} from "./support/fake-engine.js"

// ---------------------------------------------------------------------------------------------------------------
// Fixtures.

const DIGEST = "sha256:3b1f8c0a5e2d4f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"
const IMAGE_ID = "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const PASSWORD = "s3cr3t-value"
const PASSWORD_B64 = Buffer.from(`me:${PASSWORD}`).toString("base64")
const CREATOR = "/cnb/lifecycle/creator"

/** A report.toml as the lifecycle writes it after a registry export. */
function report(tags: string[]): string {
  return (
    "[image]\n" +
    `  tags = [${tags.map((t) => JSON.stringify(t)).join(", ")}]\n` +
    `  image-id = "${IMAGE_ID}"\n` +
    `  digest = "${DIGEST}"\n` +
    "  manifest-size = 1234\n" +
    "\n" +
    "[build]\n" +
    "  [[build.bom]]\n" +
    '    name = "node"\n'
  )
}

/** The builder's CNB user, as paketobuildpacks/builder-jammy-base sets it (here deliberately uid != gid). */
const BUILDER_USER = [answerEnv("CNB_USER_ID", "1001"), answerEnv("CNB_GROUP_ID", "1000")]

/** The arguments of Packline.build, by name; undefined takes the function's own default. */
interface BuildArgs {
  tag: string
  context?: Directory
  source?: Directory
  repo?: string
  ref?: string
  image?: string
  builder?: string
  runImage?: string
  env?: string[]
  buildpack?: string[]
  registryUsername?: string
  registryPassword?: Secret
  cacheImage?: string
  clearCache?: boolean
  creationTime?: string
  floatingTags?: boolean
  latest?: boolean
  insecureRegistry?: string[]
}

/** Calls the module function exactly as the engine would, positionally, in the declared order. */
function build(a: BuildArgs): Promise<BuildResult> {
  return new Packline().build(
    a.tag,
    a.context ?? dag.host().directory("/context"),
    a.source,
    a.repo,
    a.ref,
    a.image,
    a.builder,
    a.runImage,
    a.env,
    a.buildpack,
    a.registryUsername,
    a.registryPassword,
    a.cacheImage,
    a.clearCache,
    a.creationTime,
    a.floatingTags,
    a.latest,
    a.insecureRegistry,
  )
}

/** The plan for the same input, with the Dagger defaults spelled out (the parity anchor). */
function planFor(input: BuildInput) {
  return planBuild({
    builder: "paketobuildpacks/builder-jammy-base",
    env: [],
    buildpacks: [],
    clearCache: false,
    creationTime: "default",
    floatingTags: false,
    latest: false,
    insecureRegistries: [],
    ...input,
  })
}

/** A step with every id argument replaced by `{ ref: <the chain it stands for> }`, recursively. */
type Expanded = { field: string; args: Record<string, unknown> }
function expand(engine: FakeEngine, chain: Chain): Expanded[] {
  const value = (v: unknown): unknown => {
    if (engine.isId(v)) return { ref: expand(engine, engine.resolveId(v)) }
    if (Array.isArray(v)) return v.map(value)
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, value(x)]))
    return v
  }
  return chain.map((s) => ({ field: s.field, args: Object.fromEntries(Object.entries(s.args).map(([k, v]) => [k, value(v)])) }))
}

const step = (field: string, args: Record<string, unknown> = {}): Expanded => ({ field, args })
const ref = (...steps: Expanded[]) => ({ ref: steps })

/** The one query whose leaf is `field` (fails if there is not exactly one). */
function only(engine: FakeEngine, field: string): RecordedQuery {
  const found = engine.leaves(field)
  expect(found, `queries with leaf ${field}`).toHaveLength(1)
  return found[0]!
}

/** The creator pipeline: the chain the exit code was read from, without the leaf. */
function creatorPipeline(engine: FakeEngine): Expanded[] {
  return expand(engine, only(engine, "exitCode").resolved.slice(0, -1))
}

const REGISTRY_SERVICE = ref(
  step("container"),
  step("from", { address: "registry:3" }),
  step("withMountedCache", { path: "/var/lib/registry", cache: ref(step("cacheVolume", { key: "packline-registry-storage" })) }),
  step("withExposedPort", { port: 5000 }),
  step("asService"),
)

function envOf(engine: FakeEngine, name: string): unknown[] {
  return engine
    .find("withEnvVariable")
    .filter((s) => s.args.name === name)
    .map((s) => s.args.value)
}

// ---------------------------------------------------------------------------------------------------------------

describe("Packline.build, local source, no --image (the registry inside the engine)", () => {
  const answers: Answer[] = [answerFile("/layers/report.toml", report(["registry:5000/app:1.0.0"])), ...BUILDER_USER]

  it("sends exactly the creator pipeline the plan describes and returns the pinned references", async () => {
    await withFakeEngine({ answers }, async (engine) => {
      const context = dag.host().directory("/home/dev/app")
      const result = await build({ tag: "v1.0.0", context })

      // One query per object argument (its id), one per awaited leaf; the lifecycle publishes, not the engine.
      expect(engine.queries.map((q) => `${q.resolved[0]?.field}..${q.leaf.field}`)).toEqual([
        "container..envVariable",
        "container..envVariable",
        "host..id",
        "directory..id",
        "directory..id",
        "cacheVolume..id",
        "cacheVolume..id",
        "container..id",
        "container..exitCode",
        "container..contents",
      ])
      expect(engine.leaves("publish")).toEqual([])

      // The builder's CNB user is read from the builder image itself.
      expect(engine.leaves("envVariable").map((q) => expand(engine, q.resolved))).toEqual([
        [step("container"), step("from", { address: "paketobuildpacks/builder-jammy-base" }), step("envVariable", { name: "CNB_USER_ID" })],
        [step("container"), step("from", { address: "paketobuildpacks/builder-jammy-base" }), step("envVariable", { name: "CNB_GROUP_ID" })],
      ])

      const plan = planFor({ tag: "v1.0.0", sourceGiven: false })
      const argv = [CREATOR,
        "-app=/workspace",
        "-layers=/layers",
        "-platform=/platform",
        "-cache-dir=/cache",
        "-insecure-registry=registry:5000",
        "-report=/layers/report.toml",
        "-log-level=info",
        "registry:5000/app:1.0.0",
      ]
      // Parity anchor: what Dagger runs is what the plan (and so the Argo rendering) says.
      expect([...plan.build.command, ...plan.build.args]).toEqual(argv)

      expect(creatorPipeline(engine)).toEqual([
        step("container"),
        step("from", { address: "paketobuildpacks/builder-jammy-base" }),
        step("withMountedDirectory", {
          path: "/workspace",
          source: ref(step("host"), step("directory", { path: "/home/dev/app" })),
          owner: "1001:1000",
        }),
        step("withDirectory", { path: "/layers", source: ref(step("directory")), owner: "1001:1000" }),
        step("withDirectory", { path: "/platform", source: ref(step("directory")) }),
        step("withMountedCache", {
          path: "/cache",
          cache: ref(step("cacheVolume", { key: "packline-buildpacks-cache-registry:5000/app" })),
          sharing: "LOCKED",
          owner: "1001:1000",
        }),
        step("withEnvVariable", { name: "CNB_PLATFORM_API", value: "0.13" }),
        step("withEnvVariable", { name: "PACKLINE_RUN_ID", value: expect.stringMatching(UUID) }),
        step("withUser", { name: "0" }),
        step("withWorkdir", { path: "/workspace" }),
        step("withServiceBinding", { alias: "registry", service: REGISTRY_SERVICE }),
        step("withExec", { args: [...plan.build.command, ...plan.build.args], expect: "ANY" }),
      ])

      // The report is read from the creator's own container, after the same exec.
      expect(expand(engine, only(engine, "contents").resolved)).toEqual([
        ...creatorPipeline(engine),
        step("file", { path: "/layers/report.toml" }),
        step("contents"),
      ])

      expect(result).toBeInstanceOf(BuildResult)
      expect(result.digest).toBe(DIGEST)
      expect(result.references).toEqual([`registry:5000/app:1.0.0@${DIGEST}`])
      for (const r of result.references) expect(result.summary).toContain(r)
      expect(result.summary).toContain("registry:5000 lives inside the Dagger engine")
    })
  })

  it("hands back the published image by digest, copied out of the engine registry by crane", async () => {
    await withFakeEngine({ answers }, async (engine) => {
      const result = await build({ tag: "v1.0.0", context: dag.host().directory("/home/dev/app") })
      const before = engine.queries.length
      await result.container.id()
      const [q] = engine.queries.slice(before).filter((x) => x.leaf.field === "id" && x.resolved[1]?.field === "import")
      expect(expand(engine, q!.resolved)).toEqual([
        step("container"),
        step("import", {
          source: ref(
            step("container"),
            step("from", { address: "gcr.io/go-containerregistry/crane:v0.20.6" }),
            step("withServiceBinding", { alias: "registry", service: REGISTRY_SERVICE }),
            step("withExec", { args: ["/ko-app/crane", "pull", "--insecure", `registry:5000/app@${DIGEST}`, "/image.tar"] }),
            step("file", { path: "/image.tar" }),
          ),
        }),
        step("id"),
      ])
    })
  })

  it("uses --source instead of the context directory when given", async () => {
    await withFakeEngine({ answers }, async (engine) => {
      await build({ tag: "v1.0.0", context: dag.host().directory("/context"), source: dag.host().directory("/elsewhere/src") })
      const [mount] = engine.find("withMountedDirectory")
      expect(expand(engine, [mount!])[0]!.args.source).toEqual(ref(step("host"), step("directory", { path: "/elsewhere/src" })))
      expect(engine.find("directory").map((s) => s.args.path)).toEqual(["/elsewhere/src", undefined])
    })
  })

  it("gives every call a fresh PACKLINE_RUN_ID, so no publish is answered from the engine's cache", async () => {
    await withFakeEngine({ answers }, async (engine) => {
      await build({ tag: "v1.0.0" })
      await build({ tag: "v1.0.0" })
      const ids = envOf(engine, "PACKLINE_RUN_ID")
      expect(ids).toHaveLength(2)
      for (const id of ids) expect(id).toMatch(UUID)
      expect(ids[0]).not.toBe(ids[1])
      expect(engine.leaves("exitCode")).toHaveLength(2)
    })
  })
})

describe("Packline.build, git repository, external registry with credentials", () => {
  const IMAGE = "registry.example.com/acme/app"
  const TAGS = [`${IMAGE}:1.2.3`, `${IMAGE}:1.2`, `${IMAGE}:1`]
  const args = (password: Secret): BuildArgs => ({
    tag: "v1.2.3",
    repo: "https://github.com/acme/app",
    image: IMAGE,
    registryUsername: "me",
    registryPassword: password,
    floatingTags: true,
    env: ["BP_NODE_VERSION=20"],
  })

  it("clones the tag, mounts a docker config built from the secret, and never sends the password in the clear", async () => {
    await withFakeEngine({ answers: [answerFile("/layers/report.toml", report(TAGS)), ...BUILDER_USER] }, async (engine) => {
      const result = await build(args(dag.setSecret("pw", PASSWORD)))

      const plan = planFor({
        tag: "v1.2.3",
        repo: "https://github.com/acme/app",
        image: IMAGE,
        registryUsername: "me",
        registryPassword: true,
        floatingTags: true,
        env: ["BP_NODE_VERSION=20"],
      })
      expect([...plan.build.command, ...plan.build.args]).toEqual([
        CREATOR,
        "-app=/workspace",
        "-layers=/layers",
        "-platform=/platform",
        "-cache-dir=/cache",
        "-report=/layers/report.toml",
        "-log-level=info",
        `-tag=${IMAGE}:1.2`,
        `-tag=${IMAGE}:1`,
        `${IMAGE}:1.2.3`,
      ])

      const expectedConfig = { auths: { "registry.example.com": { auth: PASSWORD_B64 } } }
      const pipeline = creatorPipeline(engine)
      expect(pipeline).toEqual([
        step("container"),
        step("from", { address: "paketobuildpacks/builder-jammy-base" }),
        step("withMountedDirectory", {
          path: "/workspace",
          source: ref(step("git", { url: "https://github.com/acme/app" }), step("ref", { name: "v1.2.3" }), step("tree")),
          owner: "1001:1000",
        }),
        step("withDirectory", { path: "/layers", source: ref(step("directory")), owner: "1001:1000" }),
        step("withDirectory", { path: "/platform", source: ref(step("directory")) }),
        step("withMountedCache", {
          path: "/cache",
          cache: ref(step("cacheVolume", { key: `packline-buildpacks-cache-${IMAGE}` })),
          sharing: "LOCKED",
          owner: "1001:1000",
        }),
        step("withMountedSecret", {
          path: "/packline/docker/config.json",
          source: ref(step("setSecret", { name: "packline-registry-password-registry.example.com-me", plaintext: expect.any(String) })),
          mode: 0o444,
        }),
        step("withNewFile", { path: "/platform/env/BP_NODE_VERSION", contents: "20" }),
        step("withEnvVariable", { name: "CNB_PLATFORM_API", value: "0.13" }),
        step("withEnvVariable", { name: "PACKLINE_RUN_ID", value: expect.stringMatching(UUID) }),
        step("withEnvVariable", { name: "DOCKER_CONFIG", value: "/packline/docker" }),
        step("withUser", { name: "0" }),
        step("withWorkdir", { path: "/workspace" }),
        step("withExec", { args: [...plan.build.command, ...plan.build.args], expect: "ANY" }),
      ])

      // The mounted secret is a docker config.json for exactly this registry and user.
      const [secretMount] = engine.find("withMountedSecret")
      const secretChain = engine.resolveId(secretMount!.args.source as string)
      expect(secretChain.map((s) => s.field)).toEqual(["setSecret"])
      expect(JSON.parse(secretChain[0]!.args.plaintext as string)).toEqual(expectedConfig)

      // No engine-side registry with an external --image.
      expect(engine.find("withServiceBinding")).toEqual([])
      expect(engine.find("asService")).toEqual([])
      expect(plan.build.args.some((a) => a.startsWith("-insecure-registry"))).toBe(false)

      // The password (and the credentials derived from it) travel only inside setSecret queries.
      const carrying = engine.queries.filter((q) => q.text.includes(PASSWORD))
      expect(carrying.length).toBeGreaterThan(0)
      for (const q of carrying) expect(q.chain[0]!.field, q.text).toBe("setSecret")
      for (const q of engine.queries.filter((x) => x.text.includes(PASSWORD_B64))) expect(q.chain[0]!.field, q.text).toBe("setSecret")
      // ... and the exec queries carry the secret by id only.
      expect(only(engine, "exitCode").text).not.toContain(PASSWORD_B64)

      expect(result.digest).toBe(DIGEST)
      expect(result.references).toEqual(TAGS.map((t) => `${t}@${DIGEST}`))
      for (const r of result.references) expect(result.summary).toContain(r)
      expect(result.summary).toContain(`docker pull ${IMAGE}:1.2.3@${DIGEST}`)
      expect(JSON.stringify(result.summary)).not.toContain(PASSWORD)

      // The returned container is the published image, pulled by digest with the user's credentials.
      const before = engine.queries.length
      await result.container.id()
      const tail = engine.queries.slice(before)
      const idQuery = tail.find((q) => q.resolved.some((s) => s.field === "withRegistryAuth"))!
      expect(expand(engine, idQuery.resolved)).toEqual([
        step("container"),
        step("withRegistryAuth", {
          address: "registry.example.com",
          username: "me",
          secret: ref(step("setSecret", { name: "pw", plaintext: PASSWORD })),
        }),
        step("from", { address: `${IMAGE}@${DIGEST}` }),
        step("id"),
      ])
      for (const q of tail.filter((x) => x.text.includes(PASSWORD))) expect(q.chain[0]!.field).toBe("setSecret")
    })
  })

  it("fails with a message naming the registry and the cause, with the password redacted", async () => {
    const stdout = "===> ANALYZING\nTimer: Analyzer started\n===> EXPORTING\n"
    const stderr =
      `ERROR: failed to export: saving image: failed to write image to the following tags: [${IMAGE}:1.2.3: ` +
      `PUT https://registry.example.com/v2/acme/app/manifests/1.2.3: UNAUTHORIZED: authentication required; ` +
      `[map[Action:push Class: Name:acme/app Type:repository]]]\n` +
      `debug: tried password ${PASSWORD} for me\n`
    // The creator runs with expect: ANY, so the engine reports its exit code instead of failing the query.
    const failingCreator: Answer = (q) => {
      const exec = [...q.parent].reverse().find((s) => s.field === "withExec")
      const argv = exec?.args.args as string[] | undefined
      if (!argv || argv[0] !== CREATOR) return undefined
      if (exec!.args.expect !== "ANY" && q.field !== "id") return execError({ cmd: argv, exitCode: 1, stdout, stderr })
      if (q.field === "exitCode") return 1
      if (q.field === "stdout") return stdout
      if (q.field === "stderr") return stderr
      if (q.field === "contents") return graphqlError("open /layers/report.toml: no such file or directory")
      return undefined
    }
    await withFakeEngine({ answers: [failingCreator, ...BUILDER_USER] }, async (engine) => {
      const err = await build(args(dag.setSecret("pw", PASSWORD))).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(PacklineError)
      const message = (err as PacklineError).message
      expect(message).toContain("lifecycle creator exit code 1")
      expect(message).toContain(
        "cause: registry registry.example.com refused the credentials: check --registry-username and --registry-password",
      )
      expect(message).toContain("UNAUTHORIZED: authentication required")
      expect(message).toContain("debug: tried password *** for me")
      expect(message).not.toContain(PASSWORD)
      // Nothing was read from a build that failed.
      expect(engine.leaves("contents")).toEqual([])
      expect(engine.leaves("exitCode")).toHaveLength(1)
    })
  })
})

describe("Packline.build --creation-time", () => {
  const answers: Answer[] = [answerFile("/layers/report.toml", report(["registry:5000/app:1.0.0"])), ...BUILDER_USER]

  it("now: SOURCE_DATE_EPOCH is the unix time of the call", async () => {
    await withFakeEngine({ answers }, async (engine) => {
      const before = Math.floor(Date.now() / 1000)
      await build({ tag: "v1.0.0", creationTime: "now" })
      const after = Math.ceil(Date.now() / 1000)
      const [value] = envOf(engine, "SOURCE_DATE_EPOCH")
      expect(value).toMatch(/^[0-9]{10}$/)
      expect(Number(value)).toBeGreaterThanOrEqual(before)
      expect(Number(value)).toBeLessThanOrEqual(after)
      expect(envOf(engine, "SOURCE_DATE_EPOCH")).toHaveLength(1)
    })
  })

  it("unix seconds are passed as given", async () => {
    await withFakeEngine({ answers }, async (engine) => {
      await build({ tag: "v1.0.0", creationTime: "1700000000" })
      expect(envOf(engine, "SOURCE_DATE_EPOCH")).toEqual(["1700000000"])
    })
  })

  it("default sets no SOURCE_DATE_EPOCH (the lifecycle's reproducible 1980 date)", async () => {
    await withFakeEngine({ answers }, async (engine) => {
      await build({ tag: "v1.0.0" })
      expect(envOf(engine, "SOURCE_DATE_EPOCH")).toEqual([])
    })
  })

  it("commit: reads the cloned commit's time with git log and passes it on", async () => {
    const gitLog: Answer = (q) => {
      const exec = q.last("withExec")
      return q.field === "stdout" && (exec?.args.args as string[] | undefined)?.[0] === "git" ? "1712345678\n" : undefined
    }
    await withFakeEngine({ answers: [gitLog, answerFile("/layers/report.toml", report(["registry:5000/app:1.2.3"])), ...BUILDER_USER] }, async (engine) => {
      await build({ tag: "v1.2.3", repo: "https://github.com/acme/app", creationTime: "commit" })
      expect(expand(engine, only(engine, "stdout").resolved)).toEqual([
        step("container"),
        step("from", { address: "alpine/git:v2.49.1" }),
        step("withMountedDirectory", {
          path: "/workspace",
          source: ref(
            step("git", { url: "https://github.com/acme/app" }),
            step("ref", { name: "v1.2.3" }),
            step("tree", { discardGitDir: false }),
          ),
        }),
        step("withUser", { name: "0" }),
        step("withWorkdir", { path: "/workspace" }),
        step("withExec", { args: ["git", "-c", "safe.directory=/workspace", "log", "-1", "--format=%ct"], expect: "ANY" }),
        step("stdout"),
      ])
      expect(envOf(engine, "SOURCE_DATE_EPOCH")).toEqual(["1712345678"])
    })
  })
})

describe("Packline.build refuses bad input before anything runs", () => {
  const cases: [string, (pw: () => Secret) => BuildArgs, RegExp][] = [
    ["a tag that is not MAJOR.MINOR.PATCH", () => ({ tag: "1.0" }), /--tag "1\.0" is not a semantic version/],
    [
      "--repo together with --source",
      () => ({ tag: "v1.0.0", repo: "https://github.com/acme/app", source: dag.host().directory("/src") }),
      /--repo "https:\/\/github\.com\/acme\/app" and --source were both given/,
    ],
    ["--registry-username without a password", () => ({ tag: "v1.0.0", image: "registry.example.com/acme/app", registryUsername: "me" }), /without --registry-password/],
    ["a password without --registry-username", (pw) => ({ tag: "v1.0.0", image: "registry.example.com/acme/app", registryPassword: pw() }), /without --registry-username/],
    ["an unknown --creation-time", () => ({ tag: "v1.0.0", creationTime: "yesterday" }), /--creation-time "yesterday" is not understood/],
    ["--creation-time commit with a local source", () => ({ tag: "v1.0.0", creationTime: "commit" }), /--creation-time commit needs --repo/],
    ["--env without =", () => ({ tag: "v1.0.0", env: ["BP_NODE_VERSION"] }), /--env "BP_NODE_VERSION" has no "="/],
  ]
  for (const [name, args, message] of cases) {
    it(name, async () => {
      await withFakeEngine(async (engine) => {
        const err = await build(args(() => dag.setSecret("pw", PASSWORD))).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(PacklineError)
        expect((err as Error).message).toMatch(message)
        expect((err as Error).message).not.toContain(PASSWORD)
        expect(engine.queries).toEqual([])
      })
    })
  }

  it("a builder without CNB_USER_ID/CNB_GROUP_ID stops before the exec and names the builder", async () => {
    await withFakeEngine({ answers: [answerEnv("CNB_USER_ID", null), answerEnv("CNB_GROUP_ID", null)] }, async (engine) => {
      const err = await build({ tag: "v1.0.0", builder: "alpine:3.20" }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(PacklineError)
      expect((err as Error).message).toContain('--builder "alpine:3.20" does not set CNB_USER_ID and CNB_GROUP_ID')
      expect(engine.queries.map((q) => q.leaf.field)).toEqual(["envVariable", "envVariable"])
      expect(engine.find("withExec")).toEqual([])
    })
  })
})
