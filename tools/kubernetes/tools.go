//go:build tools

// Package kubernetes pins the Kubernetes binaries of the lab's one-node cluster (built by test/lab/build/cluster.sh).
// k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces ./staging/...), so this module requires it and
// replaces every staging module by the published version of the same release.
package kubernetes

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
