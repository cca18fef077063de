#!/bin/sh
# npm run image:release [-- <podman build options>]: the container image of Containerfile.release, from the release
# artifact of this checkout's version and the machine's arch in release/ (RELEASE_ARTIFACT=<file> for another one,
# with its .sha256 beside it), checked against its .sha256 and unpacked into a temporary build context. Tagged
# berth:<version>, as `npm run image` tags its image.
set -eu
cd "$(dirname "$0")/.."
version=$(node -p 'require("./package.json").version')
artifact=${RELEASE_ARTIFACT:-release/berth-$version-linux-$(node -p process.arch).tar.gz}
if [ ! -f "$artifact" ] || [ ! -f "$artifact.sha256" ]; then
  echo "$artifact (and its .sha256) is missing: run npm run release first" >&2
  exit 1
fi
(cd "$(dirname "$artifact")" && sha256sum --check --quiet "$(basename "$artifact").sha256")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$artifact" -C "$work"
podman build --format docker -f "$PWD/Containerfile.release" -t "berth:$version" "$@" "$work/berth-$version"
