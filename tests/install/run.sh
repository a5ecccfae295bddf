#!/usr/bin/env bash
# Installs the build into a temporary prefix, builds the embedding example against it
# with find_package and with pkg-config, and runs both.
set -euo pipefail
build=$1 source=$2 fixtures=$3
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
cmake -S "$source/tests/install" -B "$prefix/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
  -DEMBED_SOURCE="$source/docs/examples/embed.c" >/dev/null
cmake --build "$prefix/consumer" >/dev/null
LD_LIBRARY_PATH="$prefix/lib:${LD_LIBRARY_PATH:-}" "$prefix/consumer/embed" "$fixtures/workflows" "$fixtures/lua"
libdir=$(find "$prefix" -name certflow.pc -printf '%h\n' | head -1)
PKG_CONFIG_PATH="$libdir" cc -std=c11 -o "$prefix/embed-pc" "$source/docs/examples/embed.c" \
  $(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs certflow)
LD_LIBRARY_PATH="$(dirname "$libdir"):${LD_LIBRARY_PATH:-}" "$prefix/embed-pc" "$fixtures/workflows" "$fixtures/lua"
# A plugin author's build: plugins/template against the installed package (certflow_add_plugin).
cmake -S "$source/plugins/template" -B "$prefix/plugin" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/plugin" >/dev/null
test -f "$prefix/plugin/template.so" && echo "plugin: ok"
