import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { authKeyFor, DOCKER_HUB_AUTH_KEY, parseImageReference, parseImageRepository, parseRegistryHost, withTag } from "../../src/core/image-ref.js";
import { packlineError } from "../support/errors.js";

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("parseImageRepository: valid repositories", () => {
  it.each([
    // Docker Hub short names: registry docker.io, single components under library/.
    ["app", "docker.io", "library/app"],
    ["acme/app", "docker.io", "acme/app"],
    ["acme/team/app", "docker.io", "acme/team/app"],
    // The first component is a registry only if it has "." or ":" or is localhost.
    ["registry.example.com/acme/app", "registry.example.com", "acme/app"],
    ["registry.example.com:5000/app", "registry.example.com:5000", "app"],
    ["registry:5000/app", "registry:5000", "app"],
    ["localhost/app", "localhost", "app"],
    ["localhost:5000/a/b/c", "localhost:5000", "a/b/c"],
    ["127.0.0.1:5000/app", "127.0.0.1:5000", "app"],
    ["10.0.0.1/acme/app", "10.0.0.1", "acme/app"],
    ["[::1]:5000/app", "[::1]:5000", "app"],
    ["[fe80::1]/app", "[fe80::1]", "app"],
    ["ghcr.io/acme/deeply/nested/path/app", "ghcr.io", "acme/deeply/nested/path/app"],
    ["registry.example.com:65535/app", "registry.example.com:65535", "app"],
    ["registry.example.com:1/app", "registry.example.com:1", "app"],
    // Separators inside a component: ".", "_", "__", and any run of "-".
    ["acme/my.app", "docker.io", "acme/my.app"],
    ["acme/my_app", "docker.io", "acme/my_app"],
    ["acme/my__app", "docker.io", "acme/my__app"],
    ["acme/my---app", "docker.io", "acme/my---app"],
    ["my-registry.example.com/app", "my-registry.example.com", "app"],
  ])("%s -> registry %s, path %s", (input, registry, path) => {
    expect(parseImageRepository(input)).toEqual({ name: input, registry, path });
  });

  it.each(["  acme/app", "acme/app\n", "acme/ app", "acme/app\u00a0", "acme/\tapp"])("refuses blanks anywhere: %j", (input) => {
    expect(packlineError(() => parseImageRepository(input)).message).toContain("has blanks or control characters");
  });

  it("accepts a name of exactly 255 characters", () => {
    const name = `registry.example.com/${"a".repeat(255 - "registry.example.com/".length)}`;
    expect(parseImageRepository(name).name).toBe(name);
  });

  // Regression (src/core/image-ref.ts): the documented rule is "library/app on Docker Hub for a single-component name", but an
  // explicit docker.io registry keeps the bare path, so `docker.io/app` and `app` (the same image) disagree.
  // Fix: `const fullPath = (registry === "docker.io" || registry === "index.docker.io") && !path.includes("/") ? ...`.
  it("docker.io/app is the same repository as app (path library/app)", () => {
    expect(parseImageRepository("docker.io/app").path).toBe("library/app");
  });
});

