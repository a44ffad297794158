/*
 * Constant-current regulation loop (SRS-001..SRS-020). See regulator.h.
 *
 * Order of one tick: readings are checked (range, trip, channel agreement,
 * watchdog) before anything else, so a fault turns the output off in the
 * same tick it is seen. Only then does the loop regulate: short, contact,
 * open circuit, anti-shock band, slew, PI with anti-windup, drive rise-rate
 * limit. The voltage reading is checked against the drive of the previous
 * tick (single fault of the voltage channel, SRS-023).
 *
 * The loop uses the LARGER of the two current channels for everything: a
 * channel that fails low can then never raise the patient current (single
 * fault), and one that fails high only lowers it until the channel
 * comparison latches the fault.
 */
#include "regulator.h"
#include "regulator_checks.h"

#define FA_PER_UA 1000000000
#define FA_PER_TICK_PER_NA_PER_S (1000000 / REG_TICK_HZ) /* 1 nA/s = 100 fA per tick */
#define Q16_SHIFT 16
#define PERMILLE_Q16 65536000u /* 1000 << Q16_SHIFT */
#define Q_PER_MV 1024                        /* load estimate unit: 1/1024 mV per uA */
#define Q2_PER_MV 1048576LL                  /* integrator unit: 1/2^20 mV */
#define Q2_COMPLIANCE ((int64_t)REG_COMPLIANCE_MV * Q2_PER_MV)
/* load estimate in 1/1024 mV per uA: ohm * 1024 / 1000 */
#define R_Q(ohm) (((ohm) * Q_PER_MV) / 1000)
/* bound of the published load estimate: the sense divider's 1 MOhm, above
 * any V/I under drive (80 V / 0.2 mA = 400 kOhm, regulator_checks.h) */
#define LOAD_Q_MAX R_Q(REG_SENSE_LOAD_MAX_OHMS)
/* a sense window's largest sum: every reading at the voltage channel's top */
#define SENSE_SUM_MAX_MV (REG_CONTACT_WINDOW_TICKS * REG_ADC_VOLTAGE_MAX_MV)
/* the largest slew step per tick: REG_SLEW_MAX_NA_PER_S x 100 fA (below 1 uA) */
#define SLEW_STEP_MAX_FA (REG_SLEW_MAX_NA_PER_S * FA_PER_TICK_PER_NA_PER_S)

/* the Q scales are written once: checked against their shifts */
#if (PERMILLE_Q16 != (1000u << Q16_SHIFT)) || (Q2_PER_MV != (1LL << 20)) || (Q_PER_MV != (1 << 10))
#error "regulator.c: a Q scale does not match its shift"
#endif

static int32_t max_i32(int32_t a, int32_t b)
{
    return (a > b) ? a : b;
}

static int32_t min_i32(int32_t a, int32_t b)
{
    return (a < b) ? a : b;
}

/* counters saturate at their threshold: no overflow however long a fault
 * stays latched (SRS-020) */
static int32_t count_up(int32_t count, int32_t limit)
{
    int32_t next = limit;
    if (count < limit) {
        next = count + 1;
    }
    return next;
}

/* Debounce: the count rises (saturating at limit) while cond holds and
 * restarts from 0 when it does not; returns 1 once limit is reached. */
static int32_t debounce(int32_t *count, int32_t cond, int32_t limit)
{
    *count = (cond != 0) ? count_up(*count, limit) : 0;
    return (*count >= limit) ? 1 : 0;
}

static int64_t clamp_i64(int64_t v, int64_t lo, int64_t hi)
{
    int64_t r = v;
    if (r < lo) {
        r = lo;
    }
    if (r > hi) {
        r = hi;
    }
    return r;
}

/* slew_na_per_s <= REG_SLEW_MAX_NA_PER_S (checked): x 100 <= 5e8 fits int32 */
static int32_t slew_fa_per_tick(int32_t slew_na_per_s)
{
    return slew_na_per_s * FA_PER_TICK_PER_NA_PER_S;
}

/* Noise-floor filter of one channel back at its start (SRS-130). */
static void quiet_clear(reg_quiet_t *q)
{
    q->prev_ua = 0;
    q->mean_q = REG_QUIET_STEP_CAP_UA * REG_QUIET_Q;
}

/* Current restarts from 0 under the slew limit (SRS-007, SRS-011). */
static void restart_from_zero(reg_state_t *reg)
{
    reg->reference_ua = 0;
    reg->reference_frac_fa = 0;
    reg->integ_q2 = 0;
    reg->r_est_q = R_Q(REG_REST_INIT_OHMS);
    reg->estimate_count = 0;
    reg->open_count = 0;
    reg->contact_count = 0;
    reg->sense_sum_mv = 0;
    reg->sense_n = 0;
    reg->sense_hist_at = 0;
    reg->sense_hist_n = 0;
    reg->sense_max_mv = 0;
    reg->short_count = 0;
    reg->settled_short_count = 0;
    reg->compliance_count = 0;
    reg->compliance_limited = 0;
    reg->last_drive_mv = 0;
    reg->saturated = 0;
    reg->blind_held = 0;
    reg->hold_on = 0;
    reg->hold_ua = 0;
    reg->hold_frac_fa = 0;
    reg->setpoint_ua = 0;
    reg->open_armed = 0;
    reg->anchor_mv = 0;
    reg->evident_run = 0;
    reg->evidence = 0;
    reg->arm_mean_q = 0;
    reg->unseen_run = 0;
    reg->run_mean_q = 0;
    reg->boot_mv = REG_BLIND_BOOT_LOW_MV;
    reg->low_load = 1;
}

/* Output off: not enabled, no contact search or hold-off, current from 0. */
static void output_off(reg_state_t *reg)
{
    reg->enabled = 0;
    reg->contact_lost = 0;
    reg->probing = 0;
    reg->holdoff_count = 0;
    reg->load_q = 0;
    restart_from_zero(reg);
}

/* Output off, fault latched; the first fault's code is kept (SRS-017). */
static void latch_fault(reg_state_t *reg, int32_t code)
{
    if (reg->fault == REG_FAULT_NONE) {
        reg->fault = code;
    }
    reg->armed = 0u; /* a fault ends the session's checklist arm (SRS-307) */
    output_off(reg);
}

int32_t reg_init(reg_state_t *reg)
{
    int32_t status = REG_ERR_NULL;
    if (reg != NULL) {
        int32_t i;
        reg->target_ua = 0;
        reg->permille_recip = 0u;
        reg->slew_fa_per_tick = slew_fa_per_tick(REG_SLEW_MIN_NA_PER_S);
        reg->enabled = 0;
        reg->polarity = REG_POLARITY_NORMAL;
        reg->fault = REG_FAULT_NONE;
        reg->contact_lost = 0;
        reg->probing = 0;
        reg->disagree_count = 0;
        reg->watchdog_count = 0;
        reg->holdoff_count = 0;
        reg->last_max_ua = 0;
        reg->last_plain = 0;
        reg->plausible_count = 0;
        reg->last_a_ua = -1;
        reg->last_b_ua = -1;
        reg->frozen_a_count = 0;
        reg->frozen_b_count = 0;
        quiet_clear(&reg->quiet_a);
        quiet_clear(&reg->quiet_b);
        reg->load_q = 0;
        reg->tick = 0;
        for (i = 0; i < REG_TRANSIENT_COUNT; i++) {
            reg->cut_ticks[i] = 0;
        }
        reg->cut_index = 0;
        reg->cut_total = 0;
        reg->cut_stored = 0;
        reg->pulse_hz = 0;
        reg->duty_percent = 0;
        reg->stuck_count = 0;
        reg->settled_bad_count = 0;
        reg->armed = 0u; /* the default refuses: no output before a checklist arm */
        restart_from_zero(reg);
        status = REG_OK;
    }
    return status;
}

