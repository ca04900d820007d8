import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PacklineError } from "../../src/errors.js";
import {
  DEFAULT_BUILDER,
  parseCreationTime,
  parseEnvEntry,
  validateOptions,
  type BuildInput,
} from "../../src/options.js";
import { packlineError } from "../support/errors.js";


/** validateOptions' error message for `input` (on top of a valid `tag`). */
function messageFor(input: Partial<BuildInput>): string {
  return packlineError(() => validateOptions({ tag: "v1.2.3", ...input })).message;
}

const REPO = "https://github.com/acme/app.git";

describe("validateOptions: defaults", () => {
  it("a bare tag builds the local source with the default builder, publishing to the engine registry", () => {
    expect(validateOptions({ tag: "v1.2.3" })).toEqual({
      tags: { version: { input: "v1.2.3", version: "1.2.3", prerelease: false }, tags: ["1.2.3"], notes: [] },
      source: { kind: "local" },
      image: undefined,
      builder: {
        repository: { name: DEFAULT_BUILDER, registry: "docker.io", path: DEFAULT_BUILDER },
        tag: undefined,
        digest: undefined,
        text: DEFAULT_BUILDER,
      },
      runImage: undefined,
      env: [],
      buildpacks: [],
      registryUsername: undefined,
      registrySecret: undefined,
      cacheImage: undefined,
      clearCache: false,
      creationTime: { kind: "default" },
      insecureRegistries: [],
    });
    expect(DEFAULT_BUILDER).toBe("paketobuildpacks/builder-jammy-base");
  });

  it("passes floating tags and latest to the tag rule", () => {
    expect(validateOptions({ tag: "1.2.3", floatingTags: true, latest: true }).tags.tags).toEqual(["1.2.3", "1.2", "1", "latest"]);
  });
});

describe("validateOptions: the tag", () => {
  it.each(["1.0", "latest", "v1", ""])("refuses --tag %j with the fix", (tag) => {
    const message = packlineError(() => validateOptions({ tag })).message;
    if (tag === "") expect(message).toBe("--tag is empty: give a semantic version such as v1.2.3 or 1.2.3.");
    else {
      expect(message).toContain(`--tag ${JSON.stringify(tag)} is not a semantic version`);
      expect(message).toContain("MAJOR.MINOR.PATCH");
    }
  });

  // Regression (src/tags.ts), see tags.test.ts: build metadata is was once silently dropped instead of refused.
  it("refuses --tag 1.2.3+build.5 (build metadata an OCI tag cannot hold)", () => {
    const message = messageFor({ tag: "1.2.3+build.5" });
    expect(message).toContain('"1.2.3+build.5"');
    expect(message).toContain("build metadata");
    expect(message).toContain("drop it");
  });
});

