#!/usr/bin/env bash
# Runs INSIDE the cluster's namespaces (cluster.sh enters them with nsenter): starts the node's components in order,
# each waiting for what it needs, then waits for the node to be Ready.
#
#   node.sh start STATE_DIR BIN_DIR NODE_IP
#
# Every component is a background process of its own session, logging to STATE_DIR/logs/NAME.log; when this script
# exits, they are orphans that the namespace's PID 1 (tini) adopts, and they die with it (cluster.sh down).
set -euo pipefail
[ "${1:-}" = start ] || { echo "usage: node.sh start STATE_DIR BIN_DIR NODE_IP" >&2; exit 2; }
cs=$2 bin=$3 node_ip=$4
pki=$cs/pki conf=$cs/conf logs=$cs/logs
export PATH="$bin:/usr/sbin:/usr/bin:/sbin:/bin"
export KUBECONFIG=$pki/admin.kubeconfig
mkdir -p "$logs" "$cs/run"
t0=$SECONDS

say() { printf '[node %3ss] %s\n' "$((SECONDS - t0))" "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

# start NAME CMD...: one component, in its own session, its output appended to its log.
start() {
  local name=$1; shift
  echo "== $(date -u +%FT%TZ) $*" >> "$logs/$name.log"
  setsid "$@" >> "$logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$cs/run/$name.pid"
}

# wait_for WHAT SECONDS CMD...: retries CMD (quietly) every 0.2 s; on timeout, shows WHAT's log tail and fails.
wait_for() {
  local what=$1 limit=$2 log=${3:-}; shift 3
  local deadline=$((SECONDS + limit))
  until "$@" > /dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      [ -n "$log" ] && [ -f "$logs/$log.log" ] && tail -20 "$logs/$log.log" >&2
      fail "$what not ready after ${limit}s (log: $logs/$log.log)"
    fi
    # a component that died will not become ready: say so at once
    if [ -n "$log" ] && [ -f "$cs/run/$log.pid" ] && ! kill -0 "$(cat "$cs/run/$log.pid")" 2>/dev/null; then
      tail -20 "$logs/$log.log" >&2
      fail "$log exited (log: $logs/$log.log)"
    fi
    sleep 0.2
  done
}

# etcd: the cluster's whole state, thrown away at down; fsync buys nothing here and costs seconds on a shared disk.
start etcd "$bin/etcd" --name packline-node --data-dir "$cs/etcd" --unsafe-no-fsync \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster packline-node=http://127.0.0.1:2380 --log-level warn
start containerd /usr/bin/containerd --config "$conf/containerd.toml"
wait_for etcd 30 etcd curl -sf http://127.0.0.1:2379/health
say "etcd ready"

start kube-apiserver "$bin/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 \
  --advertise-address="$node_ip" --bind-address=0.0.0.0 --secure-port=6443 \
  --service-cluster-ip-range=10.96.0.0/16 --allow-privileged=true \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
  --client-ca-file="$pki/ca.crt" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
  --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
  --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --profiling=false --event-ttl=1h
wait_for kube-apiserver 60 kube-apiserver kubectl get --raw /readyz
say "kube-apiserver ready"

start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig="$pki/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$pki/controller-manager.kubeconfig" --authorization-kubeconfig="$pki/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
  --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
  --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
  --service-cluster-ip-range=10.96.0.0/16 --controllers='*,-nodeipam' --profiling=false
start kube-scheduler "$bin/kube-scheduler" --kubeconfig="$pki/scheduler.kubeconfig" \
  --authentication-kubeconfig="$pki/scheduler.kubeconfig" --authorization-kubeconfig="$pki/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false --profiling=false
wait_for containerd 30 containerd ctr --address /run/containerd/containerd.sock version
start kubelet "$bin/kubelet" --config="$conf/kubelet.yaml" --kubeconfig="$pki/kubelet.kubeconfig" \
  --hostname-override=packline-node --node-ip="$node_ip" --root-dir="$cs/kubelet"
start kube-proxy "$bin/kube-proxy" --config="$conf/kube-proxy.yaml"
wait_for "node packline-node" 90 kubelet \
  sh -c "kubectl get node packline-node -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
say "node Ready"
