/**
 * A fake Dagger engine for tests: a tiny GraphQL-over-HTTP server that the REAL `@dagger.io/dagger` SDK talks to.
 *
 * Why: module and runner code must be tested through the real SDK (its query building, its lazy evaluation, its
 * error classes) without an engine. With `DAGGER_SESSION_PORT`/`DAGGER_SESSION_TOKEN` set, the SDK POSTs
 * `{"query": "..."}` to `http://127.0.0.1:$PORT/query` with `Authorization: Basic base64("$TOKEN:")`
 * (dist/src/common/graphql/connect.js, client.js). This server records every query, turns it into a flat chain of
 * steps, and answers the leaf with a configurable or default value, so tests assert on exactly what was sent.
 *
 * What the SDK sends (dist/src/common/graphql/compute_query.js), and thus what this fake relies on:
 * - one POST per awaited leaf (`sync`, `stdout`, `contents`, `exitCode`, `digest`, `commit`, `id`, ...): a single
 *   nested path such as `{ container { from (address: "alpine") { withExec (args: ["ls"]) { stdout } } } }`. No
 *   batching, no variables: arguments are inlined (JSON with unquoted keys; enums bare, e.g. `expect: ANY`).
 * - before that, one extra POST per object argument (CacheVolume, Secret, Directory, Service...) asking for its
 *   `id`; the returned string is then inlined as the argument. So ids must be resolvable for tests to see what a
 *   mount, a secret or a service binding is: {@link FakeEngine.resolveId} and {@link FakeEngine.expand} do that.
 * - objects returned by `sync()` (and list items) are re-entered with `node(id: "...") { ... on Container { ... } }`.
 *
 * Usage:
 *   await withFakeEngine({ answers: [answerFile("/layers/report.toml", toml)] }, async (engine) => {
 *     await runPlan(plan, inputs)                    // code using the global `dag`
 *     expect(engine.find("withExec").map((s) => s.args.args)).toEqual([[...]])
 *   })
 * Code that opens its own SDK connection (the CLI's `connection()`) runs inside {@link withFakeEngineEnv} instead.
 */

import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { connection } from "@dagger.io/dagger";
import type { DocumentNode, SelectionNode, SelectionSetNode, ValueNode } from "graphql";

// `graphql` is a dependency of the SDK, not of this project: resolve it from the SDK's location so the fake parses
// with the same library version the SDK ships with, whatever the hoisting.
const requireFromSdk = createRequire(createRequire(import.meta.url).resolve("@dagger.io/dagger"));
const graphql = requireFromSdk("graphql") as typeof import("graphql");

/** One field selection of a query, e.g. `{ field: "from", args: { address: "alpine" } }`. */
export interface Step {
  field: string;
  /** Arguments as JS values (enums arrive as their names, object arguments as id strings). */
  args: Record<string, unknown>;
  /** Type condition of an inline fragment right under this field (`node(id:) { ... on Container { } }`). */
  on?: string;
}

/** A query as a flat path from the root to the leaf. */
export type Chain = Step[];

/** A step with every id argument replaced by `{ ref: <the expanded chain it stands for> }`, recursively. */
export interface Expanded {
  field: string;
  args: Record<string, unknown>;
}

export interface RecordedQuery {
  /** 0-based arrival order. */
  n: number;
  /** The GraphQL text exactly as received. */
  text: string;
  variables: Record<string, unknown> | undefined;
  /** The path as sent (may start with `node(id:)`). Empty if the query could not be parsed. */
  chain: Chain;
  /** The same path with a leading `node(id:)`/`loadXFromID(id:)` replaced by the chain that id stands for. */
  resolved: Chain;
  /** The last step of `resolved` (the field that was answered). */
  leaf: Step;
  /** What the fake answered: a value, or the GraphQL error. */
  result: { data: unknown } | { error: { message: string; extensions?: Record<string, unknown> } };
}

/** A GraphQL error to answer instead of a value (see {@link graphqlError}, {@link execError}). */
export class FakeGraphQLError {
  constructor(
    readonly message: string,
    readonly extensions?: Record<string, unknown>,
  ) {}
}

/** Makes the leaf fail with a plain GraphQL error: the SDK raises `GraphQLRequestError`. */
export function graphqlError(message: string, extensions?: Record<string, unknown>): FakeGraphQLError {
  return new FakeGraphQLError(message, extensions);
}