describe("validateOptions: source", () => {
  it("a repository is cloned at the tag as typed by default", () => {
    expect(validateOptions({ tag: "v1.2.3", repo: REPO }).source).toEqual({ kind: "git", url: REPO, ref: "v1.2.3" });
    expect(validateOptions({ tag: "1.2.3", repo: REPO }).source).toEqual({ kind: "git", url: REPO, ref: "1.2.3" });
  });

  it("--ref overrides the ref", () => {
    expect(validateOptions({ tag: "v1.2.3", repo: REPO, ref: "release/1.2" }).source).toEqual({
      kind: "git",
      url: REPO,
      ref: "release/1.2",
    });
  });

  it.each([
    "https://github.com/acme/app.git",
    "http://git.internal/acme/app",
    "ssh://git@github.com/acme/app.git",
    "git://git.example.com/app.git",
    "git@github.com:acme/app.git",
    "  https://github.com/acme/app  ",
  ])("accepts the git URL %j (trimmed)", (repo) => {
    expect(validateOptions({ tag: "1.2.3", repo }).source).toEqual({ kind: "git", url: repo.trim(), ref: "1.2.3" });
  });

  it("refuses --ref without --repo", () => {
    expect(messageFor({ ref: "main" })).toBe('--ref "main" needs --repo: a ref selects what to clone.');
  });

  it("refuses --repo together with a non-default --source", () => {
    const message = messageFor({ repo: REPO, sourceGiven: true });
    expect(message).toBe(
      `--repo "${REPO}" and --source were both given: build either a local directory (--source) or a cloned repository (--repo), not both.`,
    );
  });

  it("allows the default source with --repo (sourceGiven false)", () => {
    expect(validateOptions({ tag: "1.2.3", repo: REPO, sourceGiven: false }).source.kind).toBe("git");
  });

  it.each(["ftp://x", "not a url", "file:///srv/git/app", "https://", "/srv/git/app", "github.com/acme/app", "-oProxyCommand"])(
    "refuses the repository URL %j",
    (repo) => {
      expect(messageFor({ repo })).toBe(
        `--repo ${JSON.stringify(repo)} is not a git URL: use https://host/owner/repo(.git), ssh://git@host/owner/repo or git@host:owner/repo.`,
      );
    },
  );

  it.each(["https://u:s3cr3t-pw@host/r", "https://s3cr3t-pw@github.com/acme/app", "ssh://git:s3cr3t-pw@host/r"])(
    "refuses credentials in the URL %j without echoing them",
    (repo) => {
      const message = messageFor({ repo });
      expect(message).toBe(
        "--repo has credentials in its URL: remove them (they would be printed and stored); for a private repository give a token as a secret instead.",
      );
      expect(message).not.toContain("s3cr3t-pw");
    },
  );

  // Regression (src/options.ts parseRepoUrl): the credentials check ran only once the scheme and host passed, so a URL with
  // credentials that failed for another reason was echoed whole in the "not a git URL" message, password included.
  // Fix: redact the userinfo before quoting, in that message:
  //   quote(url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@\s]*@/i, "$1***@"))
  it.each(["ftp://u:s3cr3t-pw@host/r", "https://u:s3cr3t-pw@/r", "u:s3cr3t-pw@host:r"])(
    "never echoes the password of %j in an error",
    (repo) => {
      expect(messageFor({ repo })).not.toContain("s3cr3t-pw");
    },
  );

  it.each(["https://github.com/acme/{{workflow.name}}", "https://github.com/acme/a b", 'https://github.com/acme/"x"'])(
    "refuses the repository URL %j with braces, quotes or blanks",
    (repo) => {
      expect(messageFor({ repo })).toBe(
        `--repo ${JSON.stringify(repo)} has braces, quotes, blanks or backslashes: percent-encode them (e.g. %7B for {).`,
      );
    },
  );

  it.each(["a..b", "-x", "has space", "main.lock", "feature/", "/main", "a//b", "a:b", "a~1", "a^", "a?", "a*", "a[", "a\\b", "a@{1}", "{{x}}", "v1.", ".hidden", "tab\tx"])(
    "refuses the git ref %j",
    (ref) => {
      expect(messageFor({ repo: REPO, ref })).toBe(
        `--ref ${JSON.stringify(ref)} is not a valid git ref: give a tag, branch or commit, e.g. v1.2.3, main or a commit SHA.`,
      );
    },
  );

  it.each(["main", "v1.2.3", "release/1.x", "feature/foo-bar_baz", "0123456789abcdef0123456789abcdef01234567"])(
    "accepts the git ref %j",
    (ref) => {
      expect(validateOptions({ tag: "1.2.3", repo: REPO, ref }).source).toEqual({ kind: "git", url: REPO, ref });
    },
  );
});

describe("validateOptions: --image", () => {
  it("parses the repository", () => {
    expect(validateOptions({ tag: "1.2.3", image: "registry.example.com:5000/acme/app" }).image).toEqual({
      name: "registry.example.com:5000/acme/app",
      registry: "registry.example.com:5000",
      path: "acme/app",
    });
  });

  it.each([
    ["Acme/App", "lower case"],
    ["registry.example.com:99999/app", "1 to 65535"],
    ["registry.example.com:abc/app", "1 to 65535"],
    [`acme/app@sha256:${"a".repeat(64)}`, "repository only"],
    ["acme/app:1.2.3", "tags come from --tag"],
    ["https://registry.example.com/app", "drop it"],
  ])("refuses %j with the fix (%s)", (image, fix) => {
    const message = messageFor({ image });
    expect(message).toMatch(new RegExp(`^--image ${JSON.stringify(image).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} `));
    expect(message).toContain(fix);
  });

  it("names the flag of the other image references", () => {
    expect(messageFor({ builder: "Heroku/builder" })).toMatch(/^--builder "Heroku\/builder" has upper-case letters/);
    expect(messageFor({ runImage: "run:-x" })).toMatch(/^--run-image "run:-x" has an invalid tag/);
    expect(messageFor({ cacheImage: "reg:0/c" })).toMatch(/^--cache-image "reg:0\/c" has an invalid registry port "0"/);
  });
});

