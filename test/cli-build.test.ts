/**
 * The `packline` CLI (`main` from src/cli.ts, with an injected io) against the fake engine: `packline build` goes
 * through the real SDK to the module's own build function; secrets are taken by reference and never echoed.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { main, type CliIO } from "../src/cli.js"
import { answerEnv, answerFile, withFakeEngine, type FakeEngine } from "./support/fake-engine.js"

const DIGEST = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
const TOKEN = "tok-9Zq3-very-secret"
const TOKEN_B64 = Buffer.from(`me:${TOKEN}`).toString("base64")
const IMAGE = "registry.example.com/acme/app"

const REPORT = `[image]\n  tags = ["${IMAGE}:1.0.0"]\n  digest = "${DIGEST}"\n  manifest-size = 1234\n`
const answers = [answerFile("/layers/report.toml", REPORT), answerEnv("CNB_USER_ID", "1001"), answerEnv("CNB_GROUP_ID", "1000")]

function io(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = []
  const err: string[] = []
  const cli: CliIO = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env }
  return { cli, stdout: () => out.join(""), stderr: () => err.join("") }
}

const run = (args: string[], cli: CliIO) => main(["node", "packline", ...args], cli)

let dir: string
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "packline-cli-src-"))
  writeFileSync(path.join(dir, "index.html"), "<h1>hi</h1>\n")
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Every query text containing `value` is a setSecret query (the only way a plaintext may reach the engine). */
function onlyInSetSecret(engine: FakeEngine, value: string): number {
  const carrying = engine.queries.filter((q) => q.text.includes(value))
  for (const q of carrying) expect(q.chain[0]!.field, q.text).toBe("setSecret")
  return carrying.length
}

