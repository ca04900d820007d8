/**
 * Where a cluster build's time goes, for bench:cluster: a watch on a namespace's pods and workflows that notes, in
 * milliseconds of this process's clock, when each change was first seen: the pod made (the controller's first round),
 * scheduled, each init container running and done, the main and wait containers done, the pod finished, and each
 * time the controller wrote the workflow (its rounds, `DEFAULT_REQUEUE_TIME` apart). Kubernetes' own timestamps are
 * whole seconds, and the kubelet notices a container's exit on its next relist (about a second apart): these are
 * times as a watcher sees them, which is what the next container and the controller see too.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { clusterInfo, inLabNetwork, LAB_STATE } from "./cluster.js";

interface ContainerState {
  readonly name: string;
  readonly state?: { running?: unknown; terminated?: { exitCode?: number } };
}

interface WatchedPod {
  readonly metadata: { name: string; labels?: Record<string, string> };
  readonly spec?: { nodeName?: string };
  readonly status?: { phase?: string; initContainerStatuses?: ContainerState[]; containerStatuses?: ContainerState[] };
}

interface WatchedWorkflow {
  readonly metadata: { name: string; resourceVersion?: string };
  readonly status?: { phase?: string };
}

/** One thing seen, and when (ms since the timeline's start). */
export interface Mark {
  readonly what: string;
  readonly at: number;
}

/** Splits a stream of concatenated JSON objects (what `kubectl get -w -o json` prints) into objects. */
export class JsonStream {
  private buffer = "";
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;

  constructor(private readonly onObject: (value: unknown) => void) {}

  push(chunk: string): void {
    const from = this.buffer.length;
    this.buffer += chunk;
    for (let i = from; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === "\\") this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') this.inString = true;
      else if (c === "{") {
        if (this.depth++ === 0) this.start = i;
      } else if (c === "}" && --this.depth === 0) {
        this.onObject(JSON.parse(this.buffer.slice(this.start, i + 1)));
        this.buffer = this.buffer.slice(i + 1);
        i = -1;
      }
    }
  }
}

/** The milestones one watch event shows of a pod (each is kept the first time it is seen). */
export function podMarks(pod: WatchedPod): string[] {
  const marks = ["pod created"];
  if (pod.spec?.nodeName) marks.push("pod scheduled");
  const containers = (list: ContainerState[] | undefined, kind: string) => {
    for (const c of list ?? []) {
      if (c.state?.running || c.state?.terminated) marks.push(`${kind} ${c.name} started`);
      if (c.state?.terminated) marks.push(`${kind} ${c.name} done`);
    }
  };
  containers(pod.status?.initContainerStatuses, "init");
  containers(pod.status?.containerStatuses, "container");
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") marks.push(`pod ${phase}`);
  return marks;
}

/** Runs kubectl with the cluster admin's kubeconfig, in the lab's network namespace, streaming its output. */
function kubectlStream(args: readonly string[]): ChildProcess {
  const info = clusterInfo();
  let argv = [join(info.bin, "kubectl"), "--kubeconfig", info.kubeconfig, ...args];
  if (!inLabNetwork()) argv = ["nsenter", "-t", readFileSync(join(LAB_STATE, "lab.pid"), "utf8").trim(), "-n", "--", ...argv];
  if (!existsSync(argv[0]!) && argv[0] !== "nsenter") throw new Error(`${argv[0]} is missing`);
  return spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
}

/** Watches a namespace's pods and workflows from now on (changes only); `stop()` ends the watch. */
export class Timeline {
  private readonly events: { at: number; resource: string; object: WatchedPod & WatchedWorkflow }[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly t0 = Date.now();

  constructor(namespace: string) {
    for (const resource of ["pods", "workflows.argoproj.io"]) {
      const child = kubectlStream(["-n", namespace, "get", resource, "--watch-only", "--output-watch-events", "-o", "json"]);
      const stream = new JsonStream((event) => {
        const object = (event as { object?: WatchedPod & WatchedWorkflow }).object;
        if (object?.metadata) this.events.push({ at: this.now(), resource, object });
      });
      child.stdout?.setEncoding("utf8").on("data", (d: string) => stream.push(d));
      this.children.push(child);
    }
  }

  /** Ms since the timeline started, for marks of the caller's own (the submit, the CLI's return). */
  now(): number {
    return Date.now() - this.t0;
  }

  /** What was seen of one workflow and its pods, each milestone the first time it was seen. */
  marksOf(workflow: string): Mark[] {
    const marks: Mark[] = [];
    const seen = new Set<string>();
    const mark = (what: string, at: number) => {
      if (seen.has(what)) return;
      seen.add(what);
      marks.push({ what, at });
    };
    const versions = new Set<string>();
    for (const { at, resource, object } of this.events) {
      if (resource === "pods") {
        if (object.metadata.labels?.["workflows.argoproj.io/workflow"] !== workflow) continue;
        // Two pods (the builder-user pod first) are told apart by their template's name.
        const prefix = object.metadata.name.includes("builder-user") ? "user pod: " : "";
        for (const m of podMarks(object)) mark(prefix + m, at);
        continue;
      }
      if (object.metadata.name !== workflow) continue;
      const version = object.metadata.resourceVersion ?? "";
      if (versions.has(version)) continue;
      // Every write of the workflow is one round of the controller (the first is the submit itself).
      mark(versions.size === 0 ? "workflow created" : `workflow written (${versions.size}): ${object.status?.phase ?? "no phase"}`, at);
      versions.add(version);
    }
    return marks;
  }

  /** Waits until the workflow's end has been seen (the watch may lag the CLI a little), at most `ms`. */
  async settle(workflow: string, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    const done = () => this.marksOf(workflow).some((m) => /: (Succeeded|Failed|Error)$/.test(m.what));
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  }

  stop(): void {
    for (const c of this.children) c.kill("SIGTERM");
  }
}

/**
 * The marks as consecutive segments (each mark minus the one before, in the order seen), one line each:
 * `+1.234 s  init build done (at 9.876 s)`.
 */
export function segments(marks: readonly Mark[], start = 0): { what: string; seconds: number; at: number }[] {
  const sorted = [...marks].sort((a, b) => a.at - b.at);
  let previous = start;
  return sorted.map((m) => {
    const s = { what: m.what, seconds: (m.at - previous) / 1000, at: (m.at - start) / 1000 };
    previous = m.at;
    return s;
  });
}
