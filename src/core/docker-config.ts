/**
 * A docker config.json holding one registry's credentials: the form every registry client reads, the lifecycle
 * included (through DOCKER_CONFIG), and the form of a Kubernetes `kubernetes.io/dockerconfigjson` Secret.
 * The result contains the password: callers hand it straight to a secret store and never print it.
 */
export function dockerConfigJson(registry: string, username: string, password: string): string {
  const auth = Buffer.from(`${username}:${password}`, "utf8").toString("base64");
  return JSON.stringify({ auths: { [registry]: { auth } } });
}