describe("packline build", () => {
  const ARGS = ["build", "--tag", "v1.0.0", "--image", IMAGE, "--registry-username", "me", "--registry-password", "env:TOKEN"]

  it("builds a local directory through the module and prints the pinned references", async () => {
    await withFakeEngine({ answers }, async (engine) => {
      const t = io({ TOKEN })
      const code = await run([...ARGS, "--source", dir], t.cli)
      expect([code, t.stderr()]).toEqual([0, ""])
      expect(t.stdout()).toContain(`published:\n  ${IMAGE}:1.0.0@${DIGEST}\n`)
      expect(t.stdout()).toContain(`docker pull ${IMAGE}:1.0.0@${DIGEST}`)
      // The CLI cannot chain the result's container, so it does not suggest dagger-call chaining.
      expect(t.stdout()).not.toContain("container up")

      // The source is the host directory given, uploaded without VCS and dependency directories.
      const dirs = engine.find("directory").filter((s) => s.args.path !== undefined)
      expect(dirs).toEqual([{ field: "directory", args: { path: dir, exclude: [".git", "**/node_modules", ".dagger", "sdk"] } }])
      const [mount] = engine.find("withMountedDirectory")
      expect(engine.render(engine.resolveId(mount!.args.source as string))).toBe(
        `host.directory(path: ${JSON.stringify(dir)}, exclude: [".git", "**/node_modules", ".dagger", "sdk"])`,
      )

      // The token is read from io.env and reaches the engine only inside setSecret.
      expect(onlyInSetSecret(engine, TOKEN)).toBeGreaterThan(0)
      expect(engine.queries.filter((q) => q.text.includes(TOKEN))[0]!.chain[0]).toEqual({
        field: "setSecret",
        args: { name: "packline-registry-password", plaintext: TOKEN },
      })
      onlyInSetSecret(engine, TOKEN_B64)
      expect(t.stdout() + t.stderr()).not.toContain(TOKEN)
      expect(engine.leaves("exitCode")).toHaveLength(1)
    })
  })

  it("builds the current directory when neither --source nor --repo is given", async () => {
    await withFakeEngine({ answers }, async (engine) => {
      const t = io({ TOKEN })
      expect(await run(ARGS, t.cli)).toBe(0)
      const [mount] = engine.find("withMountedDirectory")
      expect(engine.resolveId(mount!.args.source as string)).toEqual([
        { field: "host", args: {} },
        { field: "directory", args: { path: ".", exclude: [".git", "**/node_modules", ".dagger", "sdk"] } },
      ])
    })
  })

  it("refuses a literal --registry-password without echoing it, before any query", async () => {
    await withFakeEngine({ answers }, async (engine) => {
      const t = io({ TOKEN })
      const code = await run(
        ["build", "--tag", "v1.0.0", "--source", dir, "--image", IMAGE, "--registry-username", "me", "--registry-password", "hunter2"],
        t.cli,
      )
      expect(code).toBe(1)
      expect(t.stderr()).toContain("--registry-password takes a secret by reference, not a literal value")
      expect(t.stdout() + t.stderr()).not.toContain("hunter2")
      expect(engine.queries).toEqual([])
    })
  })

  it("names an unset env:NAME and exits 1 before any query", async () => {
    await withFakeEngine({ answers }, async (engine) => {
      const t = io({ TOKEN })
      const code = await run(
        ["build", "--tag", "v1.0.0", "--source", dir, "--image", IMAGE, "--registry-username", "me", "--registry-password", "env:MISSING"],
        t.cli,
      )
      expect(code).toBe(1)
      expect(t.stderr()).toBe(
        "packline: --registry-password env:MISSING: the environment variable MISSING is not set (or empty): export it first.\n",
      )
      expect(engine.queries).toEqual([])
    })
  })

  it("rejects bad input (a tag that is not MAJOR.MINOR.PATCH) before any query", async () => {
    await withFakeEngine({ answers }, async (engine) => {
      const t = io({ TOKEN })
      expect(await run(["build", "--tag", "1.0", "--source", dir], t.cli)).toBe(1)
      expect(t.stderr()).toMatch(/^packline: --tag "1\.0" is not a semantic version/)
      expect(engine.queries).toEqual([])
    })
  })

  it("reports a failed build with the registry and cause, without the token", async () => {
    const fail = (q: { field: string; parent: { field: string; args: Record<string, unknown> }[] }) => {
      const exec = [...q.parent].reverse().find((s) => s.field === "withExec")
      if ((exec?.args.args as string[] | undefined)?.[0] !== "/cnb/lifecycle/creator") return undefined
      if (q.field === "exitCode") return 1
      if (q.field === "stderr") return `ERROR: failed to export: UNAUTHORIZED: authentication required (token ${TOKEN})\n`
      return q.field === "stdout" ? "===> EXPORTING\n" : undefined
    }
    await withFakeEngine({ answers: [fail, ...answers] }, async () => {
      const t = io({ TOKEN })
      expect(await run([...ARGS, "--source", dir], t.cli)).toBe(1)
      expect(t.stderr()).toContain(`cause: registry registry.example.com refused the credentials`)
      expect(t.stderr()).toContain("UNAUTHORIZED: authentication required (token ***)")
      expect(t.stdout() + t.stderr()).not.toContain(TOKEN)
    })
  })
})

describe("packline plan --json", () => {
  it("shows where the secret comes from, never its value", async () => {
    const t = io({ TOKEN })
    const code = await run(
      ["plan", "--json", "--tag", "v1.0.0", "--image", IMAGE, "--registry-username", "me", "--registry-password", "env:TOKEN"],
      t.cli,
    )
    expect([code, t.stderr()]).toEqual([0, ""])
    const text = t.stdout()
    expect(text).not.toContain(TOKEN)
    expect(text).not.toContain(TOKEN_B64)
    const plan = JSON.parse(text) as Record<string, unknown>
    expect(plan.secretSources).toEqual({ "registry-password": "env:TOKEN" })
    expect(plan.registryAuth).toEqual({
      kind: "password",
      registry: "registry.example.com",
      username: "me",
      password: { name: "registry-password" },
    })
    expect(plan.references).toEqual([`${IMAGE}:1.0.0`])
  })
})
