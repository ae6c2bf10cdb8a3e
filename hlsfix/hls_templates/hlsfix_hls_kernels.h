// hlsfix_hls_kernels.h -- the fixed-point kernel library for Vivado / Vitis HLS (hand-written).
//
// One function template per KernelProgram kind, with exactly the integer semantics of
// hlsfix/fixedpoint/golden.py.  Element types are plain <stdint.h> integers (no ap_int), so the
// same file compiles with g++ for the C simulation and with the HLS front end for synthesis.
//
//   - Sizes are template parameters: every loop has a trip count known at compile time, which
//     HLS needs to pipeline and unroll.  Shifts are function arguments: the generated top passes
//     literals, and HLS propagates them as constants.
//   - `U` is the number of parallel lanes (multipliers) of a MAC loop, chosen in Python by the
//     cost model of hlsfix/hls/cost.py; it always divides the loop's trip count, so there is no
//     remainder loop.  The generated top partitions the arrays the lanes read by the same factor.
//   - Arrays are passed with an element offset (`a_off`), never by pointer arithmetic, so the
//     HLS tool sees which array every access belongs to.
//
// No undefined behaviour: products are formed in the wide type W (int32_t or int64_t, chosen by
// the compiler so they fit); shifts by >= the width are handled explicitly; left shifts are
// multiplications by a power of two, done only where the result fits.  Right shift of a
// negative value is implementation-defined in C++14; gcc and the HLS front ends define it as
// arithmetic (floor), and the static_asserts below reject any compiler that does not.
#ifndef HLSFIX_HLS_KERNELS_H
#define HLSFIX_HLS_KERNELS_H

#include <stdint.h>

