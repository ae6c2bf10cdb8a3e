"""The random-program differential tester, at scale: seeded well-typed SeeDot programs through the
golden model (against float) and every backend (against the golden model), with a table of counts
per backend and a small reproducer for each failure.

    python scripts/random_programs.py --seeds 0:2000 --backends host,hls --jobs 2
    python scripts/random_programs.py --seeds 0:200 --backends avr --out out/random
    python scripts/random_programs.py --seeds 0:100 --backends rtl1,rtl2,rtl4,rtl8 --inputs 4

Each program runs in a child process with a wall-clock limit (a hang is a failure). A mismatch or
failure is shrunk — the chain of ``let``s cut at the earliest value that still fails, unused
parameters dropped, the test rows cut to the first that fails — and written to ``--out/seed-N/``
(model.sd, weights.npz, data.npz with calib and test, verdict.txt).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import re
import signal
import sys
import tempfile
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.random_programs.backends import BACKENDS, Verdict  # noqa: E402
from tests.random_programs.campaign import run_one  # noqa: E402
from tests.random_programs.generator import RandomProgram, generate  # noqa: E402

BAD = ("mismatch", "failure")


def _child(rp: RandomProgram, backends: tuple[str, ...], queue: mp.Queue) -> None:
    os.setsid()  # its own process group: a timeout ends the simulators it started too
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # cocotb and the simulators talk on stdout
    os.dup2(devnull, 2)
    with tempfile.TemporaryDirectory(prefix="hlsfix-rand-") as d:
        out = run_one(rp, backends, Path(d))
    lowered = out.lowered
    summary = (
        None
        if lowered is None
        else (lowered.float_agreement, lowered.sqnr_db, lowered.program.output_is_class)
    )
    queue.put((out.refusal, out.verdicts, summary))


def run_guarded(
    rp: RandomProgram, backends: tuple[str, ...], timeout: float
) -> tuple[str, tuple[Verdict, ...], tuple | None]:
    ctx = mp.get_context("fork")
    queue: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(rp, backends, queue))
    proc.start()
    try:
        result = queue.get(timeout=timeout)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the child's simulators end with it
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        raise
    except Exception:  # noqa: BLE001 - the queue's Empty: the child hung or died
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.join()
        return (
            "",
            tuple(Verdict(b, "failure", message=f"no result within {timeout:g} s") for b in backends),
            ("timeout",),
        )
    proc.join()
    return result


def _bad(verdicts: tuple[Verdict, ...], backend: str) -> bool:
    return any(v.backend == backend and v.outcome in BAD for v in verdicts)


def _cut(rp: RandomProgram, keep: int) -> RandomProgram | None:
    """The program ending at its ``keep``-th let (as a tensor output), unused parameters dropped."""
    lines = rp.text.strip().splitlines()
    lets = [i for i, ln in enumerate(lines[:-1]) if not re.match(r"let (X|P\d+) = \(", ln)]
    if keep >= len(lets) or keep < 1:
        return None
    name = lines[lets[keep - 1]].split()[1]
    kept = [ln for i, ln in enumerate(lines[:-1]) if not (i in lets and lets.index(i) >= keep)]
    exprs = "\n".join(ln for ln in kept if not re.match(r"let P\d+ = \(", ln))
    used = set(re.findall(r"\bP\d+\b", exprs))
    final = [ln for ln in kept if not (m := re.match(r"let (P\d+) = \(", ln)) or m.group(1) in used]
    weights = {k: v for k, v in rp.weights.items() if k in used}
    return replace(rp, text="\n".join([*final, name]) + "\n", weights=weights)


def shrink(rp: RandomProgram, backend: str, timeout: float) -> tuple[RandomProgram, tuple[Verdict, ...]]:
    best = rp
    _, verdicts, _ = run_guarded(rp, (backend,), timeout)
    n_lets = len(rp.text.splitlines())
    for keep in range(1, n_lets):
        cand = _cut(rp, keep)
        if cand is None:
            continue
        try:
            cand.graph()
        except Exception:  # noqa: BLE001 - a cut that does not type-check is no reproducer
            continue
        _, vs, _ = run_guarded(cand, (backend,), timeout)
        if _bad(vs, backend):
            best, verdicts = cand, vs
            break
    # the first failing test row alone (when one row suffices)
    for i in range(len(best.test)):
        cand = replace(best, test=best.test[i : i + 1])
        _, vs, _ = run_guarded(cand, (backend,), timeout)
        if _bad(vs, backend):
            return cand, vs
    return best, verdicts


def write_reproducer(rp: RandomProgram, verdicts: tuple[Verdict, ...], out: Path) -> Path:
    d = out / f"seed-{rp.seed}"
    d.mkdir(parents=True, exist_ok=True)
    (d / "model.sd").write_text(rp.text)
    np.savez(d / "weights.npz", **rp.weights)
    np.savez(d / "data.npz", calib=rp.calib, test=rp.test)
    (d / "verdict.txt").write_text(
        f"bits {rp.bits}\nround_all {rp.round_all}\n"
        + "\n".join(f"{v.backend}: {v.outcome} {v.mismatches}/{v.inputs}\n{v.message}" for v in verdicts)
    )
    return d


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0:50", help="A:B, the half-open range of seeds")
    ap.add_argument("--backends", default="host,hls", help=f"comma-separated, of {', '.join(BACKENDS)}")
    ap.add_argument("--inputs", type=int, default=24, help="test rows per program (edges first)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per program")
    ap.add_argument("--out", type=Path, default=Path("out/random-programs"), help="reproducers go here")
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument(
        "--jobs", type=int, default=1, help="programs checked at once, each in its own process (default 1)"
    )
    args = ap.parse_args(argv)
    a, b = (int(v) for v in args.seeds.split(":"))
    if args.jobs < 1:
        ap.error(f"--jobs must be at least 1, not {args.jobs}")
    backends = tuple(args.backends.split(","))
    for be in backends:
        if be not in BACKENDS:
            ap.error(f"--backends must name backends of {', '.join(BACKENDS)}, not {be!r}")
    counts: dict[str, Counter] = {be: Counter() for be in ("golden", *backends)}
    inputs: Counter = Counter()
    agree: list[float] = []
    sqnr: list[float] = []
    failures: list[tuple[int, str, str]] = []
    refusals: Counter = Counter()
    t0 = time.monotonic()
    # SIGTERM (a CI runner's timeout) ends the run like Ctrl-C: the table of what ran is printed
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        _campaign(a, b, args, backends, counts, inputs, agree, sqnr, failures, refusals, t0)
    except KeyboardInterrupt:
        print("\ninterrupted: the counts below are of the programs that finished", flush=True)
    _table(a, b, t0, counts, inputs, agree, sqnr, failures, refusals)
    return 1 if failures else 0


def _counts_line(counts: dict[str, Counter]) -> str:
    return "; ".join(
        f"{be} " + " ".join(f"{k}={v}" for k, v in sorted(c.items())) for be, c in counts.items()
    )


def _results(a: int, b: int, args, backends: tuple[str, ...]):
    """(seed, program, result) in seed order; ``--jobs`` programs run at once. The threads only
    wait: each program runs in its own forked child (run_guarded)."""

    def one(seed: int):
        rp = generate(seed)
        rp = replace(rp, test=rp.test[: args.inputs])
        return seed, rp, run_guarded(rp, backends, args.timeout)

    if args.jobs == 1:
        yield from map(one, range(a, b))
        return
    pool = ThreadPoolExecutor(max_workers=args.jobs)
    try:
        pending = deque(pool.submit(one, s) for s in range(a, min(b, a + 2 * args.jobs)))
        nxt = a + len(pending)
        while pending:
            yield pending.popleft().result()
            if nxt < b:
                pending.append(pool.submit(one, nxt))
                nxt += 1
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _campaign(a, b, args, backends, counts, inputs, agree, sqnr, failures, refusals, t0) -> int:  # noqa: PLR0913
    for seed, rp, (refusal, verdicts, summary) in _results(a, b, args, backends):
        if summary is None and refusal:
            counts["golden"]["refused"] += 1
            continue
        if summary is None:
            counts["golden"]["failure"] += 1
            failures.append((seed, "golden", "no result"))
            continue
        if summary != ("timeout",):
            counts["golden"]["ok"] += 1
            inputs["golden"] += len(rp.test)
            (agree if summary[2] else sqnr).append(summary[0] if summary[2] else summary[1])
        for v in verdicts:
            counts[v.backend][v.outcome] += 1
            if v.outcome == "refused":
                refusals[(v.backend, v.message.splitlines()[0][:120])] += 1
            inputs[v.backend] += v.inputs
            if v.outcome in BAD:
                where = ""
                if not args.no_shrink:
                    small, vs = shrink(rp, v.backend, args.timeout)
                    where = str(write_reproducer(small, vs, args.out))
                failures.append(
                    (
                        seed,
                        v.backend,
                        f"{v.outcome}: {v.message.splitlines()[0] if v.message else ''} {where}",
                    )
                )
                print(f"seed {seed}: {v.backend} {v.outcome} {where}", flush=True)
        done = seed - a + 1
        if done % 10 == 0:
            took = time.monotonic() - t0
            print(f"... {done} programs (to seed {seed}), {took:.0f} s: {_counts_line(counts)}", flush=True)
    return b


def _table(a, b, t0, counts, inputs, agree, sqnr, failures, refusals) -> None:  # noqa: PLR0913
    print(f"\nseeds {a}:{b}, {time.monotonic() - t0:.0f} s\n")
    print(
        "| backend | programs run | inputs checked | bit-exact | mismatches | failures | refused | skipped |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for be, c in counts.items():
        ran = c["ok"] + c["mismatch"] + c["failure"]
        print(
            f"| {be} | {ran} | {inputs[be]} | {c['ok']} | {c['mismatch']} | {c['failure']} "
            f"| {c['refused']} | {c['skipped']} |"
        )
    if agree:
        print(
            f"\ngolden vs float, class outputs: {len(agree)} programs, mean agreement {np.mean(agree):.4f}, "
            f"min {np.min(agree):.4f}"
        )
    if sqnr:
        finite = [s for s in sqnr if np.isfinite(s)]
        print(
            f"golden vs float, tensor outputs: {len(sqnr)} programs, median SQNR "
            f"{np.median(finite) if finite else float('inf'):.1f} dB"
        )
    for (be, msg), n in sorted(refusals.items()):
        print(f"refused by {be} ({n}x): {msg}")
    for seed, be, msg in failures:
        print(f"FAIL seed {seed} {be}: {msg}")


if __name__ == "__main__":
    sys.exit(main())
