/*
 * libFuzzer harness of the regulation loop (issue 12 point 4). A developer
 * tool: never part of a device build.
 *
 * The input is a script of 8-byte records, each one API call with its
 * arguments (commands, enable, polarity, reset, contact search, kick) or a
 * run of 1..256 ticks with given readings. After every call the loop's
 * invariants are checked; a broken one aborts (a finding):
 *   I1  drive within 0..REG_COMPLIANCE_MV                      (SRS-006)
 *   I2  output off whenever a fault is latched                 (SRS-017)
 *   I3  output off while not enabled                           (SRS-019)
 *   I4  the reference moves by at most the slew per tick, except the
 *       restart to 0 after a cut, a lost contact or a fault    (SRS-003, SRS-007)
 *   I5  reference, setpoint and target never above the hard limit (SRS-005)
 *   I6  sense mode drives exactly the sense level, stage on    (SRS-010, SRS-029)
 *   I7  a plain drive rises by at most REG_DRIVE_RISE_MV_PER_TICK  (SRS-022)
 *   I8  a reading above the trip level latches a fault, output off the same tick (SRS-009)
 *   I9  an out-of-range reading latches a fault, output off the same tick (SRS-014)
 *   I10 the fault code, once latched, changes only through a reset (SRS-017)
 *   I11 every status is one of the documented codes
 *   I12 polarity is NORMAL or REVERSED and changes only with the output off
 *   I13 flowing fraction within 0..1000, load estimate >= 0   (SRS-027)
 *   I14 the transient count saturates: cut_stored <= REG_TRANSIENT_COUNT, cut_index in range (SRS-008)
 *   I15 sense/contact windows: sense_n below REG_CONTACT_WINDOW_TICKS
 *   I16 integrator within 0..compliance (anti-windup, SRS-004)
 *   I17 setpoint never above the reference (SRS-024)
 *   I18 the watchdog count never exceeds its limit (SRS-015)
 *   I19 the output is never on without a kick for REG_WATCHDOG_TICKS ticks (SRS-015)
 *   I20 the pulse train is DC or within its ranges and changes only with the output off (SRS-259)
 *   I21 the output is never enabled without a checklist arm; a latched fault,
 *       a refused arm and a disarm end the arm; only the all-clear answers arm (SRS-306, SRS-307)
 *   I22 no drive unless armed: a tick that starts without REG_ARMED_PATTERN in the
 *       arm word drives nothing, also after a one-word upset (SRS-307, PR-073 F5)
 *   I23 pulsed, a settled pair at 0 while the peak reads a short (>= REG_SHORT_MIN_UA, V/I below
 *       REG_SHORT_OHMS) on REG_SETTLED_BAD_TICKS ticks in a row with the output allowed
 *       latches a fault by the last of them: a dead pair never hides 125..250 ohm (SRS-312)
 * Each script starts armed with the all-clear checklist (a passed session);
 * an enable record with bit 7 of r[1] set arms again from arbitrary answers
 * or disarms instead. A reset record with bit 7 of r[1] set is a memory
 * upset instead: for one tick the enable word is forced to 1, or to 0 with
 * bit 5 (bit 6 of r[2]), or one bit (r[2] % 32) of the arm word is flipped,
 * then restored.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "regulator.h"
#include "arming.h"

#define CHECK(cond) do { if (!(cond)) { abort(); } } while (0)

static int32_t status_ok(int32_t s)
{
    return (s == REG_OK) || (s == REG_ERR_NULL) || (s == REG_ERR_RANGE) || (s == REG_ERR_POLARITY_REFUSED) ||
           (s == REG_ERR_RESET_REFUSED) || (s == REG_ERR_FAULT_LATCHED) || (s == REG_ERR_MODE_REFUSED) ||
           (s == REG_ERR_ARM_REFUSED) || (s == REG_ERR_NOT_ARMED);
}

static int32_t u16(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] | ((uint32_t)p[1] << 8));
}

/* a current reading: mostly in range, sometimes beyond the ADC or negative */
static int32_t reading(const uint8_t *p, int32_t full_scale)
{
    int32_t raw = u16(p);
    if (raw >= 65000) {
        return (raw == 65535) ? -1 - (raw & 7) : full_scale + 1 + (raw - 65000);
    }
    return (int32_t)(((int64_t)raw * full_scale) / 65000);
}

