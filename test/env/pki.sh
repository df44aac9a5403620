#!/usr/bin/env bash
# Certificates of the test control plane, made with openssl once per VK_ENV_DIR.
source "$(dirname "$0")/lib.sh"

mkdir -p "$VK_PKI_DIR"
cd "$VK_PKI_DIR"

make_ca() { # NAME CN
  [[ -f $1.crt ]] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" -days 3650 -subj "/CN=$2" 2>/dev/null
}

make_cert() { # NAME CA SUBJECT KIND(client|server) [SAN]
  local name=$1 ca=$2 subject=$3 kind=$4 san=${5:-}
  [[ -f $name.crt ]] && return 0
  local ext=$name.ext
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ $kind == server ]]; then echo "extendedKeyUsage=serverAuth"; else echo "extendedKeyUsage=clientAuth"; fi
    [[ -n $san ]] && echo "subjectAltName=$san"
  } >"$ext"
  openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subject" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial -out "$name.crt" -days 3650 \
    -extfile "$ext" 2>/dev/null
  rm -f "$name.csr" "$ext"
}

make_ca ca vic-kubelet-test-ca
make_ca front-proxy-ca vic-kubelet-test-front-proxy-ca
make_cert apiserver ca /CN=kube-apiserver server \
  "IP:127.0.0.1,IP:${VK_DOCKER_BRIDGE_CIDR%/*},IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
make_cert admin ca "/O=system:masters/CN=admin" client
make_cert apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client" client
make_cert scheduler ca /CN=system:kube-scheduler client
make_cert controller-manager ca /CN=system:kube-controller-manager client
make_cert front-proxy-client front-proxy-ca /CN=front-proxy-client client
if [[ ! -f sa.key ]]; then
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
fi
chmod 600 ./*.key