/**
 * Makes the leaf fail like a failed `withExec`: the SDK raises `ExecError` with these fields. The shape mirrors
 * dagger v0.21.8 core/exec_error.go (`extensions: {_type: "EXEC_ERROR", cmd, exitCode, stdout, stderr}`) and the
 * buildkit message format.
 */
export function execError(opts: { cmd: string[]; exitCode?: number; stdout?: string; stderr?: string }): FakeGraphQLError {
  const exitCode = opts.exitCode ?? 1;
  return new FakeGraphQLError(`process "${opts.cmd.join(" ")}" did not complete successfully: exit code: ${exitCode}`, {
    _type: "EXEC_ERROR",
    cmd: opts.cmd,
    exitCode,
    stdout: opts.stdout ?? "",
    stderr: opts.stderr ?? "",
  });
}

/** What an answer function sees about the leaf being answered. */
export interface LeafContext {
  /** Leaf field name (`contents`, `stdout`, `envVariable`, ...). */
  field: string;
  /** Leaf arguments. */
  args: Record<string, unknown>;
  /** Resolved chain including the leaf. */
  chain: Chain;
  /** Resolved chain without the leaf: the object the leaf is read from. */
  parent: Chain;
  /** Last step named `field` before the leaf (e.g. `last("file")?.args.path`). */
  last(field: string): Step | undefined;
  engine: FakeEngine;
}

/**
 * Answers a leaf, or returns `undefined` to let the next answer (then the defaults) decide. May return any JSON
 * value (including `null`) or a {@link FakeGraphQLError}, or a promise of one (an answer that waits, e.g. for another
 * query to arrive).
 */
export type Answer = (leaf: LeafContext) => unknown;

export interface FakeEngineOptions {
  /** Tried in order before the defaults. More can be added later with `engine.answer(...)`. */
  answers?: Answer[];
}

export interface FakeEngine {
  /** `DAGGER_SESSION_PORT` and `DAGGER_SESSION_TOKEN` pointing at this server. */
  env: { DAGGER_SESSION_PORT: string; DAGGER_SESSION_TOKEN: string };
  /** Every query received, in order (including the `id` look-ups for object arguments). */
  queries: RecordedQuery[];
  /** Adds answers, tried before the ones given at start (latest first). */
  answer(...answers: Answer[]): void;
  /** The resolved chain of every query. */
  chains(): Chain[];
  /**
   * Every distinct step named `field` across all queries. A step seen in several queries (same position in the same
   * pipeline, e.g. a `withExec` read by both `exitCode` and `stderr`) is reported once.
   */
  find(field: string): Step[];
  /** Queries whose leaf is `field` (e.g. `leaves("exitCode")`). */
  leaves(field: string): RecordedQuery[];
  /** The chain an id returned by this fake stands for (e.g. `[{field:"cacheVolume",args:{key:"k"}}]`). Throws if unknown. */
  resolveId(id: string): Chain;
  /** Whether `value` is an id issued by this fake. */
  isId(value: unknown): value is string;
  /** The chain with every id argument replaced by `{ ref: [...] }` (the chain it stands for, expanded too). */
  expand(chain: Chain): Expanded[];
  /**
   * Readable one-line form of a chain with ids expanded in place, e.g.
   * `container.from(address: "alpine").withMountedCache(path: "/c", cache: <cacheVolume(key: "k")>)`.
   */
  render(chain: Chain): string;
  /** Stops the server. */
  close(): Promise<void>;
}

const ID_PREFIX = "fakeid:";

