"""Kernel emitters of the element-wise, table and register kernels (AddSub, Mul, Rescale, Clamp,
HardSigmoidTanh, Fill, Exp, SigmoidTanh, Argmax, Sgn, Select, IntOp). A mixin of the compiler.
"""

from __future__ import annotations

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import Ref
from hlsfix.rtl.image import UnsupportedKernel
from hlsfix.rtl.image import stream as _stream
from hlsfix.rtl.isa import INTOPS, Op, Src
from hlsfix.rtl.schedule import InsnUse


class AluKernels:
    def _alu(self, k, a: Ref, b: Ref | None, mode: str, n: int, **fields) -> None:
        if b is None:
            la, a0, ra = self.ref(a)
            g = self.geom(1, n, 1, 1)
            streams = {"a": _stream(a0, 0, la.scale, g=g, **ra), "a_src": la.space, "b_src": Src.IMM}
            refs = (a,)
        else:
            g, sa, sb, _, src = self.operands(a, b, mode, n, lambda g: None)
            streams = {"a": sa, "b": sb, **src}
            refs = (a, b)
        width = g["n0"] if g["n1"] > 1 else None
        o, ob = self.out_stream(k.out, g, width)
        op = fields.pop("op", Op.ALU)
        self.emit(
            k,
            self.use(k, op, refs, k.out),
            op=op,
            **{kk: v for kk, v in g.items() if kk != "lanes"},
            **streams,
            o=o,
            **{**ob, **fields},
        )

    def k_AddSub(self, k: kp.AddSub) -> None:
        self._alu(
            k,
            k.a,
            k.b,
            k.b_mode,
            k.n,
            a_sh=k.a_shift,
            b_sh=k.b_shift,
            sub=int(k.subtract),
            b_first=int(k.b_first),
            out_shift=k.out_shift,
            rnd=int(k.round_out),
        )

    def k_Mul(self, k: kp.Mul) -> None:
        self._alu(k, k.a, k.b, k.b_mode, k.n, op=Op.MAC, ps=0, out_shift=k.out_shift, rnd=int(k.round_out))

    def k_Rescale(self, k: kp.Rescale) -> None:
        self._alu(
            k,
            k.x,
            None,
            "full",
            k.n,
            sub=int(k.negate),
            b_first=int(k.negate),
            out_shift=k.shift,
            rnd=int(k.round_out),
        )

    def k_Clamp(self, k: kp.Clamp) -> None:
        self._alu(
            k,
            k.x,
            None,
            "full",
            k.n,
            lo_en=int(k.lo is not None),
            lo=k.lo or 0,
            hi_en=int(k.hi is not None),
            hi=k.hi or 0,
        )

    def k_HardSigmoidTanh(self, k: kp.HardSigmoidTanh) -> None:
        self._alu(
            k,
            k.x,
            None,
            "full",
            k.n,
            op=Op.HARD,
            a_sh=k.shift,
            imm=k.half,
            lo_en=1,
            lo=k.lo,
            hi_en=1,
            hi=k.hi,
        )

    def k_Fill(self, k: kp.Fill) -> None:
        g = self.geom(1, self.bufs[k.out].size, 1, 1)
        bits = self.bufs[k.out].fmt.bits
        o, ob = self.out_stream(k.out, g)
        self.emit(
            k,
            self.use(k, Op.ALU, (), k.out),
            op=Op.ALU,
            **{kk: v for kk, v in g.items() if kk != "lanes"},
            a_src=Src.IMM,
            b_src=Src.IMM,
            imm=min(max(k.value, -(1 << (bits - 1))), (1 << (bits - 1)) - 1),  # golden saturates it
            o=o,
            **ob,
        )

    def _table(self, k, op: Op, **fields) -> None:
        t = k.t
        self._alu(
            k,
            k.x,
            None,
            "full",
            k.n,
            op=op,
            t=t,
            ymax=(1 << (2 * t)) - 1,
            hi_base=self.locs[k.hi].base,
            lo_base=self.locs[k.lo].base,
            **fields,
        )

    def k_Exp(self, k: kp.Exp) -> None:
        self._table(k, Op.EXP, imm=k.x_top, sh_r=k.k, out_shift=k.table_shift)

    def k_SigmoidTanh(self, k: kp.SigmoidTanh) -> None:
        self._table(
            k,
            Op.SIGTANH,
            sh_l=max(-k.arg_shift, 0),
            sh_r=k.k + max(k.arg_shift, 0),
            tshift=k.table_shift,
            e_frac=k.e_frac,
            out_frac=k.out_frac,
            tanh=int(k.fn == "tanh"),
        )

    def _reg_op(self, k, op: Op, x: Ref, length: int, regs_post=(), **fields) -> None:
        lx, x0, rx = self.ref(x)
        g = self.geom(1, 1, 1, length)
        self.emit(
            k,
            self.use(k, op, (x,), reg_out=k.out, regs_post=regs_post),
            op=op,
            **{kk: v for kk, v in g.items() if kk != "lanes"},
            a=_stream(x0, 0, 0, 0, lx.scale, g=g, **rx),
            a_src=lx.space,
            b_src=Src.IMM,
            dst=self.img.regs[k.out],
            **fields,
        )

    def k_Argmax(self, k: kp.Argmax) -> None:
        self._reg_op(k, Op.ARGMAX, k.x, k.x.length)

    def k_Sgn(self, k: kp.Sgn) -> None:
        self._reg_op(k, Op.SGN, k.x, 1)

    def _operand(self, v) -> tuple[int, int]:
        return (1, self.img.regs[v]) if isinstance(v, str) else (0, int(v))

    def k_Select(self, k: kp.Select) -> None:
        if not k.is_int:
            raise UnsupportedKernel(
                "the accelerator must be given conditionals (?:) of integers, not of tensors "
                "(the C and HLS backends run tensor-valued conditionals)"
            )
        (ar, av), (br, bv) = self._operand(k.a), self._operand(k.b)
        post = [v for v in (k.a, k.b) if isinstance(v, str)]
        self._reg_op(
            k, Op.SELECT, k.x, 1, regs_post=post, imm=k.threshold, opa_reg=ar, opa=av, opb_reg=br, opb=bv
        )

    def k_IntOp(self, k: kp.IntOp) -> None:
        f = self.folds.selects.get(id(k))
        if f is not None:  # a Select of two immediates (regfold.py)
            self._reg_op(k, Op.SELECT, f.x, 1, imm=f.threshold, opa_reg=0, opa=f.a, opb_reg=0, opb=f.b)
            return
        (ar, av), (br, bv) = self._operand(k.a), self._operand(k.b)
        regs = frozenset(self.img.regs[v] for v in (k.a, k.b) if isinstance(v, str))
        u = InsnUse(Op.INTOP, regs_issue=regs, reg_write=self.img.regs[k.out])
        self.emit(
            k,
            u,
            op=Op.INTOP,
            dst=self.img.regs[k.out],
            intop=INTOPS[k.op],
            opa_reg=ar,
            opa=av,
            opb_reg=br,
            opb=bv,
        )
