/**
 * Proves test/support/fake-engine.ts against the REAL SDK: a tiny module-like class (decorated, using the global
 * `dag`, like the code in src/) runs a pipeline; the test asserts the exact queries and that ids resolve back.
 */
import { describe, expect, it } from "vitest"
import {
  CacheSharingMode,
  Directory,
  ExecError,
  GraphQLRequestError,
  argument,
  dag,
  func,
  object,
} from "@dagger.io/dagger"
import {
  answerEnv,
  answerExec,
  answerFile,
  graphqlError,
  startFakeEngine,
  withFakeEngine,
  type FakeEngine,
} from "./support/fake-engine.js"

const REPORT = '[image]\ntags = ["registry.example/app:1.0"]\ndigest = "sha256:abc"\n'
const CREATOR = ["/cnb/lifecycle/creator", "-app=/workspace", "-log-level=debug", "registry.example/app:1.0"]

@object()
class Demo {
  /** Everything module code in src/ typically does, in one function. */
  @func()
  async build(repo: string, tag: string, token: string) {
    const ctr = dag
      .container()
      .from("buildpacksio/lifecycle:0.20.5")
      .withMountedCache("/cache", dag.cacheVolume("pack-cache"), {
        owner: "1001:1001",
        sharing: CacheSharingMode.Locked,
      })
      .withSecretVariable("CNB_REGISTRY_AUTH", dag.setSecret("registry-auth", token))
      .withMountedDirectory("/workspace", dag.git(repo).tag(tag).tree(), { owner: "1001:1001" })
      // Quotes, a newline and non-ASCII: the SDK inlines args as JSON, the fake must parse them back intact.
      .withExec(["sh", "-c", 'echo "héllo"\nexit 0'])
      .withExec(CREATOR)
    const report = await ctr.file("/layers/report.toml").contents()
    const uid = await ctr.envVariable("CNB_USER_ID")
    const ref = await ctr.publish("registry.example/app:1.0")
    return { report, uid, ref, ctr }
  }

  /** A parameter decorator, as src/ uses for context directories: proves vitest compiles legacy decorators. */
  @func()
  async list(@argument({ defaultPath: "/", ignore: ["node_modules"] }) source: Directory): Promise<string[]> {
    return source.entries()
  }
}

const answers = [answerFile("/layers/report.toml", REPORT), answerEnv("CNB_USER_ID", "1001")]

