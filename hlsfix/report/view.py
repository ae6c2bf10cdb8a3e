"""What a report shows, computed once from report.json's dict; the md and html templates only lay it out.

Every value reaches the page formatted for a person: yes/no rather than True/False, a dash rather
than None, thousands separated, every capacity as used / available and percent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def fmt(value: object) -> str:
    """A value as a person reads it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.4g}" if abs(value) >= 1 else f"{value:.4g}"
    return str(value)


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Capacity:
    """One resource of the target: used of available, and whether it is past the fit margin."""

    name: str
    used: str
    available: str
    percent: float
    over: bool


@dataclass(frozen=True)
class Section:
    title: str
    facts: tuple[tuple[str, str], ...] = ()
    note: str = ""
    capacity: tuple[Capacity, ...] = ()
    table: Table | None = None
    chart: str = ""  # an inline SVG (html only)
    picture: str = ""  # a picture file beside the report, linked from report.md
    svg: str = ""  # an SVG file beside the report, inlined in report.html


@dataclass(frozen=True)
class ReportView:
    title: str
    facts: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...] = field(default=())


def _table(header: list[str], rows: list[list[object]]) -> Table:
    return Table(tuple(header), tuple(tuple(fmt(c) for c in row) for row in rows))


def _capacity(name: str, used: float, available: float, margin: float = 1.0) -> Capacity:
    share = used / available if available else 0.0
    return Capacity(name, fmt(used), fmt(available), round(100 * share, 1), share > margin)


def _accuracy_facts(report: dict[str, Any]) -> list[tuple[str, str]]:
    acc = report.get("accuracy") or {}
    if not acc:
        return []
    if "fixed" in acc and "float" in acc:
        loss = (acc["float"] - acc["fixed"]) * 100
        return [
            (f"accuracy on the {acc['split']} split", f"float {acc['float']:.4f}, fixed {acc['fixed']:.4f}"),
            ("lost to fixed point", f"{loss:+.2f} pp on {fmt(acc['n'])} inputs"),
        ]
    split = f"on the {acc.get('split', 'test')} split ({fmt(acc.get('n'))} inputs)"
    labels = {
        "sqnr_db": ("signal-to-quantisation noise, fixed vs float", " dB"),
        "max_rel_err": ("worst relative error, fixed vs float", ""),
        "rmse_float": ("RMSE against the targets, float", ""),
        "rmse_fixed": ("RMSE against the targets, fixed point", ""),
    }
    facts = []
    for key, value in acc.items():
        if key in ("split", "n"):
            continue
        label, unit = labels.get(key, (key.replace("_", " "), ""))
        shown = "no difference (infinite)" if key == "sqnr_db" and value is None else fmt(value) + unit
        facts.append((f"{label} {split}", shown))
    return facts


def _cortexm_sections(mcu: dict[str, Any]) -> list[Section]:
    """An int8 model's Cortex-M build: QEMU counts instructions, not cycles, and says so."""
    capacity = (
        _capacity("flash (bytes)", mcu["flash_bytes"], mcu["board_flash_bytes"]),
        _capacity(
            "RAM: static + stack reserve (bytes)",
            mcu["ram_bytes"] + mcu.get("stack_reserve_bytes", 0),
            mcu["board_ram_bytes"],
        ),
    )
    facts = (
        (
            "instructions per inference",
            f"{fmt(mcu.get('instructions'))} (QEMU counts instructions, not cycles)",
        ),
        (
            "bit-exact with the golden model",
            f"{fmt(mcu['bit_exact'])} on {fmt(mcu['checked_inputs'])} inputs",
        ),
        ("deepest stack seen", f"{fmt(mcu.get('max_stack_bytes'))} bytes"),
        ("simulator", fmt(mcu.get("simulator"))),
    )
    return [Section(f"{mcu['board']}: fit and speed", facts, capacity=capacity)]


