/** Regenerates ci/argo/*.yaml from ci/argo/examples.ts with packline's own CLI (`npm run generate`). */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EXAMPLES } from "../ci/argo/examples.js";
import { renderExample } from "./render-example.js";

for (const example of EXAMPLES) {
  const path = fileURLToPath(new URL(`../ci/argo/${example.file}`, import.meta.url));
  writeFileSync(path, await renderExample(example));
  console.log(`wrote ci/argo/${example.file}`);
}
