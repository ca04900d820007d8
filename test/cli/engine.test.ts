/** How `packline build` chooses the Dagger it uses (src/cli/engine.ts), without processes: the pure parts. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { causeOf, chooseEngine, compatible, engineError, parseDaggerVersion, sdkDaggerVersion } from "../../src/cli/engine.js";

describe("the Dagger version", () => {
  it("the SDK's version is the CLI version it downloads (its CLI_VERSION)", () => {
    const sdk = dirname(createRequire(import.meta.url).resolve("@dagger.io/dagger"));
    const source = readFileSync(join(sdk, "provisioning", "default.js"), "utf8");
    expect(source).toContain(`CLI_VERSION = "${sdkDaggerVersion()}"`);
  });

  it("is read from `dagger version` and compared by major.minor", () => {
    expect(parseDaggerVersion("dagger v0.21.9 (image://registry.dagger.io/engine:v0.21.9) linux/amd64")).toBe("0.21.9");
    expect(parseDaggerVersion("dagger v0.21.9-dev-abc (...)")).toBe("0.21.9");
    expect(parseDaggerVersion("command not found")).toBeUndefined();
    expect(compatible("0.21.0", "0.21.9")).toBe(true);
    expect(compatible("0.20.9", "0.21.9")).toBe(false);
    expect(compatible("1.21.9", "0.21.9")).toBe(false);
  });
});

describe("chooseEngine", () => {
  const none = () => ({ ok: false, output: "" });
  it("prefers a dagger run session, then a named CLI; else looks at PATH and the SDK's cache", () => {
    expect(chooseEngine({ DAGGER_SESSION_PORT: "1", DAGGER_SESSION_TOKEN: "t" }, none).route).toEqual({ via: "session", port: "1" });
    expect(chooseEngine({ _EXPERIMENTAL_DAGGER_CLI_BIN: "/opt/dagger", PATH: "" }, none).route).toMatchObject({ via: "cli", bin: "/opt/dagger" });
    const choice = chooseEngine({ PATH: "", XDG_CACHE_HOME: "/nonexistent", _EXPERIMENTAL_DAGGER_RUNNER_HOST: "tcp://e:1234" }, none);
    expect(choice.route).toEqual({ via: "download", into: "/nonexistent/dagger" });
    expect(choice.runnerHost).toBe("tcp://e:1234");
    expect(choice.tried).toEqual([
      "no `dagger run` session (DAGGER_SESSION_PORT is not set)",
      "no `dagger` on PATH",
      `no Dagger CLI ${sdkDaggerVersion()} downloaded before (in /nonexistent/dagger)`,
    ]);
  });
});

describe("the no-engine message", () => {
  const download = chooseEngine({ PATH: "", XDG_CACHE_HOME: "/nonexistent" }, () => ({ ok: false, output: "" }));
  it("never prints an empty cause", () => {
    const empty = Object.assign(new Error(""), { name: "EngineSessionError" });
    expect(causeOf(empty)).toBe("");
    expect(causeOf(new Error("failed to execute function with automatic provisioning: EngineSessionError: ", { cause: empty }))).toBe("");
    for (const error of [empty, undefined, new Error("")]) {
      expect(engineError(error, download).message).not.toMatch(/\(\w*Error: \)|\(\)/);
    }
  });
  it("keeps what the CLI said and drops the SDK's wrappings and its TypeError on missing connect parameters", () => {
    const inner = Object.assign(new Error(""), { name: "EngineSessionError", stderr: "Error: failed to start engine: no docker\n" });
    expect(causeOf(new Error(`failed to execute function with automatic provisioning: ${inner}`, { cause: inner }))).toBe(
      "failed to start engine: no docker",
    );
    expect(causeOf(new TypeError("Cannot read properties of undefined (reading 'port')"))).toBe("the CLI ended without starting a session");
  });
});
