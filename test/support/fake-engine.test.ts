/**
 * Proves test/support/fake-engine.ts against the REAL SDK: a tiny module-like class (decorated, using the global
 * `dag`, like the code in src/) runs a pipeline; the test asserts the exact queries and that ids resolve back.
 */
import {
  argument,
  CacheSharingMode,
  connection,
  type Directory,
  dag,
  ExecError,
  func,
  GraphQLRequestError,
  object,
  ReturnType,
} from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import {
  answerEnv,
  answerExec,
  answerFile,
  type FakeEngine,
  graphqlError,
  startFakeEngine,
  withFakeEngine,
  withFakeEngineEnv,
} from "./fake-engine.js";

const REPORT = '[image]\ntags = ["registry.example/app:1.0"]\ndigest = "sha256:abc"\n';
const CREATOR = ["/cnb/lifecycle/creator", "-app=/workspace", "-log-level=debug", "registry.example/app:1.0"];

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
      .withMountedSecret("/packline/docker/config.json", dag.setSecret("registry-auth", token), { owner: "1001:1000", mode: 0o400 })
      .withMountedDirectory("/workspace", dag.git(repo).tag(tag).tree({ discardGitDir: true }), { owner: "1001:1001" })
      // Quotes, a newline and non-ASCII: the SDK inlines args as JSON, the fake must parse them back intact.
      .withExec(["sh", "-c", 'echo "héllo"\nexit 0'])
      .withExec(CREATOR);
    const report = await ctr.file("/layers/report.toml").contents();
    const uid = await ctr.envVariable("CNB_USER_ID");
    const ref = await ctr.publish("registry.example/app:1.0");
    return { report, uid, ref, ctr };
  }

  /** A parameter decorator, as src/ uses for context directories: proves vitest compiles legacy decorators. */
  @func()
  async list(@argument({ defaultPath: "/", ignore: ["node_modules"] }) source: Directory): Promise<string[]> {
    return source.entries();
  }
}

const answers = [answerFile("/layers/report.toml", REPORT), answerEnv("CNB_USER_ID", "1001")];