def _tflm_sections(report: dict[str, Any]) -> list[Section]:
    t = report["tflm"]
    facts = (
        (
            "bit-exact with TFLM's reference kernels",
            f"{fmt(t['bit_exact'])} on {fmt(t['checked_inputs'])} inputs",
        ),
        ("TFLM's arena: activations", f"{fmt(t['arena_head_bytes'])} bytes"),
        ("TFLM's arena: with its bookkeeping", f"{fmt(t['arena_head_bytes'] + t['arena_tail_bytes'])} bytes"),
    )
    return [Section("TensorFlow Lite Micro (tflite-micro)", facts)]


def _mcu_sections(report: dict[str, Any]) -> list[Section]:
    from hlsfix.boards import BOARDS

    mcu = report["mcu"]
    if "instructions" in mcu:
        return _cortexm_sections(mcu)
    board = BOARDS.get(mcu["board"])
    capacity: list[Capacity] = []
    if board is not None:
        capacity = [
            _capacity("flash (bytes)", mcu["flash_bytes"], board.flash_bytes),
            _capacity(
                "RAM: static + stack (bytes)", mcu["ram_bytes"] + (mcu["stack_bytes"] or 0), board.ram_bytes
            ),
        ]
        for key, label in (
            ("sketch_flash_bytes", "sketch flash (Arduino core)"),
            ("sketch_ram_bytes", "sketch RAM"),
        ):
            if mcu.get(key) is not None:
                total = board.flash_bytes if "flash" in key else board.ram_bytes
                capacity.append(_capacity(label + " (bytes)", mcu[key], total))
    facts = [
        ("cycles per inference", f"{fmt(mcu['cycles'])} ({fmt(mcu.get('ms_at_16mhz'))} ms at 16 MHz)"),
        (
            "float build",
            f"{fmt(mcu['cycles_float'])} cycles" if mcu.get("cycles_float") else mcu.get("float_note"),
        ),
        ("fixed point is faster by", f"{fmt(mcu['speedup'])}×" if mcu.get("speedup") else "—"),
        (
            "bit-exact with the golden model",
            f"{fmt(mcu['bit_exact'])} on {fmt(mcu['checked_inputs'])} inputs",
        ),
        ("simulator", fmt(mcu.get("simulator"))),
    ]
    if mcu.get("model_flash_bytes") is not None:
        facts.append(
            ("the model alone (constants + code)", f"{fmt(mcu['model_flash_bytes'])} bytes of flash")
        )
    if mcu.get("input_cycles") is not None:
        facts.append(("sketch input path (float input → integers)", f"{fmt(mcu['input_cycles'])} cycles"))
    return [Section(f"{mcu['board']}: fit and speed", tuple(facts), capacity=tuple(capacity))]