/** Starts the fake on 127.0.0.1 with a random port and a random token. */
export async function startFakeEngine(opts: FakeEngineOptions = {}): Promise<FakeEngine> {
  const token = randomBytes(16).toString("hex");
  const expectedAuth = `Basic ${Buffer.from(`${token}:`).toString("base64")}`;
  const answers: Answer[] = [...(opts.answers ?? [])];
  const queries: RecordedQuery[] = [];
  // Ids are content-addressed like the real engine's: the same chain always gets the same id.
  const idToChain = new Map<string, Chain>();
  const keyToId = new Map<string, string>();

  const idFor = (chain: Chain): string => {
    const clean = chain.map(stripOn);
    const key = JSON.stringify(clean);
    let id = keyToId.get(key);
    if (id === undefined) {
      // Readable on purpose: the last field says what the id is, the number makes it unique.
      id = `${ID_PREFIX}${idToChain.size + 1}:${clean.at(-1)?.field ?? "query"}`;
      keyToId.set(key, id);
      idToChain.set(id, clean);
    }
    return id;
  };

  const engine: FakeEngine = {
    env: { DAGGER_SESSION_PORT: "", DAGGER_SESSION_TOKEN: token },
    queries,
    answer: (...more) => answers.unshift(...more),
    chains: () => queries.map((q) => q.resolved),
    find: (field) => {
      const seen = new Set<string>();
      const out: Step[] = [];
      for (const q of queries) {
        q.resolved.forEach((step, i) => {
          if (step.field !== field) return;
          const key = JSON.stringify(q.resolved.slice(0, i + 1));
          if (seen.has(key)) return;
          seen.add(key);
          out.push(step);
        });
      }
      return out;
    },
    leaves: (field) => queries.filter((q) => q.leaf.field === field),
    resolveId: (id) => {
      const chain = idToChain.get(id);
      if (!chain) throw new Error(`fake engine: unknown id ${JSON.stringify(id)}`);
      return chain;
    },
    isId: (value): value is string => typeof value === "string" && idToChain.has(value),
    expand: (chain) => expandChain(chain, engine),
    render: (chain) => renderChain(chain, engine),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };

  /** Replaces a `node(id:)` / `loadXFromID(id:)` step by the chain of its id. */
  const resolveChain = (chain: Chain): Chain => {
    const out: Chain = [];
    for (const step of chain) {
      const isLoad = step.field === "node" || /^load\w+FromID$/.test(step.field);
      if (isLoad && typeof step.args.id === "string") {
        out.splice(0, out.length, ...engine.resolveId(step.args.id));
      } else {
        out.push(stripOn(step));
      }
    }
    return out;
  };

  const answerLeaf = (chain: Chain): unknown => {
    const leaf = chain[chain.length - 1]!;
    const parent = chain.slice(0, -1);
    const ctx: LeafContext = {
      field: leaf.field,
      args: leaf.args,
      chain,
      parent,
      last: (field) => [...parent].reverse().find((s) => s.field === field),
      engine,
    };
    for (const answer of answers) {
      const value = answer(ctx);
      if (value !== undefined) return value;
    }
    return defaultAnswer(ctx, idFor);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== "POST" || req.url !== "/query") return send(res, 404, { errors: [{ message: "not found" }] });
    // The SDK always sends the session token; a mismatch means the env wiring is wrong, so fail loudly.
    if (req.headers.authorization !== expectedAuth) return send(res, 401, { errors: [{ message: "bad session token" }] });
    const body = JSON.parse(await readBody(req)) as { query: string; variables?: Record<string, unknown> };
    const record: RecordedQuery = {
      n: queries.length,
      text: body.query,
      variables: body.variables,
      chain: [],
      resolved: [],
      leaf: { field: "", args: {} },
      result: { data: null },
    };
    queries.push(record);
    try {
      const { chain, keys } = parseChain(graphql.parse(body.query), body.variables);
      record.chain = chain;
      record.resolved = resolveChain(chain);
      record.leaf = record.resolved[record.resolved.length - 1] ?? { field: "", args: {} };
      const value = await answerLeaf(record.resolved);
      if (value instanceof FakeGraphQLError) throw value;
      record.result = { data: value };
      // Rebuild the nesting the SDK expects (it flattens single-key objects down to the leaf).
      const data = keys.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);
      send(res, 200, { data });
    } catch (e) {
      const err = e instanceof FakeGraphQLError ? e : new FakeGraphQLError(e instanceof Error ? e.message : String(e));
      record.result = { error: { message: err.message, extensions: err.extensions } };
      const path = record.chain.map((s) => s.field);
      send(res, 200, { data: null, errors: [{ message: err.message, path, extensions: err.extensions }] });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => send(res, 500, { errors: [{ message: String(e) }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  engine.env.DAGGER_SESSION_PORT = String((server.address() as AddressInfo).port);
  return engine;
}

/**
 * Runs `fn` with the SDK's global client (`dag`) connected to a fresh fake engine, then restores the environment
 * and stops the fake. Uses the SDK's own `connection()`, the same entry point `dagger call` uses, so code importing
 * `dag` from `@dagger.io/dagger` talks to the fake. Not re-entrant: `dag` and `process.env` are global.
 */
export async function withFakeEngine<T>(fn: (engine: FakeEngine) => Promise<T>): Promise<T>;
export async function withFakeEngine<T>(opts: FakeEngineOptions, fn: (engine: FakeEngine) => Promise<T>): Promise<T>;
export async function withFakeEngine<T>(
  a: FakeEngineOptions | ((engine: FakeEngine) => Promise<T>),
  b?: (engine: FakeEngine) => Promise<T>,
): Promise<T> {
  const [opts, fn] = typeof a === "function" ? [{}, a] : [a, b!];
  return withFakeEngineEnv(opts, async (engine) => {
    let result: T | undefined;
    await connection(async () => {
      result = await fn(engine);
    });
    return result as T;
  });
}

/**
 * Runs `fn` with `DAGGER_SESSION_PORT`/`DAGGER_SESSION_TOKEN` pointing at a fresh fake engine but no connection
 * opened: for code that opens its own (`connection()` in the CLI) or for a child process given `engine.env`.
 */
export async function withFakeEngineEnv<T>(opts: FakeEngineOptions, fn: (engine: FakeEngine) => Promise<T>): Promise<T> {
  const engine = await startFakeEngine(opts);
  const saved = { port: process.env.DAGGER_SESSION_PORT, token: process.env.DAGGER_SESSION_TOKEN };
  Object.assign(process.env, engine.env);
  try {
    return await fn(engine);
  } finally {
    restoreEnv("DAGGER_SESSION_PORT", saved.port);
    restoreEnv("DAGGER_SESSION_TOKEN", saved.token);
    await engine.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Ready-made answers for the common cases.

/** Matches a `withExec`'s args: a predicate, or a string/RegExp tested against the args joined by spaces. */
export type ExecMatch = string | RegExp | ((args: string[]) => boolean);

function execMatches(match: ExecMatch, args: unknown): boolean {
  if (!Array.isArray(args)) return false;
  const argv = args.map(String);
  return typeof match === "function" ? match(argv) : matches(match, argv.join(" "));
}

/**
 * `contents` of a file read with `.file(path)` (from a Container or Directory). `path` may be a RegExp. With
 * `after`, only for a container whose last `withExec` matches (two steps may write files at the same path).
 */
export function answerFile(path: string | RegExp, contents: string | FakeGraphQLError, opts: { after?: ExecMatch } = {}): Answer {
  return (q) => {
    if (q.field !== "contents") return undefined;
    const p = q.last("file")?.args.path;
    if (typeof p !== "string" || !matches(path, p)) return undefined;
    if (opts.after !== undefined && !execMatches(opts.after, q.last("withExec")?.args.args)) return undefined;
    return contents;
  };
}

/** `envVariable(name)` of a container, e.g. `answerEnv("CNB_USER_ID", "1001")`. */
export function answerEnv(name: string, value: string | null): Answer {
  return (q) => (q.field === "envVariable" && q.args.name === name ? value : undefined);
}

/**
 * Outcome of a `withExec` whose args satisfy `match`.
 * - An exec sent with `expect: ANY` never fails: its `exitCode`, `stdout`, `stderr` and `combinedOutput` leaves get
 *   the given values (exit code 0 by default), and reading files after it works, as on a real engine.
 * - An exec sent without it (the SDK's default, `expect: SUCCESS`) and a non-zero `exitCode` makes every evaluating
 *   leaf of a chain containing it fail with an ExecError; with exit code 0 its output leaves get the given values.
 */
export function answerExec(match: ExecMatch, result: { stdout?: string; stderr?: string; exitCode?: number }): Answer {
  return (q) => {
    const failing = (result.exitCode ?? 0) !== 0;
    if (failing && q.field !== "id") {
      const exec = q.parent.find((s) => s.field === "withExec" && s.args.expect !== "ANY" && execMatches(match, s.args.args));
      if (exec) return execError({ cmd: (exec.args.args as unknown[]).map(String), ...result });
    }
    const last = q.parent.at(-1);
    if (last?.field !== "withExec" || !execMatches(match, last.args.args)) return undefined;
    if (q.field === "stdout") return result.stdout ?? "";
    if (q.field === "stderr") return result.stderr ?? "";
    if (q.field === "combinedOutput") return (result.stdout ?? "") + (result.stderr ?? "");
    if (q.field === "exitCode") return result.exitCode ?? 0;
    return undefined;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Internals.

/** Defaults for leaves no answer claimed. Unknown leaves fail with a message saying what to configure. */
function defaultAnswer(q: LeafContext, idFor: (chain: Chain) => string): unknown {
  switch (q.field) {
    case "id":
    case "sync": // the engine answers `sync` with the id of the evaluated object
      return idFor(q.parent);
    case "publish":
      return `${String(q.args.address)}@sha256:${digest(q.parent)}`;
    case "contents":
    case "stdout":
    case "stderr":
    case "combinedOutput":
      return "";
    case "plaintext": {
      // A secret made by setSecret reads back its plaintext, like the engine.
      const set = q.last("setSecret");
      return typeof set?.args.plaintext === "string" ? set.args.plaintext : "";
    }
    case "envVariable":
      return null; // unset variable
    case "exitCode":
      return 0;
    case "exists":
      return true;
    case "entries":
    case "glob":
      return [];
    case "export":
      return q.args.path ?? null; // Container/Directory/File.export answer the path written
    case "digest": // Directory.digest, File.digest: content-addressed, so the same chain gives the same digest
      return `sha256:${digest(q.parent)}`;
    case "commit": // GitRef.commit: the commit a ref resolves to, stable per repository and ref
      return digest(q.parent).slice(0, 40);
    case "version":
      return "v0.21.9";
    case "platform":
      return "linux/amd64";
    default:
      throw new FakeGraphQLError(
        `fake engine: no answer for leaf "${q.field}" of ${q.parent.map((s) => s.field).join(".")}; ` +
          "add one with startFakeEngine({ answers }) or engine.answer()",
      );
  }
}

/** Walks a single-path selection set into steps and the response keys (aliases) to nest the answer under. */
function parseChain(doc: DocumentNode, variables: Record<string, unknown> | undefined): { chain: Chain; keys: string[] } {
  const op = doc.definitions.find((d) => d.kind === graphql.Kind.OPERATION_DEFINITION);
  if (!op || op.kind !== graphql.Kind.OPERATION_DEFINITION) throw new Error("fake engine: no operation in query");
  const chain: Chain = [];
  const keys: string[] = [];
  let set: SelectionSetNode | undefined = op.selectionSet;
  while (set) {
    // The SDK only ever selects one path; anything else means the fake would answer wrongly, so refuse.
    if (set.selections.length !== 1) throw new Error("fake engine: only single-path queries are supported");
    const sel: SelectionNode = set.selections[0]!;
    if (sel.kind === graphql.Kind.INLINE_FRAGMENT) {
      const prev = chain[chain.length - 1];
      if (prev && sel.typeCondition) prev.on = sel.typeCondition.name.value;
      set = sel.selectionSet;
    } else if (sel.kind === graphql.Kind.FIELD) {
      const args: Record<string, unknown> = {};
      for (const a of sel.arguments ?? []) args[a.name.value] = argValue(a.value, variables);
      chain.push({ field: sel.name.value, args });
      keys.push(sel.alias?.value ?? sel.name.value);
      set = sel.selectionSet;
    } else {
      throw new Error("fake engine: fragment spreads are not supported");
    }
  }
  return { chain, keys };
}

function argValue(node: ValueNode, variables: Record<string, unknown> | undefined): unknown {
  return graphql.valueFromASTUntyped(node, variables ?? undefined);
}

function expandChain(chain: Chain, engine: FakeEngine): Expanded[] {
  const value = (v: unknown): unknown => {
    if (engine.isId(v)) return { ref: expandChain(engine.resolveId(v), engine) };
    if (Array.isArray(v)) return v.map(value);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, value(x)]));
    return v;
  };
  return chain.map((s) => ({ field: s.field, args: Object.fromEntries(Object.entries(s.args).map(([k, v]) => [k, value(v)])) }));
}

function renderChain(chain: Chain, engine: FakeEngine): string {
  const value = (v: unknown): string => {
    if (engine.isId(v)) return `<${renderChain(engine.resolveId(v), engine)}>`;
    if (Array.isArray(v)) return `[${v.map(value).join(", ")}]`;
    if (v && typeof v === "object")
      return `{${Object.entries(v)
        .map(([k, x]) => `${k}: ${value(x)}`)
        .join(", ")}}`;
    return JSON.stringify(v);
  };
  return chain
    .map((s) => {
      const args = Object.entries(s.args).map(([k, v]) => `${k}: ${value(v)}`);
      return args.length ? `${s.field}(${args.join(", ")})` : s.field;
    })
    .join(".");
}

function stripOn(step: Step): Step {
  return { field: step.field, args: step.args };
}

function digest(chain: Chain): string {
  return createHash("sha256").update(JSON.stringify(chain)).digest("hex");
}

function matches(pattern: string | RegExp, value: string): boolean {
  return typeof pattern === "string" ? pattern === value : pattern.test(value);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