describe("fake engine", () => {
  it("records the pipeline the real SDK sends and answers its leaves", async () => {
    await withFakeEngine({ answers }, async (engine) => {
      const out = await new Demo().build("https://git.example/app.git", "v1.2.3", "s3cret");

      expect(out.report).toBe(REPORT);
      expect(out.uid).toBe("1001");
      expect(out.ref).toMatch(/^registry\.example\/app:1\.0@sha256:[0-9a-f]{64}$/);

      // One query per object argument (its id), then one per awaited leaf. Ids are looked up once: the SDK writes
      // the id back into the shared query tree, so later leaves on the same container reuse it.
      expect(engine.queries.map((q) => q.leaf.field)).toEqual(["id", "id", "id", "contents", "envVariable", "publish"]);
      expect(engine.queries[0]!.text).toContain('cacheVolume (key: "pack-cache")');

      const contents = engine.leaves("contents")[0]!.resolved;
      expect(contents.map((s) => s.field)).toEqual([
        "container",
        "from",
        "withMountedCache",
        "withMountedSecret",
        "withMountedDirectory",
        "withExec",
        "withExec",
        "file",
        "contents",
      ]);
      expect(contents[1]!.args).toEqual({ address: "buildpacksio/lifecycle:0.20.5" });

      expect(engine.find("withExec").map((s) => s.args)).toEqual([{ args: ["sh", "-c", 'echo "héllo"\nexit 0'] }, { args: CREATOR }]);

      const [mount] = engine.find("withMountedCache");
      expect(mount!.args).toEqual({ path: "/cache", cache: expect.any(String), owner: "1001:1001", sharing: "LOCKED" });
      expect(engine.resolveId(mount!.args.cache as string)).toEqual([{ field: "cacheVolume", args: { key: "pack-cache" } }]);

      // Owner and mode of a mounted secret arrive as sent (the mode as a number).
      const [secretMount] = engine.find("withMountedSecret");
      expect(engine.expand([secretMount!])).toEqual([
        {
          field: "withMountedSecret",
          args: {
            path: "/packline/docker/config.json",
            source: { ref: [{ field: "setSecret", args: { name: "registry-auth", plaintext: "s3cret" } }] },
            owner: "1001:1000",
            mode: 0o400,
          },
        },
      ]);

      const [dir] = engine.find("withMountedDirectory");
      expect(dir!.args.owner).toBe("1001:1001");
      expect(engine.resolveId(dir!.args.source as string)).toEqual([
        { field: "git", args: { url: "https://git.example/app.git" } },
        { field: "tag", args: { name: "v1.2.3" } },
        { field: "tree", args: { discardGitDir: true } },
      ]);

      expect(engine.leaves("publish")[0]!.leaf.args).toEqual({ address: "registry.example/app:1.0" });
      expect(engine.render(engine.leaves("publish")[0]!.resolved)).toContain(
        'withMountedCache(path: "/cache", cache: <cacheVolume(key: "pack-cache")>, owner: "1001:1001", sharing: "LOCKED")',
      );
    });
  });

  it("resolves node(id:) after sync and gives the same id for the same pipeline", async () => {
    await withFakeEngine(async (engine) => {
      const ctr = dag.container().from("alpine:3.20").withExec(["true"]);
      const synced = await ctr.sync();
      await synced.stdout();
      const [stdout] = engine.leaves("stdout");
      expect(stdout!.chain[0]).toEqual({ field: "node", args: { id: expect.any(String) }, on: "Container" });
      expect(stdout!.resolved).toEqual([
        { field: "container", args: {} },
        { field: "from", args: { address: "alpine:3.20" } },
        { field: "withExec", args: { args: ["true"] } },
        { field: "stdout", args: {} },
      ]);
      expect(await ctr.id()).toBe(stdout!.chain[0]!.args.id);

      expect(await new Demo().list(dag.git("https://git.example/app.git").head().tree())).toEqual([]);
      expect(engine.leaves("entries")[0]!.resolved.map((s) => s.field)).toEqual(["git", "head", "tree", "entries"]);
    });
  });

  it("answers the leaves the runner reads by default: a commit per ref, a digest per directory", async () => {
    await withFakeEngine(async (engine) => {
      const main = await dag.git("https://git.example/app.git").ref("main").commit();
      const again = await dag.git("https://git.example/app.git").ref("main").commit();
      const other = await dag.git("https://git.example/app.git").ref("v1.0.0").commit();
      expect(main).toMatch(/^[0-9a-f]{40}$/);
      expect([again, other === main]).toEqual([main, false]);

      const a = await dag.host().directory("/a").digest();
      expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await dag.host().directory("/b").digest()).not.toBe(a);
      expect(engine.leaves("digest").map((q) => q.resolved.map((s) => s.field))).toEqual([
        ["host", "directory", "digest"],
        ["host", "directory", "digest"],
      ]);
    });
  });

  it("resolves a host service bound into a container, ports and all", async () => {
    await withFakeEngine(async (engine) => {
      const tunnel = dag.host().service([{ frontend: 5000, backend: 5001 }], { host: "localhost" });
      await dag.container().from("alpine").withServiceBinding("reg", tunnel).withExec(["true"]).sync();
      const [binding] = engine.find("withServiceBinding");
      expect(engine.expand([binding!])).toEqual([
        {
          field: "withServiceBinding",
          args: {
            alias: "reg",
            service: {
              ref: [
                { field: "host", args: {} },
                { field: "service", args: { ports: [{ frontend: 5000, backend: 5001 }], host: "localhost" } },
              ],
            },
          },
        },
      ]);
    });
  });

  it("answers an exec run with expect ANY by its exit code and output, as the engine does, and files after it", async () => {
    await withFakeEngine(
      {
        answers: [
          answerExec(/creator/, { exitCode: 51, stdout: "===> EXPORTING\n", stderr: "ERROR: failed to export" }),
          answerFile("/tmp/out", "from check", { after: /check/ }),
          answerFile("/tmp/out", "from release", { after: /release/ }),
        ],
      },
      async (engine) => {
        const ran = dag.container().from("x").withExec(CREATOR, { expect: ReturnType.Any });
        expect(await ran.exitCode()).toBe(51);
        expect(await ran.stdout()).toBe("===> EXPORTING\n");
        expect(await ran.stderr()).toBe("ERROR: failed to export");
        expect(engine.find("withExec").map((s) => s.args.expect)).toEqual(["ANY"]);
        // Without expect ANY, the same exec fails every leaf after it.
        await expect(dag.container().from("x").withExec(CREATOR).stdout()).rejects.toBeInstanceOf(ExecError);
        // An exec that is not the creator: default exit code 0.
        expect(await dag.container().from("x").withExec(["ls"], { expect: ReturnType.Any }).exitCode()).toBe(0);

        // The same path written by two steps: told apart by the exec before the read.
        const read = (step: string) => dag.container().from("x").withExec(["sh", step]).file("/tmp/out").contents();
        expect([await read("check"), await read("release"), await read("other")]).toEqual(["from check", "from release", ""]);
      },
    );
  });

  it("answers errors in the shapes the SDK turns into ExecError and GraphQLRequestError", async () => {
    await withFakeEngine({ answers: [answerExec(/creator/, { exitCode: 51, stderr: "ERROR: failed to build" })] }, async (engine) => {
      const err = await dag
        .container()
        .from("x")
        .withExec(CREATOR)
        .stdout()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExecError);
      expect(err).toMatchObject({ exitCode: 51, stderr: "ERROR: failed to build", cmd: CREATOR });

      engine.answer((q) => (q.field === "contents" ? graphqlError("no such file") : undefined));
      await expect(dag.container().file("/nope").contents()).rejects.toThrow(GraphQLRequestError);

      // A leaf without a default tells the test author what to configure.
      await expect(dag.container().user()).rejects.toThrow(/no answer for leaf "user"/);
    });
  });

  it("withFakeEngineEnv serves code that opens its own connection, and restores the environment", async () => {
    const before = process.env.DAGGER_SESSION_PORT;
    await withFakeEngineEnv({ answers: [answerEnv("A", "1")] }, async (engine) => {
      expect(process.env.DAGGER_SESSION_PORT).toBe(engine.env.DAGGER_SESSION_PORT);
      let value: string | undefined;
      await connection(async () => {
        value = await dag.container().envVariable("A");
      });
      expect(value).toBe("1");
      expect(engine.leaves("envVariable")).toHaveLength(1);
    });
    expect(process.env.DAGGER_SESSION_PORT).toBe(before);
  });

  it("rejects a wrong session token and restores the environment", async () => {
    const before = process.env.DAGGER_SESSION_PORT;
    let engine!: FakeEngine;
    await withFakeEngine(async (e) => {
      engine = e;
      expect(process.env.DAGGER_SESSION_PORT).toBe(e.env.DAGGER_SESSION_PORT);
    });
    expect(process.env.DAGGER_SESSION_PORT).toBe(before);

    const standalone = await startFakeEngine();
    try {
      const res = await fetch(`http://127.0.0.1:${standalone.env.DAGGER_SESSION_PORT}/query`, {
        method: "POST",
        headers: { authorization: `Basic ${Buffer.from("wrong:").toString("base64")}` },
        body: JSON.stringify({ query: "{ version }" }),
      });
      expect(res.status).toBe(401);
      expect(standalone.queries).toHaveLength(0);
    } finally {
      await standalone.close();
    }
    expect(engine.queries).toHaveLength(0);
  });
});
