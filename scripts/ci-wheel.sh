#!/usr/bin/env bash
# The product as a user gets it: build the wheel, install it into a fresh virtualenv OUTSIDE the
# checkout, and run the main job and one simulation there (and check the base install needs no extra
# for compile). .ci/run runs it beside the test suite (HLSFIX_WHEEL: a wheel built already).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/hlsfix-wheel-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
PY="${PYTHON:-python3}"

if [ -n "${HLSFIX_WHEEL:-}" ]; then  # built already (.ci/run builds it before the suite starts)
    WHEEL="$HLSFIX_WHEEL"
    echo "== wheel: $(basename "$WHEEL") (built before)"
else
    echo "== wheel: build"
    "$ROOT/.venv/bin/pip" wheel -q --no-deps -w "$WORK/dist" "$ROOT"
    WHEEL="$(ls "$WORK"/dist/hlsfix-*.whl)"
    echo "built $(basename "$WHEEL")"
fi

echo "== wheel: base install (no extras) compiles and builds for the Uno"
"$PY" -m venv "$WORK/base"
"$WORK/base/bin/pip" install -q "$WHEEL"
cd "$WORK"   # nothing of the checkout on the path
"$WORK/base/bin/hlsfix" --help >/dev/null
"$WORK/base/bin/hlsfix" compile mlp -q -o "$WORK/out/mlp"
"$WORK/base/bin/hlsfix" build mlp --board arduino-uno -q -o "$WORK/out/mlp-uno"
if "$WORK/base/bin/hlsfix" sim mlp -q -o "$WORK/out/no-extra" 2>"$WORK/err"; then
    echo "sim without the rtl extra must fail"; exit 1
fi
grep -q 'hlsfix\[rtl\]' "$WORK/err" && echo "sim without the extra: $(cat "$WORK/err")"

echo "== wheel: with the rtl extra, the main job and a simulation, outside the checkout"
"$PY" -m venv "$WORK/rtl"
"$WORK/rtl/bin/pip" install -q "${WHEEL}[rtl]"
"$WORK/rtl/bin/python" -c "import hlsfix, sys; p = hlsfix.__file__; assert '$ROOT' not in p, p; print('hlsfix from', p)"
"$WORK/rtl/bin/hlsfix" build --board arty-a7 -o "$WORK/out/protonn-arty"
"$WORK/rtl/bin/hlsfix" sim mlp --lanes 2 --inputs 5 -o "$WORK/out/mlp-sim"
"$WORK/rtl/bin/python" - "$WORK/out" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
arty = json.loads((out / "protonn-arty" / "report.json").read_text())
sim = json.loads((out / "mlp-sim" / "report.json").read_text())
assert arty["rtl"]["bit_exact"] is True and arty["fpga"]["fits"] is True, arty["rtl"]
assert sim["rtl"]["bit_exact"] is True and sim["rtl"]["checked_inputs"] == 5, sim["rtl"]
# the main job's clock is a real place-and-route (the suite's test of this command stands one in)
fpga, rtl = arty["fpga"], arty["rtl"]
assert "nextpnr" in fpga["timing_estimator"] and "post-route" in fpga["timing_estimator"], fpga
assert fpga["fmax_mhz"] > 0 and rtl["us_at_fmax"] > 0, (fpga, rtl)
assert abs(rtl["us_at_fmax"] - rtl["cycles"] / min(fpga["fmax_mhz"], 100.0)) <= 0.01, (fpga, rtl)
for d in ("protonn-arty", "mlp-sim"):
    assert {"report.md", "report.html", "report.json", "hlsfix.toml"} <= {p.name for p in (out / d).iterdir()}
print(f"wheel outside the checkout: main job bit-exact on {arty['rtl']['checked_inputs']} inputs "
      f"(P={rtl['lanes']}, {rtl['cycles']} cycles, {fpga['fmax_mhz']} MHz post-route: {rtl['us_at_fmax']} us); "
      "sim bit-exact on 5 inputs")
PY
echo "== wheel: passed"
