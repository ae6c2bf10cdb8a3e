"""Exploration on data: pick the fixed-point program that does best on the training set.

SeeDot (PLDI'19) compiled one C program per candidate scale; here each candidate is lowered and run
through the golden model on the whole training set in one numpy call, so a search is seconds.

1. Uniform widths: the input's scale offset × the headroom of computed values × (when the model has
   sigmoid/tanh) table vs clipped-linear activations; keep the best by the chosen metric.
2. Mixed 8/16 (Shiftry, OOPSLA'20): from the best 16-bit program, try each value (the input
   included) at 8 bits with scale offsets 0, 1, 2; rank the values that keep the budget alone by
   what their demotion buys on the target (predicted Uno cycles and constant bytes saved,
   ``uno_cost.py``), then by the metric they reach alone; demote cumulatively in that order while
   training accuracy stays within ``budget_pp`` of float.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from hlsfix.errors import CompileError
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import quantize_input
from hlsfix.fixedpoint.golden_cache import CachedGolden, KernelCache
from hlsfix.fixedpoint.lower import Activation, LowerOptions, lower
from hlsfix.fixedpoint.profile import Profile
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.fixedpoint.round_choice import MAX_TRIALS, ROUND_ROWS, flagged, with_flags
from hlsfix.fixedpoint.scales import (
    SIGN_ONLY_RANGE,
    FormatPolicy,
    assign_formats,
    demotable_values,
    loop_states,
    partial_sums,
)
from hlsfix.fixedpoint.uno_cost import estimate_cycles
from hlsfix.ir import ops
from hlsfix.ir.graph import Graph
from hlsfix.ir.interp import run_float

Metric = Literal["acc", "disagree", "red_disagree"]
METRICS: tuple[Metric, ...] = ("acc", "disagree", "red_disagree")
Bits = Literal["8", "16", "32", "mixed"]
Rounding = Literal["auto", "off"]
ROUNDINGS: tuple[Rounding, ...] = ("auto", "off")
HEADROOMS = (0, 1, 2, 3)
INPUT_OFFSETS = (0, 1, 2)
DEMOTION_OFFSETS = (0, 1, 2)
REFINE_OFFSETS = (-1, 1, 2)
REFINE_PASSES = 2
FINE_FIRST = False
REFINE_ROWS = 400
RANKING_ROWS = 400
GRID_FINALISTS = 3
# a partial sum is kept at 16 bits in an 8-bit program when that improves the metric on the
# training data, or cuts the error of the scores argmax/sgn reads by at least this fraction
WIDEN_GAIN = 0.05


@dataclass(frozen=True)
class Score:
    """How a candidate does on the training data (higher ``key`` is better)."""

    acc: float
    disagree: float
    red_disagree: float
    saturations: int
    score_err: float = 0.0  # relative RMS error of the scores argmax/sgn reads, against float's

    def key(self, metric: Metric) -> tuple[float, int]:
        value = self.acc if metric == "acc" else -getattr(self, metric)
        return (round(value, 12), -self.saturations)

    def fine_key(self, metric: Metric) -> tuple[float, float]:
        """The metric, then how close the scores come to float's: on a training split that the
        fixed-point program already classifies almost as float does, the count of disagreements
        barely moves, while the scores' error still tells the better scales apart."""
        value = self.acc if metric == "acc" else -getattr(self, metric)
        if FINE_FIRST:
            return (-round(self.score_err, 9), round(value, 12))
        return (round(value, 12), -round(self.score_err, 9))


@dataclass(frozen=True)
class Candidate:
    policy: FormatPolicy
    activation: Activation
    program: KernelProgram
    score: Score


