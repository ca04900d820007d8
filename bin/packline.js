#!/usr/bin/env node
// An installed package runs the compiled dist/; a source checkout runs src/ through tsx (a devDependency).
let cli;
try {
  cli = await import("../dist/src/cli.js");
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes("dist/src/cli.js")) throw error;
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import("../src/cli.ts");
}
process.exitCode = await cli.main(process.argv);