describe("validateOptions: --env", () => {
  it("splits at the first = and keeps the rest of the value as given", () => {
    expect(validateOptions({ tag: "1.2.3", env: ["BP_NODE_VERSION=20", "A=b=c", "EMPTY=", "_X1= spaced \n"] }).env).toEqual([
      { name: "BP_NODE_VERSION", value: "20" },
      { name: "A", value: "b=c" },
      { name: "EMPTY", value: "" },
      { name: "_X1", value: " spaced \n" },
    ]);
  });

  it.each(["BP_NODE_VERSION", "", "NAME"])("refuses %j without =", (entry) => {
    expect(messageFor({ env: [entry] })).toBe(
      `--env ${JSON.stringify(entry)} has no "=": give KEY=VALUE, e.g. BP_NODE_VERSION=20.`,
    );
  });

  it.each([
    ["../x=1", "../x"],
    ["a/b=1", "a/b"],
    ["=x", ""],
    ["1A=1", "1A"],
    ["A-B=1", "A-B"],
    [" A=1", " A"],
    ["A B=1", "A B"],
    ["./A=1", "./A"],
    ["É=1", "É"],
  ])("refuses %j: %j is not a variable name (no path tricks into /platform/env)", (entry, name) => {
    expect(messageFor({ env: [entry] })).toBe(
      `--env ${JSON.stringify(entry)}: ${JSON.stringify(name)} is not a valid variable name: use letters, digits and _, not starting with a digit (e.g. BP_NODE_VERSION=20).`,
    );
  });

  it("property: every accepted name is a plain variable name, never a path", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (name, value) => {
        let parsed: { name: string; value: string } | undefined;
        try {
          parsed = parseEnvEntry(`${name}=${value}`);
        } catch (error) {
          expect(error).toBeInstanceOf(PacklineError);
        }
        if (parsed) {
          expect(parsed.name).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
          expect(`${parsed.name}=${parsed.value}`).toBe(`${name}=${value}`);
        }
      }),
    );
  });
});

describe("validateOptions: --buildpack", () => {
  it("accepts id@version, in order", () => {
    expect(
      validateOptions({ tag: "1.2.3", buildpacks: ["paketo-buildpacks/nodejs@7.5.0", "heroku/nodejs@3.0.0-rc.1+x", "a.b_c@1"] })
        .buildpacks,
    ).toEqual([
      { id: "paketo-buildpacks/nodejs", version: "7.5.0" },
      { id: "heroku/nodejs", version: "3.0.0-rc.1+x" },
      { id: "a.b_c", version: "1" },
    ]);
  });

  it.each(["paketo-buildpacks/nodejs", "id@", "@1.0.0", "bad id@1", "a@b@c", "id@-1", "/x@1"])(
    "refuses %j: not id@version",
    (entry) => {
      const message = messageFor({ buildpacks: [entry] });
      expect(message).toContain(`--buildpack ${JSON.stringify(entry)}`);
      expect(message).toContain("id@version");
    },
  );

  it("names the version fix for an id without a version", () => {
    expect(messageFor({ buildpacks: ["paketo-buildpacks/nodejs"] })).toBe(
      '--buildpack "paketo-buildpacks/nodejs" is not id@version: give a buildpack the builder contains with its version, e.g. paketo-buildpacks/nodejs@7.5.0.',
    );
  });

  it.each(["docker://x", "https://x", "./local", "../local@1", "/abs/path", "urn:cnb:registry:x@1"])(
    "refuses %j: the daemonless creator runs only buildpacks the builder contains",
    (entry) => {
      const message = messageFor({ buildpacks: [entry] });
      expect(message).toContain(`--buildpack ${JSON.stringify(entry)}`);
      expect(message).toContain("id@version");
    },
  );

  it("explains why a URL or path is refused", () => {
    expect(messageFor({ buildpacks: ["docker://x"] })).toBe(
      '--buildpack "docker://x": the daemonless creator runs only buildpacks the builder contains; give id@version of one of them (see `pack builder inspect <builder>`), or use a builder that includes it.',
    );
  });
});

