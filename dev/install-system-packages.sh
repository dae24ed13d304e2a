#!/usr/bin/env bash
# Install the Debian packages that a group of commands needs, skipping what is present.
# Usage: dev/install-system-packages.sh GROUP...   with GROUP one of: postgresql, venv, test, bench
set -euo pipefail

packages=()
for group in "$@"; do
    case "$group" in
        postgresql)
            command -v pg_ctlcluster >/dev/null || packages+=(postgresql)
            command -v psql >/dev/null || packages+=(postgresql-client)
            ;;
        venv)
            packages+=(python3-venv)
            ;;
        test)
            command -v skopeo >/dev/null || packages+=(skopeo)
            command -v podman >/dev/null || packages+=(podman)
            command -v docker-registry >/dev/null || packages+=(docker-registry)
            command -v htpasswd >/dev/null || packages+=(apache2-utils)
            command -v psql >/dev/null || packages+=(postgresql-client)
            ;;
        bench)
            command -v wrk >/dev/null || packages+=(wrk)
            command -v docker-registry >/dev/null || packages+=(docker-registry)
            ;;
        *)
            echo "error: unknown package group '$group'; use postgresql, venv, test or bench" >&2
            exit 2
            ;;
    esac
done

[ ${#packages[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
        echo "error: installing ${packages[*]} needs root; run as root or install sudo" >&2
        exit 1
    fi
    sudo=(sudo)
fi
echo "Installing Debian packages: ${packages[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
    "${packages[@]}"
