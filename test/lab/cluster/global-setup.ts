/**
 * Before the cluster suite: the cluster must be up and answering. It is never started here (test.sh does that from
 * the host side); when it is missing the suite fails with the command to run, whether or not CI=true: there is no
 * skip in this suite.
 */
import { clusterInfo, kubectl } from "./cluster.js";

export default async function setup(): Promise<void> {
  const info = clusterInfo();
  const ready = await kubectl(["get", "--raw", "/readyz"], { allowFailure: true, timeoutMs: 20_000 });
  if (ready.exitCode !== 0) {
    throw new Error(`the cluster in ${info.stateDir} does not answer (${ready.stderr.trim()}): see test/lab/cluster/cluster.sh status`);
  }
  const controller = await kubectl([
    "-n",
    info.argoNamespace,
    "get",
    "deployment",
    "workflow-controller",
    "-o",
    "jsonpath={.status.availableReplicas}",
  ]);
  if (controller.stdout.trim() !== "1") throw new Error("the Argo workflow controller is not available: see test/lab/cluster/cluster.sh status");
}
