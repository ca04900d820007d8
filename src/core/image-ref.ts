import { PacklineError, quote } from "./errors.js";
import { hasNonAscii, nonAsciiHostMessage } from "./idn.js";

/**
 * An image repository as the user gave it to --image: `[registry[:port]/]path`, without tag or digest (tags come from
 * the version). The grammar is the one of github.com/distribution/reference, which registries and the lifecycle use.
 */
export interface ImageRepository {
  /** As written by the user, e.g. `registry.example.com/acme/app` or `acme/app`. */
  readonly name: string;
  /** The registry host (and port): `docker.io` when the name has none. */
  readonly registry: string;
  /** The path inside the registry, e.g. `acme/app` (`library/app` on Docker Hub for a single-component name). */
  readonly path: string;
}

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = new RegExp(`^${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*$`);
const IPV6 = /^\[[0-9a-fA-F:.]+\]$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const MAX_NAME_LENGTH = 255;

/** The key Docker clients use for Docker Hub credentials in config.json. */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

/** A full image reference (builder, run image, cache image): a repository with an optional tag and digest. */
export interface ImageReference {
  readonly repository: ImageRepository;
  readonly tag?: string;
  readonly digest?: string;
  /** The reference as written. */
  readonly text: string;
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;

/** Parses --image: a repository only, since packline derives the tags from the version. */
export function parseImageRepository(input: string, flag = "--image"): ImageRepository {
  const name = input;
  const bad = badValue(input, flag);
  refuseBlanks(input, bad);
  if (name.includes("@")) {
    throw bad("has a digest", "give the repository only (e.g. registry.example.com/acme/app); the digest is known after the build");
  }
  refuseRegistryOnly(input, bad);
  if (name.toLowerCase() === "localhost") {
    throw bad(
      "names no registry: alone, localhost is the Docker Hub image docker.io/library/localhost",
      "give the registry with its port and a repository, e.g. localhost:5000/app",
    );
  }
  const lastComponent = name.split("/").pop() ?? "";
  if (lastComponent.includes(":")) {
    throw bad("has a tag", `give the repository only (${name.slice(0, name.lastIndexOf(":"))}); tags come from --tag`);
  }
  return parseRepository(name, input, flag);
}

/** Parses an image reference that may carry a tag and a digest (`name[:tag][@digest]`). */
export function parseImageReference(input: string, flag: string): ImageReference {
  const text = input;
  const bad = badValue(input, flag);
  refuseBlanks(input, bad);
  refuseRegistryOnly(input.replace(/@.*$/, ""), bad);
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(`has an invalid digest ${quote(digest)}`, "use algorithm:hex, e.g. sha256:<64 hex digits>");
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`has an invalid tag ${quote(tag)}`, "tags are 1-128 of A-Z a-z 0-9 _ . - and do not start with . or -");
  }
  return { repository: parseRepository(rest, input, flag), tag, digest, text };
}

function refuseBlanks(input: string, bad: (why: string, fix: string) => PacklineError): void {
  if (/\s/.test(input) || [...input].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127))
    throw bad("has blanks or control characters", "remove them");
}

/**
 * `localhost:5000` or `registry.example.com:443` alone: by the reference grammar, the image "localhost" (on Docker Hub)
 * with the tag 5000, which is never what was meant. Say that it is a registry without an image path.
 */
function refuseRegistryOnly(input: string, bad: (why: string, fix: string) => PacklineError): void {
  const match = /^([^/:]+):([0-9]{1,5})$/.exec(input) ?? /^(\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})$/.exec(input);
  if (!match) return;
  const host = match[1]!;
  if (!(host.toLowerCase() === "localhost" || host.includes(".") || host.startsWith("["))) return;
  const meaning = host.startsWith("[")
    ? "as written it is no image reference at all"
    : `as written it would mean the Docker Hub image docker.io/library/${host} with the tag ${match[2]}`;
  throw bad(`is a registry address (host ${host}, port ${match[2]}) without an image path`, `add the repository, e.g. ${input}/app; ${meaning}`);
}

function badValue(input: string, flag: string) {
  return (why: string, fix: string) => new PacklineError(`${flag} ${quote(input)} ${why}: ${fix}.`);
}

