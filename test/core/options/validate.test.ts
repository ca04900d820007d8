import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RawInput } from "../../../src/core/options/input.js";
import { DEFAULT_BUILDER } from "../../../src/core/options/table.js";
import { PACK_WARNING, validateArgo, validateBuild } from "../../../src/core/options/validate.js";
import { packlineError } from "../../support/errors.js";

const build = (raw: RawInput) => validateBuild("build", { tag: "v1.2.3", ...raw });
const argo = (raw: RawInput) => validateArgo({ repo: "https://github.com/acme/app", image: "registry.example.com/acme/app", ...raw });
const buildError = (raw: RawInput) => packlineError(() => build(raw)).message;
const argoError = (raw: RawInput) => packlineError(() => argo(raw)).message;

describe("validateBuild: defaults", () => {
  it("a bare tag builds the local source with the default builder into the engine's registry", () => {
    const options = build({});
    expect(options).toMatchObject({
      runsOn: "engine",
      version: { kind: "known", version: { input: "v1.2.3", version: "1.2.3", shape: "release" } },
      source: { kind: "local" },
      image: undefined,
      builder: { text: DEFAULT_BUILDER },
      env: [],
      buildpacks: [],
      clearCache: false,
      creationTime: { kind: "default" },
      insecureRegistries: [],
      allowOverwrite: false,
      executor: "creator",
      floatingTags: false,
      latest: false,
    });
    expect(options.registryAuth).toBeUndefined();
    expect(options.revision).toBeUndefined();
  });

  it("a cluster takes the version as a parameter, with --tag as its default", () => {
    expect(argo({}).build.version).toEqual({ kind: "parameter", default: undefined });
    expect(argo({ tag: "v2.0.0" }).build.version).toMatchObject({ kind: "parameter", default: { input: "v2.0.0", version: "2.0.0" } });
  });
});

describe("the table's own checks", () => {
  it("required options", () => {
    expect(packlineError(() => validateBuild("build", {})).message).toBe("build needs --tag: e.g. --tag v1.2.3.");
    expect(packlineError(() => validateArgo({ image: "a/b" })).message).toMatch(/^argo needs --repo: e\.g\. --repo https:\/\/github\.com\/acme\/app/);
    expect(packlineError(() => validateArgo({ repo: "https://h/a/b" })).message).toMatch(/^argo needs --image: /);
  });

  it.each(["image", "builder", "runImage", "cacheImage", "repo", "ref", "creationTime", "registryUsername", "revision"])(
    "an empty --%s is refused, not silently defaulted",
    (name) => {
      const flag = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      expect(buildError({ [name]: "" })).toMatch(new RegExp(`^${flag} is empty: `));
    },
  );

  it("an empty value of a repeatable option", () => {
    expect(buildError({ env: ["A=1", ""] })).toBe("--env was given an empty value: give a value each time, or leave the option out.");
  });

  it("enumerations: any case, - or _, as Dagger shows them (WORKFLOW_TEMPLATE) and as the docs write them", () => {
    for (const kind of ["workflow-template", "WORKFLOW_TEMPLATE", "WorkflowTemplate", "workflowtemplate"])
      expect(argo({ kind }).argo.kind).toBe("workflow-template");
    expect(argo({ podGc: "on_pod_completion" }).argo.podGc).toBe("OnPodCompletion");
    expect(argo({ executor: "PACK" }).build.executor).toBe("pack");
    expect(argoError({ kind: "cronworkflow" })).toBe('--kind "cronworkflow" does not exist: choose one of workflow-template, workflow.');
  });

  it("whole numbers", () => {
    expect(argo({ retries: "3" }).argo.retries).toBe(3);
    expect(argo({ retries: 0 }).argo.retries).toBe(0);
    expect(argoError({ retries: "two" })).toBe('--retries "two" is not a whole number: e.g. --retries 2.');
    expect(argoError({ retries: "-1" })).toBe('--retries "-1" is not a whole number: e.g. --retries 2.');
    expect(argoError({ retries: "11" })).toBe("--retries 11 is more than 10: a step that fails 10 times will not pass on the 11th.");
    expect(argoError({ deadline: "0" })).toBe("--deadline 0 must be from 1 to 604800 seconds (a week).");
  });

  it("an option of another command is a bug of the caller, not a user error", () => {
    // @ts-expect-error: kind is argo's; the types refuse it, and so does the runtime check for untyped callers.
    expect(() => validateBuild("build", { tag: "1.2.3", kind: "workflow" })).toThrow("internal: build has no option kind");
  });
});