int32_t reg_command(reg_state_t *reg, int32_t target_ua, int32_t slew_na_per_s)
{
    int32_t status = REG_OK;
    if (reg == NULL) {
        status = REG_ERR_NULL;
    } else if ((target_ua < REG_TARGET_MIN_UA) || (target_ua > REG_TARGET_MAX_UA)) {
        status = REG_ERR_RANGE;
    } else if ((slew_na_per_s < REG_SLEW_MIN_NA_PER_S) || (slew_na_per_s > REG_SLEW_MAX_NA_PER_S)) {
        status = REG_ERR_RANGE;
    } else {
        reg->target_ua = target_ua;
        /* reciprocal for the flowing fraction: no division in the tick */
        if (target_ua > 0) {
            reg->permille_recip = PERMILLE_Q16 / (uint32_t)target_ua;
        } else {
            reg->permille_recip = 0u;
        }
        reg->slew_fa_per_tick = slew_fa_per_tick(slew_na_per_s);
    }
    return status;
}

int32_t reg_enable(reg_state_t *reg, int32_t on)
{
    int32_t status = REG_OK;
    if (reg == NULL) {
        status = REG_ERR_NULL;
    } else if ((on != 0) && (on != 1)) {
        status = REG_ERR_RANGE;
    } else if (on == 0) {
        output_off(reg);
    } else if (reg->fault != REG_FAULT_NONE) {
        status = REG_ERR_FAULT_LATCHED;
    } else if (reg->armed != REG_ARMED_PATTERN) {
        /* no checklist arm (arming.h, SRS-307): the output stays as it is (off) */
        status = REG_ERR_NOT_ARMED;
    } else if (reg->enabled == 0) {
        /* restart_from_zero() touches neither enabled nor watchdog_count */
        output_off(reg);
        reg->enabled = 1;
        reg->probing = 1;
        reg->watchdog_count = 0;
    } else {
        /* already enabled: nothing changes */
    }
    return status;
}

int32_t reg_set_polarity(reg_state_t *reg, int32_t polarity)
{
    int32_t status = REG_OK;
    if (reg == NULL) {
        status = REG_ERR_NULL;
    } else if ((polarity != REG_POLARITY_NORMAL) && (polarity != REG_POLARITY_REVERSED)) {
        status = REG_ERR_RANGE;
    } else if (polarity == reg->polarity) {
        /* not a change */
    } else if ((reg->enabled != 0) || (reg->last_max_ua >= REG_ZERO_CURRENT_UA)) {
        status = REG_ERR_POLARITY_REFUSED;
    } else {
        reg->polarity = polarity;
    }
    return status;
}

/* 1 when (pulse_hz, duty_percent) is DC (0, 0) or a pulse train within
 * its ranges (SRS-258) */
static int32_t pulse_valid(int32_t pulse_hz, int32_t duty_percent)
{
    int32_t valid = 0;
    if ((pulse_hz == 0) && (duty_percent == 0)) {
        valid = 1;
    } else if ((pulse_hz >= REG_PULSE_MIN_HZ) && (pulse_hz <= REG_PULSE_MAX_HZ) &&
               (duty_percent >= REG_PULSE_DUTY_MIN_PERCENT) && (duty_percent <= REG_PULSE_DUTY_MAX_PERCENT)) {
        valid = 1;
    } else {
        /* out of range */
    }
    return valid;
}

/* Mode of the drive (SRS-259): plain DC (0, 0) or pulsed. Like the
 * polarity, changed only with the output off and no current flowing. */
int32_t reg_set_pulse(reg_state_t *reg, int32_t pulse_hz, int32_t duty_percent)
{
    int32_t status = REG_OK;
    if (reg == NULL) {
        status = REG_ERR_NULL;
    } else if (pulse_valid(pulse_hz, duty_percent) == 0) {
        status = REG_ERR_RANGE;
    } else if ((pulse_hz == reg->pulse_hz) && (duty_percent == reg->duty_percent)) {
        /* not a change */
    } else if ((reg->enabled != 0) || (reg->last_max_ua >= REG_ZERO_CURRENT_UA)) {
        status = REG_ERR_MODE_REFUSED;
    } else {
        reg->pulse_hz = pulse_hz;
        reg->duty_percent = duty_percent;
        reg->stuck_count = 0;
        reg->settled_bad_count = 0;
    }
    return status;
}

int32_t reg_kick(reg_state_t *reg)
{
    int32_t status = REG_ERR_NULL;
    if (reg != NULL) {
        reg->watchdog_count = 0;
        status = REG_OK;
    }
    return status;
}

/* Contact search on request (SRS-092): the supervisor found the contact area
 * too small (fingertips) and pauses; the output goes to the sense level at
 * once (reference 0, <= 9.1 uA, SRS-029) and stays there, flagged contact
 * lost, until a sense window shows a load below REG_CONTACT_OHMS; each
 * window publishes its load estimate (SRS-027), so the supervisor sees the
 * load come back without any treatment current. Only with the output
 * enabled and no fault latched. */
int32_t reg_search_contact(reg_state_t *reg)
{
    int32_t status = REG_OK;
    if (reg == NULL) {
        status = REG_ERR_NULL;
    } else if (reg->fault != REG_FAULT_NONE) {
        status = REG_ERR_FAULT_LATCHED;
    } else if (reg->enabled == 0) {
        status = REG_ERR_RANGE;
    } else {
        restart_from_zero(reg);
        reg->holdoff_count = 0;
        reg->contact_lost = 1;
    }
    return status;
}

/* Clears a latched fault (SRS-017). With no fault latched it changes nothing:
 * the transient history (SRS-008) and the watchdog count (SRS-015) are never
 * cleared by a reset, so reset calls cannot defeat them (safety review F1);
 * reg_enable() restarts the watchdog window when the output is enabled. */
int32_t reg_reset_fault(reg_state_t *reg)
{
    int32_t status = REG_OK;
    if (reg == NULL) {
        status = REG_ERR_NULL;
    } else if (reg->last_max_ua >= REG_ZERO_CURRENT_UA) {
        status = REG_ERR_RESET_REFUSED;
    } else if (reg->fault == REG_FAULT_NONE) {
        /* nothing latched: no-op */
    } else {
        int32_t i;
        reg->fault = REG_FAULT_NONE;
        reg->disagree_count = 0;
        reg->plausible_count = 0;
        reg->frozen_a_count = 0;
        reg->frozen_b_count = 0;
        reg->stuck_count = 0;
        reg->settled_bad_count = 0;
        quiet_clear(&reg->quiet_a);
        quiet_clear(&reg->quiet_b);
        for (i = 0; i < REG_TRANSIENT_COUNT; i++) {
            reg->cut_ticks[i] = 0;
        }
        reg->cut_index = 0;
        reg->cut_stored = 0;
    }
    return status;
}

/* Records a cut; returns 1 when REG_TRANSIENT_COUNT cuts fall in the window. */
static int32_t record_cut(reg_state_t *reg)
{
    int32_t i;
    int32_t in_window = 0;
    reg->cut_ticks[reg->cut_index] = reg->tick;
    reg->cut_index = (reg->cut_index + 1) % REG_TRANSIENT_COUNT;
    reg->cut_stored = count_up(reg->cut_stored, REG_TRANSIENT_COUNT);
    reg->cut_total = count_up(reg->cut_total, INT32_MAX);
    for (i = 0; i < reg->cut_stored; i++) {
        int64_t elapsed = reg->tick - reg->cut_ticks[i];
        if (elapsed < REG_TRANSIENT_WINDOW_TICKS) {
            in_window++;
        }
    }
    return (in_window >= REG_TRANSIENT_COUNT) ? 1 : 0;
}

/* Checks that do not depend on the output being on: range was checked by
 * the caller; here trip level and channel agreement. */
static void check_sensors(reg_state_t *reg, int32_t imax, int32_t imin, int32_t v_mv)
{
    if (imax > REG_TRIP_UA) {
        int64_t v_x1000 = (int64_t)v_mv * 1000LL;
        if (v_x1000 < ((int64_t)REG_SHORT_OHMS * (int64_t)imax)) {
            latch_fault(reg, REG_FAULT_SHORT);
        } else {
            latch_fault(reg, REG_FAULT_OVERCURRENT_TRIP);
        }
    } else {
        /* apart by more than max(absolute, percent of the larger): both exceeded */
        int32_t diff = imax - imin;
        int32_t apart = 0;
        if ((diff > REG_DISAGREE_ABS_UA) && ((diff * 100) > (imax * REG_DISAGREE_PERCENT))) {
            apart = 1;
        }
        if (debounce(&reg->disagree_count, apart, REG_DISAGREE_TICKS) != 0) {
            latch_fault(reg, REG_FAULT_SENSOR_DISAGREE);
        }
    }
}

