#!/usr/bin/env node
// An installed package runs the compiled dist/; a source checkout runs src/ through tsx (a devDependency), with this
// repository's tsconfig.json whatever the current directory (the Dagger decorators need its settings).
let cli;
try {
  cli = await import("../dist/src/cli/program.js");
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes("dist/src/cli/program.js")) throw error;
  const { register } = await import("tsx/esm/api");
  register({ tsconfig: new URL("../tsconfig.json", import.meta.url).pathname });
  cli = await import("../src/cli/program.ts");
}
process.exitCode = await cli.main(process.argv);
