# shellcheck shell=bash
# Sourced by tools/dev-up and tools/bench after tools/lib/build.bash: SIGNET_BUILD_DIR names
# another build folder than build/ to build in and run from, for a developer whose build/ is in
# use by other work at the moment (two builds of one folder at once break each other).
#   build_dir                  where the programs are: $build_dir/bin/signetd, ...
#   signet_build_dir TARGET... builds the targets there, like signet_build (which only knows build/)

build_dir=${SIGNET_BUILD_DIR:-build}

signet_build_dir() {
  if [[ $build_dir == build ]]; then
    signet_build "$@"
    return
  fi
  local log
  log=$(mktemp /tmp/signet-build.XXXXXX)
  if ! { cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${SIGNET_BUILD_TYPE:-RelWithDebInfo}" &&
    cmake --build "$build_dir" -j2 --target "$@"; } >"$log" 2>&1; then
    grep -E -m 30 'error|Error|undefined reference' "$log" >&2 || tail -n 30 "$log" >&2
    echo "build failed; the whole log: $log" >&2
    return 1
  fi
  rm -f "$log"
}