static void update_compliance(reg_state_t *reg, int32_t saturated)
{
    int32_t changing = (reg->compliance_limited == 0) ? saturated : (1 - saturated);
    if (changing != 0) {
        reg->compliance_count = count_up(reg->compliance_count, REG_COMPLIANCE_TICKS);
    } else {
        reg->compliance_count = 0;
    }
    if (reg->compliance_count >= REG_COMPLIANCE_TICKS) {
        reg->compliance_limited = 1 - reg->compliance_limited;
        reg->compliance_count = 0;
    }
}

static void update_load_estimate(reg_state_t *reg, int32_t i_ua, int32_t v_mv)
{
    reg->estimate_count = count_up(reg->estimate_count, REG_REST_EVERY_TICKS);
    if (reg->estimate_count >= REG_REST_EVERY_TICKS) {
        reg->estimate_count = 0;
        if (i_ua >= REG_REST_MIN_CURRENT_UA) {
            /* 32-bit: v_mv <= 80 000 (range-checked), so v_mv * 1024 fits */
            int32_t r_inst = (v_mv * Q_PER_MV) / i_ua;
            int32_t r = min_i32(max_i32(r_inst, R_Q(REG_REST_MIN_OHMS)), R_Q(REG_REST_MAX_OHMS));
            /* each filter step moves between two values within the bounds, so
             * the clamps never act: they state the bounds (no overflow, Eva) */
            reg->r_est_q = min_i32(max_i32(reg->r_est_q + ((r - reg->r_est_q) / REG_REST_FILTER_DIV),
                                           R_Q(REG_REST_MIN_OHMS)), R_Q(REG_REST_MAX_OHMS));
            /* published estimate (SRS-027): same filter, unclamped, first value taken whole */
            if (reg->load_q == 0) {
                reg->load_q = r_inst;
            } else {
                reg->load_q = min_i32(max_i32(reg->load_q + ((r_inst - reg->load_q) / REG_REST_FILTER_DIV), 0),
                                      LOAD_Q_MAX);
            }
        }
    }
}

/* Moves a value (whole uA + sub-uA fA) toward goal_ua by at most step_fa.
 * The step is below 1 uA (<= 5e8 fA), so at most one carry into the whole uA;
 * frac + step < 2e9 fits int32. */
static void slew_toward(int32_t *value_ua, int32_t *frac_fa, int32_t goal_ua, int32_t step_in_fa)
{
    /* fraction 0..FA_PER_UA - 1 and step 0..SLEW_STEP_MAX_FA by construction
     * (never clamped here); stated so that Eva proves frac + step fits */
    *frac_fa = min_i32(max_i32(*frac_fa, 0), FA_PER_UA - 1);
    const int32_t step_fa = min_i32(max_i32(step_in_fa, 0), SLEW_STEP_MAX_FA);
    if (*value_ua < goal_ua) {
        *frac_fa += step_fa;
        if (*frac_fa >= FA_PER_UA) {
            *frac_fa -= FA_PER_UA;
            *value_ua += 1;
        }
        if (*value_ua >= goal_ua) {
            *value_ua = goal_ua;
            *frac_fa = 0;
        }
    } else if ((*value_ua > goal_ua) || (*frac_fa > 0)) {
        *frac_fa -= step_fa;
        if (*frac_fa < 0) {
            *frac_fa += FA_PER_UA;
            *value_ua -= 1;
        }
        if (*value_ua < goal_ua) {
            *value_ua = goal_ua;
            *frac_fa = 0;
        }
    } else {
        /* at the goal */
    }
}

/* Slews the reference toward the target, at most slew per tick (SRS-003). */
static void slew_reference(reg_state_t *reg)
{
    slew_toward(&reg->reference_ua, &reg->reference_frac_fa, reg->target_ua, reg->slew_fa_per_tick);
}

/* Setpoint of the PI and of the anti-shock band (SRS-024): the reference,
 * except while the drive is at compliance: then at most the measured current
 * plus a margin, and afterwards rising back to the reference no faster than
 * the commanded slew. A falling load therefore never steps the current up. */
static void update_setpoint(reg_state_t *reg, int32_t i_ua)
{
    if (reg->hold_on != 0) {
        if (reg->hold_ua < reg->reference_ua) {
            slew_toward(&reg->hold_ua, &reg->hold_frac_fa, reg->reference_ua, reg->slew_fa_per_tick);
        }
        if (reg->hold_ua >= reg->reference_ua) {
            reg->hold_on = 0;
        }
    }
    /* SRS-025: the same hold while the blind-rise bound held the drive
     * back: a lift that began before any evidence is not seen, and at
     * re-contact the setpoint restarts from what flows, under the slew,
     * instead of the drive racing to a reference that rose meanwhile (a
     * discharged 10 uF skin at 500 ohm then read 150 ohm: SHORT) */
    if ((reg->saturated != 0) || (reg->blind_held != 0)) {
        int32_t cap_ua = i_ua + REG_COMPLIANCE_HOLD_MARGIN_UA;
        int32_t now_ua = (reg->hold_on != 0) ? reg->hold_ua : reg->reference_ua;
        if (cap_ua < now_ua) {
            reg->hold_on = 1;
            reg->hold_ua = cap_ua;
            reg->hold_frac_fa = 0;
        }
    }
    reg->setpoint_ua = (reg->hold_on != 0) ? reg->hold_ua : reg->reference_ua;
}

/* 1 when a reading is that of a contact of a tick or two after a lift
 * (SRS-025 (b), PR-038): the first or second above the noise after one at
 * it, above a setpoint of REG_BLIND_SHORT_MIN_UA..REG_BLIND_START_MAX_UA, on
 * a load known low: the low boot bound and either the reference at its
 * target, the last sense window below REG_BLIND_LOW_LOAD_OHMS, or an
 * anti-shock cut since that window (restart_from_zero sets low_load). Not
 * while a ramp on
 * a load judged 1.3..2.5 kOhm rises: there (4 kOhm at 10 uF reads ~1.8
 * kOhm) the reference waits for such readings, and a 1 mA/s start ended
 * 31 ms late; nor at setpoints up to 55 uA, where every reading above the
 * noise is above the setpoint (a 800 ohm return to 0.05 mA settled 5.7 ms
 * later), and the sweep of tests/regulator/test_recontact_short_contacts.py
 * holds without it. */
static int32_t short_contact(const reg_state_t *reg, int32_t i_ua)
{
    int32_t known_low = 0;
    if ((reg->boot_mv == REG_BLIND_BOOT_LOW_MV) &&
        ((reg->reference_ua == reg->target_ua) || (reg->low_load != 0))) {
        known_low = 1;
    }
    return ((known_low != 0) && (reg->evident_run < REG_BLIND_SHORT_RUN) &&
            (reg->setpoint_ua > REG_BLIND_SHORT_MIN_UA) && (reg->setpoint_ua < REG_BLIND_START_MAX_UA) &&
            (i_ua > reg->setpoint_ua)) ? 1 : 0;
}

/* Drive of a reading that counts as evidence (SRS-025), scaled down to what
 * would have given the setpoint when the reading was above it: a drive wound
 * up blind to the boot bound met a one-tick contact with 0.44 mA through the
 * discharged skin capacitance, and as the anchor it let the next lift wind up
 * to 82 mV: 0.53 mA at re-contact into 500 ohm (issue 8 point 1, CI of main).
 * Only the part of the reading beyond the noise bound counts (a reading
 * within REG_OPEN_NOISE_UA above the setpoint can be noise, and scaling on
 * it stalled a 10 kOhm ramp): last_drive_mv x setpoint / (reading - noise)
 * is then at most the DC drive the setpoint needs (a charging capacitance
 * only lowers the reading), which keeps the re-contact bound of
 * REG_BLIND_RISE_DIV (4.9 s + 10 mV / 0.3 R). */