describe("validateOptions: --creation-time", () => {
  it.each([
    [undefined, { kind: "default" }],
    ["", { kind: "default" }],
    ["default", { kind: "default" }],
    ["now", { kind: "now" }],
    ["0", { kind: "unix", seconds: 0 }],
    ["1700000000", { kind: "unix", seconds: 1700000000 }],
    ["99999999999", { kind: "unix", seconds: 99999999999 }],
  ])("%j -> %j", (value, expected) => {
    expect(parseCreationTime(value)).toEqual(expected);
    expect(validateOptions({ tag: "1.2.3", creationTime: value }).creationTime).toEqual(expected);
  });

  it("commit with a repository", () => {
    expect(validateOptions({ tag: "1.2.3", repo: REPO, creationTime: "commit" }).creationTime).toEqual({ kind: "commit" });
  });

  it.each(["yesterday", "-5", "1.5", "2024-01-01", "NOW", "1e9", "100000000000"])("refuses %j", (creationTime) => {
    expect(messageFor({ creationTime })).toBe(
      `--creation-time ${JSON.stringify(creationTime)} is not understood: use now, commit (the source commit's time), or unix seconds such as 1700000000; leave it out for the reproducible default (1980-01-01T00:00:01Z).`,
    );
  });

  it("refuses commit with a local source, and gives the git log fix", () => {
    expect(messageFor({ creationTime: "commit" })).toBe(
      '--creation-time commit needs --repo: a local source reaches the build without its git history; pass the time instead, e.g. --creation-time "$(git log -1 --format=%ct)".',
    );
  });
});

describe("validateOptions: registry credentials", () => {
  it("keeps the username (never the password) with --image", () => {
    const options = validateOptions({ tag: "1.2.3", image: "ghcr.io/acme/app", registryUsername: "bot", registryPassword: true });
    expect(options.registryUsername).toBe("bot");
    expect(Object.keys(options)).not.toContain("registryPassword");
  });

  it("refuses a password without a username", () => {
    expect(messageFor({ image: "ghcr.io/acme/app", registryPassword: true })).toBe(
      "--registry-password was given without --registry-username: add --registry-username <user> (for a token, the user name your registry expects with it).",
    );
    expect(messageFor({ image: "ghcr.io/acme/app", registryUsername: "", registryPassword: true })).toContain(
      "add --registry-username",
    );
  });

  it("refuses a username without a password", () => {
    expect(messageFor({ image: "ghcr.io/acme/app", registryUsername: "bot" })).toBe(
      '--registry-username "bot" was given without --registry-password: add --registry-password env:NAME (or file:PATH).',
    );
    expect(messageFor({ image: "ghcr.io/acme/app", registryUsername: "bot", registryPassword: false })).toContain(
      "without --registry-password",
    );
  });

  it("refuses a username without --image", () => {
    expect(messageFor({ registryUsername: "bot", registryPassword: true })).toBe(
      "--registry-username needs --image: without --image the image goes to the registry inside the Dagger engine, which needs no login.",
    );
  });
});

describe("validateOptions: --registry-secret", () => {
  it("keeps the secret's name with --image", () => {
    expect(validateOptions({ tag: "1.2.3", image: "ghcr.io/acme/app", registrySecret: "ghcr-push" }).registrySecret).toBe("ghcr-push");
  });

  it("refuses it together with a username and password", () => {
    expect(messageFor({ image: "ghcr.io/acme/app", registrySecret: "ghcr-push", registryUsername: "bot", registryPassword: true })).toBe(
      '--registry-secret "ghcr-push" and --registry-username/--registry-password were both given: a cluster build reads the credentials from the secret only; drop the username and password.',
    );
  });

  it("refuses it without --image", () => {
    expect(messageFor({ registrySecret: "ghcr-push" })).toContain("needs --image");
  });
});

describe("validateOptions: other flags", () => {
  it("parses run image, cache image, clear cache and insecure registries", () => {
    const options = validateOptions({
      tag: "1.2.3",
      runImage: "paketobuildpacks/run-jammy-base:latest",
      cacheImage: "registry.example.com/acme/app-cache",
      clearCache: true,
      insecureRegistries: ["registry.local:5000", "10.0.0.1"],
    });
    expect(options.runImage?.text).toBe("paketobuildpacks/run-jammy-base:latest");
    expect(options.runImage?.tag).toBe("latest");
    expect(options.cacheImage?.repository.name).toBe("registry.example.com/acme/app-cache");
    expect(options.clearCache).toBe(true);
    expect(options.insecureRegistries).toEqual(["registry.local:5000", "10.0.0.1"]);
  });

  it.each(["https://registry.local", "registry.local/path", "host:port", "a b", ""])("refuses --insecure-registry %j", (value) => {
    expect(messageFor({ insecureRegistries: [value] })).toBe(
      `--insecure-registry ${JSON.stringify(value)} is not host[:port]: e.g. registry.local:5000.`,
    );
  });
});