describe("fake engine", () => {
  it("records the pipeline the real SDK sends and answers its leaves", async () => {
    await withFakeEngine({ answers }, async (engine) => {
      const out = await new Demo().build("https://git.example/app.git", "v1.2.3", "s3cret")

      expect(out.report).toBe(REPORT)
      expect(out.uid).toBe("1001")
      expect(out.ref).toMatch(/^registry\.example\/app:1\.0@sha256:[0-9a-f]{64}$/)

      // One query per object argument (its id), then one per awaited leaf. Ids are looked up once: the SDK writes
      // the id back into the shared query tree, so later leaves on the same container reuse it.
      expect(engine.queries.map((q) => q.leaf.field)).toEqual(["id", "id", "id", "contents", "envVariable", "publish"])
      expect(engine.queries[0].text).toContain('cacheVolume (key: "pack-cache")')

      const contents = engine.leaves("contents")[0].resolved
      expect(contents.map((s) => s.field)).toEqual([
        "container",
        "from",
        "withMountedCache",
        "withSecretVariable",
        "withMountedDirectory",
        "withExec",
        "withExec",
        "file",
        "contents",
      ])
      expect(contents[1].args).toEqual({ address: "buildpacksio/lifecycle:0.20.5" })

      expect(engine.find("withExec").map((s) => s.args)).toEqual([
        { args: ["sh", "-c", 'echo "héllo"\nexit 0'] },
        { args: CREATOR },
      ])

      const [mount] = engine.find("withMountedCache")
      expect(mount.args).toEqual({ path: "/cache", cache: expect.any(String), owner: "1001:1001", sharing: "LOCKED" })
      expect(engine.resolveId(mount.args.cache as string)).toEqual([{ field: "cacheVolume", args: { key: "pack-cache" } }])

      const [secretVar] = engine.find("withSecretVariable")
      expect(secretVar.args.name).toBe("CNB_REGISTRY_AUTH")
      expect(engine.resolveId(secretVar.args.secret as string)).toEqual([
        { field: "setSecret", args: { name: "registry-auth", plaintext: "s3cret" } },
      ])

      const [dir] = engine.find("withMountedDirectory")
      expect(dir.args.owner).toBe("1001:1001")
      expect(engine.resolveId(dir.args.source as string)).toEqual([
        { field: "git", args: { url: "https://git.example/app.git" } },
        { field: "tag", args: { name: "v1.2.3" } },
        { field: "tree", args: {} },
      ])

      expect(engine.leaves("publish")[0].leaf.args).toEqual({ address: "registry.example/app:1.0" })
      expect(engine.render(engine.leaves("publish")[0].resolved)).toContain(
        'withMountedCache(path: "/cache", cache: <cacheVolume(key: "pack-cache")>, owner: "1001:1001", sharing: "LOCKED")',
      )
    })
  })

  it("resolves node(id:) after sync and gives the same id for the same pipeline", async () => {
    await withFakeEngine(async (engine) => {
      const ctr = dag.container().from("alpine:3.20").withExec(["true"])
      const synced = await ctr.sync()
      await synced.stdout()
      const [stdout] = engine.leaves("stdout")
      expect(stdout.chain[0]).toEqual({ field: "node", args: { id: expect.any(String) }, on: "Container" })
      expect(stdout.resolved).toEqual([
        { field: "container", args: {} },
        { field: "from", args: { address: "alpine:3.20" } },
        { field: "withExec", args: { args: ["true"] } },
        { field: "stdout", args: {} },
      ])
      expect(await ctr.id()).toBe(stdout.chain[0].args.id)

      expect(await new Demo().list(dag.git("https://git.example/app.git").head().tree())).toEqual([])
      expect(engine.leaves("entries")[0].resolved.map((s) => s.field)).toEqual(["git", "head", "tree", "entries"])
    })
  })

  it("answers errors in the shapes the SDK turns into ExecError and GraphQLRequestError", async () => {
    await withFakeEngine(
      { answers: [answerExec(/creator/, { exitCode: 51, stderr: "ERROR: failed to build" })] },
      async (engine) => {
        const err = await dag.container().from("x").withExec(CREATOR).stdout().catch((e: unknown) => e)
        expect(err).toBeInstanceOf(ExecError)
        expect(err).toMatchObject({ exitCode: 51, stderr: "ERROR: failed to build", cmd: CREATOR })

        engine.answer((q) => (q.field === "contents" ? graphqlError("no such file") : undefined))
        await expect(dag.container().file("/nope").contents()).rejects.toThrow(GraphQLRequestError)

        // A leaf without a default tells the test author what to configure.
        await expect(dag.container().user()).rejects.toThrow(/no answer for leaf "user"/)
      },
    )
  })

  it("rejects a wrong session token and restores the environment", async () => {
    const before = process.env.DAGGER_SESSION_PORT
    let engine!: FakeEngine
    await withFakeEngine(async (e) => {
      engine = e
      expect(process.env.DAGGER_SESSION_PORT).toBe(e.env.DAGGER_SESSION_PORT)
    })
    expect(process.env.DAGGER_SESSION_PORT).toBe(before)

    const standalone = await startFakeEngine()
    try {
      const res = await fetch(`http://127.0.0.1:${standalone.env.DAGGER_SESSION_PORT}/query`, {
        method: "POST",
        headers: { authorization: "Basic " + Buffer.from("wrong:").toString("base64") },
        body: JSON.stringify({ query: "{ version }" }),
      })
      expect(res.status).toBe(401)
      expect(standalone.queries).toHaveLength(0)
    } finally {
      await standalone.close()
    }
    expect(engine.queries).toHaveLength(0)
  })
})
