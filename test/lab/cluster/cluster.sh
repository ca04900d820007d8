#!/usr/bin/env bash
# The lab's one-node Kubernetes (v1.34.4, etcd 3.6, Debian's containerd) with the real Argo Workflows v4.0.5
# controller, installed from Argo's own manifests, in namespaces of its own joined to the lab by a veth.
#
#   cluster.sh up       builds (cached) and starts everything; prints the cluster's JSON description
#   cluster.sh down     stops everything and removes every trace (processes, mounts, cgroups, veth, state)
#   cluster.sh status   says what runs; exit 0 only when the node is Ready and the Argo controller is Available
#   cluster.sh kubectl ARGS... / argo ARGS... / exec CMD...   run inside the node's namespaces, as cluster admin
#
# Shape (test/lab/README.md): net+mount+pid+uts+ipc namespaces whose PID 1 is init.sh; a veth `lab-k8s`
# (10.123.2.1/30, in the lab) <-> `eth0` (10.123.2.2/30, the node IP), default route via the lab, and the lab routes
# the pod network 10.244.0.0/24 back to the node, so pods reach the lab's registries and git server at 10.123.0.1
# with their own addresses (no NAT). The state lives in $PACKLINE_LAB_STATE/cluster and is removed by `down`;
# binaries and image layouts are cached under $PACKLINE_CACHE.
#
# Needs a running lab (test/lab/lab.sh up): the images are pushed to its registry, and the veth's other end is in it.
set -euo pipefail
CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$CLUSTER_DIR/../lib.sh"

CS="$STATE/cluster"
NODE_IP=10.123.2.2
LAB_SIDE_IP=10.123.2.1
POD_CIDR=10.244.0.0/24
POD_GATEWAY=10.244.0.1
# The kubelet's cgroupRoot, in every v1 hierarchy and in the v2 one: cgroupfs is not namespaced, so `down` removes it.
# Named after the state directory, so that two labs' clusters (two state directories) never share one.
CGROUP_ROOT=packline-k8s-$(printf %s "$STATE" | md5sum | cut -c1-8)
K8S_VERSION=v1.34.4
ARGO_VERSION=v4.0.5
NODE_PID_FILE="$CS/node.pid"
TEMPLATES="$CLUSTER_DIR/templates"
# Registries the node pulls from: all served by the lab's images registry, under the same paths.
MIRRORED=(docker.io quay.io registry.k8s.io gcr.io ghcr.io)

# The host pid of the node's PID 1 (init.sh, then tini), or nothing when no cluster runs.
node_pid() {
  local pid
  [ -f "$NODE_PID_FILE" ] || return 1
  pid="$(cat "$NODE_PID_FILE")"
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  [ "$(readlink "/proc/$pid/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] || return 1
  echo "$pid"
}

bin_dir() { [ -f "$CS/bin" ] && cat "$CS/bin"; }

# Runs a command inside every namespace of the node, with the binaries on PATH and the admin kubeconfig.
in_node() {
  local pid bin
  pid="$(node_pid)" || die "no cluster is running (test/lab/cluster/cluster.sh up)"
  bin="$(bin_dir)"
  nsenter -t "$pid" -m -n -p -u -i --wd=/ -- env PATH="$bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    KUBECONFIG="$CS/pki/admin.kubeconfig" "$@"
}

# render TEMPLATE OUT: the template with the cluster's values in place of its @NAME@ markers.
render() {
  mkdir -p "$(dirname "$2")"
  sed -e "s|@CS@|$CS|g" -e "s|@NODE_IP@|$NODE_IP|g" -e "s|@POD_CIDR@|$POD_CIDR|g" -e "s|@POD_GATEWAY@|$POD_GATEWAY|g" \
    -e "s|@CGROUP_ROOT@|$CGROUP_ROOT|g" -e "s|@MIRROR@|$IMAGES_REGISTRY|g" "$1" > "$2"
  ! grep -q '@[A-Z_]*@' "$2" || die "unrendered marker in $2: $(grep -o '@[A-Z_]*@' "$2" | head -1)"
}

# Debian packages the node runs (the binaries built from Go modules come from build/cluster.sh).
require_packages() {
  local pkgs=(containerd runc containernetworking-plugins tini iptables openssl curl iproute2) p missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" = 0 ] && return
  [ "${PACKLINE_LAB_SKIP_APT:-0}" = 1 ] && die "missing Debian packages ${missing[*]} and PACKLINE_LAB_SKIP_APT=1"
  log "cluster: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d: containerd's postinst must not start the host's own containerd service.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 0755 "$policy"; created=1; fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || { [ "$created" = 1 ] && rm -f "$policy"; die "apt-get install failed"; }
  [ "$created" = 1 ] && rm -f "$policy"
  return 0
}

