#!/usr/bin/env bash
# The cluster's PKI, kubeadm-like, with openssl: a CA, the apiserver's serving certificate, one client certificate
# per component, the kubelet's serving certificate, the service-account key pair, and a kubeconfig per client.
# P-256 keys: a fresh PKI costs well under a second, so every `cluster.sh up` makes its own and `down` forgets it.
#
#   certs.sh STATE_DIR NODE_IP KUBECONFIG_TEMPLATE
set -euo pipefail
cs=$1 node_ip=$2 template=$3
pki=$cs/pki
mkdir -p "$pki"
cd "$pki"
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

key ca
openssl req -x509 -new -key ca.key -subj "/CN=packline-lab-ca" -days 30 -out ca.crt

# cert NAME CN [O] [SANs]: a certificate signed by the CA; with SANs it serves as well as authenticates.
cert() {
  local name=$1 cn=$2 o=${3:-} san=${4:-} subj
  key "$name"
  subj="/CN=$cn"; [ -n "$o" ] && subj="/O=$o/CN=$cn"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    if [ -n "$san" ]; then echo "extendedKeyUsage=serverAuth,clientAuth"; echo "subjectAltName=$san"
    else echo "extendedKeyUsage=clientAuth"; fi
  } > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile "$name.ext" \
    -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

cert apiserver kube-apiserver "" \
  "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:packline-node,IP:10.96.0.1,IP:127.0.0.1,IP:$node_ip"
cert admin kubernetes-admin system:masters
cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
cert controller-manager system:kube-controller-manager
cert scheduler system:kube-scheduler
cert kubelet system:node:packline-node system:nodes "DNS:packline-node,IP:$node_ip,IP:127.0.0.1"
cert kube-proxy system:kube-proxy system:node-proxier
key sa
openssl pkey -in sa.key -pubout -out sa.pub

for user in admin controller-manager scheduler kubelet kube-proxy; do
  sed -e "s|@CS@|$cs|g" -e "s|@NODE_IP@|$node_ip|g" -e "s|@USER@|$user|g" "$template" > "$user.kubeconfig"
done
# Readable by the test processes (which run as root too, but keep the keys' mode honest for any other reader).
chmod 0644 ./*.crt ./*.kubeconfig sa.pub
