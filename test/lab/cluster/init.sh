#!/usr/bin/env bash
# PID 1 of the cluster's namespaces (net, mount, pid, uts, ipc; started by cluster.sh through unshare). It makes the
# node's private view of the machine, then idles as tini, which reaps the orphans the components leave behind. When it
# exits, the kernel kills every process of the pid namespace, and the mount namespace (and with it every mount made
# here or by containerd) disappears.
#
#   init.sh STATE_DIR KEEP_DIR...
#
# Nothing here may change the host: the unshare that started us used --propagation private, so no mount made here is
# seen outside, and the few global files the kubelet would write are covered by read-only copies. KEEP_DIRs (the
# state directory, the binaries, this checkout) stay visible at their paths even when they lie under a covered
# directory.
set -euo pipefail
cs=$1
keep=("$@")
ovl=$cs/overlay

hostname packline-node

# Our own /dev/shm (this is a new IPC namespace too): it also parks the KEEP_DIRs while cover() works.
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# cover DIR: mounts an empty tmpfs on DIR, then mounts back every KEEP_DIR that lies under DIR at its own path.
cover() {
  local dir=$1 k i=0 m moved=()
  for k in "${keep[@]}"; do
    case "$k/" in
      "$dir"/*)
        mkdir -p "/dev/shm/.keep$i"; mount --rbind "$k" "/dev/shm/.keep$i"; moved+=("/dev/shm/.keep$i=$k"); i=$((i + 1));;
    esac
  done
  mount -t tmpfs -o mode=0755 tmpfs "$dir"
  for m in "${moved[@]}"; do
    mkdir -p "${m#*=}"; mount --move "${m%%=*}" "${m#*=}"; rmdir "${m%%=*}"
  done
}
# Places the components write to without being asked (their host copies must stay untouched, and /var/lib/cni must
# not even be created on the host):
#   /run:      containerd's state and socket, runc's state, the network namespaces of pods, the iptables lock;
#   /var/log:  the kubelet's /var/log/pods and /var/log/containers;
#   /var/lib:  the CNI result cache of containerd's CRI (/var/lib/cni: go-cni's default, not configurable in
#              containerd 1.6).
cover /run
cover /var/log
cover /var/lib
# /etc and /usr as overlays (upper layers in the state directory): what the node writes there (its /etc/hosts, a
# volume plugin directory under /usr/libexec) lands in the state directory, never on the host.
for d in etc usr; do
  mkdir -p "$ovl/$d/upper" "$ovl/$d/work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$ovl/$d/upper,workdir=$ovl/$d/work" "/$d"
done
rm -f /etc/resolv.conf /etc/hosts /etc/hostname   # the host's may be symlinks into its /run
printf '127.0.0.1 localhost\n10.123.2.2 packline-node\n' > /etc/hosts
echo packline-node > /etc/hostname
cp "$cs/conf/resolv.conf" /etc/resolv.conf

# The kubelet sets six kernel tunables at start unless they already hold its values. Four of them are global (not
# per network namespace): writing them would change the host. Cover each file with a read-only file that holds the
# kubelet's value, so the kubelet reads what it wants and writes nothing. Inside this mount namespace only.
mkdir -p "$cs/sysctl"
for kv in vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 \
  kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000; do
  f=${kv%%=*} v=${kv#*=}
  m="$cs/sysctl/${f//\//.}"
  echo "$v" > "$m"
  mount --bind -o ro "$m" "/proc/sys/$f"
done

# Pods reach the lab through this node: forward between cni0 and eth0 (per network namespace, so only ours).
# bridge-nf-call-iptables lets kube-proxy's rules see traffic between two pods of the bridge (a pod calling a Service
# whose endpoint is on the same node).
sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.route_localnet=1
sysctl -q -w net.bridge.bridge-nf-call-iptables=1 2>/dev/null || echo "init: net.bridge.bridge-nf-call-iptables not available" >&2
ip link set lo up

# Open files: containerd and the kubelet want many.
ulimit -n "$(ulimit -Hn)"

touch "$cs/init.ready"
exec /usr/bin/tini-static -s -- sleep infinity
