/**
 * --registry-password's references (env:NAME, file:PATH): a bad reference is told apart from a literal value, and
 * says what is wrong without echoing what follows the prefix (it may be a token pasted by mistake).
 */
import { describe, expect, it } from "vitest";
import { parseSecretSource } from "../../src/cli/secret-source.js";
import { packlineError } from "../support/errors.js";

const message = (value: string) => packlineError(() => parseSecretSource("--registry-password", value)).message;

describe("parseSecretSource", () => {
  it("takes env:NAME and file:PATH", () => {
    expect(parseSecretSource("--registry-password", "env:MY_TOKEN")).toEqual({ kind: "env", name: "MY_TOKEN" });
    expect(parseSecretSource("--registry-password", "file:/run/secrets/token")).toEqual({ kind: "file", path: "/run/secrets/token" });
  });

  // Issue 18, item 13: env:MY-TOKEN was called "a literal value".
  it.each([
    ["env:MY-TOKEN", "it has characters other than letters, digits and _ (not shown: it may be a pasted secret)"],
    ["env:1TOKEN", "it starts with a digit"],
    ["env:MY TOKEN", "it has characters other than letters, digits and _ (not shown: it may be a pasted secret)"],
    ["env:a.b/c$d:e", "it has characters other than letters, digits and _ (not shown: it may be a pasted secret)"],
    // a password pasted after env: (it said 'it has "@", "!"', a part of the secret)
    ["env:p@ss!w0rd", "it has characters other than letters, digits and _ (not shown: it may be a pasted secret)"],
  ])("%s is a reference with an invalid variable name (%s), not a literal value", (value, why) => {
    const text = message(value);
    expect(text).toBe(
      `--registry-password env:... is a reference, but what follows env: is not an environment variable name (${why}): a name has only letters, digits and _, and does not start with a digit; export the secret under such a name (e.g. MY_TOKEN) and give env:MY_TOKEN.`,
    );
    expect(text).not.toContain(value.slice(4));
    expect(text).not.toContain("literal");
  });

  it("an empty name or path, and an upper-case prefix, each get their own fix", () => {
    expect(message("env:")).toBe(
      "--registry-password env: names no variable: give env:NAME, NAME being the environment variable that holds the secret.",
    );
    expect(message("file:")).toBe("--registry-password file: names no file: give file:PATH, PATH being the file that holds the secret.");
    expect(message("ENV:MY_TOKEN")).toBe("--registry-password ENV:...: write the prefix in lower case, env:.");
    expect(message("File:/x")).toBe("--registry-password File:...: write the prefix in lower case, file:.");
  });

  it("a literal value is refused without echoing it", () => {
    const text = message("hunter2-secret");
    expect(text).toContain("takes a secret by reference, not a literal value");
    expect(text).not.toContain("hunter2");
  });
});