static int32_t anchor_drive_mv(const reg_state_t *reg, int32_t i_ua)
{
    int32_t last_drive_mv = reg->last_drive_mv;
    int32_t setpoint_ua = reg->setpoint_ua;
    int32_t old_anchor_mv = reg->anchor_mv;
    int32_t above_noise_ua = i_ua - REG_OPEN_NOISE_UA;
    int32_t anchor_mv = last_drive_mv;
    if (above_noise_ua > setpoint_ua) {
        anchor_mv = (int32_t)(((int64_t)last_drive_mv * (int64_t)max_i32(setpoint_ua, 0)) / (int64_t)above_noise_ua);
    }
    /* a reading above the setpoint says the drive was enough: it never
     * raises the anchor (from REG_BLIND_START_MAX_UA; lower, the reference
     * waited and slow ramps ended late, SRS-028). One-tick contacts at
     * 0.1 mA read 97, 122, 134 uA at drives wound up by the blind rise, and
     * each re-anchored the next: 72 -> 112 mV, 0.62 mA at 600 ohm. */
    if ((i_ua > setpoint_ua) && (setpoint_ua >= REG_BLIND_START_MAX_UA)) {
        anchor_mv = min_i32(anchor_mv, old_anchor_mv);
    }
    /* PR-038: a short contact after a lift met a drive wound up blind; a
     * reading above the setpoint never raises the anchor then (the drive was
     * enough): one-tick contacts at 0.07..0.1 mA read 85..134 uA and
     * re-anchored the 1/4 rise on each wound-up drive, 52 -> 70 -> 87 mV */
    if (short_contact(reg, i_ua) != 0) {
        anchor_mv = min_i32(anchor_mv, old_anchor_mv);
    }
    return anchor_mv;
}

/* Blind-rise allowance above the anchor (SRS-025): from
 * REG_BLIND_FINE_MIN_UA 1/16 (at least 2 mV), below it 1/4 (at least 10 mV,
 * a 10 kOhm start needs it); the re-contact figures are in
 * regulator_config.h. */
static int32_t blind_rise_mv(const reg_state_t *reg)
{
    int32_t rise_mv;
    if (reg->setpoint_ua >= REG_BLIND_FINE_MIN_UA) {
        rise_mv = max_i32(REG_BLIND_FINE_MIN_MV, reg->anchor_mv / REG_BLIND_FINE_DIV);
    } else {
        rise_mv = max_i32(REG_BLIND_RISE_MIN_MV, reg->anchor_mv / REG_BLIND_RISE_DIV);
    }
    return rise_mv;
}

/* PI with conditional integration and a clamped integrator (anti-windup);
 * gains scaled by the load estimate. The drive rises by at most
 * REG_DRIVE_RISE_MV_PER_TICK per tick (SRS-022); while that limit acts the
 * integrator is set back to what was applied (no windup behind the limit).
 * Returns the drive in mV. */
static int32_t regulate(reg_state_t *reg, int32_t i_ua, int32_t v_mv)
{
    /* setpoint 0..REG_TARGET_MAX_UA and load estimate within its R_Q bounds
     * by construction (never clamped here): stated so that the PI terms'
     * bounds survive the state for Eva (no int64 overflow) */
    int64_t setpoint_ua = (int64_t)min_i32(max_i32(reg->setpoint_ua, 0), REG_TARGET_MAX_UA);
    int64_t r_est_q = (int64_t)min_i32(max_i32(reg->r_est_q, R_Q(REG_REST_MIN_OHMS)), R_Q(REG_REST_MAX_OHMS));
    int64_t integ_q2 = clamp_i64(reg->integ_q2, 0, Q2_COMPLIANCE);
    int64_t e_ua = setpoint_ua - (int64_t)i_ua;
    int64_t rise_q2 = ((int64_t)reg->last_drive_mv + (int64_t)REG_DRIVE_RISE_MV_PER_TICK) * Q2_PER_MV;
    int64_t scaled = e_ua * r_est_q;                          /* 1/1024 mV */
    int64_t p_q2 = scaled * REG_KP_NUM;                       /* gains in 1/1024: 1/2^20 mV */
    int64_t unclamped = integ_q2 + p_q2;
    int64_t drive_q2;
    int64_t blind_cap_q2 = Q2_COMPLIANCE;
    /* SRS-025: a reading above the open-circuit noise bound is evidence that
     * the last tick's drive reached a load; without it the drive may rise at
     * most REG_BLIND_RISE_MV above the drive of the last evidence (no windup
     * into an open circuit that is too small to be seen in one reading).
     * Only a reading of a plain drive's tick is evidence (PR-065): the first
     * plain tick after the enable probe reads the sense level's tick (2 V
     * behind 220 kOhm, <= 9.1 uA), so a reading above the noise there is a
     * glitch; as the anchor the sense level let a lift wind the drive to 1 V,
     * and a 160 uA glitch taken as evidence dropped the boot bound (a 2 kOhm
     * ramp then held 10 mV and never started) */
    if ((i_ua > REG_OPEN_NOISE_UA) && (reg->last_plain != 0)) {
        /* within 0..compliance by construction; stated so that the bound
         * survives the state for Eva (no overflow in the blind bound) */
        reg->anchor_mv = min_i32(max_i32(anchor_drive_mv(reg, i_ua), 0), REG_COMPLIANCE_MV);
    }
    /* readings in a row above the noise, for the next one (PR-038) */
    reg->evident_run = (i_ua > REG_OPEN_NOISE_UA) ? count_up(reg->evident_run, REG_BLIND_SHORT_RUN) : 0;
    if (((i_ua >= REG_OPEN_ARM_UA) && (reg->last_plain != 0)) || (reg->open_armed != 0)) {
        reg->evidence = 1;
    }
    /* the bound holds at any setpoint until evidence and an armed collapse
     * tier (issue 8 point 1): a lift that began before the first
     * REG_OPEN_ARM_UA reading and lasts while the reference passes
     * REG_BLIND_MAX_UA met the 1 V open tier; so did one after a 160 uA
     * reading seen below REG_OPEN_FIRE_MIN_UA, which did not arm (6.1 mA);
     * an armed tier implies evidence (set just above), so "not armed" covers
     * "no evidence" */
    if ((reg->setpoint_ua < REG_BLIND_MAX_UA) || (reg->open_armed == 0)) {
        int64_t blind_q2 = (int64_t)reg->anchor_mv + (int64_t)blind_rise_mv(reg);
        if ((reg->evidence == 0) && (blind_q2 < (int64_t)reg->boot_mv)) {
            blind_q2 = (int64_t)reg->boot_mv;
        }
        blind_q2 *= Q2_PER_MV;
        blind_cap_q2 = blind_q2;
        if (blind_q2 < rise_q2) {
            rise_q2 = blind_q2;
        }
    }
    /* anti-windup: no integration further into a saturated drive */
    if (!(((unclamped >= Q2_COMPLIANCE) && (e_ua > 0)) || ((unclamped <= 0) && (e_ua < 0)))) {
        integ_q2 = clamp_i64(integ_q2 + (scaled * REG_KI_NUM), 0, Q2_COMPLIANCE);
    }
    reg->integ_q2 = integ_q2;
    drive_q2 = clamp_i64(integ_q2 + p_q2, 0, Q2_COMPLIANCE);
    if (drive_q2 > rise_q2) {
        drive_q2 = rise_q2;
        reg->integ_q2 = clamp_i64(rise_q2 - p_q2, 0, Q2_COMPLIANCE);
    }
    reg->saturated = 0;
    if ((drive_q2 >= Q2_COMPLIANCE) && (e_ua > 0)) {
        reg->saturated = 1;
    }
    reg->blind_held = 0;
    if ((drive_q2 >= blind_cap_q2) && (e_ua > 0)) {
        reg->blind_held = 1;
    }
    update_compliance(reg, reg->saturated);
    update_load_estimate(reg, i_ua, v_mv);
    return (int32_t)(drive_q2 / Q2_PER_MV);                   /* drive_q2 >= 0: exact floor */
}

/* Sense level only: enough to see the contact come back (SRS-010). */
static void drive_sense(reg_output_t *out)
{
    out->drive_mv = REG_SENSE_MV;
    out->stage_on = 1;
    out->sense = 1;
}

/* Load behind the sense resistor from the mean electrode voltage of a sense
 * window (SRS-027): R = Rsense x V / (Vsense - V); 0 (unknown) for an open
 * circuit or beyond REG_SENSE_LOAD_MAX_OHMS. */