/* the all-clear checklist, or (clear == 0) one answer or count changed by the record's bytes */
static void checklist_of(const uint8_t *r, int32_t clear, reg_checklist_t *c)
{
    int32_t i;
    c->version = REG_ARM_CHECKLIST_VERSION;
    c->n_contraindications = REG_ARM_CONTRAINDICATIONS;
    c->n_preparation = REG_ARM_PREPARATION_STEPS;
    for (i = 0; i < REG_ARM_CONTRAINDICATIONS; i++) {
        c->contraindication[i] = REG_ANSWER_NO;
    }
    for (i = 0; i < REG_ARM_PREPARATION_STEPS; i++) {
        c->preparation[i] = REG_ANSWER_YES;
    }
    if (clear == 0) {
        int32_t which = (int32_t)(r[3] % 18u);
        int32_t value = u16(&r[4]) - 32768;
        if (which < REG_ARM_CONTRAINDICATIONS) {
            c->contraindication[which] = value;
        } else if (which < (REG_ARM_CONTRAINDICATIONS + REG_ARM_PREPARATION_STEPS)) {
            c->preparation[which - REG_ARM_CONTRAINDICATIONS] = value;
        } else if (which == 15) {
            c->n_contraindications = value;
        } else if (which == 16) {
            c->n_preparation = value;
        } else {
            c->version = value;
        }
    }
}

/* 1 when the answers are the all-clear ones */
static int32_t is_clear(const reg_checklist_t *c)
{
    reg_checklist_t clear;
    int32_t same = 1;
    int32_t i;
    checklist_of(NULL, 1, &clear);
    same = (c->version == clear.version) && (c->n_contraindications == clear.n_contraindications) &&
           (c->n_preparation == clear.n_preparation);
    for (i = 0; i < REG_ARM_CONTRAINDICATIONS; i++) {
        same = same && (c->contraindication[i] == REG_ANSWER_NO);
    }
    for (i = 0; i < REG_ARM_PREPARATION_STEPS; i++) {
        same = same && (c->preparation[i] == REG_ANSWER_YES);
    }
    return same;
}