class Evaluator:
    """Scores programs on fixed training data against the float model's predictions."""

    def __init__(self, graph: Graph, prof: Profile, x: np.ndarray, y: np.ndarray, float_pred: np.ndarray):
        self.graph, self.prof, self.x, self.y = graph, prof, x, y
        self.float_pred = float_pred
        self.float_right = float_pred == y
        self.runs = 0
        self.cache = KernelCache()  # candidates share kernels: each is computed once (golden_cache.py)
        self.subsets: dict[int, Evaluator] = {}
        self._float_scores: np.ndarray | None = None
        self.fine = False  # score_err wanted (the 8-bit scale search ranks by it)
        self.round_flags = False  # programs built with round_out flags (round_fold.py)
        self.round_fold = True  # and with rounding folded into the constants of 8-bit adds

    def subset(self, rows: int) -> Evaluator:
        """The same evaluation on an evenly spread subset of at most ``rows`` rows."""
        if len(self.x) <= rows:
            return self
        if rows not in self.subsets:
            pick = np.linspace(0, len(self.x) - 1, rows).astype(np.int64)
            self.subsets[rows] = Evaluator(
                self.graph, self.prof, self.x[pick], self.y[pick], self.float_pred[pick]
            )
        self.subsets[rows].round_flags = self.round_flags
        self.subsets[rows].round_fold = self.round_fold
        return self.subsets[rows]

    def build(self, policy: FormatPolicy, activation: Activation, bits_label: str) -> KernelProgram:
        fmts = assign_formats(self.graph, self.prof, policy)
        options = LowerOptions(activation, round_fold=self.round_fold, round_flags=self.round_flags)
        return lower(self.graph, fmts, self.prof, options, bits_label)

    def float_scores(self) -> np.ndarray | None:
        """Float's values of what the final argmax/sgn reads, one row per input."""
        if self._float_scores is None:
            body = self.graph.body
            result = next((n for n in body.nodes if n.out == body.result), None)
            if result is None or not isinstance(result.op, ops.Argmax | ops.Sgn):
                return None
            name, seen = result.op.x, {}

            def record(value_name: str, value: np.ndarray) -> None:
                if value_name == name:
                    seen["v"] = np.asarray(value, dtype=np.float64).reshape(len(self.x), -1)

            run_float(self.graph, self.x, record)
            self._float_scores = seen.get("v")
        return self._float_scores

    def score_err(self, program: KernelProgram, buffers: dict[str, np.ndarray]) -> float:
        ref = self.float_scores()
        last = [k for k in program.walk() if isinstance(k, kp.Argmax | kp.Sgn) and k.out == program.output]
        if ref is None or not last or last[-1].x.index is not None:
            return 0.0
        r = last[-1].x
        q = buffers[r.buffer][:, r.offset : r.offset + r.length]
        fixed = q * 2.0 ** -program.buffer(r.buffer).fmt.frac
        if isinstance(last[-1], kp.Sgn):  # only the sign is read: error near zero is what counts
            fixed, ref = (
                np.clip(fixed, -SIGN_ONLY_RANGE, SIGN_ONLY_RANGE),
                np.clip(ref, -SIGN_ONLY_RANGE, SIGN_ONLY_RANGE),
            )
        scale = float(np.sqrt(np.mean(ref**2))) or 1.0
        return float(np.sqrt(np.mean((fixed - ref) ** 2))) / scale

    def score(self, program: KernelProgram) -> Score:
        self.runs += 1
        x_q = quantize_input(program, self.x)
        result = CachedGolden(program, self.cache).run(x_q, keep_buffers=True)
        pred = result.output
        differ = pred != self.float_pred
        return Score(
            acc=float(np.mean(pred == self.y)),
            disagree=float(np.mean(differ)),
            red_disagree=float(np.mean(differ & self.float_right)),
            saturations=sum(result.saturations),
            score_err=self.score_err(program, dict(result.buffers)) if self.fine else 0.0,
        )

    def candidate(self, policy: FormatPolicy, activation: Activation, bits_label: str) -> Candidate:
        program = self.build(policy, activation, bits_label)
        return Candidate(policy, activation, program, self.score(program))


def has_squash(graph: Graph) -> bool:
    return any(isinstance(n.op, ops.Unary) and n.op.fn in ("sigmoid", "tanh") for n in graph.walk())


def activations_for(graph: Graph, activation: Activation | Literal["auto"]) -> tuple[Activation, ...]:
    if activation != "auto":
        return (activation,)
    return ("table", "linear") if has_squash(graph) else ("table",)


class Progress:
    """A one-line progress bar on stderr (silent unless enabled)."""

    def __init__(self, enabled: bool, total: int, label: str) -> None:
        self.enabled, self.total, self.label, self.done = enabled, max(total, 1), label, 0

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.enabled:
            filled = int(30 * min(self.done, self.total) / self.total)
            sys.stderr.write(
                f"\r{self.label:<24} [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}"
            )
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def best_of(candidates: Iterable[Candidate], metric: Metric) -> Candidate:
    best: Candidate | None = None
    for c in candidates:  # the first of equals wins: candidates come most-precise first
        if best is None or c.score.key(metric) > best.score.key(metric):
            best = c
    assert best is not None
    return best