static int32_t sense_load_q(int32_t sum_mv)
{
    int64_t full = (int64_t)REG_SENSE_MV * (int64_t)REG_CONTACT_WINDOW_TICKS;
    int64_t rest = full - (int64_t)sum_mv;
    int32_t q = 0;
    if (rest > 0) {
        int64_t ohms = ((int64_t)REG_SENSE_SERIES_OHMS * (int64_t)sum_mv) / rest;
        if (ohms <= (int64_t)REG_SENSE_LOAD_MAX_OHMS) {
            q = (int32_t)((ohms * (int64_t)Q_PER_MV) / 1000LL);
        }
    }
    return q;
}

/* Blind-rise bound until the first REG_OPEN_ARM_UA reading (SRS-025), from
 * the sum of a sense window's voltage readings: the high bound only when the
 * window mean says the load is above REG_BLIND_BOOT_HIGH_OHMS and no reading
 * of the window came from an open circuit (max_mv below
 * REG_BLIND_BOOT_OPEN_MV): a lift of one tick inside the window adds 20 mV
 * to a 500 ohm window mean and chose the high bound (issue 8 point 1). */
static int32_t boot_bound_mv(int32_t sum_mv, int32_t max_mv)
{
    int32_t bound = REG_BLIND_BOOT_LOW_MV;
    if ((sum_mv >= (REG_BLIND_BOOT_HIGH_MV * REG_CONTACT_WINDOW_TICKS)) && (max_mv < REG_BLIND_BOOT_OPEN_MV)) {
        bound = REG_BLIND_RISE_BOOT_MV;
    }
    return bound;
}

/* 1 when a sense window's mean says the load is below
 * REG_BLIND_LOW_LOAD_OHMS (SRS-025, PR-038). */
static int32_t low_load_window(int32_t sum_mv)
{
    /* cross-multiplied: the mean behind the divider compared without rounding */
    return (((int64_t)sum_mv * ((int64_t)REG_BLIND_LOW_LOAD_OHMS + (int64_t)REG_SENSE_SERIES_OHMS)) < REG_BLIND_LOW_LOAD_CROSS) ? 1 : 0;
}

/* Adds a reading to the sense window (sum and largest reading). */
static void sense_add(reg_state_t *reg, int32_t v_mv)
{
    /* a window holds at most REG_CONTACT_WINDOW_TICKS readings of at most
     * REG_ADC_VOLTAGE_MAX_MV (range-checked): the bounds never act; they
     * state them so that Eva proves the sum and the count do not overflow */
    reg->sense_sum_mv = min_i32(reg->sense_sum_mv, SENSE_SUM_MAX_MV) + v_mv;
    reg->sense_max_mv = max_i32(reg->sense_max_mv, v_mv);
    reg->sense_n = count_up(reg->sense_n, REG_CONTACT_WINDOW_TICKS);
}

/* Records a finished sense window's sum in the history (SRS-131). */
static void sense_push(reg_state_t *reg, int32_t sum_mv)
{
    /* ring index and count written so that each stays visibly in range
     * (Frama-C Eva proves no overflow without relating them to the ring size) */
    if (reg->sense_hist_at >= (REG_CONTACT_HIST - 1)) {
        reg->sense_hist_at = 0;
    } else {
        reg->sense_hist_at += 1;
    }
    /* a window's sum: 0..SENSE_SUM_MAX_MV (never clamped; stated for Eva) */
    reg->sense_hist_mv[reg->sense_hist_at] = min_i32(max_i32(sum_mv, 0), SENSE_SUM_MAX_MV);
    if (reg->sense_hist_n < REG_CONTACT_HIST) {
        reg->sense_hist_n += 1;
    }
}

/* The window sum age windows before the newest (age < sense_hist_n). */
static int32_t sense_hist(const reg_state_t *reg, int32_t age)
{
    return reg->sense_hist_mv[((reg->sense_hist_at - age) + REG_CONTACT_HIST) % REG_CONTACT_HIST];
}

/* Returns 1 when the sense history shows a settled contact (SRS-011,
 * SRS-131): every one of the last REG_CONTACT_HIST window means below
 * REG_CONTACT_MV (a window of a lift or of a partial contact in the span
 * cannot serve as the earlier reference), and the mean of the last
 * REG_CONTACT_WINDOWS risen by at most REG_CONTACT_RISE_MV over the mean of
 * the REG_CONTACT_WINDOWS windows REG_CONTACT_SETTLE_WINDOWS earlier: a skin
 * capacitance still charging towards a partial contact's level is not
 * contact, however far below the level it still is. Falling is settled: the
 * load model is first order, so a falling mean heads for a level below the
 * present one. */
static int32_t sense_settled(const reg_state_t *reg)
{
    int32_t settled = 0;
    if (reg->sense_hist_n >= REG_CONTACT_HIST) {
        int32_t now_mv = 0;
        int32_t then_mv = 0;
        int32_t below = 1;
        int32_t k;
        for (k = 0; k < REG_CONTACT_HIST; k++) {
            if (sense_hist(reg, k) >= (REG_CONTACT_MV * REG_CONTACT_WINDOW_TICKS)) {
                below = 0;
            }
        }
        for (k = 0; k < REG_CONTACT_WINDOWS; k++) {
            now_mv += sense_hist(reg, k);
            then_mv += sense_hist(reg, k + REG_CONTACT_SETTLE_WINDOWS);
        }
        if ((below != 0) &&
            ((now_mv - then_mv) <= (REG_CONTACT_RISE_MV * REG_CONTACT_WINDOW_TICKS * REG_CONTACT_WINDOWS))) {
            settled = 1;
        }
    }
    return settled;
}

/* Ends a sense window: its sum into the history and the load estimate
 * (SRS-027); returns the sum. */
static int32_t sense_close(reg_state_t *reg)
{
    int32_t sum_mv = reg->sense_sum_mv;
    sense_push(reg, sum_mv);
    reg->load_q = sense_load_q(sum_mv);
    reg->sense_sum_mv = 0;
    reg->sense_max_mv = 0;
    reg->sense_n = 0;
    return sum_mv;
}

/* Contact lost: sense level only; contact back restarts from 0 (SRS-010/011).
 * Contact is judged on the MEAN voltage of windows of REG_CONTACT_WINDOW_TICKS
 * readings (SRS-011, SRS-037): the sense level is small, so a single reading
 * is dominated by the noise; and only once settled (SRS-131). */
static void sense_contact(reg_state_t *reg, int32_t v_mv, reg_output_t *out)
{
    drive_sense(out);
    sense_add(reg, v_mv);
    if (reg->sense_n >= REG_CONTACT_WINDOW_TICKS) {
        int32_t boot_mv = boot_bound_mv(reg->sense_sum_mv, reg->sense_max_mv);
        int32_t low_load = low_load_window(reg->sense_sum_mv);
        (void)sense_close(reg);
        if (sense_settled(reg) != 0) {
            reg->contact_lost = 0;
            restart_from_zero(reg);
            reg->boot_mv = boot_mv;
            reg->low_load = low_load;
            out->drive_mv = 0;
            out->sense = 0;
        } else {
            /* contact not (yet) back */
        }
    }
}

/* Enable probe (SRS-010, SRS-025): one window of REG_CONTACT_WINDOW_TICKS
 * readings at the sense level before the first plain drive, so that the
 * blind-rise bound is chosen from a known load. The reference slews on
 * (ramp timing unchanged); no contact in the window is "contact lost".
 * Open (issue 8, SRS-131 covers the return only): one window cannot tell a
 * charging 20..40 kOhm partial contact at 1..10 uF from a contact. */
static void probe_contact(reg_state_t *reg, int32_t v_mv, reg_output_t *out)
{
    drive_sense(out);
    slew_reference(reg);
    sense_add(reg, v_mv);
    if (reg->sense_n >= REG_CONTACT_WINDOW_TICKS) {
        int32_t boot_mv = boot_bound_mv(reg->sense_sum_mv, reg->sense_max_mv);
        int32_t low_load = low_load_window(reg->sense_sum_mv);
        int32_t sum_mv = sense_close(reg);
        reg->probing = 0;
        if (sum_mv >= (REG_CONTACT_MV * REG_CONTACT_WINDOW_TICKS)) {
            reg->contact_lost = 1;
            restart_from_zero(reg);
        } else {
            reg->boot_mv = boot_mv;
            reg->low_load = low_load;
        }
    }
}

