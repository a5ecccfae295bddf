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

# docs/embedding.md, "Opening an engine", as written (the prefix put in place of /usr/local),
# built with the pkg-config line and run without LD_LIBRARY_PATH (the .pc gives an rpath).
snippet=$(awk '/^## Opening an engine/{f=1} f&&/^```c/{c=1;next} c&&/^```/{exit} c' "$source/docs/embedding.md")
grep -q 'plugin_dir' <<<"$snippet" || { echo "failed: the example sets no plugin folder"; exit 1; }
{
  printf '#include <certflow/certflow.h>\n#include <stdio.h>\nint main(void)\n{\n'
  sed -e "s#/usr/local#$tmp/prefix#g" -e "s#/var/lib/certflow/certflow.db#$tmp/embed.db#" <<<"$snippet"
  printf 'return rc == CF_OK ? 0 : 1;\n}\n'
} >"$tmp/open.c"
pcdir=$(find "$tmp/prefix" -name certflow.pc -printf '%h\n' | head -1)
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$tmp/open" "$tmp/open.c" $(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs certflow)
env -u LD_LIBRARY_PATH "$tmp/open" || { echo "failed: the embedding example did not open the engine"; exit 1; }
echo "embedding example: ok"