configure() {
  local bin=$1 r
  render "$TEMPLATES/containerd.toml" "$CS/conf/containerd.toml"
  render "$TEMPLATES/kubelet.yaml" "$CS/conf/kubelet.yaml"
  render "$TEMPLATES/kube-proxy.yaml" "$CS/conf/kube-proxy.yaml"
  render "$TEMPLATES/10-bridge.conflist" "$CS/conf/cni/10-bridge.conflist"
  cp "$TEMPLATES/resolv.conf" "$CS/conf/resolv.conf"
  # The lab's own registries are plain HTTP: containerd must be told, or it tries HTTPS.
  for r in "${MIRRORED[@]}" "$IMAGES_REGISTRY" "$APPS_REGISTRY"; do
    render "$TEMPLATES/hosts.toml" "$CS/conf/certs.d/$r/hosts.toml"
  done
  sed -i "s|http://$IMAGES_REGISTRY|http://$APPS_REGISTRY|g" "$CS/conf/certs.d/$APPS_REGISTRY/hosts.toml"
  bash "$CLUSTER_DIR/certs.sh" "$CS" "$NODE_IP" "$TEMPLATES/kubeconfig"
}

# The kubelet's cgroup root in every hierarchy, made before it starts (a v1 cpuset cgroup takes no task until its
# cpus and mems are set).
make_cgroups() {
  local h
  for h in /sys/fs/cgroup/*/; do
    [ -d "$h" ] || continue
    mkdir -p "$h$CGROUP_ROOT"
  done
  if [ -f /sys/fs/cgroup/cpuset/cpuset.cpus ]; then
    cat /sys/fs/cgroup/cpuset/cpuset.cpus > "/sys/fs/cgroup/cpuset/$CGROUP_ROOT/cpuset.cpus"
    cat /sys/fs/cgroup/cpuset/cpuset.mems > "/sys/fs/cgroup/cpuset/$CGROUP_ROOT/cpuset.mems"
  fi
}

# Removes the cgroups the kubelet and runc made under our root, deepest first. Only empty ones can go, so this runs
# after every process of the node is gone; it retries while the kernel finishes tearing them down.
remove_cgroups() {
  local i left
  for i in $(seq 20); do
    find /sys/fs/cgroup/*/"$CGROUP_ROOT" -depth -type d -exec rmdir {} + 2>/dev/null || true
    left=$(ls -d /sys/fs/cgroup/*/"$CGROUP_ROOT" 2>/dev/null || true)
    [ -z "$left" ] && return 0
    sleep 0.25
  done
  log "cluster: cgroups left behind: $left"
  return 1
}

start_namespaces() {
  local u i pid
  mkdir -p "$CS/logs"
  rm -f "$CS/init.ready"
  # The KEEP_DIRs init.sh keeps visible if it covers their parents: the state, the binaries, this checkout.
  setsid unshare --mount --net --pid --uts --ipc --fork --kill-child=SIGKILL --mount-proc --propagation private \
    "$CLUSTER_DIR/init.sh" "$CS" "$CACHE" "$REPO_ROOT" >> "$CS/logs/init.log" 2>&1 < /dev/null &
  u=$!
  echo "$u" > "$CS/unshare.pid"
  for i in $(seq 100); do
    [ -f "$CS/init.ready" ] && break
    [ -d "/proc/$u" ] || { cat "$CS/logs/init.log" >&2; die "the node's namespaces did not start (log: $CS/logs/init.log)"; }
    sleep 0.1
  done
  [ -f "$CS/init.ready" ] || die "the node's namespaces not ready after 10 s (log: $CS/logs/init.log)"
  pid=$(cut -d' ' -f1 "/proc/$u/task/$u/children")
  [ -n "$pid" ] || die "no PID 1 under unshare $u"
  echo "$pid" > "$NODE_PID_FILE"
}

# The veth between the lab and the node (lab.sh veth makes it inside the lab with its peer put straight into the
# node's namespace, so no interface ever exists in the host's; it vanishes with the node's namespace), the node's
# default route through the lab, and the lab's route back to the pod network.
connect() {
  local pid
  pid="$(node_pid)"
  bash "$LAB_DIR/lab.sh" veth lab-k8s "$pid" "$LAB_SIDE_IP/30" "$NODE_IP/30" eth0
  nsenter -t "$pid" -n ip route add default via "$LAB_SIDE_IP" dev eth0
  bash "$LAB_DIR/lab.sh" route "$POD_CIDR" "$NODE_IP"
}

# Argo from its own manifests: the v4.0.5 module's cluster-install (full CRDs, the controller and argo-server with
# their RBAC, in namespace argo), rendered by kubectl's kustomize with the images pinned to v4.0.5. The render is
# cached beside the binaries it matches.
install_argo() {
  local bin=$1 k="$CS/install/argo" src rendered
  src=$(readlink -f "$bin/argo-src")
  rendered="$(dirname "$src")/cluster-install-pinned.yaml"
  if [ ! -s "$rendered" ]; then
    mkdir -p "$k"
    cat > "$k/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- $(realpath --relative-to="$k" "$src/manifests/cluster-install")
images:
- {name: quay.io/argoproj/workflow-controller, newTag: $ARGO_VERSION}
- {name: quay.io/argoproj/argocli, newTag: $ARGO_VERSION}
EOF
    # (kustomize takes a base outside the kustomization's root, but only by a relative path)
    in_node kubectl kustomize "$k" > "$rendered.tmp" || die "rendering Argo's cluster-install failed"
    mv "$rendered.tmp" "$rendered"
  fi
  # Upstream's install expects its namespace to exist (`kubectl create namespace argo` in Argo's instructions).
  in_node kubectl create namespace argo > /dev/null
  # Server-side: the full CRDs are too large for the last-applied annotation of a client-side apply.
  in_node kubectl apply --server-side --force-conflicts -f "$rendered" > "$CS/logs/argo-install.log" ||
    die "installing Argo failed (log: $CS/logs/argo-install.log)"
}

# The default StorageClass: rancher's local-path-provisioner with its upstream manifest, volumes as directories under
# the state directory (removed by down), its helper pods on the lab's busybox (docker.io/library/busybox:latest), and the class marked default.
install_storage() {
  local bin=$1 k="$CS/install/storage"
  mkdir -p "$k" "$CS/volumes"
  cp "$bin/local-path-storage.yaml" "$k/"
  cat > "$k/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [local-path-storage.yaml]
patches:
- patch: |-
    apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata:
      name: local-path
      annotations: {storageclass.kubernetes.io/is-default-class: "true"}
- patch: |-
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: local-path-config, namespace: local-path-storage}
    data:
      config.json: '{"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["$CS/volumes"]}]}'
      helperPod.yaml: |-
        apiVersion: v1
        kind: Pod
        metadata: {name: helper-pod}
        spec:
          priorityClassName: system-node-critical
          tolerations: [{key: node.kubernetes.io/disk-pressure, operator: Exists, effect: NoSchedule}]
          containers: [{name: helper-pod, image: docker.io/library/busybox:latest, imagePullPolicy: IfNotPresent}]
EOF
  in_node kubectl apply -k "$k" > "$CS/logs/storage-install.log" ||
    die "installing the local-path provisioner failed (log: $CS/logs/storage-install.log)"
}

describe() {
  local bin=$1
  cat > "$CS/cluster.json.tmp" <<EOF
{
  "stateDir": "$CS",
  "bin": "$bin",
  "kubeconfig": "$CS/pki/admin.kubeconfig",
  "nodePid": $(node_pid),
  "nodeIp": "$NODE_IP",
  "podCidr": "$POD_CIDR",
  "labAddress": "$LAB_ADDR",
  "appsRegistry": "$APPS_REGISTRY",
  "imagesRegistry": "$IMAGES_REGISTRY",
  "kubernetesVersion": "$K8S_VERSION",
  "argoVersion": "$ARGO_VERSION",
  "argoNamespace": "argo",
  "storageClass": "local-path"
}
EOF
  mv "$CS/cluster.json.tmp" "$CS/cluster.json"
}

cmd_up() {
  require_root
  lab_pid > /dev/null || die "no lab is running: start it first (test/lab/lab.sh up)"
  if node_pid > /dev/null; then
    if cmd_status > /dev/null 2>&1; then log "cluster: already up"; cat "$CS/cluster.json"; return 0; fi
    die "a cluster is running but not healthy: test/lab/cluster/cluster.sh down first (logs in $CS/logs)"
  fi
  [ -e "$CS" ] && { log "cluster: removing the leftovers of an earlier run"; cmd_down; }
  local t0=$SECONDS bin crane
  require_packages
  bin=$(bash "$LAB_DIR/build/cluster.sh") || die "building the cluster's binaries failed"
  crane=$(eval "$(bash "$LAB_DIR/build/tools.sh")"; echo "$crane_bin") || die "building crane failed"
  log "cluster: binaries ready ($((SECONDS - t0)) s)"
  bash "$CLUSTER_DIR/images.sh" "$bin" "$crane"
  log "cluster: images in $IMAGES_REGISTRY ($((SECONDS - t0)) s)"

  mkdir -p "$CS/logs"
  echo "$bin" > "$CS/bin"
  configure "$bin"
  make_cgroups
  start_namespaces
  # From here on, lab.sh down stops the cluster first (its down.d hooks), should the lab go down while it runs or
  # after a failed up.
  mkdir -p "$STATE/down.d"
  printf '#!/bin/sh\nPACKLINE_LAB_STATE=%q exec bash %q down\n' "$STATE" "$CLUSTER_DIR/cluster.sh" > "$STATE/down.d/50-cluster"
  chmod +x "$STATE/down.d/50-cluster"
  connect
  log "cluster: namespaces and network ready ($((SECONDS - t0)) s)"
  in_node bash "$CLUSTER_DIR/node.sh" start "$CS" "$bin" "$NODE_IP" || die "the node did not start (logs in $CS/logs)"
  log "cluster: node Ready ($((SECONDS - t0)) s)"
  # The provisioner first: its pod starts while the API server takes Argo's large CRDs.
  install_storage "$bin"
  install_argo "$bin"
  in_node kubectl -n argo rollout status deployment/workflow-controller --timeout=120s > /dev/null ||
    { in_node kubectl -n argo get pods -o wide >&2; die "the Argo workflow controller did not become available"; }
  in_node kubectl -n local-path-storage rollout status deployment/local-path-provisioner --timeout=120s > /dev/null ||
    { in_node kubectl -n local-path-storage get pods -o wide >&2; die "the local-path provisioner did not become available"; }
  describe "$bin"
  log "cluster: up in $((SECONDS - t0)) s: Kubernetes $K8S_VERSION, Argo $ARGO_VERSION (kubeconfig $CS/pki/admin.kubeconfig)"
  cat "$CS/cluster.json"
}

cmd_down() {
  require_root
  local pid u t0=$SECONDS i
  u=$(cat "$CS/unshare.pid" 2>/dev/null || true)
  if pid=$(node_pid); then
    # tini (the node's PID 1) passes TERM to its child and exits; the kernel then kills every process of the pid
    # namespace (containers included), and the mount namespace with all its mounts goes with the last of them.
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null
    for i in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ -d "/proc/$pid" ] && die "the node's PID 1 ($pid) did not exit"
  fi
  if [ -n "$u" ] && [ -d "/proc/$u" ] && grep -q unshare "/proc/$u/comm" 2>/dev/null; then
    for i in $(seq 30); do [ -d "/proc/$u" ] || break; sleep 0.1; done
    [ -d "/proc/$u" ] && kill -KILL "$u" 2>/dev/null
  fi
  # The veth went with the node's network namespace; the route with it. Only a half-made run can leave one.
  if lab_pid > /dev/null; then in_lab_net ip link del lab-k8s 2>/dev/null || true; fi
  remove_cgroups || die "some cgroups under $CGROUP_ROOT could not be removed"
  rm -rf "$CS"
  rm -f "$STATE/down.d/50-cluster"
  log "cluster: down in $((SECONDS - t0)) s"
}

cmd_status() {
  local pid ok=0
  pid=$(node_pid) || { echo "cluster: not running"; return 1; }
  echo "cluster: node namespaces PID 1 = $pid (state $CS)"
  for c in etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
    if in_node sh -c "kill -0 \$(cat '$CS/run/$c.pid')" 2>/dev/null; then echo "  $c: running"; else echo "  $c: NOT running"; ok=1; fi
  done
  in_node kubectl get nodes -o wide 2>&1 | sed 's/^/  /'
  in_node kubectl wait --for=condition=Ready node/packline-node --timeout=1s > /dev/null 2>&1 || { echo "  node: NOT Ready"; ok=1; }
  in_node kubectl -n argo wait --for=condition=Available deployment/workflow-controller --timeout=1s > /dev/null 2>&1 ||
    { echo "  workflow-controller: NOT Available"; ok=1; }
  return "$ok"
}

# Sourced (by a test of these functions): define, do nothing.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  kubectl) shift; in_node kubectl "$@" ;;
  argo) shift; in_node argo "$@" ;;
  exec) shift; in_node "$@" ;;
  *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