/* Readings at the noise needed before a run of them is a lift, by the
 * filtered current the run began from (SRS-025, PR-026); INT32_MAX: none. */
static int32_t lift_run_ticks(int32_t run_mean_q)
{
    int32_t ticks = INT32_MAX;
    if (run_mean_q >= (REG_LIFT_FAST_MEAN_UA * REG_OPEN_ARM_Q)) {
        ticks = REG_LIFT_FAST_TICKS;
    } else if (run_mean_q >= (REG_LIFT_MID_MEAN_UA * REG_OPEN_ARM_Q)) {
        ticks = REG_LIFT_MID_TICKS;
    } else if (run_mean_q >= (REG_LIFT_LOW_MEAN_UA * REG_OPEN_ARM_Q)) {
        ticks = REG_LIFT_LOW_TICKS;
    } else if (run_mean_q >= (REG_LIFT_SLOW_MEAN_UA * REG_OPEN_ARM_Q)) {
        ticks = REG_LIFT_SLOW_TICKS;
    } else if (run_mean_q >= (REG_LIFT_FAINT_MEAN_UA * REG_OPEN_ARM_Q)) {
        ticks = REG_LIFT_FAINT_TICKS;
    } else {
        /* the current may have been within the noise: no run tells a lift */
    }
    return ticks;
}

/* Returns 1 when a run of readings at the open-circuit noise is a lift
 * (SRS-025, PR-026): longer than its tier allows for the current it began
 * from, while the held drive is more than re-contact onto the lowest
 * regulated load may meet (regulator_config.h). Called after arm_mean_q
 * took the reading. */
static int32_t unseen_lift(reg_state_t *reg, int32_t i_ua)
{
    int32_t lift = 0;
    if (i_ua > REG_OPEN_NOISE_UA) {
        reg->unseen_run = 0;
        reg->run_mean_q = reg->arm_mean_q;
    } else {
        /* |setpoint| <= 30 000 uA, drive <= 60 000 mV: the products fit int64 */
        int64_t drive_x1000 = (int64_t)reg->last_drive_mv * 1000LL;
        int64_t safe_x1000 = (int64_t)REG_LIFT_SERIES_OHMS * ((int64_t)reg->setpoint_ua + (int64_t)REG_LIFT_BAND_UA);
        reg->unseen_run = count_up(reg->unseen_run, REG_LIFT_FAINT_TICKS);
        if ((reg->unseen_run >= lift_run_ticks(reg->run_mean_q)) && (drive_x1000 > safe_x1000)) {
            lift = 1;
        }
    }
    return lift;
}

/* Returns 1 when the load looks open (SRS-010): at once beyond the noise
 * bound, otherwise after REG_OPEN_TICKS readings in a row. */
static int32_t looks_open(reg_state_t *reg, int32_t i_ua, int32_t v_mv)
{
    int64_t v_x1000 = (int64_t)v_mv * 1000LL;
    int64_t i_noisy_ua = (int64_t)i_ua + (int64_t)REG_OPEN_NOISE_UA;
    if ((v_mv >= REG_OPEN_MIN_MV) && (v_x1000 > ((int64_t)REG_OPEN_OHMS * (int64_t)i_ua))) {
        reg->open_count = count_up(reg->open_count, REG_OPEN_TICKS);
        if (v_x1000 > ((int64_t)REG_OPEN_OHMS * i_noisy_ua)) {
            reg->open_count = REG_OPEN_TICKS;
        }
    } else {
        reg->open_count = 0;
    }
    if ((reg->open_armed != 0) && (reg->setpoint_ua >= REG_OPEN_LOST_MIN_UA) &&
        ((i_ua * REG_OPEN_LOST_DIV) < reg->setpoint_ua)) {
        reg->open_count = REG_OPEN_TICKS;
    }
    /* SRS-025: the current collapsed to the open-circuit noise after it was
     * clearly flowing: armed by a reading >= REG_OPEN_ARM_UA or a filtered
     * mean >= REG_OPEN_ARM_MEAN_UA since the last restart (a current held at
     * 0.12..0.17 mA reads 160 uA only with favourable noise), disarmed while
     * the setpoint is below REG_OPEN_FIRE_MIN_UA; the collapse is judged
     * before the arming, so a mean not yet pulled down never hides it.
     * |i_ua| <= 50 000 (range-checked): the filter stays within 16 x that */
    reg->arm_mean_q += ((i_ua * REG_OPEN_ARM_Q) - reg->arm_mean_q) / REG_OPEN_ARM_FILTER_DIV;
    if (reg->setpoint_ua < REG_OPEN_FIRE_MIN_UA) {
        reg->open_armed = 0;
    } else if ((reg->open_armed != 0) && (i_ua < REG_OPEN_NOISE_UA) &&
               (((int64_t)reg->last_drive_mv * 1000LL) >= ((int64_t)REG_SHORT_OHMS * (int64_t)reg->setpoint_ua))) {
        /* the last drive is what a load above the short threshold needs: at a
         * short the loop jitters by 10 uA per mV and the short check decides */
        reg->open_count = REG_OPEN_TICKS;
    } else if ((i_ua >= REG_OPEN_ARM_UA) || (reg->arm_mean_q >= (REG_OPEN_ARM_MEAN_UA * REG_OPEN_ARM_Q))) {
        reg->open_armed = 1;
    } else {
        /* armed and flowing, or not yet armed */
    }
    if (unseen_lift(reg, i_ua) != 0) {
        reg->open_count = REG_OPEN_TICKS;
    }
    return (reg->open_count >= REG_OPEN_TICKS) ? 1 : 0;
}

/* Returns 1 when the load has looked like a short for REG_SHORT_TICKS
 * (SRS-012): the count runs on the reading i_ua, and the fault also needs
 * REG_SHORT_SETTLED_TICKS readings in a row of settled_ua, the current of
 * the settled pulse (at least the peak / REG_SHORT_SETTLED_DIV), that put
 * V/I below the bound (SRS-311). In DC
 * settled_ua is i_ua, whose count then is at least the short's: nothing
 * changes. Pulsed (PR-069): the peak of a pulse into a skin capacitance
 * discharged in the off-phase meets only the series resistance (150 ohm at
 * 500 ohm, 210 at 700), and 15 mA sessions at 500..1000 ohm ended as SHORT;
 * a metal contact has no capacitance, its settled current is its peak, and
 * it is latched at the same tick as on the peak alone (regulator_config.h). */
static int32_t looks_short(reg_state_t *reg, int32_t i_ua, int32_t settled_ua, int32_t v_mv)
{
    int64_t v_x1000 = (int64_t)v_mv * 1000LL;
    int32_t shorted = 0;
    int32_t settled_low = 0;
    int32_t settled_held;
    if ((i_ua >= REG_SHORT_MIN_UA) && (v_x1000 < ((int64_t)REG_SHORT_OHMS * (int64_t)i_ua))) {
        shorted = 1;
    }
    /* the spike is credited up to REG_SHORT_SETTLED_DIV x the peak's V/I */
    if (v_x1000 < ((int64_t)REG_SHORT_OHMS * (int64_t)max_i32(settled_ua, i_ua / REG_SHORT_SETTLED_DIV))) {
        settled_low = 1;
    }
    settled_held = debounce(&reg->settled_short_count, settled_low, REG_SHORT_SETTLED_TICKS);
    return ((debounce(&reg->short_count, shorted, REG_SHORT_TICKS) != 0) && (settled_held != 0)) ? 1 : 0;
}

