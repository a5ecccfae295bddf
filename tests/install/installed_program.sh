#!/usr/bin/env bash
# An installed certflow uses only installed files. Builds what the README's main job
# builds (the certflow target alone) in a fresh build folder, installs it into a temporary
# prefix, and runs the installed program from an empty folder: its workflows, policies and
# plugins must come from <prefix>/share/certflow and <prefix>/lib/certflow/plugins, never from
# the source or build tree.
set -euo pipefail
source=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake -S "$source" -B "$tmp/build" >/dev/null
cmake --build "$tmp/build" -j2 --target certflow_cli >/dev/null
cmake --install "$tmp/build" --prefix "$tmp/prefix" >/dev/null
echo "install after the main job: ok"
mkdir "$tmp/empty"
cd "$tmp/empty"
unset CERTFLOW_WORKFLOWS CERTFLOW_POLICIES CERTFLOW_PLUGINS CERTFLOW_DB
cf() { "$tmp/prefix/bin/certflow" --db "$tmp/empty/x.db" "$@"; }
init=$(cf --json init)
grep -q "\"workflow_dir\": \"$tmp/prefix/share/certflow/workflows\"" <<<"$init" || { echo "failed: $init"; exit 1; }
grep -q "\"policy_dir\": \"$tmp/prefix/share/certflow/lua\"" <<<"$init" || { echo "failed: $init"; exit 1; }
plugins=$(cf plugin list)
grep -q "^plugins: $tmp/prefix/lib/certflow/plugins$" <<<"$plugins" || { echo "failed: $plugins"; exit 1; }
grep -q "registry_export 1" <<<"$plugins" || { echo "failed: $plugins"; exit 1; }
# The build tree is gone: the installed program still runs the shipped workflows.
rm -rf "$tmp/build"
cf check
id=$(cf new certification --county alameda)
test -n "$id"
# What is installed is what is used: a workflow removed from the prefix is gone.
rm "$tmp/prefix/share/certflow/workflows/scholarship.lua"
cf check | grep -q "4 workflows" || { echo "failed: the installed program read another workflow folder"; exit 1; }
echo "installed program: ok"
