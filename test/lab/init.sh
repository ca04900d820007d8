#!/usr/bin/env bash
# PID 1 of the lab (lab.sh up starts it with `unshare --mount --net --pid --fork --mount-proc --propagation private`).
# The new network namespace has only a loopback: it gets the lab address, then this process idles under tini, which
# reaps the orphans the lab's services leave. Signal THIS process (not unshare, which ignores SIGTERM) to stop the
# lab: when PID 1 exits, the kernel kills every process of the pid namespace, and the mount namespace (with its
# /run) goes with them.
set -euo pipefail
state="${1:?usage: init.sh STATE_DIR LAB_ADDRESS}"
address="${2:?usage: init.sh STATE_DIR LAB_ADDRESS}"

ip link set lo up
# /32 on lo: the address is local to the lab (every service binds to it) and routes nowhere
ip addr add "$address/32" dev lo
# The lab's own /run, private to its mount namespace: dockerd and containerd keep their runtime state there, and it
# vanishes with the lab. Everything the host side must reach (sockets, pid files) lives in the state directory.
mount -t tmpfs -o mode=0755 packline-lab-run /run
echo "$$" > "$state/lab.ready"
exec /usr/bin/tini-static -s -- sleep infinity