/* The enabled output, no fault latched. */
static void control(reg_state_t *reg, int32_t imax, int32_t settled_ua, int32_t v_mv, reg_output_t *out)
{
    if (reg->holdoff_count > 0) {
        reg->holdoff_count--;
        out->flags |= REG_FLAG_HOLDOFF;
    } else if (looks_short(reg, imax, settled_ua, v_mv) != 0) {
        latch_fault(reg, REG_FAULT_SHORT);
    } else if (reg->contact_lost != 0) {
        sense_contact(reg, v_mv, out);
    } else if (reg->probing != 0) {
        probe_contact(reg, v_mv, out);
    } else if (looks_open(reg, imax, v_mv) != 0) {
        reg->contact_lost = 1;
        restart_from_zero(reg);
        drive_sense(out);
    } else {
        /* above setpoint + max(band percent, floor): both exceeded */
        int32_t above = imax - reg->setpoint_ua;
        if ((above > REG_ANTISHOCK_FLOOR_UA) && ((above * 100) > (reg->setpoint_ua * REG_ANTISHOCK_BAND_PERCENT))) {
            /* V/I of the cut reading (> 0.5 mA): the load it met, low when
             * the load fell, so the low bound when in doubt (SRS-025) */
            int64_t v_x1000 = (int64_t)v_mv * 1000LL;
            out->flags |= REG_FLAG_ANTISHOCK_CUT;
            restart_from_zero(reg);
            if (v_x1000 >= ((int64_t)REG_BLIND_BOOT_HIGH_OHMS * (int64_t)imax)) {
                reg->boot_mv = REG_BLIND_RISE_BOOT_MV;
            }
            reg->holdoff_count = REG_ANTISHOCK_HOLDOFF_TICKS;
            if (record_cut(reg) != 0) {
                latch_fault(reg, REG_FAULT_TRANSIENTS);
            }
        } else {
            /* SRS-025: before any evidence, while the blind-rise bound holds
             * the drive back, the reference waits: it cannot run ahead of a
             * current that never shows (a lift before the first reading, a
             * channel reading 0), and a ramp whose current never becomes
             * plausible ends by the supervisor's ramp-overrun bound. It
             * never waits to FALL (PR-061): a target below the reference
             * (ramp-down, a lowered target) always slews it down */
            if ((reg->evidence != 0) || (reg->blind_held == 0) || (reg->target_ua < reg->reference_ua)) {
                slew_reference(reg);
            }
            update_setpoint(reg, imax);
            out->drive_mv = regulate(reg, imax, v_mv);
            out->stage_on = 1;
        }
    }
}

/* Voltage reading against the drive of the last tick (SRS-023): with the
 * stage driving the electrodes directly they carry the drive, so a reading
 * well below it means a failed voltage channel. */
static void check_voltage(reg_state_t *reg, int32_t v_mv)
{
    int32_t low = 0;
    if (reg->last_plain != 0) {
        /* a drive of 0..compliance by construction (never clamped here):
         * stated so that Eva proves the percentage does not overflow */
        int32_t last_mv = min_i32(max_i32(reg->last_drive_mv, 0), REG_COMPLIANCE_MV);
        int32_t tol_mv = max_i32(REG_PLAUSIBLE_ABS_MV, (last_mv * REG_PLAUSIBLE_PERCENT) / 100);
        if (v_mv < (last_mv - tol_mv)) {
            low = 1;
        }
    }
    if (debounce(&reg->plausible_count, low, REG_PLAUSIBLE_TICKS) != 0) {
        latch_fault(reg, REG_FAULT_VOLTAGE_IMPLAUSIBLE);
    }
}

/* One channel: 1 when its reading above the open-circuit noise bound has
 * not changed for REG_FROZEN_TICKS ticks in a row while the stage drove the
 * electrodes directly (SRS-026). A working channel with >= 1 LSB rms of
 * noise repeats its reading with p <~ 0.3 per tick: 0.3^19 ~ 1e-10. Readings
 * at or below the noise bound are not judged: an open circuit clamps them
 * at 0 most of the time. */
static int32_t channel_frozen(int32_t *last_ua, int32_t *count, int32_t now_ua, int32_t plain)
{
    int32_t same = 0;
    if ((plain != 0) && (now_ua > REG_OPEN_NOISE_UA) && (now_ua == *last_ua)) {
        same = 1;
    }
    *last_ua = now_ua;
    return debounce(count, same, REG_FROZEN_TICKS);
}

/* One channel: 1 when the filtered mean of its tick-to-tick changes falls
 * below REG_QUIET_MIN_UA while the stage drives directly and the readings
 * are above the open-circuit noise bound (SRS-130): a channel with less
 * noise than the >= 1 LSB rms a live ADC must have (hardware duty RC-27)
 * does not follow the current. A stuck value with a few uA of jitter
 * passes the frozen check (issue 8 point 2, review of main: both channels
 * at 14.9 mA +- a few uA, 15 mA set on 1.7 kOhm, drove the true current to
 * 35 mA). A change of the current only adds to the mean, so a live channel
 * is never quieter than its noise. Each change counts at most
 * REG_QUIET_STEP_CAP_UA (a load step cannot postpone the check), and the
 * mean restarts from that cap at every reading not judged. */
static int32_t channel_quiet(reg_quiet_t *q, int32_t now_ua, int32_t plain)
{
    int32_t quiet = 0;
    if ((plain != 0) && (now_ua > REG_OPEN_NOISE_UA) && (q->prev_ua > REG_OPEN_NOISE_UA)) {
        int32_t step_ua = now_ua - q->prev_ua;
        if (step_ua < 0) {
            step_ua = -step_ua;
        }
        step_ua = min_i32(step_ua, REG_QUIET_STEP_CAP_UA);
        /* |values| <= 50 x 64: no overflow; C99 division truncates toward 0 */
        q->mean_q += ((step_ua * REG_QUIET_Q) - q->mean_q) / REG_QUIET_FILTER_DIV;
        if (q->mean_q < (REG_QUIET_MIN_UA * REG_QUIET_Q)) {
            quiet = 1;
        }
    } else {
        q->mean_q = REG_QUIET_STEP_CAP_UA * REG_QUIET_Q;
    }
    q->prev_ua = (plain != 0) ? now_ua : 0;
    return quiet;
}

/* Both channels checked for a frozen reading (SRS-026): a channel that
 * does not answer the drive cannot regulate, and two channels that share an
 * ADC, reference or supply freeze together (issue 8 point 2). */
static void check_frozen(reg_state_t *reg, int32_t a, int32_t b)
{
    int32_t fa = channel_frozen(&reg->last_a_ua, &reg->frozen_a_count, a, reg->last_plain);
    int32_t fb = channel_frozen(&reg->last_b_ua, &reg->frozen_b_count, b, reg->last_plain);
    int32_t qa = channel_quiet(&reg->quiet_a, a, reg->last_plain);
    int32_t qb = channel_quiet(&reg->quiet_b, b, reg->last_plain);
    if ((fa != 0) || (fb != 0) || (qa != 0) || (qb != 0)) {
        latch_fault(reg, REG_FAULT_SENSOR_FROZEN);
    }
}

/* Pulsed drive only (SRS-259): after a plain drive the off-phase reading
 * must be at the noise; above REG_PULSE_STUCK_UA for REG_PULSE_STUCK_TICKS
 * readings the stage is stuck on (PULSE_STAGE). Out of the ADC range it is
 * implausible (SENSOR_RANGE, SRS-014). */
static void check_pulse_stage(reg_state_t *reg, int32_t off_ua)
{
    if ((off_ua < REG_ADC_CURRENT_MIN_UA) || (off_ua > REG_ADC_CURRENT_MAX_UA)) {
        reg->last_max_ua = REG_ADC_CURRENT_MAX_UA + 1;   /* unknown current counts as flowing (SRS-014) */
        latch_fault(reg, REG_FAULT_SENSOR_RANGE);
    } else {
        int32_t flowing = 0;
        if ((reg->last_plain != 0) && (off_ua > REG_PULSE_STUCK_UA)) {
            flowing = 1;
        }
        if (debounce(&reg->stuck_count, flowing, REG_PULSE_STUCK_TICKS) != 0) {
            latch_fault(reg, REG_FAULT_PULSE_STAGE);
        }
    }
}

/* 1 when the settled pair cannot be right (SRS-312): the two channels
 * apart beyond SRS-013's tolerance; their larger one above the peak by that
 * tolerance (the on-phase's end is part of the pulse whose peak is held);
 * or, while the peak puts V/I below REG_SHORT_OHMS with at least
 * REG_SHORT_MIN_UA (the settled pair decides the short), below V /
 * REG_SETTLED_MAX_OHMS: at the on-phase's end a series R + skin RC load
 * carries at least V / (its DC resistance), and a load above
 * REG_SETTLED_MAX_OHMS is open (SRS-010). A pair lost, mistimed into the
 * off-phase or never filled (PR-075) reads the noise and is caught here. */