static void check_state(const reg_state_t *reg)
{
    CHECK((reg->reference_ua >= 0) && (reg->reference_ua <= REG_HARD_LIMIT_UA));
    CHECK((reg->target_ua >= 0) && (reg->target_ua <= REG_HARD_LIMIT_UA));
    CHECK((reg->setpoint_ua >= 0) && (reg->setpoint_ua <= REG_HARD_LIMIT_UA));
    CHECK((reg->cut_stored >= 0) && (reg->cut_stored <= REG_TRANSIENT_COUNT));
    CHECK((reg->cut_index >= 0) && (reg->cut_index < REG_TRANSIENT_COUNT));
    CHECK((reg->sense_n >= 0) && (reg->sense_n < REG_CONTACT_WINDOW_TICKS));
    CHECK((reg->integ_q2 >= 0) && (reg->integ_q2 <= (int64_t)REG_COMPLIANCE_MV * 1048576LL));
    CHECK((reg->watchdog_count >= 0) && (reg->watchdog_count <= REG_WATCHDOG_TICKS));
    CHECK((reg->polarity == REG_POLARITY_NORMAL) || (reg->polarity == REG_POLARITY_REVERSED));
    CHECK((reg->fault >= REG_FAULT_NONE) && (reg->fault <= REG_FAULT_PULSE_STAGE));
    CHECK(((reg->pulse_hz == 0) && (reg->duty_percent == 0)) ||
          ((reg->pulse_hz >= REG_PULSE_MIN_HZ) && (reg->pulse_hz <= REG_PULSE_MAX_HZ) &&
           (reg->duty_percent >= REG_PULSE_DUTY_MIN_PERCENT) && (reg->duty_percent <= REG_PULSE_DUTY_MAX_PERCENT)));
    CHECK((reg->enabled == 0) || (reg->enabled == 1));
    CHECK((reg->enabled == 0) || (reg->armed == REG_ARMED_PATTERN));                   /* I21 */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reg_state_t reg;
    reg_inputs_t in;
    reg_output_t out;
    size_t pos;
    int32_t ticks_since_kick = 0;
    int32_t dead_run = 0;        /* I23: ticks in a row with a dead settled pair on a short peak */
    CHECK(reg_init(&reg) == REG_OK);
    CHECK(reg_init(NULL) == REG_ERR_NULL);
    CHECK(reg.armed == 0u);
    CHECK(reg_enable(&reg, 1) == REG_ERR_NOT_ARMED);                                   /* I21 */
    {
        reg_checklist_t clear;
        checklist_of(NULL, 1, &clear);
        CHECK(reg_arm(&reg, &clear) == REG_OK);
        CHECK(reg_arm(NULL, &clear) == REG_ERR_NULL);
        CHECK(reg_arm(&reg, NULL) == REG_ERR_NULL);
        CHECK(reg_disarm(NULL) == REG_ERR_NULL);
    }
    memset(&in, 0, sizeof in);
    memset(&out, 0, sizeof out);
    for (pos = 0; (pos + 8u) <= size; pos += 8u) {
        const uint8_t *r = &data[pos];
        int32_t st = REG_OK;
        int32_t fault_before = reg.fault;
        int32_t polarity_before = reg.polarity;
        int32_t enabled_before = reg.enabled;
        int32_t pulse_before = reg.pulse_hz;
        int32_t duty_before = reg.duty_percent;
        switch (r[0] % 9u) {
        case 0: /* command: target over the range and beyond, slew over its range */
            st = reg_command(&reg, u16(&r[1]) - 2000, (int32_t)(((uint32_t)u16(&r[3]) * 100u) + r[5]));
            break;
        case 1:
            if ((r[1] & 0x80u) == 0u) {
                int32_t armed_before = (reg.armed == REG_ARMED_PATTERN) ? 1 : 0;
                int32_t on = (int32_t)(r[1] % 3u);
                st = reg_enable(&reg, on);
                if ((enabled_before == 0) && (reg.enabled != 0)) {
                    ticks_since_kick = 0;      /* off -> on restarts the window; on -> on is no kick */
                }
                if ((on == 1) && (fault_before == REG_FAULT_NONE) && (armed_before == 0)) {   /* I21 */
                    CHECK((st == REG_ERR_NOT_ARMED) && (reg.enabled == 0));
                }
            } else if ((r[1] & 0x40u) != 0u) {
                st = reg_disarm(&reg);
                CHECK((st == REG_OK) && (reg.armed == 0u) && (reg.enabled == 0));            /* I21 */
            } else {
                reg_checklist_t answers;
                checklist_of(r, (int32_t)(r[2] & 1u), &answers);
                st = reg_arm(&reg, &answers);
                if (is_clear(&answers) != 0) {                                               /* I21 */
                    CHECK((st == REG_OK) && (reg.armed == REG_ARMED_PATTERN));
                } else {
                    CHECK((st != REG_OK) && (reg.armed == 0u) && (reg.enabled == 0));
                }
            }
            break;
        case 2:
            st = reg_set_polarity(&reg, (r[1] & 1u) ? REG_POLARITY_REVERSED : ((r[1] & 2u) ? REG_POLARITY_NORMAL : 0));
            break;
        case 3:
            if ((r[1] & 0x80u) == 0u) {
                st = reg_reset_fault(&reg);
            } else { /* one tick with an upset word (I22) */
                uint32_t armed_saved = reg.armed;
                int32_t enabled_saved = reg.enabled;
                int32_t a = reading(&r[3], REG_ADC_CURRENT_MAX_UA);
                if ((r[2] & 0x40u) != 0u) {
                    reg.enabled = ((r[2] & 0x20u) != 0u) ? 0 : 1;
                } else {
                    reg.armed ^= 1u << (r[2] % 32u);
                }
                in.current_a_ua = a;
                in.current_b_ua = a;
                in.voltage_mv = reading(&r[5], REG_ADC_VOLTAGE_MAX_MV);
                in.off_current_ua = 0;
                dead_run = 0;    /* I23: the C judged (or skipped) this tick's pair: the run restarts */
                st = reg_tick(&reg, &in, &out);
                ticks_since_kick++;
                CHECK(st == REG_OK);
                if (ticks_since_kick > REG_WATCHDOG_TICKS) {                                   /* I19 */
                    CHECK(out.stage_on == 0);
                }
                if (reg.armed != REG_ARMED_PATTERN) {                                          /* I22 */
                    CHECK((out.drive_mv == 0) && (out.stage_on == 0) && (out.sense == 0) &&
                          ((out.flags & REG_FLAG_OUTPUT_ENABLED) == 0u));
                }
                if (reg.fault == fault_before) { /* a fault latched in the tick ended the arm: keep that */
                    reg.armed = armed_saved;
                    reg.enabled = enabled_saved;
                }
            }
            break;
        case 4: /* contact search, or with bit 7 of r[1] a pulse train over its range and beyond (SRS-259) */
            if ((r[1] & 0x80u) != 0u) {
                st = reg_set_pulse(&reg, u16(&r[2]) % 12001, (int32_t)(r[4] % 101u));
            } else {
                st = reg_search_contact(&reg);
            }
            break;
        case 5:
            st = reg_kick(&reg);
            ticks_since_kick = 0;
            break;
        default: { /* 1..256 ticks with these readings, +- a little noise */
            int32_t n = (int32_t)r[1] + 1;
            int32_t k;
            int32_t a = reading(&r[2], REG_ADC_CURRENT_MAX_UA);
            int32_t b = ((r[0] & 0x80u) != 0u) ? a : reading(&r[4], REG_ADC_CURRENT_MAX_UA);
            int32_t v = reading(&r[6], REG_ADC_VOLTAGE_MAX_MV);
            int32_t kick = ((r[0] & 0x40u) != 0u) ? 1 : 0;
            for (k = 0; k < n; k++) {
                int32_t ref_before = reg.reference_ua;
                int32_t frac_before = reg.reference_frac_fa;
                int32_t slew_fa = reg.slew_fa_per_tick;
                int32_t last_drive = reg.last_drive_mv;
                int32_t last_plain = reg.last_plain;
                int32_t f0 = reg.fault;
                int32_t armed_at_tick = (reg.armed == REG_ARMED_PATTERN) ? 1 : 0;
                int32_t noise = (k * 7) % 3 - 1;
                int64_t before_fa;
                int64_t after_fa;
                in.current_a_ua = (a >= 0) ? a + noise : a;
                in.current_b_ua = b;
                in.voltage_mv = v;
                in.off_current_ua = ((r[0] & 0x20u) != 0u) ? a : 0;   /* a stage stuck on, or gating */
                /* the settled pulse: the peak (a metal contact) or a third of it (a skin capacitance,
                 * PR-069), or a dead pair at 0 (its sampling lost, PR-075) */
                in.settled_a_ua = ((r[1] & 0x01u) != 0u) ? in.current_a_ua : (in.current_a_ua / 3);
                in.settled_b_ua = ((r[1] & 0x01u) != 0u) ? b : (b / 3);
                if ((r[1] & 0x02u) != 0u) {
                    in.settled_a_ua = 0;
                    in.settled_b_ua = 0;
                }
                if (kick != 0) {
                    (void)reg_kick(&reg);
                    ticks_since_kick = 0;
                }
                {   /* I23: counted on the inputs and the state before the tick */
                    int32_t peak = (in.current_a_ua > in.current_b_ua) ? in.current_a_ua : in.current_b_ua;
                    if ((reg.enabled != 0) && (reg.armed == REG_ARMED_PATTERN) && (reg.fault == REG_FAULT_NONE) &&
                        (reg.pulse_hz != 0) &&
                        (in.settled_a_ua == 0) && (in.settled_b_ua == 0) && (v > 0) &&
                        (peak >= REG_SHORT_MIN_UA) &&
                        (((int64_t)v * 1000LL) < ((int64_t)REG_SHORT_OHMS * (int64_t)peak))) {
                        dead_run++;
                    } else {
                        dead_run = 0;
                    }
                }
                st = reg_tick(&reg, &in, &out);
                ticks_since_kick++;
                CHECK(st == REG_OK);
                if (dead_run >= REG_SETTLED_BAD_TICKS) {                                        /* I23 */
                    CHECK(out.fault != REG_FAULT_NONE);
                    dead_run = 0;
                }
                CHECK((out.drive_mv >= 0) && (out.drive_mv <= REG_COMPLIANCE_MV));           /* I1 */
                if (out.fault != REG_FAULT_NONE) {                                              /* I2 */
                    CHECK((out.drive_mv == 0) && (out.stage_on == 0) && (out.sense == 0));
                }
                if (reg.enabled == 0) {                                                         /* I3 */
                    CHECK((out.stage_on == 0) && (out.drive_mv == 0));
                }
                if (armed_at_tick == 0) {                                                       /* I22 */
                    CHECK((out.stage_on == 0) && (out.drive_mv == 0) && (out.sense == 0));
                }
                before_fa = ((int64_t)ref_before * 1000000000LL) + frac_before;                 /* I4 */
                after_fa = ((int64_t)out.reference_ua * 1000000000LL) + reg.reference_frac_fa;
                if (after_fa != 0) {
                    CHECK((after_fa - before_fa) <= slew_fa);
                    CHECK((before_fa - after_fa) <= slew_fa);
                }
                CHECK((out.reference_ua <= REG_HARD_LIMIT_UA) && (out.setpoint_ua <= REG_HARD_LIMIT_UA) &&
                      (out.target_ua <= REG_HARD_LIMIT_UA));                                    /* I5 */
                if (out.sense != 0) {                                                           /* I6 */
                    CHECK((out.drive_mv == REG_SENSE_MV) && (out.stage_on == 1));
                }
                if ((out.stage_on != 0) && (out.sense == 0) && (last_plain != 0)) {             /* I7 */
                    CHECK(out.drive_mv <= (last_drive + REG_DRIVE_RISE_MV_PER_TICK));
                }
                if ((in.current_a_ua > REG_TRIP_UA) || (in.current_b_ua > REG_TRIP_UA) ||      /* I8, I9 */
                    (in.current_a_ua < 0) || (in.current_b_ua < 0) || (v < 0) ||
                    (in.current_a_ua > REG_ADC_CURRENT_MAX_UA) || (v > REG_ADC_VOLTAGE_MAX_MV)) {
                    CHECK((out.fault != REG_FAULT_NONE) && (out.stage_on == 0) && (out.drive_mv == 0));
                }
                if (f0 != REG_FAULT_NONE) {                                                     /* I10 */
                    CHECK(out.fault == f0);
                } else if (out.fault != REG_FAULT_NONE) {                                       /* I21 */
                    CHECK(reg.armed == 0u);                     /* the fault that latched ended the arm */
                }
                CHECK((out.flowing_permille >= 0) && (out.flowing_permille <= 1000));          /* I13 */
                CHECK(out.load_ohms >= 0);
                if (ticks_since_kick > REG_WATCHDOG_TICKS) {                                   /* I19 */
                    CHECK(out.stage_on == 0);
                }
                CHECK(out.setpoint_ua <= out.reference_ua);                                     /* I17 */
                check_state(&reg);                                                              /* I14-I16, I18 */
            }
            break;
        }
        }
        CHECK(status_ok(st));                                                                   /* I11 */
        if (reg.polarity != polarity_before) {                                                  /* I12 */
            CHECK((enabled_before == 0) && (st == REG_OK));
        }
        if ((reg.pulse_hz != pulse_before) || (reg.duty_percent != duty_before)) {              /* I20 */
            CHECK((enabled_before == 0) && (st == REG_OK));
        }
        if ((fault_before != REG_FAULT_NONE) && (reg.fault != fault_before)) {                  /* I10 */
            CHECK((r[0] % 9u) == 3u);
        }
        check_state(&reg);
    }
    /* NULL arguments are refused, never dereferenced */
    CHECK(reg_tick(NULL, &in, &out) == REG_ERR_NULL);
    CHECK(reg_tick(&reg, NULL, &out) == REG_ERR_NULL);
    CHECK(reg_tick(&reg, &in, NULL) == REG_ERR_NULL);
    return 0;
}
