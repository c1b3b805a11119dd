#!/usr/bin/env bash
# Builds the chemlm Python module into a private virtual environment and runs its tests
# (python/tests) against the `chemlm` binary of the same checkout. The README's test command runs
# this after `cargo test`, whose binary (cargo's `test` profile) it reuses; the module itself is a
# `dev` build (a cdylib cannot be built under the `test` profile). CHEMLM_PY_PROFILE=release tests
# the release wheel instead (what `pip install ./python` builds).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
profile="${CHEMLM_PY_PROFILE:-dev}"
venv="$CARGO_TARGET_DIR/python-venv"
# python3 -m venv needs Debian's python3-venv; fall back to installing it when missing.
if [ ! -x "$venv/bin/python" ]; then
    if ! python3 -m venv "$venv" 2>/dev/null; then
        command -v apt-get >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >/dev/null
        rm -rf "$venv"
        python3 -m venv "$venv"
    fi
fi
# maturin's build backend runs the `maturin` executable it installed into the venv: put the venv's
# bin first on PATH (a clean machine has no other maturin).
export PATH="$venv/bin:$PATH"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r python/requirements-test.txt
# The binary the tests compare against (built by `cargo test --workspace` already; cheap if so).
bin_profile=$([ "$profile" = release ] && echo release || echo test)
cargo build --quiet -p chemlm --profile "$bin_profile"
bin_dir=$([ "$profile" = release ] && echo release || echo debug)
MATURIN_PEP517_ARGS="--profile $profile" \
    "$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps \
    --no-build-isolation ./python
cd python/tests
CHEMLM_BIN="$CARGO_TARGET_DIR/$bin_dir/chemlm" "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
