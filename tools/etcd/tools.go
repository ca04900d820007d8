//go:build tools

// Package etcd pins the etcd server of the lab's cluster. etcd 3.6 is needed: Debian's 3.4 lacks the watch progress
// requests that Argo's informers send, and the controller then never sees its pods finish.
package etcd

import _ "go.etcd.io/etcd/server/v3"
