/*
 * Hardware abstraction of the regulation loop (SRS-210): the functions a
 * board provides to the real-time runner (cext/runner.c) or to its own
 * timer interrupt. One struct of function pointers, no #ifdef per board in
 * the loop. Implementations: the simulated load (cext/hal_sim.c) and the
 * documented template for a real board (cext/hal_template.c).
 *
 * Calling context: read_inputs and apply_output are called only from the
 * tick's context (one caller, every 100 us); disconnect may be called from
 * any thread or context at any time (it must not need the loop, a lock or
 * the heap: SRS-212); now_ns from any context.
 */
#ifndef HAL_H
#define HAL_H

#include <stdint.h>
#include "regulator.h"

typedef struct {
    void *ctx;   /* the board's own data, handed back to every function */
    /* the two independent current channels and the electrode voltage of this
     * tick; while out->pulse_hz > 0 (hardware duty SRS-298): each current
     * channel the largest current of the last pulse (peak-hold restarted at
     * each rising edge, or on-phase samples at least every 20 us),
     * off_current_ua the current at the end of the last off-phase,
     * settled_a_ua/settled_b_ua the two channels sampled at the end of the
     * last on-phase (the settled pulse the short is judged on, SRS-298,
     * SRS-311; checked for plausibility, SRS-312), the voltage in the
     * on-phase. While the stage is not gated (the sense level, the output
     * off, a pause) these on-phase samples (peak, settled, voltage) follow
     * the electrode: the PWM timer, the ADC triggers and the peak-hold reset
     * run on while only the gate is masked, so a tick without an on-phase
     * (below 10 kHz) reads the state it follows, never a pulse from before
     * the pause (SRS-298, PR-066). The row's mean current and mean electrode
     * voltage come from averaging channels (>= 10 samples per pulse) */
    int32_t (*read_inputs)(void *ctx, reg_inputs_t *in);
    /* apply the drive command of this tick; *patient_ua gets the patient
     * current of the tick for the row aggregates (a board without a better
     * figure reports the regulated value, out->measured_ua) */
    int32_t (*apply_output)(void *ctx, const reg_output_t *out, int32_t *patient_ua);
    /* open the independent output disconnect: no current flows, whatever the
     * stage does, until power-off; idempotent */
    int32_t (*disconnect)(void *ctx);
    /* monotonic time in ns (never steps back) */
    int64_t (*now_ns)(void *ctx);
} hal_t;

/* the simulated board: the C load model of simload.c (off-device only).
 * Load events reach the tick through a single-writer mailbox applied at the
 * start of the next read_inputs (never while a tick uses the load). */
#define HAL_SIM_EV_NONE 0
#define HAL_SIM_EV_LIFT_OFF 1
#define HAL_SIM_EV_CONTACT 2
#define HAL_SIM_EV_SHORT 3          /* arg: ohms */
#define HAL_SIM_EV_CLEAR_SHORT 4
#define HAL_SIM_EV_CHANGE_LOAD 5    /* arg: ohms, arg2: over ms */
#define HAL_SIM_EV_STICK_SENSOR 6   /* arg: channel, arg2: uA */
#define HAL_SIM_EV_UNSTICK_SENSOR 7 /* arg: channel */

int32_t hal_sim_bind(hal_t *hal, uint64_t seed, int32_t load_ohms, int32_t capacitance_nf);
int32_t hal_sim_post(int32_t event, int32_t arg, int32_t arg2);
int32_t hal_sim_event_done(uint32_t *done_seq);
int32_t hal_sim_disconnected(int32_t *open);

/* the template of a real board (compiled so that it cannot rot) */
int32_t hal_template_bind(hal_t *hal);

#endif /* HAL_H */