describe("parseImageRepository: invalid repositories", () => {
  it.each([
    ["Acme/App", 'has upper-case letters in its path: image paths must be lower case, e.g. "acme/app".'],
    ["registry.example.com/Acme/app", 'has upper-case letters in its path: image paths must be lower case, e.g. "registry.example.com/acme/app".'],
    ["registry.example.com:0/app", 'has an invalid registry port "0": use a number from 1 to 65535, e.g. registry.example.com:5000.'],
    ["registry.example.com:65536/app", 'has an invalid registry port "65536": use a number from 1 to 65535, e.g. registry.example.com:5000.'],
    ["registry.example.com:abc/app", 'has an invalid registry port "abc": use a number from 1 to 65535, e.g. registry.example.com:5000.'],
    ["registry.example.com:/app", 'has an invalid registry port "": use a number from 1 to 65535, e.g. registry.example.com:5000.'],
    [`acme/app@${DIGEST}`, "has a digest: give the repository only (e.g. registry.example.com/acme/app); the digest is known after the build."],
    ["acme/app:1.2.3", "has a tag: give the repository only (acme/app); tags come from --tag."],
    ["registry:5000/app:latest", "has a tag: give the repository only (registry:5000/app); tags come from --tag."],
    ["https://registry.example.com/app", "has a URL scheme: drop it, e.g. registry.example.com/app."],
    ["", "is empty: give an image repository such as registry.example.com/acme/app."],
    ["   ", "has blanks or control characters: remove them."],
    ["a..b", 'has an invalid path component "a..b": use lower-case letters, digits, and single separators (. _ __ -) between them.'],
    ["-a", 'has an invalid path component "-a": use lower-case letters, digits, and single separators (. _ __ -) between them.'],
    ["a-", 'has an invalid path component "a-": use lower-case letters, digits, and single separators (. _ __ -) between them.'],
    ["a___b", 'has an invalid path component "a___b": use lower-case letters, digits, and single separators (. _ __ -) between them.'],
    ["acme//app", 'has an invalid path component "": use lower-case letters, digits, and single separators (. _ __ -) between them.'],
    ["acme/app/", 'has an invalid path component "": use lower-case letters, digits, and single separators (. _ __ -) between them.'],
    ["acme/my app", "has blanks or control characters: remove them."],
    ["-bad.example.com/app", 'has an invalid registry host "-bad.example.com": use a host name such as registry.example.com.'],
    ["bad_host.example.com/app", 'has an invalid registry host "bad_host.example.com": use a host name such as registry.example.com.'],
  ])("refuses %j", (input, rest) => {
    expect(packlineError(() => parseImageRepository(input)).message).toBe(`--image ${JSON.stringify(input)} ${rest}`);
  });

  it("refuses a name longer than 255 characters", () => {
    const name = `registry.example.com/${"a".repeat(256 - "registry.example.com/".length)}`;
    expect(packlineError(() => parseImageRepository(name)).message).toBe(
      `--image ${JSON.stringify(name)} is 256 characters long: shorten it to 255 at most.`,
    );
  });

  it("names the flag it was given", () => {
    expect(packlineError(() => parseImageRepository("A", "--cache-image")).message).toMatch(/^--cache-image "A" /);
  });
});

