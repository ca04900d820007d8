/**
 * A git server that fails on purpose, for the cluster's retry tests: an HTTP proxy in front of the lab's git server,
 * listening on the lab's address (which the pods reach), that answers the first `failFirst` requests with `status`
 * (then passes every request through), or every request when `failFirst` is Infinity. It counts the requests, so a
 * test can tell a retried fetch from one that never came back.
 */
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { LAB_ADDRESS } from "./cluster.js";

export interface FaultyGit {
  /** The proxied repository's URL (the same path on this server). */
  readonly url: string;
  /** Requests seen so far, and how many of them were answered with the fault. */
  readonly counts: () => { requests: number; failed: number };
  readonly close: () => Promise<void>;
}

export async function faultyGit(upstreamRepo: string, fault: { status: number; failFirst: number }): Promise<FaultyGit> {
  const upstream = new URL(upstreamRepo);
  let requests = 0;
  let failed = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    if (failed < fault.failFirst) {
      failed++;
      // git prints the status ("The requested URL returned error: 503"); nothing else is needed to fail the fetch
      res.writeHead(fault.status, { "content-type": "text/plain" });
      res.end(`faulty-git: failing on purpose (${failed})\n`);
      return;
    }
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on("error", (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(forward);
  });
  // The source container tells refused credentials by git's "returned error: 403"; a port holding those digits
  // stays clear of any looser reading of the URL in git's messages.
  let port = 0;
  for (let tries = 0; tries < 20 && (port === 0 || /40[13]/.test(String(port))); tries++) {
    if (port !== 0) await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, LAB_ADDRESS, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
  }
  return {
    url: `http://${LAB_ADDRESS}:${port}${upstream.pathname}`,
    counts: () => ({ requests, failed }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
