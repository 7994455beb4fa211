# Shared helpers for scripts/demo and scripts/test (sourced, not run).
#
# They make a fresh machine ready without asking questions: a virtualenv with the
# project installed, and PostgreSQL with PostGIS. System packages are installed
# only with apt-get, only as root or with password-less sudo; otherwise the
# helpers say exactly what to install and stop.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${JOTR_VENV:-$ROOT/.venv}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly, via password-less sudo, or not at all (status 1).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        return 1
    fi
}

can_apt() { command -v apt-get >/dev/null 2>&1 && as_root true; }

APT_UPDATED=""
apt_install() {
    if [ -z "$APT_UPDATED" ]; then
        as_root apt-get update -qq || return 1
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# Major version of the installed PostgreSQL server (highest), or nothing.
pg_major() {
    local bin major=""
    for bin in /usr/lib/postgresql/*/bin/initdb; do
        [ -x "$bin" ] || continue
        bin="${bin%/bin/initdb}"
        [ "${bin##*/}" -gt "${major:-0}" ] 2>/dev/null && major="${bin##*/}"
    done
    if [ -z "$major" ] && command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        major="$(pg_config --version | sed -E 's/^[^0-9]*([0-9]+).*/\1/')"
    fi
    printf '%s' "$major"
}

postgis_installed() {
    local major="$1" dir
    for dir in "/usr/share/postgresql/$major/extension" \
               "$(pg_config --sharedir 2>/dev/null)/extension"; do
        [ -f "$dir/postgis.control" ] && return 0
    done
    return 1
}

# PostgreSQL server binaries and the PostGIS extension for the same major version.
ensure_postgis() {
    local major
    major="$(pg_major)"
    if [ -z "$major" ]; then
        if can_apt; then
            say "Installing PostgreSQL (apt-get install postgresql)"
            apt_install postgresql || die "could not install PostgreSQL with apt-get"
            major="$(pg_major)"
        fi
        [ -n "$major" ] || die "PostgreSQL is not installed. Install the PostgreSQL server and \
PostGIS (Debian/Ubuntu: apt-get install postgresql postgresql-15-postgis-3), or set \
DATABASE_URL to a PostGIS database."
    fi
    postgis_installed "$major" && return 0
    if can_apt; then
        say "Installing PostGIS for PostgreSQL $major (apt-get install postgresql-$major-postgis-3)"
        apt_install "postgresql-$major-postgis-3" \
            || die "could not install postgresql-$major-postgis-3 with apt-get"
        postgis_installed "$major" && return 0
    fi
    die "PostGIS for PostgreSQL $major is missing. Install it as root: \
apt-get install postgresql-$major-postgis-3 (macOS: brew install postgis)."
}

# Chromium for the browser tests (tests/test_web_browser.py drives it with
# Playwright). Debian's package, not Playwright's download, which needs a network
# we may not have; the emoji font makes the app's picture icons render.
ensure_chromium() {
    [ -x /usr/bin/chromium ] && return 0
    if can_apt; then
        say "Installing Chromium for the browser tests (apt-get install chromium chromium-driver)"
        apt_install chromium chromium-driver fonts-liberation fonts-noto-color-emoji \
            || die "could not install chromium with apt-get"
        [ -x /usr/bin/chromium ] && return 0
    fi
    die "Chromium is missing for the browser tests. Install it as root: \
apt-get install chromium chromium-driver (or set JOTR_CHROMIUM to a Chromium binary)."
}

# A virtual X screen for the test that captures Chromium's real notification popup
# (tests/test_web_notification.py): Xvfb, xwd to dump the screen, xdotool to tap
# it. Without them (and no apt-get) that one test is skipped, saying so; not on CI.
ensure_xvfb() {
    command -v Xvfb >/dev/null 2>&1 && command -v xwd >/dev/null 2>&1 \
        && command -v xdotool >/dev/null 2>&1 && return 0
    if can_apt; then
        say "Installing Xvfb for the notification test (apt-get install xvfb x11-apps xdotool)"
        apt_install xvfb x11-apps xdotool || die "could not install xvfb with apt-get"
        return 0
    fi
    # CI (.ci/run) must run it, not skip it.
    [ -z "${CI:-}" ] || die "Xvfb is missing for the notification test. Install it as root: \
apt-get install xvfb x11-apps xdotool"
    say "Xvfb, xwd or xdotool missing: the notification screen test will be skipped \
(install as root: apt-get install xvfb x11-apps xdotool)"
}

# The project's virtualenv, with the package installed (editable) and extras "$1".
ensure_venv() {
    local extras="${1:-}" spec="." stamp python="${PYTHON:-python3}"
    [ -n "$extras" ] && spec=".[$extras]"
    if [ ! -x "$VENV/bin/python" ]; then
        command -v "$python" >/dev/null 2>&1 || die "python3 (3.11 or newer) is not installed"
        "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
            || die "Python 3.11 or newer is needed ($python is $("$python" -V 2>&1))"
        say "Creating $VENV"
        if ! "$python" -m venv "$VENV" 2>/dev/null; then
            # Debian ships venv separately (python3-venv).
            rm -rf "$VENV"
            can_apt && apt_install python3-venv >/dev/null \
                || die "cannot create a virtualenv: install python3-venv"
            "$python" -m venv "$VENV" || die "cannot create a virtualenv in $VENV"
        fi
    fi
    # Reinstall only when pyproject.toml changed: pip takes seconds even when idle.
    stamp="$VENV/.jotr-installed${extras:+-$extras}"
    if [ ! -f "$stamp" ] || ! cmp -s "$ROOT/pyproject.toml" "$stamp"; then
        say "Installing the project into $VENV (pip install -e '$spec')"
        # The log keeps build-backend chatter off the screen unless something fails.
        if ! (cd "$ROOT" && "$VENV/bin/python" -m pip install -e "$spec") >"$VENV/pip.log" 2>&1; then
            tail -n 40 "$VENV/pip.log" >&2
            die "pip install -e '$spec' failed (full log: $VENV/pip.log)"
        fi
        cp "$ROOT/pyproject.toml" "$stamp"
    fi
    export PATH="$VENV/bin:$PATH"
}

# Start the distribution's PostgreSQL cluster if it is installed but not accepting
# connections (containers and CI images have no systemd to start it at boot).
ensure_system_cluster() {
    local major="$1" host="127.0.0.1" port="5432"
    command -v pg_ctlcluster >/dev/null 2>&1 || return 0
    pg_lsclusters -h 2>/dev/null | awk -v m="$major" '$1 == m && $2 == "main" {f=1} END {exit !f}' \
        || return 0
    pg_isready -q -h "$host" -p "$port" && return 0
    say "Starting the system PostgreSQL cluster ($major/main)"
    as_root pg_ctlcluster --skip-systemctl-redirect "$major" main start \
        || say "could not start PostgreSQL $major/main (not root?)"
    local i
    for i in $(seq 1 30); do
        pg_isready -q -h "$host" -p "$port" && return 0
        sleep 1
    done
    return 1
}

# Whether a libpq URL lets us in (the test suite creates databases through it).
can_connect() {
    "$VENV/bin/python" - "$1" <<'PY' 2>/dev/null
import sys

import psycopg

psycopg.connect(sys.argv[1], connect_timeout=3).close()
PY
}
