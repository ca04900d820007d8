/**
 * Not a test file: host-registry.test.ts runs it in the lab's network namespace (nsenter -n), where the registry on
 * 127.0.0.1 is, so that the SDK's session (the dagger CLI it starts) sees the same localhost as the registry, as on
 * a laptop. It builds the fixture with the Packline object through the SDK's connection(), uses the result's
 * container, and prints one line: `PACKLINE-RESULT <json>`. Arguments: the image (`localhost:<port>/...`), the tag.
 */
import { dag } from "@dagger.io/dagger";
import { readLab } from "../lab.js";
import { withEngine } from "./engine.js";
import { result } from "./packline-lab.js";

const [image, tag] = process.argv.slice(2);
if (!image || !tag) throw new Error("usage: host-client.ts <image> <tag>");
try {
  const out = await withEngine(async () => {
    const r = await result({ tag, source: dag.host().directory(readLab().fixtures.static), image });
    const page = await r.container.withExec(["cat", "/workspace/index.html"]).stdout();
    return { digest: r.digest, references: r.references, page };
  });
  console.log(`PACKLINE-RESULT ${JSON.stringify(out)}`);
} catch (error) {
  console.error(`host-client: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