function parseRepository(name: string, input: string, flag: string): ImageRepository {
  const bad = badValue(input, flag);
  if (name === "") throw bad("is empty", "give an image repository such as registry.example.com/acme/app");
  if (name.includes("://")) {
    throw bad("has a URL scheme", `drop it, e.g. ${name.replace(/^[a-z]+:\/\//, "")}`);
  }

  const slash = name.indexOf("/");
  const first = slash === -1 ? "" : name.slice(0, slash);
  // Docker's rule: the first component is a registry only if it looks like a host (has "." or ":", or is localhost).
  const hasRegistry = slash !== -1 && (first.includes(".") || first.includes(":") || first === "localhost");
  const registry = hasRegistry ? first : "docker.io";
  const path = hasRegistry ? name.slice(slash + 1) : name;

  if (hasRegistry) checkRegistry(registry, bad, `${flag} ${quote(input)}`);

  for (const component of path.split("/")) {
    if (component !== component.toLowerCase()) {
      const lower = hasRegistry ? `${registry}/${path.toLowerCase()}` : path.toLowerCase();
      throw bad("has upper-case letters in its path", `image paths must be lower case, e.g. ${quote(lower)}`);
    }
    if (!PATH_COMPONENT.test(component)) {
      throw bad(`has an invalid path component ${quote(component)}`, "use lower-case letters, digits, and single separators (. _ __ -) between them");
    }
  }
  if (name.length > MAX_NAME_LENGTH) throw bad(`is ${name.length} characters long`, `shorten it to ${MAX_NAME_LENGTH} at most`);

  const fullPath = registry === "docker.io" && !path.includes("/") ? `library/${path}` : path;
  return { name, registry, path: fullPath };
}

function checkRegistry(registry: string, bad: (why: string, fix: string) => PacklineError, what: string): void {
  const portMatch = /^(.*?)(?::([^:\]]*))?$/.exec(registry)!;
  const host = IPV6.test(registry) ? registry : portMatch[1]!;
  const port = IPV6.test(registry) ? undefined : portMatch[2];
  if (hasNonAscii(host)) throw new PacklineError(nonAsciiHostMessage(what, host));
  if (!(DOMAIN_NAME.test(host) || IPV6.test(host))) {
    throw bad(`has an invalid registry host ${quote(host)}`, "use a host name such as registry.example.com");
  }
  if (port !== undefined) {
    const n = Number(port);
    if (!/^[0-9]+$/.test(port) || n < 1 || n > 65535) {
      throw bad(`has an invalid registry port ${quote(port)}`, "use a number from 1 to 65535, e.g. registry.example.com:5000");
    }
  }
}

/** The key under which a docker config.json holds this registry's credentials. */
export function authKeyFor(repository: ImageRepository): string {
  return repository.registry === "docker.io" ? DOCKER_HUB_AUTH_KEY : repository.registry;
}

/** A reference to the image under one tag. */
export function withTag(repository: ImageRepository, tag: string): string {
  return `${repository.name}:${tag}`;
}

const HOST_PORT = new RegExp(`^(${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::([0-9]{1,5}))?$`);

/** A registry host as --insecure-registry takes it: `host[:port]`, an IPv4 address, or `[IPv6][:port]`. */
export function parseRegistryHost(value: string, flag: string): string {
  const host = value.startsWith("[") ? value : value.replace(/:[0-9]*$/, "");
  if (hasNonAscii(host) && !host.includes("/")) throw new PacklineError(nonAsciiHostMessage(`${flag} ${quote(value)}`, host));
  const match = HOST_PORT.exec(value);
  const port = match?.[2];
  if (!match || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
    throw new PacklineError(`${flag} ${quote(value)} is not host[:port]: e.g. registry.local:5000 or [fd00::1]:5000.`);
  }
  return value;
}

/** A registry on the machine the command runs on: only that machine can reach it under this name. */
export function isLocalRegistry(registry: string): boolean {
  return loopbackHost(registry) !== undefined;
}

/**
 * The host of `registry` in its plain form if it names the machine itself, whatever the spelling: `localhost` in any
 * case, `localhost.localdomain` and `*.localhost`, 127.0.0.0/8 in any form a resolver takes (`127.1`, `0x7f.1`,
 * `2130706433`), `0.0.0.0`, and `::1`, `::` and `::ffff:127.x.y.z` however written (`[0:0:0:0:0:0:0:1]`).
 * Undefined for any other host. The forms are read as the WHATWG URL parser reads a host (as inet_aton does).
 */
export function loopbackHost(registry: string): string | undefined {
  const host = registry.startsWith("[") ? registry.slice(0, registry.indexOf("]") + 1) : registry.split(":")[0]!;
  let normal: string;
  try {
    normal = new URL(`http://${host}/`).hostname.replace(/\.$/, "");
  } catch {
    return undefined;
  }
  const ipv4 = /^([0-9]+)\.[0-9]+\.[0-9]+\.[0-9]+$/.exec(normal);
  if (ipv4) return ipv4[1] === "127" || normal === "0.0.0.0" ? normal : undefined;
  if (normal === "localhost" || normal === "localhost.localdomain" || normal.endsWith(".localhost")) return normal;
  if (normal === "[::1]" || normal === "[::]") return normal;
  if (/^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(normal)) return normal;
  return undefined;
}

/** The port of `host:port` (or `[v6]:port`), if any. */
export function registryPort(registry: string): number | undefined {
  const match = /:([0-9]+)$/.exec(registry.startsWith("[") ? registry.slice(registry.indexOf("]") + 1) : registry);
  return match ? Number(match[1]) : undefined;
}