def _fpga_sections(report: dict[str, Any]) -> list[Section]:
    fpga = report["fpga"]
    cap, margin = fpga["capacity"], fpga.get("margin", 0.9)
    # Open FPGAs name their own cells (LC, SB_MAC16, EBR on the iCE40); 7-series parts: LUT, DSP48E1, BRAM36.
    cells = {"lut": "LUT", "dsp": "DSP48E1", "bram": "BRAM36", **(fpga.get("cells") or {})}
    capacity = tuple(
        _capacity(label, fpga[key], cap[key], margin)
        for label, key in (
            (cells["lut"], "lut"),
            ("FF", "ff"),
            (cells["dsp"], "dsp"),
            (cells["bram"], "bram36"),
        )
    )
    facts = [("part", fpga["part"]), ("estimator", fpga["estimator"]), ("fit margin", f"{margin:.0%}")]
    if fpga.get("fmax_mhz") is not None:
        facts.append(("Fmax", f"{fmt(fpga['fmax_mhz'])} MHz ({fpga.get('timing_estimator', 'estimate')})"))
        if fpga.get("critical_path"):
            facts.append(("critical path", fmt(fpga["critical_path"])))
    else:
        facts.append(("Fmax", "not measured in this build"))
    if fpga.get("bitstream"):
        facts.append(("bitstream", f"{fpga['bitstream']} ({fmt(fpga.get('bitstream_bytes'))} bytes)"))
        facts.append(("toolchain", fmt(fpga.get("toolchain"))))
    else:
        facts.append(("Vivado", fpga.get("vivado", "—")))
    sections = [Section("FPGA resources", tuple(facts), capacity=capacity)]
    tried = fpga.get("lanes_tried")
    if tried:
        rows = [
            [t.get("lanes"), t.get("lut"), t.get("ff"), t.get("dsp"), t.get("bram36"), t.get("verdict")]
            for t in tried
        ]
        sections.append(
            Section("Lane counts tried", table=_table(["P", "LUT", "FF", "DSP", "BRAM36", "verdict"], rows))
        )
    else:
        measured = fpga.get("synthesised_lanes") or {}
        failed = fpga.get("synthesis_failed") or {}
        rows = [
            [int(p), r["lut"], r["ff"], r["dsp"], r["bram36"], "synthesised"] for p, r in measured.items()
        ]
        rows += [[int(p), None, None, None, None, f"rejected: {why}"] for p, why in failed.items()]
        if rows:
            rows.sort(key=lambda r: -r[0])
            sections.append(
                Section(
                    "Lane counts tried (Yosys)",
                    table=_table(["P", "LUT", "FF", "DSP", "BRAM36", "verdict"], rows),
                    note="P: the largest count that fits the margin (counts not listed were not tried).",
                )
            )
    return sections


def _accelerator_memories(report: dict[str, Any]) -> list[Section]:
    """Each memory of the accelerator (``Image.memories``) and the RAM primitives Yosys inferred."""
    fpga = report.get("fpga") or {}
    mems = fpga.get("memories") or (report.get("verilog") or {}).get("memories")
    if not mems:
        return []
    rows = [
        [m["memory"], m["words"], m["bits"], m["copies"], m["read_ports"], m["write_ports"], m["style"]]
        for m in mems
    ]
    prims = fpga.get("memory_primitives") or {}
    note = (
        "Primitives Yosys inferred (whole design): " + ", ".join(f"{n} × {c}" for c, n in prims.items()) + "."
        if prims
        else "Words, bits and ports per copy; how each is built."
    )
    header = ["memory", "words", "bits", "copies", "read ports", "write ports", "built as"]
    return [Section("Accelerator memories", table=_table(header, rows), note=note)]


def _rtl_sections(report: dict[str, Any]) -> list[Section]:
    from hlsfix.report.html import cycles_svg

    rtl = report["rtl"]
    mhz = (report.get("fpga") or {}).get("fmax_mhz")
    facts = [
        ("lanes (P)", fmt(rtl["lanes"])),
        ("cycles per inference", f"{fmt(rtl['cycles'])} (ideal {fmt(rtl['ideal_cycles'])})"),
    ]
    if rtl.get("ratio") is not None:
        facts.append(("ratio to ideal", f"{rtl['ratio']:.2f}"))
    if mhz and rtl.get("us_at_fmax") is not None:
        facts.append(
            ("µs per inference", f"{fmt(rtl['us_at_fmax'])} at min(Fmax {fmt(mhz)} MHz, the board's clock)")
        )
    else:
        facts.append(("µs per inference", "— (no measured Fmax: an assumed clock is not a figure)"))
    facts.append(
        ("bit-exact with the golden model", f"{fmt(rtl['bit_exact'])} on {fmt(rtl['checked_inputs'])} inputs")
    )
    facts.append(("simulator", fmt(rtl.get("simulator"))))
    if rtl.get("speedup_vs_uno"):
        facts.append(
            (
                "against the Arduino Uno",
                f"{fmt(rtl['speedup_vs_uno'])}× faster ({fmt(rtl['uno_cycles'])} cycles at 16 MHz)",
            )
        )
    elif "uno_note" in rtl:
        facts.append(("against the Arduino Uno", rtl["uno_note"] or "—"))
    sections = [Section("Accelerator", tuple(facts))]
    per_kernel = rtl.get("per_kernel") or []
    if per_kernel:
        rows = [[k["kernel"], k["cycles"], k["ideal"]] for k in per_kernel]
        sections.append(
            Section(
                "Cycles per kernel (cocotb)",
                table=_table(["kernel", "cycles", "ideal"], rows),
                chart=cycles_svg(per_kernel),
            )
        )
    if rtl.get("mismatches"):
        sections.append(
            Section("Not bit-exact", note=f"inputs {rtl['mismatches'][:20]} differ from the golden model.")
        )
    return sections