namespace hlsfix {

static_assert((int32_t(-7) >> 1) == int32_t(-4), "right shift must be arithmetic (floor)");
static_assert((int64_t(-7) >> 1) == int64_t(-4), "right shift must be arithmetic (floor)");

// ---- element types ----------------------------------------------------------------------------

template <typename T>
struct Bits;
template <>
struct Bits<int8_t> {
    static const int value = 8;
};
template <>
struct Bits<int16_t> {
    static const int value = 16;
};
template <>
struct Bits<int32_t> {
    static const int value = 32;
};

template <typename T>
inline T type_min() {
    return T(-(int64_t(1) << (Bits<T>::value - 1)));
}

// ---- the integer primitives (golden.py: shr, saturate, shift_exact, rescale_sat) ------------

// Floor right shift by s >= 0; shifts past the width give 0 or -1, as floor does.
template <typename W>
inline W shr(W v, int s) {
    if (s >= int(8 * sizeof(W)) - 1) {
        return v < 0 ? W(-1) : W(0);
    }
    return W(v >> s);
}

// Saturation to a `bits`-wide signed range.
template <typename W>
inline W sat(W v, int bits) {
    if (bits >= int(8 * sizeof(W))) {
        return v;
    }
    const W hi = W((W(1) << (bits - 1)) - 1);
    const W lo = W(-hi - 1);
    return v > hi ? hi : (v < lo ? lo : v);
}

// v * 2^s for s >= 0 (the compiler guarantees it fits), floor(v * 2^-(-s)) for s < 0.
template <typename W>
inline W shift_exact(W v, int s) {
    if (s >= 0) {
        return W(v * (W(1) << s));
    }
    return shr<W>(v, -s);
}

// sat(floor(v * 2^-s)) to `bits`.  For s < 0 the left shift saturates: v is compared with the
// largest and smallest values that still fit after the shift before multiplying.
template <typename W>
inline W rescale_sat(W v, int s, int bits) {
    if (s >= 0) {
        return sat<W>(shr<W>(v, s), bits);
    }
    const int width = int(8 * sizeof(W));
    const W top = W(W(1) << (width - 2));  // the largest value is 2 * top - 1, formed without overflow
    const W hi = bits >= width ? W(top - 1 + top) : W((W(1) << (bits - 1)) - 1);
    const W lo = W(-hi - 1);
    const int left = -s;
    if (left >= bits) {
        return v > 0 ? hi : (v < 0 ? lo : W(0));
    }
    const W hi_in = W(hi >> left);
    const W lo_in = W(-(hi_in + 1));  // = -((-lo) >> left), without forming -lo
    if (v > hi_in) {
        return hi;
    }
    if (v < lo_in) {
        return lo;
    }
    if (left == width - 1) {  // bits == width: only v in {-1, 0} gets here
        return v < 0 ? lo : W(0);
    }
    return W(v * (W(1) << left));
}

// Floor division of n by d > 0 (C++ `/` truncates towards zero).
template <typename W>
inline W floordiv(W n, W d) {
    const W q = W(n / d);
    return (n % d != 0 && n < 0) ? W(q - 1) : q;
}

// Store a wide value to the output type: rescale by s, saturate to the output's width.
template <typename TO, typename W>
inline TO store(W v, int s) {
    return TO(rescale_sat<W>(v, s, Bits<TO>::value));
}

// Rounding (program.py's round_out): the kernels that end in a right shift take rc, the rounding
// constant golden.round_const gives (2^(os-1) where the kernel rounds, else 0), added before the
// floor shift; a dot product starts its accumulator at rc instead of 0 (no extra adder).

// ---- MatMul: out[M x N] = rescale_sat(sum_l shr(a[i,l] * b[l,j], ps), os) --------------------

template <typename W, int M, int K, int N, int U, typename TA, typename TB, typename TO>
void matmul(const TA a[], int a_off, const TB b[], int b_off, TO out[], int ps, int os, W rc) {
    static_assert(K % U == 0, "the lane count must divide the dot-product length");
matmul_rows:
    for (int i = 0; i < M; i++) {
    matmul_cols:
        for (int j = 0; j < N; j++) {
            W acc = rc;
        matmul_dot:
            for (int l0 = 0; l0 < K; l0 += U) {
                // One group of U products per clock: the lanes below run side by side.
#pragma HLS PIPELINE II=1
                W part = 0;
            matmul_lanes:
                for (int u = 0; u < U; u++) {
                    // U multipliers in parallel (U chosen by the cost model for the board).
#pragma HLS UNROLL
                    const W p = W(W(a[a_off + i * K + l0 + u]) * W(b[b_off + (l0 + u) * N + j]));
                    part = W(part + shr<W>(p, ps));
                }
                acc = W(acc + part);
            }
            out[i * N + j] = store<TO, W>(acc, os);
        }
    }
}

// ---- SparseMatVec: the column-compressed constant matrix times x -----------------------------

template <typename W, int ROWS, int COLS, typename TV, typename TR, typename TC, typename TX, typename TO>
void spmv(const TV vals[], const TR row_index[], const TC col_start[], const TX x[], int x_off, TO out[],
          int ps, int os, W rc) {
    W acc[ROWS];
spmv_clear:
    for (int r = 0; r < ROWS; r++) {
        acc[r] = rc;
    }
spmv_cols:
    for (int c = 0; c < COLS; c++) {
        const W xv = W(x[x_off + c]);
    spmv_nonzeros:
        for (int n = int(col_start[c]); n < int(col_start[c + 1]); n++) {
            // One non-zero per clock; the trip count depends on the data, so no unrolling.
#pragma HLS PIPELINE II=1
            // The non-zeros of one column sit in different rows: no two iterations of this
            // loop update one accumulator, so HLS need not wait for the previous update.
#pragma HLS DEPENDENCE variable=acc inter false
            const int r = int(row_index[n]);
            acc[r] = W(acc[r] + shr<W>(W(W(vals[n]) * xv), ps));
        }
    }
spmv_store:
    for (int r = 0; r < ROWS; r++) {
        out[r] = store<TO, W>(acc[r], os);
    }
}

// ---- Conv2d: NHWC, filters [G, HF, WF, CIN_G, COUT], zero padding (skipped taps) ------------
// The U lanes compute U neighbouring output channels of one pixel: they share the input value
// and read U consecutive filter weights.

template <typename W, int NB, int H, int WD, int C, int G, int HF, int WF, int CIN_G, int COUT, int HO,
          int WO, int SH, int SW, int PT, int PL, int DH, int DW, int U, typename TX, typename TF, typename TO>
void conv2d(const TX x[], int x_off, const TF f[], int f_off, TO out[], int ps, int os, W rc) {
    static_assert(COUT % U == 0, "the lane count must divide the output channels of a group");
conv_batch:
    for (int nn = 0; nn < NB; nn++) {
    conv_out_rows:
        for (int oh = 0; oh < HO; oh++) {
        conv_out_cols:
            for (int ow = 0; ow < WO; ow++) {
            conv_groups:
                for (int gi = 0; gi < G; gi++) {
                conv_out_channels:
                    for (int co0 = 0; co0 < COUT; co0 += U) {
                        W acc[U];
                        // One accumulator register per lane.
#pragma HLS ARRAY_PARTITION variable=acc complete
                    conv_clear_lanes:
                        for (int u = 0; u < U; u++) {
                            acc[u] = rc;
                        }
                    conv_taps_h:
                        for (int i = 0; i < HF; i++) {
                        conv_taps_w:
                            for (int j = 0; j < WF; j++) {
                            conv_in_channels:
                                for (int ci = 0; ci < CIN_G; ci++) {
                                    // One input value times U weights per clock.
#pragma HLS PIPELINE II=1
                                    const int ih = oh * SH + i * DH - PT;
                                    const int iw = ow * SW + j * DW - PL;
                                    if (ih < 0 || ih >= H || iw < 0 || iw >= WD) {
                                        continue;  // a padding tap: its products are zero
                                    }
                                    const W xv = W(x[x_off + ((nn * H + ih) * WD + iw) * C + gi * CIN_G + ci]);
                                    const int fbase = f_off + (((gi * HF + i) * WF + j) * CIN_G + ci) * COUT + co0;
                                conv_lanes:
                                    for (int u = 0; u < U; u++) {
                                        // U multipliers in parallel, one per output channel.
#pragma HLS UNROLL
                                        acc[u] = W(acc[u] + shr<W>(W(xv * W(f[fbase + u])), ps));
                                    }
                                }
                            }
                        }
                    conv_store_lanes:
                        for (int u = 0; u < U; u++) {
                            const int o = ((nn * HO + oh) * WO + ow) * (G * COUT) + gi * COUT + co0 + u;
                            out[o] = store<TO, W>(acc[u], os);
                        }
                    }
                }
            }
        }
    }
}

// ---- element-wise kernels: each element is read before it is written, so `out` may be the
// same array as an input (the memory plan of the program relies on that). -------------------

// How b is broadcast over a: element by element, one scalar, or along the last dimension.
enum Broadcast { BCAST_FULL = 0, BCAST_SCALAR = 1, BCAST_LASTDIM = 2 };

template <int MODE, int NB>
inline int b_index(int i) {
    return MODE == BCAST_FULL ? i : (MODE == BCAST_SCALAR ? 0 : i % NB);
}

// AddSub: out = rescale_sat(a * 2^as (op) b * 2^bs, os); op 0: a + b, 1: a - b, 2: b - a.
template <typename W, int N, int MODE, int NB, typename TA, typename TB, typename TO>
void addsub(const TA a[], int a_off, const TB b[], int b_off, TO out[], int op, int as, int bs, int os,
            W rc) {
addsub_elements:
    for (int i = 0; i < N; i++) {
        // One element per clock.
#pragma HLS PIPELINE II=1
        const W av = shift_exact<W>(W(a[a_off + i]), as);
        const W bv = shift_exact<W>(W(b[b_off + b_index<MODE, NB>(i)]), bs);
        const W t = op == 0 ? W(av + bv) : (op == 1 ? W(av - bv) : W(bv - av));
        out[i] = store<TO, W>(W(t + rc), os);
    }
}

// Mul (Hadamard product): out = rescale_sat(a * b, os), b broadcast as in addsub.
template <typename W, int N, int MODE, int NB, typename TA, typename TB, typename TO>
void mul(const TA a[], int a_off, const TB b[], int b_off, TO out[], int os, W rc) {
mul_elements:
    for (int i = 0; i < N; i++) {
        // One product per clock.
#pragma HLS PIPELINE II=1
        const W p = W(W(a[a_off + i]) * W(b[b_off + b_index<MODE, NB>(i)]));
        out[i] = store<TO, W>(W(p + rc), os);
    }
}

// Rescale: out = rescale_sat(+-x, shift); a copy or a negation with shift 0.
template <typename W, int N, typename TX, typename TO>
void rescale(const TX x[], int x_off, TO out[], int shift, bool negate, W rc) {
rescale_elements:
    for (int i = 0; i < N; i++) {
        // One element per clock.
#pragma HLS PIPELINE II=1
        const W v = W(x[x_off + i]);
        out[i] = store<TO, W>(W((negate ? W(-v) : v) + rc), shift);
    }
}

// Clamp: out = min(max(x, lo), hi) (relu, relu6), in x's own type.
template <int N, typename T>
void clamp(const T x[], int x_off, T out[], T lo, T hi) {
clamp_elements:
    for (int i = 0; i < N; i++) {
        // One element per clock.
#pragma HLS PIPELINE II=1
        const T v = x[x_off + i];
        out[i] = v < lo ? lo : (v > hi ? hi : v);
    }
}

// e^x by two tables: y = min(shr(max(y, 0), k), 2^(2t) - 1); hi[y >> t] * lo[y & (2^t - 1)].
template <typename W, typename TH, typename TL>
inline W exp_tables(W y, int k, int t, const TH hi[], const TL lo[]) {
    const W cap = W((W(1) << (2 * t)) - 1);
    y = y < 0 ? W(0) : shr<W>(y, k);
    y = y > cap ? cap : y;
    return W(W(hi[int(y >> t)]) * W(lo[int(y & ((W(1) << t) - 1))]));
}

// Exp: out = rescale_sat(tables(x_top - x), table_shift).
template <typename W, int N, typename TX, typename TH, typename TL, typename TO>
void exponential(const TX x[], int x_off, TO out[], W x_top, int k, int t, const TH hi[], const TL lo[], int ts) {
exp_elements:
    for (int i = 0; i < N; i++) {
        // One table lookup per clock.
#pragma HLS PIPELINE II=1
        const W y = W(x_top - W(x[x_off + i]));
        out[i] = store<TO, W>(exp_tables<W, TH, TL>(y, k, t, hi, lo), ts);
    }
}

// sigmoid / tanh: e = exp(-|x| * 2^-arg_shift) by the tables, then one floor division.
template <typename W, int N, typename TX, typename TH, typename TL, typename TO>
void sigmoid_tanh(const TX x[], int x_off, TO out[], bool is_tanh, int arg_shift, int k, int t, const TH hi[],
                  const TL lo[], int ts, int e_frac, int out_frac) {
    const W one = W(W(1) << e_frac);
    const W scale = W(W(1) << out_frac);
sigmoid_tanh_elements:
    for (int i = 0; i < N; i++) {
        // One element per clock (the divider is pipelined).
#pragma HLS PIPELINE II=1
        const W xv = W(x[x_off + i]);
        const W u = shift_exact<W>(xv < 0 ? W(-xv) : xv, -arg_shift);
        const W e = shr<W>(exp_tables<W, TH, TL>(u, k, t, hi, lo), ts);
        W q;
        if (is_tanh) {
            q = floordiv<W>(W((one - e) * scale), W(one + e));
            q = xv < 0 ? W(-q) : q;
        } else {
            q = floordiv<W>(W((xv >= 0 ? one : e) * scale), W(one + e));
        }
        out[i] = TO(sat<W>(q, Bits<TO>::value));
    }
}

// Clipped-linear sigmoid / tanh: clip(rescale_sat(x, shift, width - 2) + half, lo, hi).
template <typename W, int N, typename TX, typename TO>
void hard_sigmoid_tanh(const TX x[], int x_off, TO out[], int shift, W half, W lo, W hi) {
hard_sigmoid_tanh_elements:
    for (int i = 0; i < N; i++) {
        // One element per clock.
#pragma HLS PIPELINE II=1
        W v = W(rescale_sat<W>(W(x[x_off + i]), shift, int(8 * sizeof(W)) - 2) + half);
        v = v < lo ? lo : (v > hi ? hi : v);
        out[i] = TO(sat<W>(v, Bits<TO>::value));
    }
}

// ---- data movement ------------------------------------------------------------------------

// MaxPool, NHWC: padding taps are skipped (they would hold the type's minimum and never win).
template <int NB, int H, int WD, int C, int HO, int WO, int KH, int KW, int SH, int SW, int PT, int PL,
          typename T>
void maxpool(const T x[], int x_off, T out[]) {
maxpool_batch:
    for (int nn = 0; nn < NB; nn++) {
    maxpool_out_rows:
        for (int oh = 0; oh < HO; oh++) {
        maxpool_out_cols:
            for (int ow = 0; ow < WO; ow++) {
            maxpool_channels:
                for (int ch = 0; ch < C; ch++) {
                    T m = type_min<T>();
                maxpool_window_h:
                    for (int i = 0; i < KH; i++) {
                    maxpool_window_w:
                        for (int j = 0; j < KW; j++) {
                            // One window element per clock.
#pragma HLS PIPELINE II=1
                            const int ih = oh * SH + i - PT;
                            const int iw = ow * SW + j - PL;
                            if (ih >= 0 && ih < H && iw >= 0 && iw < WD) {
                                const T v = x[x_off + ((nn * H + ih) * WD + iw) * C + ch];
                                m = v > m ? v : m;
                            }
                        }
                    }
                    out[((nn * HO + oh) * WO + ow) * C + ch] = m;
                }
            }
        }
    }
}

// Gather (permute, window): out[e] = x[base + sum_d idx_d(e) * strides[d]], idx row-major in dims.
template <int ND, int TOTAL, typename T>
void gather(const T x[], int base, const int dims[], const int strides[], T out[]) {
gather_elements:
    for (int e = 0; e < TOTAL; e++) {
        // One element per clock.
#pragma HLS PIPELINE II=1
        int src = base;
        int rest = e;
    gather_dims:
        for (int d = ND - 1; d >= 0; d--) {
            src += (rest % dims[d]) * strides[d];
            rest /= dims[d];
        }
        out[e] = x[src];
    }
}

template <int N, typename T>
void copy(const T src[], int src_off, T out[]) {
copy_elements:
    for (int i = 0; i < N; i++) {
        // One element per clock.
#pragma HLS PIPELINE II=1
        out[i] = src[src_off + i];
    }
}

template <int N, typename T>
void fill(T out[], T value) {
fill_elements:
    for (int i = 0; i < N; i++) {
        // One element per clock.
#pragma HLS PIPELINE II=1
        out[i] = value;
    }
}

// Argmax: the index of the first largest element.
template <int N, typename T>
int argmax(const T x[], int x_off) {
    int best = 0;
    T m = x[x_off];
argmax_elements:
    for (int i = 1; i < N; i++) {
        // One comparison per clock.
#pragma HLS PIPELINE II=1
        const T v = x[x_off + i];
        if (v > m) {
            m = v;
            best = i;
        }
    }
    return best;
}

}  // namespace hlsfix

#endif  // HLSFIX_HLS_KERNELS_H
