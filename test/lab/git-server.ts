/**
 * The lab's git server: git's smart HTTP protocol, served by `git http-backend` (git's own CGI program) behind this
 * small HTTP server, so clones behave exactly as against a real forge (protocol v2, shallow fetches, auth prompts).
 *
 *   node --import tsx test/lab/git-server.ts --listen 10.123.0.1:8080 --root <dir> --token-file <file>
 *
 * Repositories are the bare repositories under --root (lab.sh git-publish makes them). Paths under /private/ need
 * HTTP Basic auth with user "git" and the token in --token-file; every other path is public. The server is read-only:
 * pushes are refused (http.receivepack=false), whoever asks. GET /healthz answers "ok" (lab.sh waits for it).
 */
import { spawn } from "node:child_process";
import { timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

const USER = "git";
const REALM = "packline lab git";

function option(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  if (!value) {
    console.error(`git-server: --${name} is required (usage: git-server.ts --listen HOST:PORT --root DIR --token-file FILE)`);
    process.exit(2);
  }
  return value;
}

const listen = option("listen");
const root = option("root");
const token = readFileSync(option("token-file"), "utf8").trim();
if (!token) throw new Error("git-server: the token file is empty");
const colon = listen.lastIndexOf(":");
const host = listen.slice(0, colon);
const port = Number(listen.slice(colon + 1));

function authorized(req: IncomingMessage): boolean {
  const header = req.headers.authorization ?? "";
  if (!header.startsWith("Basic ")) return false;
  const expected = Buffer.from(`${USER}:${token}`, "utf8");
  const given = Buffer.from(header.slice("Basic ".length), "base64");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers });
  res.end(body);
}

/** Runs git http-backend for one request (RFC 3875 CGI): request body to its stdin, its headers and body back. */
function cgi(req: IncomingMessage, res: ServerResponse, path: string, query: string, user: string | undefined): void {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(", ") : (value ?? "");
  };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_PROJECT_ROOT: root,
    // every repository under the root is served, without a git-daemon-export-ok file in each
    GIT_HTTP_EXPORT_ALL: "1",
    // read-only, even for an authenticated user (http-backend enables receive-pack when REMOTE_USER is set)
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "http.receivepack",
    GIT_CONFIG_VALUE_0: "false",
    GATEWAY_INTERFACE: "CGI/1.1",
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REQUEST_METHOD: req.method ?? "GET",
    PATH_INFO: path,
    QUERY_STRING: query,
    CONTENT_TYPE: header("content-type"),
    REMOTE_ADDR: req.socket.remoteAddress ?? "",
    // protocol v2 is asked for in this header; gzip request bodies are announced in Content-Encoding
    GIT_PROTOCOL: header("git-protocol"),
    HTTP_CONTENT_ENCODING: header("content-encoding"),
  };
  if (req.headers["content-length"] !== undefined) env.CONTENT_LENGTH = header("content-length");
  if (user) env.REMOTE_USER = user;

  const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.on("error", (err) => {
    if (!res.headersSent) send(res, 500, `git http-backend: ${err.message}\n`);
    else res.destroy(err);
  });
  req.pipe(child.stdin);
  child.stdin.on("error", () => undefined); // the backend may answer (and exit) before reading the whole body

  // The CGI response: header lines up to an empty line ("Status: 404 Not Found" sets the status), then the body.
  let head = Buffer.alloc(0);
  let status = 0;
  const onData = (chunk: Buffer) => {
    if (status) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const text = head.toString("latin1");
    const end = text.search(/\r?\n\r?\n/);
    if (end < 0) return;
    const headers: Record<string, string> = {};
    status = 200;
    for (const line of text.slice(0, end).split(/\r?\n/)) {
      const sep = line.indexOf(":");
      if (sep <= 0) continue;
      const name = line.slice(0, sep).trim();
      const value = line.slice(sep + 1).trim();
      if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500;
      else headers[name] = value;
    }
    res.writeHead(status, headers);
    const bodyStart = end + (text.slice(end).match(/^\r?\n\r?\n/)?.[0].length ?? 2);
    if (bodyStart < head.length) res.write(head.subarray(bodyStart));
  };
  child.stdout.on("data", onData);
  child.on("close", (code) => {
    if (!status) send(res, 502, `git http-backend exited ${code} without a response\n${stderr}`);
    else res.end();
    console.log(
      `${req.method} ${path}${query ? `?${query}` : ""} ${status || 502}${user ? ` (${user})` : ""}${code ? ` exit ${code}: ${stderr.trim()}` : ""}`,
    );
  });
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://lab");
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return send(res, 400, "bad path\n");
  }
  if (path === "/healthz") return send(res, 200, "ok\n");
  if (path.split("/").some((segment) => segment === "..")) return send(res, 400, "bad path\n");
  let user: string | undefined;
  if (path.startsWith("/private/")) {
    if (!authorized(req)) {
      console.log(`${req.method} ${path} 401`);
      return send(res, 401, "authentication required\n", { "www-authenticate": `Basic realm="${REALM}"` });
    }
    user = USER;
  }
  cgi(req, res, path, url.search.slice(1), user);
});

server.listen(port, host, () => console.log(`git-server: serving ${root} on http://${host}:${port}/ (/private/ needs Basic auth as ${USER})`));
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2_000).unref(); // a client holding a connection open does not keep it alive
  });
}
