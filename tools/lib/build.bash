# shellcheck shell=bash
# Sourced by the tools/ scripts: one way to configure and build, so that they share build/.

# signet_build [TARGET...]: configures build/ and builds the targets (all without any), -j2.
# Quiet when it works; on failure, the errors and where the whole log is. The build type is
# $SIGNET_BUILD_TYPE, by default RelWithDebInfo: optimised (-O2) with symbols for backtraces,
# the project's own default.
signet_build() {
  local log targets=()
  log=$(mktemp /tmp/signet-build.XXXXXX)
  (($#)) && targets=(--target "$@")
  if ! { cmake -S . -B build -DCMAKE_BUILD_TYPE="${SIGNET_BUILD_TYPE:-RelWithDebInfo}" &&
    cmake --build build -j2 "${targets[@]}"; } >"$log" 2>&1; then
    grep -E -m 30 'error|Error|undefined reference' "$log" >&2 || tail -n 30 "$log" >&2
    echo "build failed; the whole log: $log" >&2
    return 1
  fi
  rm -f "$log"
}
