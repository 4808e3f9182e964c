#!/usr/bin/env bash
# Installs what flowtrace and its tests need on a fresh Debian machine, then builds.
# Idempotent: only installs what is missing. Needs root for the Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: program -> package. Tests use all of them; the CLI tells which one is
# missing when a command needs it.
declare -A DEB=(
  [tcpdump]=tcpdump [tshark]=tshark [dnsmasq]=dnsmasq [traceroute]=traceroute [mtr]=mtr-tiny
  [ip]=iproute2 [iptables]=iptables [openssl]=openssl [curl]=curl [chromium]=chromium
  [conntrack]=conntrack [lsns]=util-linux [ps]=procps [hyperfine]=hyperfine [flock]=util-linux
  [ebtables]=ebtables [nft]=nftables
  [/usr/bin/time]=time [capinfos]=wireshark-common
  [dig]=dnsutils [nslookup]=dnsutils [host]=bind9-host [tracepath]=iputils-tracepath
  [ssh]=openssh-client [ssh-keygen]=openssh-client [sshd]=openssh-server [sudo]=sudo [visudo]=sudo
)
missing=()
for prog in "${!DEB[@]}"; do
  command -v "$prog" >/dev/null 2>&1 || [ -x "/usr/sbin/$prog" ] || [ -x "/sbin/$prog" ] || missing+=("${DEB[$prog]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
  else
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # openssh-server's package would start a system sshd on port 22; the tests start their own
    # inside namespaces. A policy-rc.d that denies service starts is in place while installing.
    policy_made=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; policy_made=1; fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
    if [ "$policy_made" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund >/dev/null
fi
npm run -s build