describe("sources", () => {
  it("clones the tag as typed unless --ref says otherwise", () => {
    expect(build({ repo: "https://github.com/acme/app" }).source).toEqual({
      kind: "git",
      repo: { url: "https://github.com/acme/app", protocol: "https" },
      ref: undefined,
    });
    expect(build({ repo: "git@github.com:acme/app.git", ref: "main" }).source).toMatchObject({ kind: "git", repo: { protocol: "ssh" }, ref: "main" });
  });

  it("refuses --ref without --repo, and --repo with --source", () => {
    expect(buildError({ ref: "main" })).toBe('--ref "main" needs --repo: a ref selects what to clone.');
    expect(buildError({ repo: "https://h/a/b", source: true })).toMatch(/^--repo "https:\/\/h\/a\/b" and --source were both given/);
  });

  it("--revision names a local source's revision, never a clone's", () => {
    expect(build({ revision: "0123abc" }).revision).toBe("0123abc");
    expect(buildError({ revision: "0123abc", repo: "https://h/a/b" })).toMatch(/^--revision "0123abc" and --repo were both given/);
    expect(buildError({ revision: "a b" })).toMatch(/^--revision "a b" is not a revision/);
  });
});

describe("registry credentials", () => {
  it("keeps the user name, only whether a password was given", () => {
    expect(build({ image: "r.example.com/a", registryUsername: "me", registryPassword: true }).registryAuth).toEqual({
      kind: "password",
      username: "me",
    });
  });
  it.each([
    [{ registryPassword: true, image: "r.example.com/a" }, "--registry-password was given without --registry-username"],
    [{ registryUsername: "me", image: "r.example.com/a" }, "--registry-username was given without --registry-password"],
    [{ registryUsername: "me", registryPassword: true }, "--registry-username needs --image"],
    [{ registryUsername: "me:x", registryPassword: true, image: "r.example.com/a" }, '--registry-username has blanks or ":" (its value is not shown'],
  ])("refuses %j", (raw, message) => {
    expect(buildError(raw)).toMatch(new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  });
  it("a cluster reads them from a Secret", () => {
    expect(argo({ registrySecret: "regcred" }).build.registryAuth).toEqual({ kind: "docker-config-secret", secretName: "regcred" });
    expect(argoError({ registrySecret: "Reg_Cred" })).toMatch(/^--registry-secret "Reg_Cred" is not a valid Kubernetes name/);
  });
});

describe("issue 9, bad input round 2: each refused with the value and the fix", () => {
  it("a token in the repository URL's query or fragment", () => {
    for (const repo of [
      "https://github.com/acme/app?access_token=ghp_s3cr3t",
      "https://github.com/acme/app#token=ghp_s3cr3t",
      "https://github.com/acme/app?x",
    ]) {
      const message = buildError({ repo });
      expect(message).toMatch(/^--repo has a query or fragment/);
      expect(message).not.toContain("s3cr3t");
    }
  });

  it("credentials in the URL are never echoed", () => {
    for (const repo of ["https://u:s3cr3t@github.com/acme/app", "https://s3cr3t@github.com/acme/app", "ssh://git:s3cr3t@host/r"]) {
      const message = buildError({ repo });
      expect(message).toMatch(/^--repo has credentials in its URL/);
      expect(message).not.toContain("s3cr3t");
    }
  });

  it.each([
    "ssh://-oProxyCommand=touch%20x/acme/app",
    "ssh://-oProxyCommand=x/acme/app",
    "git@-oProxy:acme/app",
    "git@host:-upload-pack=x",
    "ssh://-x@host/r",
  ])("a host or path that git or ssh would read as an option: %s", (repo) => {
    expect(buildError({ repo })).toMatch(/^--repo /);
  });

  it("--image '' and --builder '' are refused, not defaulted", () => {
    expect(buildError({ image: "" })).toBe("--image is empty: give a value or leave the option out.");
    expect(buildError({ builder: "" })).toBe("--builder is empty: leave it out for the default (paketobuildpacks/builder-jammy-base).");
  });

  it("--env names too long for a file name", () => {
    const name = `A${"B".repeat(255)}`;
    expect(buildError({ env: [`${name}=1`] })).toMatch(
      /has a name of 256 bytes: each variable becomes a file named after it, and file names have at most 255 bytes/,
    );
    expect(build({ env: [`A${"B".repeat(254)}=1`] }).env).toHaveLength(1);
  });

  it("resource requests above their limits, and a zero workspace", () => {
    expect(argoError({ cpuRequest: "2", cpuLimit: "1" })).toBe(
      '--cpu-request "2" is above --cpu-limit "1", which Kubernetes refuses: make the request at most the limit.',
    );
    expect(argoError({ memoryRequest: "2Gi", memoryLimit: "1500Mi" })).toBe(
      '--memory-request "2Gi" is above --memory-limit "1500Mi", which Kubernetes refuses: make the request at most the limit.',
    );
    expect(argo({ cpuRequest: "500m", cpuLimit: "0.5" }).argo.resources).toEqual({ requests: { cpu: "500m" }, limits: { cpu: "0.5" } });
    expect(argo({ memoryRequest: "1G", memoryLimit: "1Gi" }).argo.resources.limits).toEqual({ memory: "1Gi" });
    expect(argoError({ workspaceSize: "0" })).toBe('--workspace-size "0" is not above zero: give the space a build needs, e.g. 2Gi.');
    expect(argoError({ workspaceSize: "0Gi" })).toMatch(/is not above zero/);
    expect(argoError({ cpuLimit: "0" })).toBe("--cpu-limit must be above zero: e.g. 500m or 2.");
  });

  it("IPv6 registries: --image and --insecure-registry both accept them", () => {
    const options = build({ image: "[::1]:5000/app", insecureRegistry: ["[::1]:5000", "[fd00::1]", "10.0.0.1:5000", "registry.local"] });
    expect(options.image?.registry).toBe("[::1]:5000");
    expect(options.insecureRegistries).toEqual(["[::1]:5000", "[fd00::1]", "10.0.0.1:5000", "registry.local"]);
  });

  it("--git-secret with an ssh or git@ repository, and over plain http", () => {
    expect(argoError({ repo: "git@github.com:acme/app.git", gitSecret: "gh" })).toMatch(
      /^--git-secret "gh" holds a token for https, but --repo "git@github.com:acme\/app.git" is not an https URL/,
    );
    expect(argoError({ repo: "ssh://git@github.com/acme/app", gitSecret: "gh" })).toMatch(/is not an https URL/);
    expect(argo({ repo: "http://git.local/acme/app", gitSecret: "gh" }).argo.warnings).toEqual([
      "--git-secret gh: the token goes to http://git.local/acme/app over plain http, where anyone on the way can read it; use https.",
    ]);
  });

  it("an ssh repository is refused in a cluster, with its https form, and --name fits Argo's workflow names", () => {
    const cases: [string, string][] = [
      ["git@github.com:acme/app.git", "https://github.com/acme/app.git"],
      ["ssh://git@github.com/acme/app", "https://github.com/acme/app"],
      ["ssh://git@git.example.com:2222/team/app.git", "https://git.example.com/team/app.git"],
    ];
    for (const [repo, https] of cases) {
      expect(argoError({ repo })).toBe(
        `--repo "${repo}" is an ssh URL, which no cluster clone can fetch (its pod has no ssh key): give its https form, "${https}" (and --git-secret <name> with a token for a private repository).`,
      );
      expect(argo({ repo: https }).argo.name).toBe("packline-app");
      // A laptop build clones with the machine's own ssh setup: not refused there.
      expect(build({ repo, tag: "v1.2.3" }).source.kind).toBe("git");
    }
    expect(argo({ repo: "git://git.example.com/acme/app" }).argo.name).toBe("packline-app");
    for (const kind of ["workflow", "workflow-template"]) expect(argo({ kind, name: "a".repeat(57) }).argo.name).toHaveLength(57);
  });

  it("--image on localhost in a cluster, where localhost is the pod", () => {
    expect(argoError({ image: "localhost:5000/app" })).toMatch(
      /^--image "localhost:5000\/app" is on "localhost", which inside a pod is the pod itself/,
    );
    expect(build({ image: "localhost:5000/app" }).image?.registry).toBe("localhost:5000");
  });
});

/** At least 40 odd inputs beyond the issue's, each refused with a message naming the value. */
describe("odd inputs", () => {
  const cases: [string, RawInput, RegExp][] = [
    ["tag with a trailing newline", { tag: "v1.2.3\n" }, /^--tag "v1\.2\.3\\n" has characters/],
    ["tag with a leading no-break space", { tag: "\u00a01.2.3" }, /^--tag "\u00a01\.2\.3" has characters/],
    ["tag with zero-width space", { tag: "1.2.\u200b3" }, /has characters a version cannot have/],
    ["tag full-width digits", { tag: "１.2.3" }, /has characters a version cannot have/],
    ["tag with a shell expansion", { tag: "$(id)" }, /has characters a version cannot have/],
    ["tag with Argo braces", { tag: "{{workflow.name}}" }, /has characters a version cannot have/],
    ["tag with leading zeros", { tag: "1.02.3" }, /is not a semantic version/],
    ["tag as a range", { tag: "1.x" }, /is not a semantic version/],
    ["image with a tag", { image: "r.example.com/app:1.0" }, /^--image "r\.example\.com\/app:1\.0" has a tag/],
    ["image with a digest", { image: `r.example.com/app@sha256:${"a".repeat(64)}` }, /has a digest/],
    ["image with a scheme", { image: "https://r.example.com/app" }, /has a URL scheme/],
    ["image with upper case", { image: "r.example.com/Acme/App" }, /upper-case letters/],
    ["image with a blank", { image: "r.example.com/acme app" }, /has blanks or control characters/],
    ["image with a tab", { image: "r.example.com/acme\tapp" }, /has blanks or control characters/],
    ["image with port 0", { image: "r.example.com:0/app" }, /invalid registry port "0"/],
    ["image with port 70000", { image: "r.example.com:70000/app" }, /invalid registry port "70000"/],
    ["image with an empty path component", { image: "r.example.com//app" }, /invalid path component ""/],
    ["image with a trailing slash", { image: "r.example.com/app/" }, /invalid path component ""/],
    ["image with a host starting with -", { image: "-r.example.com/app" }, /invalid registry host|invalid path component/],
    ["builder with a bad digest", { builder: "b@sha256:xyz" }, /^--builder "b@sha256:xyz" has an invalid digest/],
    ["builder with braces", { builder: "r.example.com/b:{{x}}" }, /^--builder .* has an invalid tag/],
    ["run image with an invalid tag", { runImage: "r/run:-x" }, /^--run-image "r\/run:-x" has an invalid tag/],
    [
      "cache image with a digest",
      { cacheImage: `r/c@sha256:${"b".repeat(64)}` },
      /^--cache-image .* has a digest, but the cache image is written to/,
    ],
    ["env without =", { env: ["BP_NODE_VERSION"] }, /^--env "BP_NODE_VERSION" has no "="/],
    ["env name starting with a digit", { env: ["1A=x"] }, /is not a valid variable name/],
    ["env name with a slash", { env: ["../x=1"] }, /is not a valid variable name/],
    ["env name with a dash", { env: ["MY-VAR=1"] }, /is not a valid variable name/],
    ["env name empty", { env: ["=1"] }, /is not a valid variable name/],
    ["env given twice", { env: ["A=1", "A=2"] }, /^--env A was given twice/],
    ["buildpack URL", { buildpack: ["docker://x"] }, /the daemonless creator runs only buildpacks the builder contains/],
    ["buildpack without version", { buildpack: ["paketo-buildpacks/nodejs"] }, /is not id@version/],
    ["buildpack with two @", { buildpack: ["a@b@c"] }, /is not id@version/],
    ["creation time as a date", { creationTime: "2024-01-01" }, /^--creation-time "2024-01-01" is not understood/],
    ["creation time upper case", { creationTime: "NOW" }, /is not understood/],
    ["creation time negative", { creationTime: "-5" }, /is before 1970-01-01T00:00:00Z: unix seconds start at 0/],
    ["creation time with a blank", { creationTime: "1700000000 " }, /is not understood/],
    ["creation time commit without a repository", { creationTime: "commit" }, /^--creation-time commit needs --repo/],
    ["insecure registry with a scheme", { insecureRegistry: ["http://r.local"] }, /^--insecure-registry "http:\/\/r\.local" is not host\[:port\]/],
    ["insecure registry with a path", { insecureRegistry: ["r.local/x"] }, /is not host\[:port\]/],
    ["insecure registry with port 0", { insecureRegistry: ["r.local:0"] }, /is not host\[:port\]/],
    ["insecure registry IPv6 without brackets", { insecureRegistry: ["::1"] }, /is not host\[:port\]/],
    ["repo file URL", { repo: "file:///srv/git/app" }, /^--repo "file:\/\/\/srv\/git\/app" uses "file:"/],
    ["repo without a path", { repo: "https://github.com" }, /has no repository path/],
    ["repo with braces", { repo: "https://github.com/acme/{{x}}" }, /has blanks, quotes, braces or control characters/],
    ["repo with a quote", { repo: "https://github.com/acme/a'b" }, /has blanks, quotes, braces/],
    ["repo relative path", { repo: "../app" }, /is not a git URL/],
    ["ref with ..", { repo: "https://h/a/b", ref: "a..b" }, /^--ref "a\.\.b" is not a valid git ref/],
    ["ref with @{", { repo: "https://h/a/b", ref: "main@{1}" }, /is not a valid git ref/],
    ["ref with unicode", { repo: "https://h/a/b", ref: "rélease" }, /is not a valid git ref/],
    ["ref starting with -", { repo: "https://h/a/b", ref: "-upload-pack=x" }, /is not a valid git ref/],
    ["registry user with a blank", { image: "r.example.com/a", registryUsername: "a b", registryPassword: true }, /has blanks or ":"/],
    ["revision with braces", { revision: "{{x}}" }, /is not a revision/],
  ];
  it.each(cases)("%s", (_name, raw, message) => {
    expect(buildError(raw)).toMatch(message);
  });

  const argoCases: [string, RawInput, RegExp][] = [
    ["name too long for a Workflow", { kind: "workflow", name: "a".repeat(58) }, /^--name "a{58}" is not a valid Kubernetes name: use at most 57/],
    ["name too long for a WorkflowTemplate", { kind: "workflow-template", name: "a".repeat(58) }, /^--name "a{58}" .* use at most 57/],
    ["namespace with a dot", { namespace: "a.b" }, /^--namespace "a\.b" is not a valid Kubernetes name/],
    ["service account upper case", { serviceAccount: "Builder" }, /^--service-account "Builder"/],
    ["cache PVC with an underscore", { cachePvc: "my_cache" }, /^--cache-pvc "my_cache"/],
    ["build user root", { buildUser: "0:0" }, /^--build-user 0:\.\.\. is root, which the restricted pod standard forbids/],
    ["build user without gid", { buildUser: "1001" }, /^--build-user "1001" is not uid:gid/],
    ["build user by name", { buildUser: "cnb:cnb" }, /is not uid:gid/],
    ["cpu quantity with a unit typo", { cpuRequest: "500mm" }, /^--cpu-request "500mm" is not a Kubernetes quantity/],
    ["memory quantity lower-case unit", { memoryLimit: "1gi" }, /^--memory-limit "1gi" is not a Kubernetes quantity/],
    ["workspace negative", { workspaceSize: "-1Gi" }, /is not a Kubernetes quantity/],
  ];
  it.each(argoCases)("argo: %s", (_name, raw, message) => {
    expect(argoError(raw)).toMatch(message);
  });

  it("counts: at least 40 odd inputs of our own", () => {
    expect(cases.length + argoCases.length).toBeGreaterThanOrEqual(40);
  });
});

describe("the pack executor", () => {
  it.each([{ buildUser: "1001:1000" }, { cachePvc: "cache" }, { sbomArtifact: true }])("refuses what does not apply to it: %j", (raw) => {
    expect(argoError({ executor: "pack", ...raw })).toMatch(/does not apply to --executor pack, which runs pack as root/);
  });

  it("warns that it takes over the node", () => {
    expect(argo({ executor: "pack" }).argo.warnings).toEqual([PACK_WARNING]);
    expect(argo({}).argo.warnings).toEqual([]);
  });
});

describe("--env values reach the options byte for byte", () => {
  it("property: any value after the first = is kept as given", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/), fc.string({ unit: "grapheme", maxLength: 40 }), (name, value) => {
        expect(build({ env: [`${name}=${value}`] }).env).toEqual([{ name, value }]);
      }),
      { numRuns: 200 },
    );
  });
});

// Odd-input round (issue 18): --revision HEAD passed, and the release check compares revisions, so a version
// published from another commit labelled HEAD would be taken as this source and not built again.
describe("--revision names a fixed commit", () => {
  it.each(["HEAD", "head", "FETCH_HEAD", "ORIG_HEAD"])("%s is refused, with the fix", (revision) => {
    expect(() => validateBuild("plan", { tag: "1.2.3", revision })).toThrow(
      `--revision ${JSON.stringify(revision)} names no fixed commit (git resolves it anew each time): the release check would take a version published from any other commit labelled ${JSON.stringify(revision)} as this source and not build it again; give the commit itself, e.g. --revision "$(git rev-parse HEAD)" or $GITHUB_SHA.`,
    );
  });
  it("a commit SHA and other names pass", () => {
    expect(validateBuild("plan", { tag: "1.2.3", revision: "0123abc" }).revision).toBe("0123abc");
    expect(validateBuild("plan", { tag: "1.2.3", revision: "HEADS-UP" }).revision).toBe("HEADS-UP");
  });
});