describe("parseImageReference", () => {
  it.each([
    [
      "paketobuildpacks/builder-jammy-base",
      { name: "paketobuildpacks/builder-jammy-base", registry: "docker.io", path: "paketobuildpacks/builder-jammy-base" },
      undefined,
      undefined,
    ],
    ["heroku/builder:24", { name: "heroku/builder", registry: "docker.io", path: "heroku/builder" }, "24", undefined],
    [
      "gcr.io/buildpacks/builder:google-22",
      { name: "gcr.io/buildpacks/builder", registry: "gcr.io", path: "buildpacks/builder" },
      "google-22",
      undefined,
    ],
    ["registry:5000/app", { name: "registry:5000/app", registry: "registry:5000", path: "app" }, undefined, undefined],
    ["registry:5000/app:1.2.3", { name: "registry:5000/app", registry: "registry:5000", path: "app" }, "1.2.3", undefined],
    [`run@${DIGEST}`, { name: "run", registry: "docker.io", path: "library/run" }, undefined, DIGEST],
    [`ghcr.io/acme/run:jammy@${DIGEST}`, { name: "ghcr.io/acme/run", registry: "ghcr.io", path: "acme/run" }, "jammy", DIGEST],
    [`localhost:5000/run:_x.Y-1@${DIGEST}`, { name: "localhost:5000/run", registry: "localhost:5000", path: "run" }, "_x.Y-1", DIGEST],
  ])("%s", (input, repository, tag, digest) => {
    expect(parseImageReference(input, "--builder")).toEqual({ repository, tag, digest, text: input });
  });

  it.each([
    ["acme/app:", 'has an invalid tag "": tags are 1-128 of A-Z a-z 0-9 _ . - and do not start with . or -.'],
    ["acme/app:-x", 'has an invalid tag "-x": tags are 1-128 of A-Z a-z 0-9 _ . - and do not start with . or -.'],
    ["acme/app:.x", 'has an invalid tag ".x": tags are 1-128 of A-Z a-z 0-9 _ . - and do not start with . or -.'],
    [`acme/app:${"a".repeat(129)}`, `has an invalid tag "${"a".repeat(129)}": tags are 1-128 of A-Z a-z 0-9 _ . - and do not start with . or -.`],
    ["acme/app@sha256:abc", 'has an invalid digest "sha256:abc": use algorithm:hex, e.g. sha256:<64 hex digits>.'],
    ["acme/app@", 'has an invalid digest "": use algorithm:hex, e.g. sha256:<64 hex digits>.'],
    [`Acme/app:1`, 'has upper-case letters in its path: image paths must be lower case, e.g. "acme/app".'],
    ["https://gcr.io/x:1", "has a URL scheme: drop it, e.g. gcr.io/x."],
    [`@${DIGEST}`, "is empty: give an image repository such as registry.example.com/acme/app."],
  ])("refuses %j", (input, rest) => {
    expect(packlineError(() => parseImageReference(input, "--run-image")).message).toBe(`--run-image ${JSON.stringify(input)} ${rest}`);
  });
});

describe("authKeyFor and withTag", () => {
  it("uses the Docker Hub key for docker.io and the registry host otherwise", () => {
    expect(DOCKER_HUB_AUTH_KEY).toBe("https://index.docker.io/v1/");
    expect(authKeyFor(parseImageRepository("acme/app"))).toBe("https://index.docker.io/v1/");
    expect(authKeyFor(parseImageRepository("registry.example.com:5000/acme/app"))).toBe("registry.example.com:5000");
  });

  it("appends the tag to the name as written", () => {
    expect(withTag(parseImageRepository("acme/app"), "1.2.3")).toBe("acme/app:1.2.3");
    expect(withTag(parseImageRepository("localhost:5000/app"), "latest")).toBe("localhost:5000/app:latest");
  });
});

describe("image references: properties", () => {
  const alnum = fc.stringMatching(/^[a-z0-9]{1,6}$/);
  const separator = fc.constantFrom(".", "_", "__", "-", "--", "---");
  /** A path component of the distribution grammar: alphanumeric runs joined by single separators. */
  const component = fc
    .tuple(alnum, fc.array(fc.tuple(separator, alnum), { maxLength: 3 }))
    .map(([first, rest]) => first + rest.map(([sep, run]) => sep + run).join(""));
  const path = fc.array(component, { minLength: 1, maxLength: 4 });
  const registry = fc.constantFrom("registry.example.com", "localhost:5000", "ghcr.io", "10.1.2.3:443", "[::1]:5000");

  it("accepts every path of valid lower-case components under an explicit registry", () => {
    fc.assert(
      fc.property(registry, path, (host, components) => {
        const name = `${host}/${components.join("/")}`;
        expect(parseImageRepository(name)).toEqual({ name, registry: host, path: components.join("/") });
        expect(parseImageReference(`${name}:v1`, "--run-image")).toEqual({
          repository: { name, registry: host, path: components.join("/") },
          tag: "v1",
          digest: undefined,
          text: `${name}:v1`,
        });
      }),
    );
  });

  it("puts a single valid component on Docker Hub under library/", () => {
    fc.assert(
      fc.property(component, (name) => {
        expect(parseImageRepository(name)).toEqual({ name, registry: "docker.io", path: `library/${name}` });
      }),
    );
  });

  it("refuses any path with an upper-case letter, naming the value and the lower-case fix", () => {
    fc.assert(
      fc.property(path, fc.nat(), fc.nat(), (components, which, at) => {
        const index = which % components.length;
        const chars = [...components[index]!];
        const letters = chars.flatMap((c, i) => (/[a-z]/.test(c) ? [i] : []));
        fc.pre(letters.length > 0);
        chars[letters[at % letters.length]!] = chars[letters[at % letters.length]!]!.toUpperCase();
        const bad = components.map((c, i) => (i === index ? chars.join("") : c));
        const input = `registry.example.com/${bad.join("/")}`;
        const error = packlineError(() => parseImageRepository(input));
        expect(error.message).toContain(JSON.stringify(input));
        expect(error.message).toContain(`e.g. "registry.example.com/${bad.join("/").toLowerCase()}"`);
      }),
    );
  });
});

