import { main } from "../src/cli.js";
import type { Example } from "../ci/argo/examples.js";

/** Runs `packline <args>` in memory and returns what it prints; throws if it fails. */
export async function renderExample(example: Example): Promise<string> {
  let out = "";
  let err = "";
  const code = await main(["node", "packline", ...example.args], {
    stdout: (text) => (out += text),
    stderr: (text) => (err += text),
    env: {},
  });
  if (code !== 0) throw new Error(`packline ${example.args.join(" ")} failed (${code}): ${err}`);
  return out;
}
