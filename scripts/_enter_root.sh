#!/usr/bin/env bash
# Internal to scripts/lib.sh (run_in_root): runs inside a private mount namespace made by
# unshare, so every mount below disappears with the command. Do not call it directly.
# Args: ROOTFS CHECKOUT SHARED WORKDIR N VAR=VALUE*N COMMAND...
set -euo pipefail
R="$1" CHECKOUT="$2" SHARED="$3" WD="$4" N="$5"
shift 5
PASS=("${@:1:$N}")
shift "$N"
mount -t proc proc "$R/proc"
mount --bind /dev "$R/dev"
mount -t tmpfs -o mode=1777,size=2g tmpfs "$R/dev/shm"   # Chromium and PostgreSQL use it
mount -t sysfs sysfs "$R/sys" 2>/dev/null || true
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mkdir -p "$R$CHECKOUT"
mount --bind "$CHECKOUT" "$R$CHECKOUT"
if [ -d "$SHARED" ]; then
    mkdir -p "$R$SHARED"
    mount --bind "$SHARED" "$R$SHARED"
fi
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
cp /etc/hosts "$R/etc/hosts" 2>/dev/null || true
# The host's CA bundle: the package registries may be reached through a proxy it trusts.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/ca-certificates.crt"
fi
exec chroot "$R" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt CONNECT_SHARE_IN_ROOT=1 "${PASS[@]}" /bin/bash -c 'cd "$1" && shift && exec "$@"' - "$WD" "$@"
