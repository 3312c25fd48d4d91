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
[ -d /dev/pts ] && mount --bind /dev/pts "$R/dev/pts"   # apt and terminals need ptys
mount -t tmpfs -o mode=1777,size=2g tmpfs "$R/dev/shm"   # Chromium and PostgreSQL use it
mount -t sysfs sysfs "$R/sys" 2>/dev/null || true
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mkdir -p "$R$CHECKOUT"
mount --bind "$CHECKOUT" "$R$CHECKOUT"
if [ -d "$SHARED" ]; then
    mkdir -p "$R$SHARED"
    mount --bind "$SHARED" "$R$SHARED"
fi
# Several commands may enter the root at once: replace a file only when it differs, and
# atomically (a reader never sees it half-written).
install_file() {
    [ -f "$1" ] || return 0
    cmp -s "$1" "$2" && return 0
    cp "$1" "$2.connect-share.$$" && mv -f "$2.connect-share.$$" "$2"
}
install_file /etc/resolv.conf "$R/etc/resolv.conf"
install_file /etc/hosts "$R/etc/hosts"
# The host's CA bundle: the package registries may be reached through a proxy it trusts.
install_file /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/ca-certificates.crt"
exec chroot "$R" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt CONNECT_SHARE_IN_ROOT=1 "${PASS[@]}" /bin/bash -c 'cd "$1" && shift && exec "$@"' - "$WD" "$@"
