#!/usr/bin/env node
// An installed package runs the compiled dist/; a source checkout runs src/ through tsx (a devDependency), with this
// repository's tsconfig.json whatever the current directory (the Dagger decorators need its settings).
import * as nodeModule from "node:module";

// The CLI is a Dagger client only: its "@dagger.io/dagger" leaves out the SDK's module runtime and the TypeScript
// compiler that runtime imports (sdk-client-hooks.js). Node 20.0-20.5 have no module hooks: the whole SDK loads.
nodeModule.register?.("./sdk-client-hooks.js", import.meta.url);
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
