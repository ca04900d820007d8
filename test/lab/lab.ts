/**
 * The lab (test/lab/lab.sh) as the real-component suites see it: `$PACKLINE_LAB_STATE/lab.json`, typed, plus the few
 * checks and calls every suite needs. Not a test file; test/lab/README.md documents each field.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const LAB_DIR = dirname(fileURLToPath(import.meta.url));
export const LAB_SH = join(LAB_DIR, "lab.sh");

export interface LabImage {
  /** Where the lab serves it: `10.123.0.1:5001/<upstream path>:<tag>`. */
  readonly ref: string;
  readonly digest: string;
  /** The upstream name it stands in for (a mirror of that registry serves it unchanged); "" for test-only images. */
  readonly upstream: string;
  /** The OCI layout in the cache it was pushed from. */
  readonly layout: string;
}

export interface LabRepo {
  readonly url: string;
  readonly tag: string;
  readonly commit: string;
}

export interface Lab {
  readonly schema: 1;
  /** Host pid of the lab's PID 1: `nsenter -t <pid> -n` enters its network namespace. */
  readonly pid: number;
  readonly unsharePid: number;
  /** 10.123.0.1: on the lab's lo; every service binds to it. */
  readonly address: string;
  readonly stateDir: string;
  readonly cacheDir: string;
  readonly labSh: string;
  readonly logDir: string;
  readonly cgroup: string;
  readonly registries: {
    /** 10.123.0.1:5000, htpasswd: where packline publishes. */
    readonly apps: {
      readonly address: string;
      readonly username: string;
      readonly passwordFile: string;
      readonly service: string;
      readonly config: string;
      readonly storage: string;
    };
    /** 10.123.0.1:5001, anonymous read-write: every test image under its upstream path. */
    readonly images: {
      readonly address: string;
      readonly anonymous: true;
      readonly service: string;
      readonly config: string;
      readonly storage: string;
      readonly mirrorOf: readonly string[];
    };
  };
  /** Both registries speak plain HTTP: give these to packline as `insecureRegistries`. */
  readonly insecureRegistries: readonly string[];
  /** A DOCKER_CONFIG directory whose config.json holds the apps registry's login. */
  readonly dockerConfigDir: string;
  /** The lab's dockerd (started by `lab.sh docker-up`; not running otherwise). */
  readonly docker: { readonly host: string; readonly bin: string; readonly service: string; readonly dataRoot: string };
  readonly git: {
    readonly url: string;
    readonly root: string;
    readonly service: string;
    readonly username: string;
    readonly tokenFile: string;
    readonly privatePrefix: string;
    readonly repos: { readonly fixture: LabRepo; readonly fixturePrivate: LabRepo; readonly depsFixture: LabRepo };
  };
  readonly files: { readonly url: string; readonly root: string; readonly service: string; readonly deps: string };
  readonly images: {
    readonly busybox: LabImage;
    readonly registry: LabImage;
    readonly crane: LabImage;
    readonly craneDebug: LabImage;
    readonly git: LabImage;
    readonly run: LabImage;
    readonly build: LabImage;
    readonly builder: LabImage;
  };
  readonly cnb: { readonly uid: number; readonly gid: number; readonly stackId: string };
  readonly buildpacks: readonly { readonly id: string; readonly version: string; readonly dir: string }[];
  readonly fixtures: { readonly static: string; readonly deps: string };
  readonly tools: { readonly crane: string; readonly pack: string; readonly lifecycleDir: string; readonly packHome: string };
  readonly versions: {
    readonly lifecycle: string;
    readonly pack: string;
    readonly crane: string;
    readonly platformApis: readonly string[];
    readonly buildpackApis: readonly string[];
    readonly busybox: string;
    readonly git: string;
    readonly dockerRegistry: string;
    readonly docker: string;
    readonly node: string;
  };
}

export function labStateDir(): string {
  return process.env.PACKLINE_LAB_STATE ?? "/var/lib/packline-lab";
}

export function labJsonPath(): string {
  return join(labStateDir(), "lab.json");
}

let cached: Lab | undefined;

/** Reads lab.json (once). Throws, saying how to start the lab, when there is none. */
export function readLab(): Lab {
  if (cached) return cached;
  const file = labJsonPath();
  if (!existsSync(file)) throw new Error(`${file} is missing: no lab is up (test/lab/lab.sh up, or test/lab/run.sh <suite>)`);
  cached = JSON.parse(readFileSync(file, "utf8")) as Lab;
  return cached;
}

/**
 * True when the lab's PID 1 is alive: the pid lab.json names exists and is in another pid namespace than this process
 * (a recycled pid would be in ours).
 */
export function labRunning(lab: Lab = readLab()): boolean {
  try {
    return readlinkSync(`/proc/${lab.pid}/ns/pid`) !== readlinkSync("/proc/self/ns/pid");
  } catch {
    return false;
  }
}

/** True when this process runs in the lab's network namespace (test/lab/run.sh puts vitest there). */
export function inLabNetwork(lab: Lab = readLab()): boolean {
  try {
    return readlinkSync("/proc/self/ns/net") === readlinkSync(`/proc/${lab.pid}/ns/net`);
  } catch {
    return false;
  }
}

export function registryPassword(lab: Lab = readLab()): string {
  return readFileSync(lab.registries.apps.passwordFile, "utf8").trim();
}

export function gitToken(lab: Lab = readLab()): string {
  return readFileSync(lab.git.tokenFile, "utf8").trim();
}

/** Runs `lab.sh <args>` (e.g. ["stop", "registry-apps"]); throws with its output when it fails. */
export function labSh(args: readonly string[]): string {
  const result = spawnSync("bash", [LAB_SH, ...args], { encoding: "utf8", env: process.env });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`lab.sh ${args.join(" ")} exited ${result.status}\n${result.stdout}${result.stderr}`);
  return result.stdout;
}
