import { describe, expect, it } from "vitest";
import { parseGitRef, parseRepoUrl, repositoryName } from "../../src/core/git-url.js";
import { packlineError } from "../support/errors.js";

describe("parseRepoUrl", () => {
  it.each([
    ["https://github.com/acme/app", "https"],
    ["https://github.com/acme/app.git", "https"],
    ["http://git.local:8080/acme/app", "http"],
    ["ssh://git@github.com/acme/app", "ssh"],
    ["ssh://git@[fd00::1]:22/acme/app", "ssh"],
    ["git://git.local/acme/app", "git"],
    ["git@github.com:acme/app.git", "ssh"],
    ["https://10.123.0.1:8080/private/app.git", "https"],
  ])("%s is a %s URL", (url, protocol) => {
    expect(parseRepoUrl(url)).toEqual({ url, protocol });
  });

  it("hides what may be a password in its message", () => {
    const message = packlineError(() => parseRepoUrl("ftp://user:s3cr3t@host/r")).message;
    expect(message).not.toContain("s3cr3t");
    expect(message).toContain("***@");
  });
});

describe("repositoryName: the one place the name is derived", () => {
  it.each([
    ["https://github.com/acme/app", "app"],
    ["https://github.com/acme/web-app/", "web-app"],
    ["https://github.com/acme/web-app.git", "web-app"],
    ["https://github.com/acme/web-app.git//", "web-app"],
    ["git@github.com:acme/app.git", "app"],
    ["git@github.com:app", "app"],
  ])("%s -> %s", (url, name) => {
    expect(repositoryName(url)).toBe(name);
  });
});

describe("parseGitRef", () => {
  it.each(["main", "v1.2.3", "release/1.x", "feature/foo-bar_baz", "0123456789abcdef0123456789abcdef01234567"])("accepts %s", (ref) => {
    expect(parseGitRef(ref)).toBe(ref);
  });
  it.each([
    "",
    "a..b",
    "-x",
    "has space",
    "main.lock",
    "feature/",
    "/main",
    "a//b",
    "a:b",
    "a~1",
    "a^",
    "a?",
    "a*",
    "a[",
    "a\\b",
    "a@{1}",
    "{{x}}",
    "v1.",
    ".hidden",
    "tab\tx",
    "@",
  ])("refuses %j", (ref) => {
    expect(packlineError(() => parseGitRef(ref)).message).toBe(
      `--ref ${JSON.stringify(ref)} is not a valid git ref: give a tag, branch or commit, e.g. v1.2.3, main or a commit SHA.`,
    );
  });
});

// Issue 18, item 14: an international host got the unrelated "would be read by ssh as an option" reason.
describe("parseRepoUrl: international host names", () => {
  const ASCII = "xn--bcher-kva.example";
  it.each([
    ["https://bücher.example/acme/app", "https://bücher.example/acme/app"],
    ["https://BÜCHER.example:8443/acme/app.git", "https://BÜCHER.example:8443/acme/app.git"],
    ["ssh://git@bücher.example/acme/app", "ssh://***@bücher.example/acme/app"],
    ["git@bücher.example:acme/app.git", "***@bücher.example:acme/app.git"],
  ])("%s: gives the punycode form of the host", (url, shown) => {
    const message = packlineError(() => parseRepoUrl(url)).message;
    expect(message).toMatch(
      new RegExp(
        `^--repo "${shown.replace(/[.*?]/g, "\\$&")}" has the international host name ".+", which git, ssh and registries take only in its ASCII \\(punycode\\) form: write the host as ${ASCII}\\.$`,
      ),
    );
    expect(message).not.toContain("ssh as an option");
  });

  it.each(["https://ＡＢＣ.com/acme/app", "https://a\u200bb.com/acme/app"])("%j: look-alike or invisible characters get no ASCII guess", (url) => {
    const message = packlineError(() => parseRepoUrl(url)).message;
    expect(message).toContain(
      "whose non-ASCII characters make no international domain name (look-alike or invisible characters?): type the host name in ASCII.",
    );
    expect(message).not.toMatch(/abc\.com|"ab\.com"/);
  });

  it("the punycode form itself is accepted", () => {
    expect(parseRepoUrl(`https://${ASCII}/acme/app`).protocol).toBe("https");
  });
});