def explore_uniform(
    ev: Evaluator, bits: int, metric: Metric, activation: Activation | Literal["auto"], show: bool = False
) -> Candidate:
    grid = list(itertools.product(activations_for(ev.graph, activation), HEADROOMS, INPUT_OFFSETS))
    bar = Progress(show, len(grid), f"{bits}-bit scales")
    # The grid runs on a subsample; the best few are scored again on every row.
    ranker = ev.subset(RANKING_ROWS)
    runs0 = ranker.runs
    found = []
    for act, headroom, offset in grid:
        found.append(ranker.candidate(FormatPolicy(bits, headroom, offset), act, str(bits)))
        bar.step()
    bar.close()
    if ranker is ev:
        return best_of(found, metric)
    ev.runs += ranker.runs - runs0
    order = sorted(range(len(found)), key=lambda i: found[i].score.key(metric), reverse=True)
    finalists = sorted(order[:GRID_FINALISTS])  # grid order: the most precise first among equals
    return best_of((ev.candidate(found[i].policy, found[i].activation, str(bits)) for i in finalists), metric)


def refine_scales(ev: Evaluator, start: Candidate, metric: Metric, show: bool = False) -> Candidate:
    """Per-tensor scales at 8 bits: passes over the values (the input included; at most
    ``REFINE_PASSES``, until one changes nothing), each tried with one fractional bit more and one
    and two fewer than its current scale; a change is kept when it improves the metric on the
    training data, or keeps it and brings the scores argmax/sgn reads closer to float's
    (``Score.fine_key``); ties keep the current scale."""
    values = (ev.graph.input.name, *demotable_values(ev.graph))
    bar = Progress(show, REFINE_PASSES * len(values) * len(REFINE_OFFSETS), "8-bit per-tensor scales")
    bits = start.policy.bits
    ranker = ev.subset(REFINE_ROWS)  # trials on a subsample; the result is scored on every row
    ranker.fine = ev.fine = True
    start = Candidate(start.policy, start.activation, start.program, ev.score(start.program))
    runs0 = ranker.runs
    current = ranker.candidate(start.policy, start.activation, str(bits))
    for _ in range(REFINE_PASSES):
        before = current
        for value in values:
            width, base_off = current.policy.bits_of(value)
            if width != bits:  # a sum kept at 16 bits (widen_sums) has bits to spare
                bar.step(len(REFINE_OFFSETS))
                continue
            trials = []
            for off in REFINE_OFFSETS:
                policy = current.policy.with_override(value, width, base_off + off)
                trials.append(ranker.candidate(policy, current.activation, str(bits)))
            bar.step(len(REFINE_OFFSETS))
            best = max(trials, key=lambda c: c.score.fine_key(metric))  # the first of equals
            if best.score.fine_key(metric) > current.score.fine_key(metric):
                current = best
        if current is before:
            break
    bar.close()
    ev.runs += ranker.runs - runs0 if ranker is not ev else 0
    if current.policy == start.policy:
        return start
    final = ev.candidate(current.policy, current.activation, str(bits))
    return final if final.score.fine_key(metric) > start.score.fine_key(metric) else start


def widen_sums(ev: Evaluator, start: Candidate, metric: Metric) -> Candidate:
    """``start`` with partial sums (``scales.partial_sums``) kept at 16 bits where that does
    better on the training data: each is tried alone on top of those kept, from the last to the
    first (a sum is only worth widening once what it flows into is wide: the last first). An
    8-bit program's tables (exp/sigmoid/tanh of an 8-bit argument) and stores elsewhere stay 8-bit:
    only the sums between two products-and-adds keep their low bits, as the wide accumulator of
    int8 inference does."""
    groups = [*loop_states(ev.graph), *((v,) for v in reversed(partial_sums(ev.graph)))]
    # judged by the error of the scores argmax/sgn reads: a tensor output's metric (SQNR) rises
    # with any widening, so it would keep every one
    if not groups or ev.float_scores() is None:
        return start
    ranker = ev.subset(REFINE_ROWS)
    ranker.fine = ev.fine = True
    runs0 = ranker.runs
    label = str(start.policy.bits)
    current = ranker.candidate(start.policy, start.activation, label)
    for group in groups:
        policy = current.policy
        for value in group:
            if policy.bits_of(value)[0] == 16:
                continue
            policy = policy.with_override(value, 16, 0)
        if policy == current.policy:
            continue
        trial = ranker.candidate(policy, start.activation, label)
        if widening_pays(trial.score, current.score, metric):
            current = trial
    ev.runs += ranker.runs - runs0 if ranker is not ev else 0
    if current.policy == start.policy:
        return start
    return ev.candidate(current.policy, start.activation, label)


