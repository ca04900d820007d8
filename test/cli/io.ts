/** Runs the `packline` CLI in-process (`main` from src/cli/program.ts) with captured output. */
import { PassThrough } from "node:stream";
import { type CliIO, main } from "../../src/cli/program.js";

export interface CliRun {
  code: number;
  stdout: string;
  /** What the CLI printed on stderr, the SDK's progress stream included. */
  stderr: string;
}

export async function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const stream = new PassThrough();
  stream.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const io: CliIO = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    stderrStream: stream,
    env,
  };
  const code = await main(["node", "packline", ...args], io);
  return { code, stdout, stderr };
}
