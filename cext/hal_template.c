/*
 * Template of a real board's hardware abstraction (SRS-210). Copy it, fill in
 * the marked parts for your ADCs, DAC, stage and disconnect; it is compiled
 * in the build (cext/build_cffi.py) so that it follows hal.h when hal.h
 * changes. Every function must be bounded in time (no waits on other threads,
 * no heap, no locks): read_inputs and apply_output run in the tick's context.
 *
 * Duties of the board (hazard_analysis RC-70, SRS-212, verification: device
 * maker):
 *  - read_inputs: channel A and channel B from two independent current
 *    sensing paths (separate shunts and ADC channels) and the electrode
 *    voltage, sampled in this tick, scaled to uA and mV (magnitudes);
 *    pulsed (out->pulse_hz > 0, SRS-298): the channels' pulse peak, the
 *    voltage in the on-phase, the off-phase's end (off_current_ua) and the
 *    two channels at the on-phase's end (settled_a_ua/settled_b_ua, the
 *    settled pulse of the short, SRS-311), each triggered by the PWM; the
 *    PWM timer, those triggers and the peak-hold reset keep running while
 *    the stage is not gated (sense level, output off, pause), only the gate
 *    is masked, so the on-phase samples follow the electrode and never hold
 *    a pulse from before the pause (PR-066);
 *  - apply_output: the DAC code for out->drive_mv, the stage enable
 *    (out->stage_on), the sense-resistor switch (out->sense) and the polarity
 *    relay (out->polarity) take effect before the next tick;
 *  - disconnect: opens a relay or switch in series with the electrodes,
 *    driven by a path that works while the processor running the loop is
 *    stalled (a GPIO plus a hardware watchdog that also drives it), callable
 *    from any context; it latches until power-off;
 *  - now_ns: a monotonic counter (never steps back).
 */
#include <stddef.h>
#include "hal.h"

static int32_t board_read(void *ctx, reg_inputs_t *in)
{
    (void)ctx;
    /* BOARD: in->current_a_ua = adc_a_to_ua(ADC_A); ... */
    in->current_a_ua = 0;
    in->current_b_ua = 0;
    in->voltage_mv = 0;
    in->off_current_ua = 0;   /* BOARD: pulsed only, the ADC reading the PWM triggers at the off-phase's end (SRS-259) */
    /* BOARD: pulsed only, channels A and B sampled by the PWM at the
     * on-phase's end (SRS-298, SRS-311). Left at -1 (out of range) until the
     * board fills them, so that a pulsed tick latches SENSOR_RANGE at once
     * (SRS-312): 0 would be in range and hide 125..250 ohm contacts. */
    in->settled_a_ua = -1;
    in->settled_b_ua = -1;
    return REG_OK;
}

static int32_t board_apply(void *ctx, const reg_output_t *out, int32_t *patient_ua)
{
    (void)ctx;
    /* BOARD: dac_write_mv(out->drive_mv); stage_enable(out->stage_on); ...
     * pwm_gate(out->pulse_hz, out->duty_percent): 0 = stage on continuously (SRS-259) */
    *patient_ua = out->measured_ua;
    return REG_OK;
}

static int32_t board_disconnect(void *ctx)
{
    (void)ctx;
    /* BOARD: gpio_write(DISCONNECT_PIN, OPEN); */
    return REG_OK;
}

static int64_t board_now_ns(void *ctx)
{
    (void)ctx;
    /* BOARD: a free-running timer scaled to ns */
    return 0;
}

int32_t hal_template_bind(hal_t *hal)
{
    int32_t status = REG_ERR_NULL;
    if (hal != NULL) {
        hal->ctx = NULL;
        hal->read_inputs = &board_read;
        hal->apply_output = &board_apply;
        hal->disconnect = &board_disconnect;
        hal->now_ns = &board_now_ns;
        status = REG_OK;
    }
    return status;
}
