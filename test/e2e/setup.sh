#!/usr/bin/env bash
# Prepares the lab (test/lab/lab.sh) for the e2e tests; test/e2e/global-setup.ts runs it before the tests, in the
# process the tests run in: the lab's network namespace (test/lab/run.sh e2e puts vitest there).
#   - dockerd in the lab (lab.sh docker-up, idempotent): no bridge, no iptables, containers use --network host, i.e.
#     the lab's network, where the registries and the git server listen on 10.123.0.1;
#   - the test builder and its run image pulled into that daemon from the images registry (10.123.0.1:5001): the
#     tests inspect the builder there, and pack builds with both from it.
# Everything else the tests use (addresses, credentials, images, pack, versions) is in $PACKLINE_LAB_STATE/lab.json,
# which lab.sh up wrote; test/e2e/harness.ts reads it. test/e2e/teardown.sh removes what the tests left in dockerd.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/../lab/lib.sh"

require_root
pid="$(lab_pid)" || die "no lab is running: npm run test:e2e starts one (test/lab/run.sh e2e), or test/lab/lab.sh up"
[ -f "$LAB_JSON" ] || die "$LAB_JSON is missing: the lab did not finish starting (test/lab/lab.sh up)"
[ "$(readlink /proc/self/ns/net)" = "$(readlink "/proc/$pid/ns/net")" ] ||
  die "the e2e tests must run in the lab's network namespace: npm run test:e2e (test/lab/run.sh e2e) does that"

bash "$LAB_DIR/lab.sh" docker-up
for image in "$IMAGES_REGISTRY/e2e/builder:busybox" "$IMAGES_REGISTRY/e2e/run:busybox"; do
  DOCKER_HOST="unix://$RUN_DIR/docker.sock" DOCKER_CONFIG="$STATE/docker-config" /usr/bin/docker pull -q "$image" > /dev/null ||
    die "docker pull $image failed (is it in the images registry? test/lab/lab.sh status)"
done
# The helper images packline's plans name (src/core/images.ts) under their upstream names, as a registry mirror
# serves them to a Dagger engine or a cluster: dockerd mirrors only docker.io, so pull from the images registry
# and tag. The names come from lab.json's images (upstream and the lab's copy).
while read -r lab upstream; do
  DOCKER_HOST="unix://$RUN_DIR/docker.sock" DOCKER_CONFIG="$STATE/docker-config" /usr/bin/docker pull -q "$lab" > /dev/null ||
    die "docker pull $lab failed"
  DOCKER_HOST="unix://$RUN_DIR/docker.sock" /usr/bin/docker tag "$lab" "$upstream"
done < <(node -e '
  const images = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).images;
  for (const key of ["craneDebug", "git", "crane", "registry"]) console.log(images[key].ref, images[key].upstream);
' "$LAB_JSON")
log "e2e setup: dockerd ready, builder and run image pulled, packline's helper images tagged under their upstream names"
