# Shared by scripts/test, scripts/demo, scripts/detect: find Python 3.13, make .venv, install.
# shellcheck shell=bash
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
SHARED="$(cd "$ROOT/.." && pwd)/shared"
export CONNECT_SHARE_SHARED="${CONNECT_SHARE_SHARED:-$SHARED}"

say() { printf '[connect-share] %s\n' "$*" >&2; }

find_python() {
    if command -v python3.13 >/dev/null 2>&1 && python3.13 -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
        command -v python3.13; return
    fi
    local root candidate
    root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
    for candidate in "$root"/versions/3.13*/bin/python3 /usr/local/bin/python3.13 /usr/bin/python3.13; do
        if [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
            echo "$candidate"; return
        fi
    done
    say "No working Python 3.13 found (tried python3.13 and pyenv's versions/3.13*)."
    say "Install it, e.g. 'pyenv install 3.13.0', then run this again."
    exit 1
}

# Installs the project with its extras into .venv; reinstalls only when pyproject.toml changes.
ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        local py; py="$(find_python)"
        say "creating .venv with $py"
        "$py" -m venv "$VENV"
    fi
    local stamp="$VENV/.connect-share-installed" want
    want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing pinned dependencies into .venv (first run takes a minute)"
        # uv resolves Home Assistant's large dependency tree in seconds where pip backtracks.
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check uv
        "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" -e "$ROOT[hub,detect,test]"
        echo "$want" > "$stamp"
    fi
    # Home Assistant's camera component uses libturbojpeg for snapshots when it is present.
    apt_install libturbojpeg0
}

apt_install() {
    # apt_install PACKAGE... : installs Debian packages when missing (CI runs as root).
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# PostgreSQL server binaries for the hub's tests (they start a throwaway cluster themselves).
ensure_postgres() {
    local bindir
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
    if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
        apt_install postgresql
        bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
    fi
    export CONNECT_SHARE_PG_BINDIR="$bindir"
}

ensure_chromium() {
    if ! command -v chromium >/dev/null 2>&1; then
        apt_install chromium chromium-driver fonts-dejavu-core
    fi
    CONNECT_SHARE_CHROMIUM="$(command -v chromium)"
    export CONNECT_SHARE_CHROMIUM
}
