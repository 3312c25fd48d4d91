# Shared by scripts/test, scripts/demo, scripts/run, scripts/detect.
#
# Everything runs on Python >= 3.14.2 (current Home Assistant needs it). Where the host has such
# a python3.14 it is used directly (venv in .venv). Otherwise the scripts build and cache a
# Debian *testing* root with debootstrap inside the checkout (.toolchain/, git-ignored), install
# scripts/debian-packages.txt and the venvs in it, and re-run themselves inside it with the
# checkout and ../shared mounted at the same paths. Mounts live in a private mount namespace
# (unshare), so the kernel undoes them when the command ends, also on Ctrl-C, failure or kill.
# shellcheck shell=bash
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED_DEFAULT="$(cd "$ROOT/.." && pwd)/shared"
export CONNECT_SHARE_SHARED="${CONNECT_SHARE_SHARED:-$SHARED_DEFAULT}"
TOOLCHAIN="${CONNECT_SHARE_TOOLCHAIN_DIR:-$ROOT/.toolchain}"
DEBROOT="$TOOLCHAIN/debian-testing"
# Bump when the recipe below changes: a root with another recipe number is rebuilt.
ROOT_RECIPE="connect-share-root-1"
MIN_PYTHON="3.14.2"

say() { printf '[connect-share] %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

in_root() { [ "${CONNECT_SHARE_IN_ROOT:-0}" = 1 ]; }

python_ok() {  # python_ok PY: true when PY runs and is >= MIN_PYTHON
    "$@" -c "import sys; sys.exit(0 if sys.version_info >= (${MIN_PYTHON//./,}) else 1)" \
        >/dev/null 2>&1
}

host_python() {  # prints a host python3.14 >= MIN_PYTHON, or nothing
    local pyenv_root candidate
    pyenv_root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
    for candidate in "$(command -v python3.14 2>/dev/null || true)" \
        "$pyenv_root"/versions/3.14*/bin/python3 /usr/local/bin/python3.14 /usr/bin/python3.14; do
        if [ -n "$candidate" ] && [ -x "$candidate" ] && python_ok "$candidate"; then
            echo "$candidate"; return
        fi
    done
}

packages() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$ROOT/scripts/debian-packages.txt"; }

apt_install() {  # apt_install PACKAGE... : installs missing Debian packages (as root)
    local missing=() pkg
    for pkg in "$@"; do
        # "install ok installed": unpacked-but-unconfigured packages count as missing.
        [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] \
            || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "installing Debian packages: ${missing[*]}"
    # A snapshot archive's Release files may be past their Valid-Until date.
    $sudo apt-get -o Acquire::Check-Valid-Until=false update -qq >/dev/null
    # First complete anything left half-configured (apt refuses new packages until then).
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o Acquire::Check-Valid-Until=false \
        install -y -qq -f --no-install-recommends >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o Acquire::Check-Valid-Until=false \
        install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

debian_mirror() {  # the Debian archive this host's apt already uses (never a hard-coded host)
    local uri
    uri="$(awk '/^URIs:/{u=$2} /^Suites:/{ if (u !~ /security/ && u ~ /debian\/?$/) {print u; exit} }' \
        /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
    [ -n "$uri" ] || uri="$(awk '$1=="deb" && $2 !~ /security/ && $2 ~ /debian\/?$/ {print $2; exit}' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)"
    [ -n "$uri" ] || die "no Debian archive found in /etc/apt/sources.list*; cannot build the root"
    echo "$uri"
}

mounts_under() { findmnt -rn -o TARGET | awk -v p="$1" 'index($0, p) == 1'; }

root_complete() {
    [ "$(cat "$DEBROOT/.connect-share-root" 2>/dev/null)" = "$ROOT_RECIPE" ] \
        && chroot "$DEBROOT" /usr/bin/python3 -c 'import sys' >/dev/null 2>&1 \
        && python_ok chroot "$DEBROOT" /usr/bin/python3
}

build_root() {
    [ "$(id -u)" -eq 0 ] || die "building the Debian testing root needs root (debootstrap, chroot)"
    if [ -n "$(mounts_under "$TOOLCHAIN")" ]; then
        die "something is still mounted under $TOOLCHAIN (another run?); not touching it"
    fi
    say "building the Debian testing root in $DEBROOT (Python >= $MIN_PYTHON; first run, a few minutes)"
    apt_install debootstrap
    rm -rf "$DEBROOT" "$DEBROOT.partial"
    mkdir -p "$TOOLCHAIN"
    local mirror; mirror="$(debian_mirror)"
    # debootstrap mounts proc/sys while it works: keep those mounts in a namespace of their own.
    # Only the base here: debootstrap does not resolve alternatives (chromium -> dconf-service
    # -> "default-dbus-session-bus | dbus-session-bus" fails). scripts/debian-packages.txt is
    # installed with apt inside the root on the first entry (enter_environment).
    unshare --mount --propagation private debootstrap --variant=minbase \
        --include="python3,python3-venv,python3-dev,gcc,g++,ca-certificates" \
        testing "$DEBROOT.partial" "$mirror" >"$TOOLCHAIN/debootstrap.log" 2>&1 \
        || { tail -n 20 "$TOOLCHAIN/debootstrap.log" >&2; die "debootstrap failed (log: $TOOLCHAIN/debootstrap.log)"; }
    echo 'Acquire::Check-Valid-Until "false";' >"$DEBROOT.partial/etc/apt/apt.conf.d/99connect-share"
    # Packages must not start services inside the root (postgresql's postinst would).
    printf '#!/bin/sh\nexit 101\n' >"$DEBROOT.partial/usr/sbin/policy-rc.d"
    chmod 755 "$DEBROOT.partial/usr/sbin/policy-rc.d"
    echo "$ROOT_RECIPE" >"$DEBROOT.partial/.connect-share-root"
    mv "$DEBROOT.partial" "$DEBROOT"
    python_ok chroot "$DEBROOT" /usr/bin/python3 \
        || die "the Debian testing root has no Python >= $MIN_PYTHON"
}

ensure_root() {
    if ! root_complete; then
        [ -d "$DEBROOT" ] && say "the Debian testing root is incomplete or outdated; rebuilding it"
        build_root
    fi
}

# Runs "$@" inside the root: fresh mount namespace, proc/dev/shm, the checkout and ../shared at
# their own paths, then chroot. Only CI, TERM and the project's variables are passed in.
run_in_root() {
    local pass=() var
    for var in CI TERM TZ HUB_PORT HA_PORT PYTEST_ADDOPTS $(compgen -e | grep -E '^CONNECT_SHARE_' || true); do
        [ -n "${!var+x}" ] && pass+=("$var=${!var}")
    done
    exec unshare --mount --propagation private -- /bin/bash "$ROOT/scripts/_enter_root.sh" \
        "$DEBROOT" "$ROOT" "$CONNECT_SHARE_SHARED" "$PWD" "${#pass[@]}" "${pass[@]}" "$@"
}

# Call first in every script: re-runs the calling script inside the root when the host has no
# Python >= MIN_PYTHON. After it, PYTHON names the interpreter to build venvs with.
enter_environment() {
    if in_root; then
        PYTHON=/usr/bin/python3
        VENV=/opt/venv
        DEMO_VENV=/opt/demo-venv
        apt_install $(packages)
        return
    fi
    local py; py="$(host_python)"
    if [ -n "$py" ]; then
        PYTHON="$py"
        VENV="$ROOT/.venv"
        DEMO_VENV="$ROOT/.venv-demo"
        apt_install $(packages)
        return
    fi
    ensure_root
    run_in_root "$@"
}

# venv_install VENV STAMP_TEXT UV_ARGS... : (re)creates VENV and installs when STAMP_TEXT changed.
venv_install() {
    local venv="$1" want="$2"; shift 2
    local stamp="$venv/.connect-share-installed"
    if [ ! -x "$venv/bin/python" ] || ! python_ok "$venv/bin/python"; then
        rm -rf "$venv"
        say "creating $venv with $PYTHON"
        "$PYTHON" -m venv "$venv"
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing into $venv (first run takes a few minutes)"
        # uv resolves Home Assistant's large dependency tree in seconds where pip backtracks.
        [ -x "$venv/bin/uv" ] || "$venv/bin/python" -m pip install --quiet --disable-pip-version-check uv
        "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" "$@"
        echo "$want" >"$stamp"
    fi
}

# The test venv: the project with its extras; pytest-homeassistant-custom-component pins HA.
ensure_venv() {
    venv_install "$VENV" "$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1) $ROOT" \
        -e "$ROOT[hub,detect,test]"
    export PATH="$VENV/bin:$PATH"
}

# The demo venv: the newest Home Assistant release with the project (hub and detection).
DEMO_HA_VERSION="2026.11.0"
ensure_demo_venv() {
    venv_install "$DEMO_VENV" "$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1) $ROOT ha-$DEMO_HA_VERSION" \
        -e "$ROOT[hub,detect]" "homeassistant==$DEMO_HA_VERSION"
}

# PostgreSQL server binaries for the hub's tests (they start a throwaway cluster themselves).
ensure_postgres() {
    local bindir
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
    [ -n "$bindir" ] && [ -x "$bindir/initdb" ] || die "PostgreSQL server binaries missing"
    export CONNECT_SHARE_PG_BINDIR="$bindir"
}

ensure_chromium() {
    CONNECT_SHARE_CHROMIUM="$(command -v chromium)" || die "chromium missing"
    export CONNECT_SHARE_CHROMIUM
}
