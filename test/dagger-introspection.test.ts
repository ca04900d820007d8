/**
 * What `dagger call` will see of the module, checked offline with the SDK's own introspector (test/support/introspect.ts):
 * the build function, its arguments (types, optionality, defaults, help text), its cache policy, and BuildResult.
 * Also checks that the `packline build` CLI exposes the same flags with the same defaults.
 */
import { beforeAll, describe, expect, it } from "vitest"
import type { Option } from "commander"
import { createProgram } from "../src/cli.js"
import { DEFAULT_BUILDER } from "../src/options.js"
import { introspectModule, isRequired, typeName, type IntrospectedModule } from "./support/introspect.js"

let mod: IntrospectedModule

beforeAll(async () => {
  mod = await introspectModule()
}, 60_000)

/** Every argument of Packline.build, in the declared (positional) order: type, and default if any. */
const ARGUMENTS: [name: string, type: string, defaultValue: unknown][] = [
  ["tag", "string", undefined],
  ["context", "Directory", undefined],
  ["source", "Directory", undefined],
  ["repo", "string", undefined],
  ["ref", "string", undefined],
  ["image", "string", undefined],
  ["builder", "string", "paketobuildpacks/builder-jammy-base"],
  ["runImage", "string", undefined],
  ["env", "string[]", []],
  ["buildpack", "string[]", []],
  ["registryUsername", "string", undefined],
  ["registryPassword", "Secret", undefined],
  ["cacheImage", "string", undefined],
  ["clearCache", "boolean", false],
  ["creationTime", "string", "default"],
  ["floatingTags", "boolean", false],
  ["latest", "boolean", false],
  ["insecureRegistry", "string[]", []],
]

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

describe("the module as dagger call sees it", () => {
  it("introspects without error, with Packline as the main object", () => {
    expect(mod.name).toBe("Packline")
    expect(Object.keys(mod.objects)).toEqual(expect.arrayContaining(["Packline", "BuildResult"]))
    expect(mod.objects.Packline!.description).not.toBe("")
  })

  it("Packline.build exists, returns BuildResult, is documented and is never served from the function cache", () => {
    const build = mod.objects.Packline!.methods.build
    expect(build).toBeDefined()
    expect(typeName(build!.returnType)).toBe("BuildResult")
    expect(build!.description.trim().length).toBeGreaterThan(20)
    // Publishing must reach the registry every time: a cached call would return an old digest and push nothing.
    expect(build!.cache).toBe("never")
  })

  it("build takes the arguments in the order cli-build.ts passes them, with their types", () => {
    const args = mod.objects.Packline!.methods.build!.arguments
    expect(Object.keys(args)).toEqual(ARGUMENTS.map(([name]) => name))
    for (const [name, type] of ARGUMENTS) expect([name, typeName(args[name]!.type)]).toEqual([name, type])
  })

  it("only tag is required; every other argument is optional with the expected default", () => {
    const args = mod.objects.Packline!.methods.build!.arguments
    expect(Object.values(args).filter(isRequired).map((a) => a.name)).toEqual(["tag"])
    for (const [name, , defaultValue] of ARGUMENTS) {
      expect([name, args[name]!.defaultValue]).toEqual([name, defaultValue])
    }
    // Optional without a default: `?` in the signature.
    for (const name of ["source", "repo", "ref", "image", "runImage", "registryUsername", "registryPassword", "cacheImage"]) {
      expect([name, args[name]!.isOptional]).toEqual([name, true])
    }
    expect(args.builder!.defaultValue).toBe(DEFAULT_BUILDER)
  })

  it("context defaults to the caller's repository root, without VCS, dependency and SDK directories", () => {
    const context = mod.objects.Packline!.methods.build!.arguments.context!
    expect(context.defaultPath).toBe("/")
    expect(context.ignore).toEqual([".git", "**/node_modules", ".dagger", "sdk"])
    expect(isRequired(context)).toBe(false)
  })

  it("registryPassword is a Secret (env:NAME, file:PATH, ... on the command line), never a string", () => {
    const password = mod.objects.Packline!.methods.build!.arguments.registryPassword!
    expect(password.type).toEqual({ kind: "OBJECT_KIND", name: "Secret" })
  })

  it("every argument has help text", () => {
    const args = mod.objects.Packline!.methods.build!.arguments
    for (const arg of Object.values(args)) expect([arg.name, arg.description.trim().length > 10]).toEqual([arg.name, true])
  })

  it("BuildResult exposes digest, references, container and summary, each documented", () => {
    const result = mod.objects.BuildResult!
    expect(result.description).not.toBe("")
    const props = result.properties
    expect(Object.keys(props).sort()).toEqual(["container", "digest", "references", "summary"])
    expect(typeName(props.digest!.type)).toBe("string")
    expect(typeName(props.references!.type)).toBe("string[]")
    expect(typeName(props.container!.type)).toBe("Container")
    expect(typeName(props.summary!.type)).toBe("string")
    for (const p of Object.values(props)) {
      expect([p.name, p.isExposed, p.description.trim().length > 10]).toEqual([p.name, true, true])
    }
  })
})

describe("parity with the packline CLI", () => {
  const buildCommand = () => createProgram().commands.find((c) => c.name() === "build")!
  const flags = () => new Map(buildCommand().options.map((o: Option) => [o.long!, o]))

  it("`packline build` has one flag per Dagger argument (context aside), with the same kebab-case names", () => {
    const dagger = ARGUMENTS.map(([name]) => name).filter((n) => n !== "context").map((n) => `--${kebab(n)}`)
    expect([...flags().keys()].sort()).toEqual(dagger.sort())
  })

  it("the CLI defaults equal the Dagger defaults", () => {
    const options = flags()
    for (const [name, , defaultValue] of ARGUMENTS) {
      if (name === "context") continue
      const option = options.get(`--${kebab(name)}`)!
      expect([name, option.defaultValue]).toEqual([name, defaultValue])
    }
    expect(options.get("--tag")!.mandatory).toBe(true)
  })
})

describe("Packline.argo as dagger call sees it", () => {
  it("returns a File, needs only repo and image, and documents every argument", () => {
    const argo = mod.objects.Packline!.methods.argo
    expect(argo).toBeDefined()
    expect(typeName(argo!.returnType)).toBe("File")
    const args = argo!.arguments
    const required = Object.entries(args).filter(([, a]) => isRequired(a)).map(([name]) => name)
    expect(required).toEqual(["repo", "image"])
    expect(args.kind!.defaultValue).toBe("workflow-template")
    expect(args.executor!.defaultValue).toBe("creator")
    for (const [name, arg] of Object.entries(args)) expect(arg.description.trim(), name).not.toBe("")
  })

  it("shares its build options' names with the packline argo CLI", () => {
    const argoCommand = createProgram().commands.find((c) => c.name() === "argo")!
    const flags = new Set(argoCommand.options.map((o: Option) => o.long))
    for (const name of Object.keys(mod.objects.Packline!.methods.argo!.arguments)) {
      expect(flags.has(`--${kebab(name)}`), name).toBe(true)
    }
  })
})