def widening_pays(trial: Score, current: Score, metric: Metric) -> bool:
    """A better metric, or the same one with the scores' error cut by ``WIDEN_GAIN`` or more."""
    t, c = trial.key(metric)[0], current.key(metric)[0]
    return t > c or (t == c and trial.score_err < (1.0 - WIDEN_GAIN) * current.score_err)


def target_gain(before: KernelProgram, after: KernelProgram) -> float:
    """What a demotion buys on the target: the fractions of predicted Uno cycles (uno_cost.py)
    and of constant bytes it saves, summed."""
    cycles = estimate_cycles(before)
    saved_cycles = (cycles - estimate_cycles(after)) / max(cycles, 1.0)
    saved_bytes = (before.const_bytes() - after.const_bytes()) / max(before.const_bytes(), 1)
    return saved_cycles + saved_bytes


def explore_mixed(
    ev: Evaluator,
    start: Candidate,
    metric: Metric,
    budget_pp: float,
    float_acc: float,
    weight_budget: int | None = None,
    show: bool = False,
    quality_floor: float | None = None,
) -> Candidate:
    """``quality_floor``: the lowest ``Score.acc`` a demotion may reach (a tensor output's SQNR in
    dB, or −max_rel_err); None: float accuracy minus ``budget_pp`` (a class output)."""
    # the input too: an 8-bit input makes the first layer's products 8 x 8
    values = (ev.graph.input.name, *demotable_values(ev.graph))
    # Ranking needs only an ordering, so it runs on a subsample; acceptance uses every row.
    ranker = ev.subset(RANKING_ROWS)
    runs0 = ranker.runs
    ranker_floor = (
        float(np.mean(ranker.float_pred == ranker.y)) - budget_pp / 100.0
        if quality_floor is None
        else quality_floor
    )
    start_key = ranker.score(start.program).key(metric)
    bar = Progress(show, len(values) * (len(DEMOTION_OFFSETS) + 1), "mixed 8/16 demotion")
    ranked: list[tuple[tuple[bool, float, tuple[float, int]], str, int]] = []
    for value in values:
        trials = []
        for off in DEMOTION_OFFSETS:
            trials.append(
                ranker.candidate(start.policy.with_override(value, 8, off), start.activation, "mixed")
            )
            if trials[-1].score.key(metric) >= start_key:
                break  # as good as the 16-bit program on the sample: no need for more headroom
        bar.step(len(DEMOTION_OFFSETS))
        best = max(range(len(trials)), key=lambda i: trials[i].score.key(metric))
        alone_ok = trials[best].score.acc >= ranker_floor - 1e-12
        gain = round(target_gain(start.program, trials[best].program), 3)
        ranked.append(((alone_ok, gain, trials[best].score.key(metric)), value, DEMOTION_OFFSETS[best]))
    # Demotions that keep the budget alone come first, those that buy the most Uno cycles and
    # bytes first among them (uno_cost.py), then by the metric they reach alone (Shiftry's order).
    ranked.sort(key=lambda r: r[0], reverse=True)
    floor = float_acc - budget_pp / 100.0 if quality_floor is None else quality_floor
    # Demote cumulatively on the sample first; the result is then checked on every row, and only
    # if it misses the budget there is the demotion redone on every row.
    current = start
    for _, value, offset in ranked:
        trial = ranker.candidate(current.policy.with_override(value, 8, offset), start.activation, "mixed")
        bar.step()
        if trial.score.acc >= ranker_floor - 1e-12:
            current = trial
    if ranker is not ev and current is not start:
        current = ev.candidate(current.policy, start.activation, "mixed")
        if current.score.acc < floor - 1e-12:
            current = start
            for _, value, offset in ranked:
                trial = ev.candidate(
                    current.policy.with_override(value, 8, offset), start.activation, "mixed"
                )
                if trial.score.acc >= floor - 1e-12:
                    current = trial
    bar.close()
    ev.runs += ranker.runs - runs0 if ranker is not ev else 0
    if weight_budget is not None and current.program.const_bytes() > weight_budget:
        within = (
            f"within {budget_pp} pp of float accuracy"
            if quality_floor is None
            else f"keeping the output's quality at {abs(quality_floor):g} or better"
        )
        raise CompileError(
            f"weights must fit the budget of {weight_budget} bytes, not need {current.program.const_bytes()} "
            f"bytes (the smallest mixed program {within})"
        )
    if current is start:
        return Candidate(
            start.policy, start.activation, ev.build(start.policy, start.activation, "mixed"), start.score
        )
    return current