def _hls_sections(report: dict[str, Any]) -> list[Section]:
    hls = report["hls"]
    capacity = (
        _capacity("LUT (estimate)", hls["estimated_lut"], hls["lut_budget"]),
        _capacity("DSP48E1 (estimate)", hls["estimated_dsp"], hls["dsp_budget"]),
    )
    facts = (
        ("bit-exact (C-simulation)", f"{fmt(hls['bit_exact'])} on {fmt(hls['checked_inputs'])} inputs"),
        ("part", hls["part"]),
        ("interface", hls["interface"]),
        ("clock", f"{fmt(hls['clock_ns'])} ns"),
        ("MAC cycles (estimate)", fmt(hls.get("mac_cycles"))),
    )
    return [Section("HLS C++", facts, capacity=capacity)]


def _codesign_sections(report: dict[str, Any]) -> list[Section]:
    from hlsfix.report.html import codesign_svg

    cd = report["codesign"]
    sim, base = cd["simulated"], cd["baselines_simulated"]
    pred, pbase = cd["predicted"], cd["baselines"]
    facts = (
        ("partition", sim["partition"]),
        ("bit-exact with the golden model", f"{fmt(cd['bit_exact'])} on {fmt(cd['checked_inputs'])} inputs"),
        (
            "host clock",
            f"{cd['host_hz'] / 1e6:g} MHz"
            + (" (MicroBlaze cycles are estimates)" if cd["estimated"] else ""),
        ),
    )
    rows = [
        [f"chosen ({sim['partition']})", pred["total_cycles"], sim["total_cycles"], sim["link_bytes"]],
        ["all on the host", pbase["all_mcu"]["total_cycles"], base["all_mcu"]["total_cycles"], 0],
        [
            "all on the FPGA",
            pbase["all_fpga"]["total_cycles"],
            base["all_fpga"]["total_cycles"],
            base["all_fpga"]["link_bytes"],
        ],
    ]
    sides = [[k["kernel"], k["label"], k["side"]] for k in cd["partition"]]
    return [
        Section(
            f"Co-design: {cd['host']} + FPGA over {cd['link']}",
            facts,
            table=_table(["partition", "predicted host cycles", "simulated host cycles", "link bytes"], rows),
            chart=codesign_svg(cd),
        ),
        Section("Which side runs each kernel", table=_table(["#", "kernel", "side"], sides)),
    ]


def _memory_section(report: dict[str, Any]) -> list[Section]:
    m = report.get("memory")
    if not m:
        return []
    facts = [("arena", f"{fmt(m['arena_bytes'])} bytes")]
    for key, label in (
        ("lower_bound_bytes", "lower bound of this order"),
        ("best_order_bound_bytes", "lower bound of the best order"),
        ("given_order_arena_bytes", "arena in the file's order"),
        ("reordered_arena_bytes", "arena with operator reordering"),
        ("pex_arena_bytes", "arena with partial execution"),
        ("linear_bytes", "without reuse"),
    ):
        if m.get(key) is not None:
            facts.append((label, f"{fmt(m[key])} bytes"))
    notes = [
        f"Partial execution: the chain at kernel {c['at']} runs in {c['slices']} slices of its "
        f"{c['width']} middle channels."
        for c in m.get("pex_chains") or []
    ]
    picture = m.get("picture_png") or m.get("picture_svg", "")
    return [
        Section(
            "Memory plan", tuple(facts), note=" ".join(notes), picture=picture, svg=m.get("picture_svg", "")
        )
    ]


