/**
 * No secret is printed: a value that could hold one is never echoed in a refusal, and once `packline build` has read
 * the registry password, every message (packline's own, the engine's errors, the engine's progress output) shows it,
 * its base64 and its `user:password` forms only as `***`.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { MaskingStream, SecretMask } from "../../src/cli/mask.js";
import { world } from "../backends/dagger/pipeline.js";
import { graphqlError, withFakeEngineEnv } from "../support/fake-engine.js";
import { cli } from "./io.js";

const TOKEN = "tok-Q7w/x+Yz-not-real";
const IMAGE = "registry.example.com/acme/app";
const b64 = (text: string) => Buffer.from(text).toString("base64");
/** Every form of the token a message might carry. */
const FORMS = [
  TOKEN,
  `me:${TOKEN}`,
  b64(TOKEN),
  b64(`me:${TOKEN}`),
  b64(`me:${TOKEN}`).replace(/=+$/, ""),
  encodeURIComponent(TOKEN),
  // inside a base64-encoded docker config.json, at whatever offset it lands
  b64(JSON.stringify({ auths: { "registry.example.com": { auth: b64(`me:${TOKEN}`), password: TOKEN } } })),
];
/** Pieces of the forms that must not survive either (a form partly masked still leaks). */
const PIECES = ["Q7w/x+Yz", b64(TOKEN).slice(4, 20), b64(`me:${TOKEN}`).slice(4, 20)];

const leaks = (text: string) => [...FORMS, ...PIECES].filter((form) => text.includes(form));

describe("values that could hold a secret are never echoed", () => {
  it.each([
    ["plan", ["plan", "--tag", "v1.0.0", "--image", IMAGE, "--registry-username", `me:${TOKEN}`, "--registry-password", "env:T"]],
    ["build", ["build", "--tag", "v1.0.0", "--image", IMAGE, "--registry-username", `me:${TOKEN}`, "--registry-password", "env:T"]],
    ["build, no password", ["build", "--tag", "v1.0.0", "--image", IMAGE, "--registry-username", `me:${TOKEN}`]],
    ["an --env without =", ["plan", "--tag", "v1.0.0", "--env", `NPM_TOKEN:${TOKEN}`]],
    ["an --env with a bad name", ["plan", "--tag", "v1.0.0", "--env", `1NPM=${TOKEN}`]],
    ["a misspelt option with =", ["build", "--tag", "v1.0.0", `--registry-pasword=${TOKEN}`]],
  ])("%s: refused without the value", async (_name, args) => {
    const { code, stdout, stderr } = await cli(args, { T: TOKEN });
    expect(code).not.toBe(0);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/\S/);
    expect(leaks(stderr)).toEqual([]);
  });
});

describe("packline build masks the registry password in everything it prints", () => {
  it("an engine error that quotes the password in all its forms is printed with each masked", async () => {
    const message = `failed to resolve: ${FORMS.join(" | ")} (basic ${b64(`me:${TOKEN}`)})`;
    const failing = (q: { field: string }) => (q.field === "exitCode" ? graphqlError(message) : undefined);
    const run = await withFakeEngineEnv({ answers: [failing, ...world()] }, () =>
      cli(["build", "--tag", "v1.0.0", "--image", IMAGE, "--registry-username", "me", "--registry-password", "env:T"], { T: TOKEN }),
    );
    expect([run.code, run.stdout]).toEqual([1, ""]);
    expect(run.stderr).toContain("failed to resolve: ***");
    expect(leaks(run.stderr)).toEqual([]);
  });
});

describe("the masking stream (the engine's progress output)", () => {
  function through(chunks: string[], secrets: [string, string?][]): string {
    const target = new PassThrough();
    let out = "";
    target.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const mask = new SecretMask();
    for (const [value, user] of secrets) mask.add(value, user);
    const stream = new MaskingStream(target, mask);
    for (const chunk of chunks) stream.write(chunk);
    stream.flush();
    // PassThrough delivers synchronously once written; read what arrived.
    return out + (target.read()?.toString() ?? "");
  }

  it("a secret split across chunks is masked whole", async () => {
    const text = `login me:${TOKEN} ok\nauth ${b64(`me:${TOKEN}`)}\n`;
    for (let cut = 1; cut < text.length; cut += 3) {
      const out = await new Promise<string>((resolve) =>
        setImmediate(() => resolve(through([text.slice(0, cut), text.slice(cut)], [[TOKEN, "me"]]))),
      );
      expect(leaks(out), `cut at ${cut}`).toEqual([]);
      expect(out).toBe("login *** ok\nauth ***\n");
    }
  });

  it("text that only looked like the start of a secret is written when the stream is flushed", () => {
    expect(through(["progress: tok-Q7"], [[TOKEN]])).toBe("progress: tok-Q7");
    expect(through(["no secrets known"], [])).toBe("no secrets known");
  });
});