def choose_rounding(ev: Evaluator, start: Candidate, metric: Metric) -> Candidate:
    """``start`` with the flag cleared kernel by kernel where that does better on the training data
    (round_choice.py says why and how)."""
    positions = flagged(start.program)[:MAX_TRIALS]
    if not positions:
        return start
    ranker = ev.subset(ROUND_ROWS)
    ranker.fine = ev.fine = True
    runs0 = ranker.runs
    off: frozenset[int] = frozenset()
    best = ranker.score(start.program).fine_key(metric)
    for pos in positions:
        trial = off | {pos}
        key = ranker.score(with_flags(start.program, trial)).fine_key(metric)
        if key > best:
            off, best = trial, key
    ev.runs += ranker.runs - runs0 if ranker is not ev else 0
    if not off:
        return start
    program = with_flags(start.program, off)
    final = Candidate(start.policy, start.activation, program, ev.score(program))
    base = Candidate(start.policy, start.activation, start.program, ev.score(start.program))  # score_err
    return final if final.score.fine_key(metric) > base.score.fine_key(metric) else base


def explore8(
    ev: Evaluator,
    metric: Metric,
    activation: Activation | Literal["auto"],
    show: bool = False,
    rounding: Rounding = "auto",
) -> Candidate:
    """The 8-bit program: scales searched with floor shifts, and again with rounding (the
    ``round_out`` flags, then chosen per kernel: round_choice.py); the better of the two on the
    training data (``Score.fine_key``, both scored on every row) — the test split is never seen.
    ``rounding="off"``: floor shifts only, no rounding folded into constants either."""
    floor = explore_uniform(ev, 8, metric, activation, show)
    floor = refine_scales(ev, widen_sums(ev, floor, metric), metric, show)
    if rounding == "off":
        return floor
    ev.round_flags = True
    try:
        rounded = explore_uniform(ev, 8, metric, activation, show)
        rounded = refine_scales(ev, widen_sums(ev, rounded, metric), metric, show)
        rounded = choose_rounding(ev, rounded, metric)
    finally:
        ev.round_flags = False
    floor = Candidate(floor.policy, floor.activation, floor.program, ev.score(floor.program))
    return rounded if rounded.score.fine_key(metric) > floor.score.fine_key(metric) else floor


def explore(
    ev: Evaluator,
    bits: Bits,
    metric: Metric = "red_disagree",
    activation: Activation | Literal["auto"] = "auto",
    budget_pp: float = 1.0,
    weight_budget: int | None = None,
    float_acc: float | None = None,
    show: bool = False,
    log: Callable[[str], None] | None = None,
    quality_floor: float | None = None,
    rounding: Rounding = "auto",
) -> Candidate:
    """The best program of ``bits`` on the training data. ``rounding="off"`` builds every
    candidate with floor shifts only (no rounding folded into constants, no ``round_out`` flag);
    it is refused at 16 and 32 bits, whose programs never round."""
    if rounding not in ROUNDINGS:
        raise CompileError(f"rounding must be one of {', '.join(ROUNDINGS)}, not {rounding!r}")
    if rounding == "off" and bits in ("16", "32"):
        raise CompileError(f"rounding off applies to bits 8 and mixed, not bits {bits} (which never rounds)")
    ev.round_fold = rounding == "auto"
    if metric not in METRICS:
        raise CompileError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    if bits not in ("8", "16", "32", "mixed"):
        raise CompileError(f"bits must be 8, 16, 32 or mixed, not {bits!r}")
    if budget_pp < 0:
        raise CompileError(f"accuracy budget must be ≥ 0 percentage points, not {budget_pp}")
    if bits == "8":
        return explore8(ev, metric, activation, show, rounding)
    if bits != "mixed":
        return explore_uniform(ev, int(bits), metric, activation, show)
    start = explore_uniform(ev, 16, metric, activation, show)
    base = float(np.mean(ev.float_pred == ev.y)) if float_acc is None else float_acc
    return explore_mixed(ev, start, metric, budget_pp, base, weight_budget, show, quality_floor)
