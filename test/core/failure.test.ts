import { describe, expect, it } from "vitest";
import { buildFailure, redact, stripAnsi } from "../../src/core/failure.js";

const base = { registry: "r.example.com", builder: "acme/builder", exitCode: 62 };

describe("buildFailure: the cause, named, with the right fix", () => {
  it("an unreadable run image names the image, not the credentials", () => {
    const message = buildFailure({
      ...base,
      runImage: "r.example.com/run:1",
      output: "ERROR: failed to initialize analyzer: failed to find accessible run image",
    }).message;
    expect(message).toContain("cause: the run image r.example.com/run:1 could not be read");
    expect(message).toContain("--insecure-registry");
    expect(message).not.toContain("--registry-username");
    expect(buildFailure({ ...base, output: "failed to find accessible run image" }).message).toContain(
      "the run image named by the builder acme/builder",
    );
  });
  it.each([
    ["UNAUTHORIZED: authentication required", "refused the credentials: check --registry-username and --registry-password"],
    ["DENIED: requested access to the resource is denied", "denied the push"],
    ["http: server gave HTTP response to HTTPS client", "speaks plain HTTP: add --insecure-registry <host:port>"],
    ["dial tcp 10.0.0.1:5000: connect: connection refused", "could not be reached"],
    ["ERROR: No buildpack groups passed detection.", "no buildpack of the builder recognised the source"],
    ["something else", "see the lifecycle's output below"],
  ])("%s", (output, cause) => {
    expect(buildFailure({ ...base, output }).message).toContain(cause);
  });

  it("no colour codes, no secrets, the last lines", () => {
    const output = `\u001b[31mERROR:\u001b[0m push failed for me:hunter22\n${Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\n")}`;
    const message = buildFailure({ ...base, output, redact: ["hunter22"] }).message;
    expect(message).not.toContain("\u001b");
    expect(message).not.toContain("hunter22");
    expect(message).toContain("line 29");
    expect(message).not.toContain("line 10\n");
    expect(message.split("\n")[0]).toBe("the build failed (lifecycle creator exit code 62); nothing new was tagged.");
  });

  it("stripAnsi and redact on their own", () => {
    expect(stripAnsi("\u001b[1;32mok\u001b[0m")).toBe("ok");
    expect(redact("a s3cret b s3cret", ["s3cret"])).toBe("a *** b ***");
  });

  it("redact masks a secret however short (it skipped those under 4 characters), and its base64 and escaped forms", () => {
    expect(redact("pw=ab! user=me", ["ab!"])).toBe("pw=*** user=me");
    expect(redact("x", ["x"])).toBe("***");
    expect(
      redact(`auth ${Buffer.from("me:p@ss w0rd!").toString("base64")} url ${encodeURIComponent("p@ss w0rd!")}`, ["p@ss w0rd!", "me:p@ss w0rd!"]),
    ).toBe("auth *** url ***");
  });
});