def _compile_sections(report: dict[str, Any]) -> list[Section]:
    sections = []
    ch = report.get("choice")
    if ch:
        facts = [
            ("metric", report["training"]["metric"]),
            ("headroom", fmt(ch["headroom"])),
            ("input offset", fmt(ch["input_offset"])),
            ("activations", ch["activation"]),
            ("explored", f"{fmt(ch['candidates_run'])} candidates in {fmt(ch['explore_seconds'])} s"),
            ("weights", f"{fmt(report['weights_bytes'])} bytes"),
        ]
        if ch.get("demoted_to_8"):
            facts.append(("demoted to 8 bits", ", ".join(ch["demoted_to_8"])))
        sections.append(Section("Fixed-point choice (on the training data)", tuple(facts)))
    tensors = report.get("tensors") or []
    if tensors:
        rows = [
            [
                t["name"],
                t["kind"],
                "×".join(map(str, t["shape"])),
                t["bits"],
                t["frac"],
                f"[{t['range'][0]:.4g}, {t['range'][1]:.4g}]" if t["range"] else None,
                t["bytes"],
            ]
            for t in tensors
        ]
        sections.append(
            Section(
                "Tensors",
                table=_table(["tensor", "kind", "shape", "bits", "frac", "float range", "bytes"], rows),
            )
        )
    kernels = report.get("kernels") or []
    if kernels:
        rows = [[i, k["kernel"], k["source"], k["saturations"]] for i, k in enumerate(kernels)]
        sections.append(
            Section(
                "Kernels (saturations on the test split)",
                table=_table(["#", "kernel", "from", "saturations"], rows),
            )
        )
    return sections


def report_view(report: dict[str, Any]) -> ReportView:
    """The report of any command (compile, build for any board, rtl, sim) as one view."""
    target = (
        (report.get("fpga") or {}).get("board")
        or (report.get("mcu") or {}).get("board")
        or (f"{report['codesign']['host']} + FPGA" if "codesign" in report else None)
        or ("HLS C++" if "hls" in report else None)
        or ("the accelerator" if "rtl" in report or "verilog" in report else None)
    )
    title = f"hlsfix: {report['model']}" + (f" on {target}" if target else "")
    facts = [("bits", fmt(report["bits"])), *_accuracy_facts(report)]
    if report.get("operators"):  # an imported int8 model: what it is made of
        ops = report["operators"]
        facts.append(("operators", f"{len(ops)}: {', '.join(dict.fromkeys(ops))}"))
        facts.append(("parameters", fmt(report.get("parameters"))))
    if report.get("fingerprint"):
        facts.append(("program fingerprint", report["fingerprint"]))
    sections: list[Section] = []
    for key, make in (
        ("mcu", _mcu_sections),
        ("codesign", _codesign_sections),
        ("fpga", _fpga_sections),
        ("rtl", _rtl_sections),
        ("hls", _hls_sections),
        ("tflm", _tflm_sections),
    ):
        if report.get(key):
            sections += make(report)
    if report.get("verilog"):
        v = report["verilog"]
        sections.append(
            Section(
                "Verilog",
                (
                    ("file", v["file"]),
                    ("top module", v["top"]),
                    ("lanes (P)", fmt(v["lanes"])),
                    ("predicted cycles", f"{fmt(v['predicted_cycles'])} (ideal {fmt(v['ideal_cycles'])})"),
                    ("microcode words", fmt(v["microcode_words"])),
                ),
            )
        )
    sections += _accelerator_memories(report)
    sections += _memory_section(report)
    sections += _compile_sections(report)
    return ReportView(title, tuple(facts), tuple(sections))
