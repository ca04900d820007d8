// Command expand shows what the kubelet makes of a container's env values, command and args: Kubernetes' own
// expansion of $(VAR) and $$ (k8s.io/kubernetes/third_party/forked/golang/expansion, the release the lab runs),
// applied in the kubelet's order: each env value is expanded with the env vars defined before it in the same
// container (pkg/kubelet/kubelet_pods.go, makeEnvironmentVariables), then command and args with the whole env
// (pkg/kubelet/container/helpers.go, ExpandContainerCommandAndArgs). The service links' variables are left out (none
// are defined for the names packline uses); an env var from a Secret or ConfigMap (valueFrom) is left unset.
//
// Reads a JSON array of containers (name, env, command, args) on standard input and prints the same array expanded.
// It lives in this module (tools/kubernetes, which already requires k8s.io/kubernetes) in a subfolder, so that it
// does not change the lab's build key of the Kubernetes binaries (test/lab/build/cluster.sh hashes the top level).
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"k8s.io/kubernetes/third_party/forked/golang/expansion"
)

type envVar struct {
	Name      string          `json:"name"`
	Value     string          `json:"value,omitempty"`
	ValueFrom json.RawMessage `json:"valueFrom,omitempty"`
}

type container struct {
	Name    string   `json:"name,omitempty"`
	Env     []envVar `json:"env,omitempty"`
	Command []string `json:"command,omitempty"`
	Args    []string `json:"args,omitempty"`
}

func expand(c container) container {
	defined := map[string]string{}
	mapping := expansion.MappingFuncFor(defined)
	out := container{Name: c.Name}
	for _, e := range c.Env {
		value := e.Value
		if len(e.ValueFrom) == 0 && value != "" {
			value = expansion.Expand(value, mapping)
		}
		if len(e.ValueFrom) == 0 {
			defined[e.Name] = value
		}
		out.Env = append(out.Env, envVar{Name: e.Name, Value: value, ValueFrom: e.ValueFrom})
	}
	all := expansion.MappingFuncFor(defined)
	for _, s := range c.Command {
		out.Command = append(out.Command, expansion.Expand(s, all))
	}
	for _, s := range c.Args {
		out.Args = append(out.Args, expansion.Expand(s, all))
	}
	return out
}

func main() {
	var containers []container
	if err := json.NewDecoder(os.Stdin).Decode(&containers); err != nil {
		fmt.Fprintln(os.Stderr, "expand: reading a JSON array of containers:", err)
		os.Exit(2)
	}
	out := make([]container, 0, len(containers))
	for _, c := range containers {
		out = append(out, expand(c))
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "expand:", err)
		os.Exit(2)
	}
}
