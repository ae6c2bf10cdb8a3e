/*
 * qemu_insn_plugin.c -- QEMU TCG plugin that counts the guest instructions executed
 * between the target_measure_begin() and target_measure_end() markers of a
 * firmware built with target_cortexm.c.
 *
 * Why a plugin: QEMU does not model cycles, and the timers of the MPS2 boards tick
 * at 25 MHz, far too coarse for "-icount shift=0 + read a timer" to resolve short
 * regions.  A plugin sees every executed instruction, so the count is exact (it is
 * a count of instructions, not of cycles: a Cortex-M takes 1 to ~12 cycles each).
 * Debian's qemu-system-arm is built with plugin support but ships no plugins, so
 * hlsfix builds this one with the host C compiler (runners.py does that and caches it).
 *
 * usage: qemu-system-arm ... -plugin ./libhlsfix_insn.so,begin=0xADDR,end=0xADDR,out=FILE
 *   begin/end: addresses of the two marker functions (symbol value with the Thumb
 *   bit cleared).  Output lines, one per begin/end pair, in order:
 *     instructions <n>
 *   n counts the instructions after the begin marker's only instruction (bx lr) up
 *   to, not including, the end marker's, minus the one `bl target_measure_end`
 *   that reaches it: an empty region reads 0.  A begin while measuring or an end
 *   without begin prints "error <message>".  At exit, "total_instructions <n>" gives
 *   the whole run (startup and stack painting included), for information.
 *
 * QEMU's plugin header (include/qemu/qemu-plugin.h) is not packaged by Debian, so the
 * handful of declarations used are written out below, after QEMU 7.2's header
 * (plugin API version 1, which Debian 12's QEMU accepts).  Later QEMUs raised the
 * minimum accepted version to 2, which removed only functions not used here; the
 * version this file declares is set with -DHLSFIX_QEMU_PLUGIN_API=N, and runners.py
 * reads the accepted one from QEMU's refusal message and rebuilds.
 *
 * build: gcc -std=c99 -Wall -Wextra -O2 -shared -fPIC -o libhlsfix_insn.so qemu_insn_plugin.c
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the subset of qemu-plugin.h used here ---------------------------------- */
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* only ever passed by pointer */
struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };

typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);

#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
/* ------------------------------------------------------------------------------ */

#ifndef HLSFIX_QEMU_PLUGIN_API
#define HLSFIX_QEMU_PLUGIN_API 1
#endif

QEMU_PLUGIN_EXPORT int qemu_plugin_version = HLSFIX_QEMU_PLUGIN_API;
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv);

/* Instructions between the two markers that are not part of the measured region:
 * the `bl target_measure_end` (see target_cortexm.c). */
#define MARKER_OVERHEAD_INSNS 1

enum { KIND_PLAIN = 0, KIND_BEGIN = 1, KIND_END = 2 };

static uint64_t begin_addr = UINT64_MAX;
static uint64_t end_addr = UINT64_MAX;
static FILE *out;
static uint64_t executed; /* every instruction, markers included */
static uint64_t begin_count;
static int measuring;

/* Called before every executed instruction; the markers carry their kind as udata.
 * A single-vCPU board, so no locking is needed. */
static void on_insn(unsigned int vcpu_index, void *udata)
{
    (void)vcpu_index;
    executed++;
    switch ((uintptr_t)udata) {
    case KIND_BEGIN:
        if (measuring) {
            fprintf(out, "error measure_begin while already measuring\n");
        }
        measuring = 1;
        begin_count = executed; /* includes the begin marker's bx lr */
        break;
    case KIND_END:
        if (!measuring) {
            fprintf(out, "error measure_end without measure_begin\n");
            break;
        }
        measuring = 0;
        /* executed - begin_count counts the end marker's bx lr too: drop it. */
        fprintf(out, "instructions %" PRIu64 "\n", executed - begin_count - 1 - MARKER_OVERHEAD_INSNS);
        break;
    default:
        break;
    }
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    size_t i;

    (void)id;
    for (i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        uintptr_t kind = pc == begin_addr ? KIND_BEGIN : pc == end_addr ? KIND_END : KIND_PLAIN;

        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn, QEMU_PLUGIN_CB_NO_REGS, (void *)kind);
    }
}

static void on_plugin_exit(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    if (measuring) {
        fprintf(out, "error exited inside a measured region\n");
    }
    fprintf(out, "total_instructions %" PRIu64 "\n", executed);
    fflush(out);
}

static int parse_addr(const char *value, uint64_t *addr)
{
    char *end;

    *addr = strtoull(value, &end, 0);
    return *end == '\0' && end != value;
}

int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    const char *out_path = NULL;
    int i;

    (void)info;
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i];
        int ok = 0;

        if (strncmp(arg, "begin=", 6) == 0) {
            ok = parse_addr(arg + 6, &begin_addr);
        } else if (strncmp(arg, "end=", 4) == 0) {
            ok = parse_addr(arg + 4, &end_addr);
        } else if (strncmp(arg, "out=", 4) == 0) {
            out_path = arg + 4;
            ok = 1;
        }
        if (!ok) {
            fprintf(stderr, "hlsfix insn plugin: bad argument '%s'\n", arg);
            return -1;
        }
    }
    out = out_path ? fopen(out_path, "w") : stderr;
    if (out == NULL) {
        perror(out_path);
        return -1;
    }
    /* Line-buffered: QEMU may leave through exit() paths that skip plugin atexit. */
    setvbuf(out, NULL, _IOLBF, 0);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
    return 0;
}