// Issue 18, item 12: `--image localhost:5000` was said to have a tag; it is a registry without an image path.
describe("a registry address alone, where an image is expected", () => {
  it.each([
    ["localhost:5000", "--image", "docker.io/library/localhost with the tag 5000"],
    ["LOCALHOST:5000", "--image", "docker.io/library/LOCALHOST with the tag 5000"],
    ["127.0.0.1:5000", "--image", "docker.io/library/127.0.0.1 with the tag 5000"],
    ["registry.example.com:443", "--image", "docker.io/library/registry.example.com with the tag 443"],
    ["[::1]:5000", "--image", "as written it is no image reference at all"],
  ])("--image %s: a registry without an image path, what it would mean, and the fix", (input, flag, meaning) => {
    const message = packlineError(() => parseImageRepository(input)).message;
    expect(message).toMatch(
      new RegExp(
        `^${flag} "${input.replace(/[[\].]/g, "\\$&")}" is a registry address \\(host .+, port [0-9]+\\) without an image path: add the repository, e.g. `,
      ),
    );
    expect(message).toContain(`e.g. ${input}/app;`);
    expect(message).toContain(meaning);
    expect(message).not.toContain("has a tag");
  });

  it.each(["--run-image", "--cache-image", "--builder"])(
    "%s localhost:5000 (and @digest) is refused the same way, not read as Docker Hub's localhost:5000",
    (flag) => {
      expect(packlineError(() => parseImageReference("localhost:5000", flag)).message).toMatch(
        new RegExp(`^${flag} "localhost:5000" is a registry address \\(host localhost, port 5000\\) without an image path`),
      );
      expect(packlineError(() => parseImageReference(`localhost:5000@${DIGEST}`, flag)).message).toContain("without an image path");
    },
  );

  it("--image localhost alone says what it would mean", () => {
    expect(packlineError(() => parseImageRepository("localhost")).message).toBe(
      '--image "localhost" names no registry: alone, localhost is the Docker Hub image docker.io/library/localhost: give the registry with its port and a repository, e.g. localhost:5000/app.',
    );
  });

  it("an image with a tag keeps its own message, and a registry with a repository passes", () => {
    expect(packlineError(() => parseImageRepository("nginx:1")).message).toContain("has a tag");
    expect(parseImageReference("nginx:1", "--run-image").tag).toBe("1");
    expect(parseImageRepository("localhost:5000/app").registry).toBe("localhost:5000");
  });
});

describe("international registry hosts", () => {
  it("--image and --insecure-registry give the punycode form", () => {
    expect(packlineError(() => parseImageRepository("bücher.example:5000/app")).message).toBe(
      '--image "bücher.example:5000/app" has the international host name "bücher.example", which git, ssh and registries take only in its ASCII (punycode) form: write the host as xn--bcher-kva.example.',
    );
    expect(packlineError(() => parseRegistryHost("bücher.example:5000", "--insecure-registry")).message).toContain(
      "write the host as xn--bcher-kva.example.",
    );
    expect(parseImageRepository("xn--bcher-kva.example:5000/app").registry).toBe("xn--bcher-kva.example:5000");
  });
});
