/**
 * `npm run generate`: regenerates ci/argo/*.yaml from ci/argo/examples.ts (what `packline argo` writes for each
 * example's options), then README.md's option tables (scripts/readme-options.ts).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EXAMPLES } from "../ci/argo/examples.js";
import { README, readmeWithOptions } from "./readme-options.js";
import { renderExample } from "./render-example.js";

for (const example of EXAMPLES) {
  writeFileSync(fileURLToPath(new URL(`../ci/argo/${example.file}`, import.meta.url)), renderExample(example));
  console.log(`wrote ci/argo/${example.file}`);
}
writeFileSync(README, readmeWithOptions(readFileSync(README, "utf8")));
console.log("wrote README.md's option tables");