static int32_t settled_implausible(int32_t peak_ua, int32_t v_mv, int32_t a_ua, int32_t b_ua)
{
    int32_t hi_ua = max_i32(a_ua, b_ua);
    int32_t apart_ua = hi_ua - min_i32(a_ua, b_ua);
    int32_t above_ua = hi_ua - peak_ua;
    int64_t v_x1000 = (int64_t)v_mv * 1000LL;
    int32_t bad = 0;
    /* 0 <= readings <= 50 000 (range-checked): x 100 fits int32 */
    if ((apart_ua > REG_DISAGREE_ABS_UA) && ((apart_ua * 100) > (hi_ua * REG_DISAGREE_PERCENT))) {
        bad = 1;
    }
    if ((above_ua > REG_DISAGREE_ABS_UA) && ((above_ua * 100) > (peak_ua * REG_DISAGREE_PERCENT))) {
        bad = 1;
    }
    if ((peak_ua >= REG_SHORT_MIN_UA) && (v_x1000 < ((int64_t)REG_SHORT_OHMS * (int64_t)peak_ua)) &&
        (v_x1000 > ((int64_t)REG_SETTLED_MAX_OHMS * (int64_t)hi_ua))) {
        bad = 1;
    }
    return bad;
}

/* Pulsed drive only (SRS-012, PR-069): the larger of the two channels at
 * the end of the last on-phase, the current of the settled pulse (a channel
 * failing low cannot hide a short, one failing high only ends the session).
 * Out of the ADC range it is implausible (SENSOR_RANGE, SRS-014); a pair
 * that cannot be right for REG_SETTLED_BAD_TICKS readings latches
 * SENSOR_DISAGREE (SRS-312). */
static int32_t settled_current(reg_state_t *reg, int32_t peak_ua, int32_t v_mv, int32_t a_ua, int32_t b_ua)
{
    int32_t settled_ua = 0;
    if ((a_ua < REG_ADC_CURRENT_MIN_UA) || (a_ua > REG_ADC_CURRENT_MAX_UA) ||
        (b_ua < REG_ADC_CURRENT_MIN_UA) || (b_ua > REG_ADC_CURRENT_MAX_UA)) {
        reg->last_max_ua = REG_ADC_CURRENT_MAX_UA + 1;   /* unknown current counts as flowing (SRS-014) */
        latch_fault(reg, REG_FAULT_SENSOR_RANGE);
    } else {
        settled_ua = max_i32(a_ua, b_ua);
        if (debounce(&reg->settled_bad_count, settled_implausible(peak_ua, v_mv, a_ua, b_ua),
                     REG_SETTLED_BAD_TICKS) != 0) {
            latch_fault(reg, REG_FAULT_SENSOR_DISAGREE);
        }
    }
    return settled_ua;
}

/* 1 while the output may drive: enabled by command, the checklist arm held
 * and no fault latched. Re-evaluated after each check of the tick, as any
 * check may latch a fault. The arm word is read every tick, not only at
 * reg_enable, so that a corrupted enable word alone never drives (SRS-307). */
static int32_t output_allowed(const reg_state_t *reg)
{
    int32_t allowed = 0;
    if ((reg->enabled != 0) && (reg->armed == REG_ARMED_PATTERN)) {
        /* latch_fault() clears enabled, so "enabled with a fault" never occurs:
         * the fault test is defence in depth (tools/cverify/coverage-exceptions.md) */
        if (reg->fault == REG_FAULT_NONE) { /* GCOVR_EXCL_BR_LINE */
            allowed = 1;
        }
    }
    return allowed;
}

int32_t reg_tick(reg_state_t *reg, const reg_inputs_t *in, reg_output_t *out)
{
    int32_t status = REG_OK;
    if ((reg == NULL) || (in == NULL) || (out == NULL)) {
        status = REG_ERR_NULL;
    } else {
        int32_t a = in->current_a_ua;
        int32_t b = in->current_b_ua;
        int32_t v = in->voltage_mv;
        int32_t measured = 0;
        reg->tick = (reg->tick < INT64_MAX) ? (reg->tick + 1) : INT64_MAX; /* saturates (Eva) */
        out->drive_mv = 0;
        out->stage_on = 0;
        out->sense = 0;
        out->flags = 0u;
        if ((a < REG_ADC_CURRENT_MIN_UA) || (a > REG_ADC_CURRENT_MAX_UA) ||
            (b < REG_ADC_CURRENT_MIN_UA) || (b > REG_ADC_CURRENT_MAX_UA) ||
            (v < REG_ADC_VOLTAGE_MIN_MV) || (v > REG_ADC_VOLTAGE_MAX_MV)) {
            /* implausible: unknown current counts as flowing (SRS-014) */
            reg->last_max_ua = REG_ADC_CURRENT_MAX_UA + 1;
            latch_fault(reg, REG_FAULT_SENSOR_RANGE);
        } else {
            int32_t imax = max_i32(a, b);
            int32_t imin = min_i32(a, b);
            int32_t settled = imax;   /* DC: the short is judged on the one reading */
            measured = imax;
            reg->last_max_ua = imax;
            check_sensors(reg, imax, imin, v);
            /* the window is time since the kick (SRS-015), counted on every
             * tick: one whose arm or enable word is upset has its output off
             * but still counts, or a restored word would find the 50 ms
             * stretched. It latches only while enabled; reg_enable restarts it. */
            reg->watchdog_count = count_up(reg->watchdog_count, REG_WATCHDOG_TICKS);
            if ((reg->enabled != 0) && (reg->watchdog_count >= REG_WATCHDOG_TICKS)) {
                latch_fault(reg, REG_FAULT_WATCHDOG);
            }
            if (output_allowed(reg) != 0) {
                check_voltage(reg, v);
            }
            if (output_allowed(reg) != 0) {
                check_frozen(reg, a, b);
            }
            if ((output_allowed(reg) != 0) && (reg->pulse_hz != 0)) {
                check_pulse_stage(reg, in->off_current_ua);
            }
            if ((output_allowed(reg) != 0) && (reg->pulse_hz != 0)) {
                settled = settled_current(reg, imax, v, in->settled_a_ua, in->settled_b_ua);
            }
            if (output_allowed(reg) != 0) {
                control(reg, imax, settled, v, out);
            }
        }
        if (output_allowed(reg) == 0) {
            out->drive_mv = 0;
            out->stage_on = 0;
            out->sense = 0;
        }
        out->polarity = reg->polarity;
        out->pulse_hz = reg->pulse_hz;
        out->duty_percent = reg->duty_percent;
        out->fault = reg->fault;
        out->reference_ua = reg->reference_ua;
        out->setpoint_ua = reg->setpoint_ua;
        out->target_ua = reg->target_ua;
        out->measured_ua = measured;
        if (reg->target_ua > 0) {
            /* measured * 1000 / target, by the reciprocal set with the target */
            uint64_t permille = ((uint64_t)(uint32_t)measured * (uint64_t)reg->permille_recip) >> 16;
            out->flowing_permille = (permille > 1000u) ? 1000 : (int32_t)permille;
        } else {
            out->flowing_permille = 1000;
        }
        /* 0 <= load_q <= LOAD_Q_MAX (1 MOhm x 1.024): the ohms fit int32;
         * / 1024 of a value >= 0 is the exact floor (MISRA 10.8: signed only) */
        out->load_ohms = (int32_t)(((int64_t)reg->load_q * 1000LL) / Q_PER_MV);
        if (output_allowed(reg) != 0) { /* what drives: an enable word without the arm reads off */
            out->flags |= REG_FLAG_OUTPUT_ENABLED;
        }
        if (reg->contact_lost != 0) {
            out->flags |= REG_FLAG_CONTACT_LOST;
        }
        if (reg->compliance_limited != 0) {
            out->flags |= REG_FLAG_COMPLIANCE_LIMITED;
        }
        if (reg->fault != REG_FAULT_NONE) {
            out->flags |= REG_FLAG_FAULT;
        }
        if ((reg->enabled != 0) && (reg->contact_lost == 0) && (reg->holdoff_count == 0) &&
            (reg->reference_ua == reg->target_ua) && (reg->reference_frac_fa == 0)) {
            out->flags |= REG_FLAG_AT_TARGET;
        }
        reg->last_drive_mv = out->drive_mv;
        reg->last_plain = 0;
        if ((out->stage_on != 0) && (out->sense == 0)) {
            reg->last_plain = 1;
        }
    }
    return status;
}
