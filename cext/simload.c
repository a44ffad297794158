/*
 * Simulated patient load, sensors and output stage; batch stepper.
 * See simload.h. Physics in double (off-device code); each tick solves the
 * series-R + (R || C) circuit exactly for a constant drive over the tick, so
 * the mean and the peak current of the tick are exact, whatever the tick.
 */
#include <math.h>
#include "simload.h"

#define TICK_S (1.0 / (double)REG_TICK_HZ)

/* xorshift64* seeded through splitmix64: deterministic, seed 0 is fine */
static uint64_t splitmix64(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t next_random(sim_rig_t *rig)
{
    uint64_t x = rig->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rig->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* three zero-mean noise values of unit rms from one 64-bit draw: each is
 * the sum of two 10-bit uniforms (triangular), bounded at +-2.45 rms, so
 * the noise can never fake a trip */
static void unit_noise3(sim_rig_t *rig, double *n0, double *n1, double *n2)
{
    const double scale = 2.449489742783178 / 1024.0; /* rms of the sum: sqrt(1/6) */
    uint64_t r = next_random(rig);
    uint64_t a0 = r & 0x3FFULL;
    uint64_t a1 = (r >> 10) & 0x3FFULL;
    uint64_t b0 = (r >> 20) & 0x3FFULL;
    uint64_t b1 = (r >> 30) & 0x3FFULL;
    uint64_t c0 = (r >> 40) & 0x3FFULL;
    uint64_t c1 = (r >> 50) & 0x3FFULL;
    *n0 = ((double)a0 + (double)a1 - 1023.0) * scale;
    *n1 = ((double)b0 + (double)b1 - 1023.0) * scale;
    *n2 = ((double)c0 + (double)c1 - 1023.0) * scale;
}

/* value rounded to the ADC step, within 0..full scale (integer units) */
static int32_t quantise(double value, int32_t full_scale)
{
    const double counts_per_unit = (double)REG_ADC_COUNTS / (double)full_scale;
    double v = value;
    int32_t counts;
    if (v < 0.0) {
        v = 0.0;
    }
    if (v > (double)full_scale) {
        v = (double)full_scale;
    }
    counts = (int32_t)((v * counts_per_unit) + 0.5);
    return (counts * full_scale) / REG_ADC_COUNTS;
}

/* Nominal total load now. During a change the fraction is clamped to 1 and
 * the end value is the target itself (SRS-037): the parameters are updated
 * every SIM_PARAM_TICKS, so an unclamped fraction overshot the target (2 kOhm
 * -> 1 kOhm over 1 ms ended at 400 ohm; 100 ohm over 1 ms went negative). */
static double total_ohm_now(const sim_rig_t *rig)
{
    double t = rig->rs_ohm + rig->rsk_nom_ohm;
    if (rig->change_ticks > 0) {
        if (rig->change_done >= rig->change_ticks) {
            t = rig->change_to_ohm;
        } else {
            double f = (double)rig->change_done / (double)rig->change_ticks;
            t = rig->change_from_ohm + ((rig->change_to_ohm - rig->change_from_ohm) * f);
        }
    }
    return t;
}

static void set_total(sim_rig_t *rig, double total_ohm)
{
    rig->rs_ohm = total_ohm * ((double)SIM_SERIES_PERCENT / 100.0);
    rig->rsk_nom_ohm = total_ohm - rig->rs_ohm;
}

/* exp(-dt/tau) and the mean of the exponential over dt */
static void decay_over(double dt_s, double tau_s, double *e, double *m)
{
    double x = dt_s / tau_s;
    *e = exp(-x);
    *m = (x > 1e-9) ? ((1.0 - *e) / x) : 1.0;
}

/* the same over one tick */
static void decay(double tau_s, double *e, double *m)
{
    decay_over(TICK_S, tau_s, e, m);
}

/* recomputes the load parameters: load ramp, onset, tick coefficients */
static void update_params(sim_rig_t *rig)
{
    double m_unused;
    double onset = ((double)SIM_ONSET_EXCESS_PERCENT / 100.0) * exp(-((double)rig->onset_ticks * TICK_S) / (double)SIM_ONSET_TAU_S);
    double rs;
    double rsk;
    double rss;
    if (rig->change_ticks > 0) {
        set_total(rig, total_ohm_now(rig));
        if (rig->change_done >= rig->change_ticks) {
            rig->change_ticks = 0;
        }
    }
    rig->rsk_ohm = rig->rsk_nom_ohm * (1.0 + onset);
    rs = rig->rs_ohm;
    rsk = rig->rsk_ohm;
    rss = rs + (double)REG_SENSE_SERIES_OHMS;
    decay(rig->c_f * rs * rsk / (rs + rsk), &rig->k_drive_e, &rig->k_drive_m);
    decay(rig->c_f * rss * rsk / (rss + rsk), &rig->k_sense_e, &rig->k_sense_m);
    decay(rig->c_f * rsk, &rig->k_off_e, &m_unused);
    rig->g_drive_s = 1.0 / rs;
    rig->g_sense_s = 1.0 / rss;
    rig->div_drive = rsk / (rs + rsk);
    rig->div_sense = rsk / (rss + rsk);
    /* fast updates only while the load is being changed */
    if (rig->change_ticks > 0) {
        rig->param_count = SIM_PARAM_TICKS;
    } else {
        rig->param_count = SIM_PARAM_SLOW_TICKS;
    }
}

int32_t sim_init(sim_rig_t *rig, uint64_t seed, int32_t load_ohms, int32_t capacitance_nf)
{
    int32_t status = REG_OK;
    if (rig == NULL) {
        status = REG_ERR_NULL;
    } else if ((load_ohms < SIM_LOAD_MIN_OHMS) || (load_ohms > SIM_LOAD_MAX_OHMS) ||
               (capacitance_nf < SIM_CAPACITANCE_MIN_NF) || (capacitance_nf > SIM_CAPACITANCE_MAX_NF)) {
        status = REG_ERR_RANGE;
    } else if (reg_init(&rig->reg) != REG_OK) {
        status = REG_ERR_NULL; /* not reached: &rig->reg is never NULL (the status is checked all the same) */
    } else {
        rig->out.drive_mv = 0;
        rig->out.stage_on = 0;
        rig->out.sense = 0;
        rig->out.polarity = REG_POLARITY_NORMAL;
        rig->out.flags = 0u;
        rig->out.fault = REG_FAULT_NONE;
        rig->out.reference_ua = 0;
        rig->out.setpoint_ua = 0;
        rig->out.target_ua = 0;
        rig->out.measured_ua = 0;
        rig->out.flowing_permille = 1000;
        rig->out.load_ohms = 0;
        rig->rng = splitmix64(seed);
        if (rig->rng == 0u) {
            rig->rng = 1u;
        }
        set_total(rig, (double)load_ohms);
        rig->c_f = (double)capacitance_nf * 1e-9;
        rig->vc_v = 0.0;
        rig->onset_ticks = 0;
        rig->i_end_a = 0.0;
        rig->v_term_v = 0.0;
        rig->change_from_ohm = 0.0;
        rig->change_to_ohm = 0.0;
        rig->change_ticks = 0;
        rig->change_done = 0;
        rig->lifted = 0;
        rig->short_ohm = 0.0;
        rig->stuck[0] = 0;
        rig->stuck[1] = 0;
        rig->stuck_ua[0] = 0;
        rig->stuck_ua[1] = 0;
        rig->stuck_noise_ua[0] = 0;
        rig->stuck_noise_ua[1] = 0;
        rig->voltage_stuck = 0;
        rig->voltage_stuck_mv = 0;
        rig->stall_ticks = 0;
        rig->loop_frozen = 0;
        rig->disconnected = 0;
        rig->pulse_hz = 0;
        rig->pulse_on_units = 0;
        rig->pulse_phase = 0;
        rig->pulse_duty_percent = 0;
        rig->pulse_stuck = 0;
        rig->i_on_a = 0.0;
        rig->v_on_v = 0.0;
        rig->i_off_a = 0.0;
        rig->i_settled_a = 0.0;
        rig->settled_fault = SIM_SETTLED_OK;
        rig->settled_gain_permille = 1000;
        rig->settled_stale_a = 0.0;
        rig->v_off_v = 0.0;
        rig->skin_min_v = 0.0;
        rig->skin_max_v = 0.0;
        rig->tick_mean_a = 0.0;
        rig->tick_peak_a = 0.0;
        rig->tick_rs_ohm = 0.0;
        rig->tick_rsk_ohm = 0.0;
        update_params(rig);
    }
    return status;
}

int32_t sim_lift_off(sim_rig_t *rig)
{
    int32_t status = REG_ERR_NULL;
    if (rig != NULL) {
        rig->lifted = 1;
        status = REG_OK;
    }
    return status;
}

int32_t sim_contact(sim_rig_t *rig)
{
    int32_t status = REG_ERR_NULL;
    if (rig != NULL) {
        rig->lifted = 0;
        status = REG_OK;
    }
    return status;
}

int32_t sim_short(sim_rig_t *rig, int32_t ohms)
{
    int32_t status = REG_OK;
    if (rig == NULL) {
        status = REG_ERR_NULL;
    } else if ((ohms < SIM_SHORT_MIN_OHMS) || (ohms > SIM_SHORT_MAX_OHMS)) {
        status = REG_ERR_RANGE;
    } else {
        rig->short_ohm = (double)ohms;
    }
    return status;
}

int32_t sim_clear_short(sim_rig_t *rig)
{
    int32_t status = REG_ERR_NULL;
    if (rig != NULL) {
        rig->short_ohm = 0.0;
        status = REG_OK;
    }
    return status;
}

int32_t sim_change_load(sim_rig_t *rig, int32_t ohms, int32_t over_ms)
{
    int32_t status = REG_OK;
    if (rig == NULL) {
        status = REG_ERR_NULL;
    } else if ((ohms < SIM_LOAD_MIN_OHMS) || (ohms > SIM_LOAD_MAX_OHMS) ||
               (over_ms < 0) || (over_ms > SIM_CHANGE_MAX_MS)) {
        status = REG_ERR_RANGE;
    } else {
        rig->change_from_ohm = total_ohm_now(rig);
        rig->change_to_ohm = (double)ohms;
        rig->change_ticks = over_ms * REG_TICKS_PER_MS;
        rig->change_done = 0;
        if (rig->change_ticks == 0) {
            set_total(rig, (double)ohms);
        }
        update_params(rig);
    }
    return status;
}

int32_t sim_stick_sensor(sim_rig_t *rig, int32_t channel, int32_t current_ua)
{
    int32_t status = REG_OK;
    if (rig == NULL) {
        status = REG_ERR_NULL;
    } else if ((channel < 0) || (channel > 1) ||
               (current_ua < REG_ADC_CURRENT_MIN_UA) || (current_ua > REG_ADC_CURRENT_MAX_UA)) {
        status = REG_ERR_RANGE;
    } else {
        rig->stuck[channel] = 1;
        rig->stuck_ua[channel] = current_ua;
        rig->stuck_noise_ua[channel] = 0;
    }
    return status;
}

/* A channel stuck at current_ua with +-noise_ua of noise that does not
 * answer the drive (issue 8 point 2: a common-cause fault that keeps the
 * channels noisy, so the frozen check of SRS-026 does not fire). The noise
 * is not quantised: a failed ADC reference can leave a few uA of jitter. */
int32_t sim_stick_sensor_noisy(sim_rig_t *rig, int32_t channel, int32_t current_ua, int32_t noise_ua)
{
    int32_t status = REG_OK;
    if (rig == NULL) {
        status = REG_ERR_NULL;
    } else if ((noise_ua < 0) || (noise_ua > SIM_STUCK_NOISE_MAX_UA)) {
        status = REG_ERR_RANGE;   /* nothing applied */
    } else {
        status = sim_stick_sensor(rig, channel, current_ua);
    }
    if (status == REG_OK) {
        rig->stuck_noise_ua[channel] = noise_ua;
    }
    return status;
}

int32_t sim_unstick_sensor(sim_rig_t *rig, int32_t channel)
{
    int32_t status = REG_OK;
    if (rig == NULL) {
        status = REG_ERR_NULL;
    } else if ((channel < 0) || (channel > 1)) {
        status = REG_ERR_RANGE;
    } else {
        rig->stuck[channel] = 0;
    }
    return status;
}

/* Both settled channels fail together (FM-REG-12): mode SIM_SETTLED_*;
 * gain_permille is read for SIM_SETTLED_SCALED only; SIM_SETTLED_OK ends it. */
int32_t sim_fail_settled(sim_rig_t *rig, int32_t mode, int32_t gain_permille)
{
    int32_t status = REG_OK;
    if (rig == NULL) {
        status = REG_ERR_NULL;
    } else if ((mode < SIM_SETTLED_OK) || (mode > SIM_SETTLED_SCALED) ||
               (gain_permille < 0) || (gain_permille > SIM_SETTLED_GAIN_MAX_PERMILLE)) {
        status = REG_ERR_RANGE;
    } else {
        rig->settled_fault = mode;
        rig->settled_gain_permille = gain_permille;
        rig->settled_stale_a = rig->i_settled_a;
    }
    return status;
}

/* The true current the settled sampling takes, as its fault makes it. */
static double settled_sample_a(const sim_rig_t *rig)
{
    double a = rig->i_settled_a;
    if (rig->settled_fault == SIM_SETTLED_ZERO) {
        a = 0.0;
    } else if (rig->settled_fault == SIM_SETTLED_OFF_PHASE) {
        a = rig->i_off_a;
    } else if (rig->settled_fault == SIM_SETTLED_STALE) {
        a = rig->settled_stale_a;
    } else if (rig->settled_fault == SIM_SETTLED_SCALED) {
        a = rig->i_settled_a * ((double)rig->settled_gain_permille / 1000.0);
    } else {
        /* SIM_SETTLED_OK: the on-phase's end */
    }
    return a;
}

/* the electrode-voltage channel reads a fixed value (a failed ADC or
 * divider: the single fault of SRS-023) */
int32_t sim_stick_voltage(sim_rig_t *rig, int32_t voltage_mv)
{
    int32_t status = REG_OK;
    if (rig == NULL) {
        status = REG_ERR_NULL;
    } else if ((voltage_mv < REG_ADC_VOLTAGE_MIN_MV) || (voltage_mv > REG_ADC_VOLTAGE_MAX_MV)) {
        status = REG_ERR_RANGE;
    } else {
        rig->voltage_stuck = 1;
        rig->voltage_stuck_mv = voltage_mv;
    }
    return status;
}

int32_t sim_unstick_voltage(sim_rig_t *rig)
{
    int32_t status = REG_ERR_NULL;
    if (rig != NULL) {
        rig->voltage_stuck = 0;
        status = REG_OK;
    }
    return status;
}

int32_t sim_stall(sim_rig_t *rig, int32_t ms)
{
    int32_t status = REG_OK;
    if (rig == NULL) {
        status = REG_ERR_NULL;
    } else if ((ms < 0) || (ms > SIM_STALL_MAX_MS)) {
        status = REG_ERR_RANGE;
    } else {
        rig->stall_ticks = ms * REG_TICKS_PER_MS;
    }
    return status;
}

/* a kick from the supervisor; a stalled supervisor's kicks never arrive */
int32_t sim_kick(sim_rig_t *rig)
{
    int32_t status = REG_ERR_NULL;
    if (rig != NULL) {
        if (rig->stall_ticks == 0) {
            (void)reg_kick(&rig->reg);
        }
        status = REG_OK;
    }
    return status;
}

/* The tick interrupt stops (frozen = 1) or runs again (0): while frozen
 * reg_tick is not called and the stage keeps applying the last command, as
 * a stopped timer on a device would leave it (SRS-09x, safety review 8.9). */
int32_t sim_freeze_loop(sim_rig_t *rig, int32_t frozen)
{
    int32_t status = REG_OK;
    if (rig == NULL) {
        status = REG_ERR_NULL;
    } else if ((frozen != 0) && (frozen != 1)) {
        status = REG_ERR_RANGE;
    } else {
        rig->loop_frozen = frozen;
    }
    return status;
}

/* The output disconnect, a hardware path independent of the loop: while
 * open (1) no current flows whatever the regulator commands. */
int32_t sim_disconnect(sim_rig_t *rig, int32_t open)
{
    int32_t status = REG_OK;
    if (rig == NULL) {
        status = REG_ERR_NULL;
    } else if ((open != 0) && (open != 1)) {
        status = REG_ERR_RANGE;
    } else {
        rig->disconnected = open;
    }
    return status;
}

/* SRS-258: the board's PWM gates the plain drive with pulse_hz and
 * duty_percent; (0, 0) is plain DC. The pulse train starts with an on-phase.
 * Off-device model of the board: the regulator's own mode is its to check. */
int32_t sim_set_pulse(sim_rig_t *rig, int32_t pulse_hz, int32_t duty_percent)
{
    int32_t status = REG_OK;
    if (rig == NULL) {
        status = REG_ERR_NULL;
    } else if ((pulse_hz == 0) && (duty_percent == 0)) {
        rig->pulse_hz = 0;
        rig->pulse_duty_percent = 0;
        rig->pulse_on_units = 0;
        rig->pulse_phase = 0;
    } else if ((pulse_hz < REG_PULSE_MIN_HZ) || (pulse_hz > REG_PULSE_MAX_HZ) ||
               (duty_percent < REG_PULSE_DUTY_MIN_PERCENT) || (duty_percent > REG_PULSE_DUTY_MAX_PERCENT)) {
        status = REG_ERR_RANGE;
    } else {
        rig->pulse_hz = pulse_hz;
        rig->pulse_duty_percent = duty_percent;
        rig->pulse_on_units = (SIM_PULSE_PERIOD_UNITS / 100) * duty_percent;
        rig->pulse_phase = 0;
    }
    return status;
}

/* The pulse stage stuck on (1) or working again (0): while stuck the drive
 * is never gated, so current flows in the off-phase too (SRS-259). */
int32_t sim_stick_pulse_stage(sim_rig_t *rig, int32_t stuck)
{
    int32_t status = REG_OK;
    if (rig == NULL) {
        status = REG_ERR_NULL;
    } else if ((stuck != 0) && (stuck != 1)) {
        status = REG_ERR_RANGE;
    } else {
        rig->pulse_stuck = stuck;
    }
    return status;
}

/* the last tick of the load model (SRS-258) */
int32_t sim_last_tick(const sim_rig_t *rig, sim_tick_t *tick)
{
    int32_t status = REG_ERR_NULL;
    if ((rig != NULL) && (tick != NULL)) {
        tick->mean_ua = rig->tick_mean_a * 1e6;
        tick->peak_ua = rig->tick_peak_a * 1e6;
        tick->skin_swing_v = rig->skin_max_v - rig->skin_min_v;
        tick->skin_v = rig->vc_v;
        tick->on_reading_ua = rig->i_on_a * 1e6;
        tick->off_reading_ua = rig->i_off_a * 1e6;
        tick->series_ohms = rig->tick_rs_ohm;
        tick->skin_ohms = rig->tick_rsk_ohm;
        status = REG_OK;
    }
    return status;
}

/* Applies the command of this tick to the load for one tick, plain DC.
 * Returns the mean true current of the tick; *peak_a gets its largest value. */
static double dc_step(sim_rig_t *rig, double *peak_a)
{
    const double clamp_a = (double)SIM_CLAMP_UA * 1e-6;
    double mean_a = 0.0;
    double peak = 0.0;
    double v = 0.0;
    int32_t sense = 0;
    if ((rig->out.stage_on != 0) && (rig->disconnected == 0)) {
        /* DAC: 1 mV per code, the drive command is in whole mV */
        v = (double)rig->out.drive_mv * ((double)SIM_DAC_LSB_UV * 1e-6);
        sense = rig->out.sense;
    }
    if (rig->lifted != 0) {
        rig->vc_v *= rig->k_off_e;
        rig->i_end_a = 0.0;
        rig->v_term_v = v;
    } else if (rig->short_ohm > 0.0) {
        double rsense = (sense != 0) ? (double)REG_SENSE_SERIES_OHMS : 0.0;
        double i = v / (rig->short_ohm + rsense);
        if (i > clamp_a) {
            i = clamp_a;
        }
        rig->vc_v *= rig->k_off_e;
        mean_a = i;
        peak = i;
        rig->i_end_a = i;
        rig->v_term_v = i * rig->short_ohm;
    } else {
        double g = (sense != 0) ? rig->g_sense_s : rig->g_drive_s;
        double i0 = (v - rig->vc_v) * g;
        if ((rig->out.stage_on == 0) || (rig->disconnected != 0) || (i0 <= 0.0)) {
            /* the stage cannot sink current: the skin charge decays */
            rig->vc_v *= rig->k_off_e;
            rig->i_end_a = 0.0;
            rig->v_term_v = rig->vc_v;
        } else if (i0 > clamp_a) {
            /* hardware clamp: a current source charging R || C */
            double vinf = clamp_a * rig->rsk_ohm;
            rig->vc_v = vinf + ((rig->vc_v - vinf) * rig->k_off_e);
            mean_a = clamp_a;
            peak = clamp_a;
            rig->i_end_a = clamp_a;
            rig->v_term_v = rig->vc_v + (clamp_a * rig->rs_ohm);
        } else {
            double e = (sense != 0) ? rig->k_sense_e : rig->k_drive_e;
            double m = (sense != 0) ? rig->k_sense_m : rig->k_drive_m;
            double vinf = v * ((sense != 0) ? rig->div_sense : rig->div_drive);
            double d0 = rig->vc_v - vinf;
            double i_end;
            rig->vc_v = vinf + (d0 * e);
            mean_a = (v - (vinf + (d0 * m))) * g;
            i_end = (v - rig->vc_v) * g;
            peak = (i0 > i_end) ? i0 : i_end;
            rig->i_end_a = i_end;
            rig->v_term_v = (sense != 0) ? (v - (i_end * (double)REG_SENSE_SERIES_OHMS)) : v;
        }
    }
    *peak_a = peak;
    return mean_a;
}

/* One on- or off-segment of dt_s of the pulsed plain drive at v volts (0 in
 * the off-phase), solved in closed form as dc_step solves a tick, with the
 * decay factors of dt_s. Returns the charge of the segment in A*s; *peak_a
 * gets its largest current, *v_vs the integral of the electrode voltage over
 * the segment in V*s (SRS-302). */
static double pulse_segment(sim_rig_t *rig, double v, double dt_s, double *peak_a, double *v_vs)
{
    const double clamp_a = (double)SIM_CLAMP_UA * 1e-6;
    double e_off;
    double m_off;
    double q_as = 0.0;
    double peak = 0.0;
    double i0 = (v - rig->vc_v) * rig->g_drive_s;
    double v_mean = v;   /* the electrode at the drive: open, or driving through Rs */
    decay_over(dt_s, rig->c_f * rig->rsk_ohm, &e_off, &m_off);
    if (rig->lifted != 0) {
        rig->vc_v *= e_off;
        rig->i_end_a = 0.0;
        rig->v_term_v = v;
    } else if (rig->short_ohm > 0.0) {
        double i = v / rig->short_ohm;
        if (i > clamp_a) {
            i = clamp_a;
        }
        rig->vc_v *= e_off;
        q_as = i * dt_s;
        peak = i;
        rig->i_end_a = i;
        rig->v_term_v = i * rig->short_ohm;
        v_mean = rig->v_term_v;
    } else if (i0 <= 0.0) {
        /* off-phase (or a drive below the skin voltage): the stage cannot
         * sink current, the skin charge decays through the skin resistance */
        v_mean = rig->vc_v * m_off;   /* the electrode floats at the skin voltage */
        rig->vc_v *= e_off;
        rig->i_end_a = 0.0;
        rig->v_term_v = rig->vc_v;
    } else if (i0 > clamp_a) {
        double vinf = clamp_a * rig->rsk_ohm;
        v_mean = vinf + ((rig->vc_v - vinf) * m_off) + (clamp_a * rig->rs_ohm);
        rig->vc_v = vinf + ((rig->vc_v - vinf) * e_off);
        q_as = clamp_a * dt_s;
        peak = clamp_a;
        rig->i_end_a = clamp_a;
        rig->v_term_v = rig->vc_v + (clamp_a * rig->rs_ohm);
    } else {
        double rs = rig->rs_ohm;
        double rsk = rig->rsk_ohm;
        double e;
        double m;
        double vinf = v * rig->div_drive;
        double d0 = rig->vc_v - vinf;
        double i_end;
        decay_over(dt_s, rig->c_f * rs * rsk / (rs + rsk), &e, &m);
        rig->vc_v = vinf + (d0 * e);
        q_as = (v - (vinf + (d0 * m))) * rig->g_drive_s * dt_s;
        i_end = (v - rig->vc_v) * rig->g_drive_s;
        peak = (i0 > i_end) ? i0 : i_end;
        rig->i_end_a = i_end;
        rig->v_term_v = v;
    }
    *peak_a = peak;
    *v_vs = v_mean * dt_s;
    return q_as;
}

/* One tick of the pulsed plain drive (SRS-258): segment by segment between
 * the pulse edges, each in closed form (no sub-steps). The on-phase reading
 * is the largest current of the pulse so far (a peak-hold restarted at each
 * rising edge), the off-phase reading the current at the off-phase's end;
 * the regulator's channels see the on-phase reading and its voltage. */
static double pulsed_step(sim_rig_t *rig, double v, double *peak_a)
{
    const double unit_s = 1.0 / ((double)rig->pulse_hz * (double)REG_TICK_HZ);
    int32_t left = rig->pulse_hz;   /* units of the tick still to run */
    int32_t n;
    double q_as = 0.0;
    double v_vs = 0.0;
    double peak = 0.0;
    for (n = 0; (n < SIM_PULSE_MAX_SEGMENTS) && (left > 0); n++) {
        int32_t on = 0;
        int32_t edge = SIM_PULSE_PERIOD_UNITS;
        int32_t du;
        double seg_peak = 0.0;
        if (rig->pulse_phase < rig->pulse_on_units) {
            on = 1;
            edge = rig->pulse_on_units;
        }
        du = edge - rig->pulse_phase;
        if (du > left) {
            du = left;
        }
        if ((on != 0) && (rig->pulse_phase == 0)) {
            rig->i_on_a = 0.0;   /* a new pulse: the peak-hold restarts */
        }
        double seg_vs = 0.0;
        q_as += pulse_segment(rig, (on != 0) ? v : 0.0, (double)du * unit_s, &seg_peak, &seg_vs);
        v_vs += seg_vs;
        peak = (seg_peak > peak) ? seg_peak : peak;
        rig->skin_min_v = (rig->vc_v < rig->skin_min_v) ? rig->vc_v : rig->skin_min_v;
        rig->skin_max_v = (rig->vc_v > rig->skin_max_v) ? rig->vc_v : rig->skin_max_v;
        rig->pulse_phase += du;
        left -= du;
        if (on != 0) {
            rig->i_on_a = (seg_peak > rig->i_on_a) ? seg_peak : rig->i_on_a;
            rig->v_on_v = rig->v_term_v;
            if (rig->pulse_phase >= rig->pulse_on_units) {
                rig->i_settled_a = rig->i_end_a;   /* the on-phase ends: its settled current */
            }
        } else if (rig->pulse_phase >= SIM_PULSE_PERIOD_UNITS) {
            rig->i_off_a = rig->i_end_a;
            rig->v_off_v = rig->v_term_v;
            rig->pulse_phase = 0;
        } else {
            /* the off-phase goes on into the next tick */
        }
    }
    rig->i_end_a = rig->i_on_a;
    rig->v_term_v = rig->v_on_v;
    rig->tick_vmean_v = v_vs / TICK_S;
    *peak_a = peak;
    return q_as / TICK_S;
}

/* Applies the command of this tick to the load for one tick: pulsed while a
 * pulse train is set and the stage drives plainly (the sense level is never
 * gated), otherwise plain DC exactly as before pulsing existed. Records the
 * tick (sim_last_tick). */
static double plant_step(sim_rig_t *rig, double *peak_a)
{
    double mean_a;
    if ((rig->out.pulse_hz != rig->pulse_hz) || (rig->out.duty_percent != rig->pulse_duty_percent)) {
        /* the board follows the pulse train the regulator publishes; it never
         * publishes one out of range, and then the board keeps its own */
        (void)sim_set_pulse(rig, rig->out.pulse_hz, rig->out.duty_percent);
    }
    rig->skin_min_v = rig->vc_v;
    rig->skin_max_v = rig->vc_v;
    if ((rig->pulse_hz > 0) && (rig->pulse_stuck == 0) && (rig->out.stage_on != 0) && (rig->out.sense == 0)) {
        double v = (rig->disconnected == 0) ? ((double)rig->out.drive_mv * ((double)SIM_DAC_LSB_UV * 1e-6)) : 0.0;
        mean_a = pulsed_step(rig, v, peak_a);
    } else {
        mean_a = dc_step(rig, peak_a);
        rig->tick_vmean_v = rig->v_term_v;   /* DC: the tick's end value, as the row's reading */
        /* a first-order decay is monotone: the extremes are at the ends */
        rig->skin_min_v = (rig->vc_v < rig->skin_min_v) ? rig->vc_v : rig->skin_min_v;
        rig->skin_max_v = (rig->vc_v > rig->skin_max_v) ? rig->vc_v : rig->skin_max_v;
        /* the stage is not gated (sense level, output off, DC): the board's
         * on-phase samples follow the electrode (SRS-298), so a plain tick
         * without an on-phase reads this, not the voltage of a pulse from
         * before the pause (PR-066: 41 V with the sense level's 9 uA) */
        rig->i_on_a = rig->i_end_a;
        rig->v_on_v = rig->v_term_v;
        rig->i_settled_a = rig->i_end_a;
        rig->i_off_a = (rig->pulse_stuck != 0) ? rig->i_end_a : 0.0;   /* a stuck stage conducts between pulses */
        if (rig->pulse_hz > 0) {
            /* the board's PWM runs on while the stage is off or at the sense level */
            rig->pulse_phase = (rig->pulse_phase + rig->pulse_hz) % SIM_PULSE_PERIOD_UNITS;
        }
    }
    rig->tick_mean_a = mean_a;
    rig->tick_peak_a = *peak_a;
    rig->tick_rs_ohm = rig->rs_ohm;
    rig->tick_rsk_ohm = rig->rsk_ohm;
    return mean_a;
}

/* a stuck channel's reading: the stuck value plus its own noise (unit_noise
 * is bounded at +-2.45, scaled so the noise stays within +-noise_ua) */
static int32_t stuck_reading(int32_t stuck_ua, int32_t noise_ua, double unit_noise)
{
    double v = (double)stuck_ua + ((unit_noise / 2.45) * (double)noise_ua);
    int32_t r = (int32_t)floor(v + 0.5);
    if (r < REG_ADC_CURRENT_MIN_UA) {
        r = REG_ADC_CURRENT_MIN_UA;
    }
    if (r > REG_ADC_CURRENT_MAX_UA) {
        r = REG_ADC_CURRENT_MAX_UA;
    }
    return r;
}

static void read_sensors(sim_rig_t *rig, reg_inputs_t *in)
{
    double i_ua = rig->i_end_a * 1e6;
    double n0;
    double n1;
    double n2;
    unit_noise3(rig, &n0, &n1, &n2);
    in->current_a_ua = quantise(i_ua + (n0 * (double)SIM_NOISE_UA), REG_ADC_CURRENT_MAX_UA);
    in->current_b_ua = quantise(i_ua + (n1 * (double)SIM_NOISE_UA), REG_ADC_CURRENT_MAX_UA);
    in->voltage_mv = quantise((rig->v_term_v * 1e3) + (n2 * (double)SIM_NOISE_MV), REG_ADC_VOLTAGE_MAX_MV);
    if (rig->stuck[0] != 0) {
        in->current_a_ua = stuck_reading(rig->stuck_ua[0], rig->stuck_noise_ua[0], n0);
    }
    if (rig->stuck[1] != 0) {
        in->current_b_ua = stuck_reading(rig->stuck_ua[1], rig->stuck_noise_ua[1], n1);
    }
    if (rig->voltage_stuck != 0) {
        in->voltage_mv = rig->voltage_stuck_mv;
    }
    in->off_current_ua = 0;
    in->settled_a_ua = in->current_a_ua;   /* DC: the one reading (ignored) */
    in->settled_b_ua = in->current_b_ua;
    if (rig->pulse_hz > 0) {
        /* the off-phase reading with its own noise: a second draw, taken
         * only while pulsed, so a DC run's random sequence is unchanged */
        double m0;
        double m1;
        double m2;
        unit_noise3(rig, &m0, &m1, &m2);
        in->off_current_ua = quantise((rig->i_off_a * 1e6) + (m0 * (double)SIM_NOISE_UA), REG_ADC_CURRENT_MAX_UA);
        /* the two channels sampled at the on-phase's end (PR-069), with the
         * draw's other two noises: the random sequence stays as it was */
        double settled_ua = settled_sample_a(rig) * 1e6;
        in->settled_a_ua = quantise(settled_ua + (m1 * (double)SIM_NOISE_UA), REG_ADC_CURRENT_MAX_UA);
        in->settled_b_ua = quantise(settled_ua + (m2 * (double)SIM_NOISE_UA), REG_ADC_CURRENT_MAX_UA);
        if (rig->stuck[0] != 0) {
            in->settled_a_ua = stuck_reading(rig->stuck_ua[0], rig->stuck_noise_ua[0], m1);
        }
        if (rig->stuck[1] != 0) {
            in->settled_b_ua = stuck_reading(rig->stuck_ua[1], rig->stuck_noise_ua[1], m2);
        }
    }
}

static uint32_t tick_events(uint32_t before, uint32_t after)
{
    uint32_t ev = 0u;
    uint32_t rose = after & ~before;
    uint32_t fell = before & ~after;
    if ((rose & REG_FLAG_CONTACT_LOST) != 0u) {
        ev |= SIM_EVENT_CONTACT_LOST;
    }
    if (((fell & REG_FLAG_CONTACT_LOST) != 0u) && ((after & REG_FLAG_OUTPUT_ENABLED) != 0u)) {
        ev |= SIM_EVENT_CONTACT_RESTORED;
    }
    if ((after & REG_FLAG_ANTISHOCK_CUT) != 0u) {
        ev |= SIM_EVENT_ANTISHOCK;
    }
    if ((rose & REG_FLAG_FAULT) != 0u) {
        ev |= SIM_EVENT_FAULT;
    }
    if ((rose & REG_FLAG_AT_TARGET) != 0u) {
        ev |= SIM_EVENT_AT_TARGET;
    }
    if ((rose & REG_FLAG_COMPLIANCE_LIMITED) != 0u) {
        ev |= SIM_EVENT_COMPLIANCE_START;
    }
    if ((fell & REG_FLAG_COMPLIANCE_LIMITED) != 0u) {
        ev |= SIM_EVENT_COMPLIANCE_END;
    }
    return ev;
}

/* One tick: sensors -> regulator -> output stage and load. */
static double rig_tick(sim_rig_t *rig, double *peak_a, uint32_t *events)
{
    reg_inputs_t in;
    uint32_t before = rig->out.flags;
    double mean_a;
    read_sensors(rig, &in);
    if (rig->loop_frozen == 0) {
        (void)reg_tick(&rig->reg, &in, &rig->out);
    }
    if (((before ^ rig->out.flags) | (rig->out.flags & REG_FLAG_ANTISHOCK_CUT)) != 0u) {
        *events |= tick_events(before, rig->out.flags);
    }
    mean_a = plant_step(rig, peak_a);
    if (rig->stall_ticks > 0) {
        rig->stall_ticks--;
    }
    if (rig->change_ticks > 0) {
        rig->change_done++;
        if (rig->change_done >= rig->change_ticks) {
            rig->param_count = 0; /* the change ends at this tick, exactly at its target */
        }
    }
    if (mean_a > 1e-4) {
        rig->onset_ticks += 1;
    }
    rig->param_count--;
    if (rig->param_count <= 0) {
        update_params(rig);
    }
    return mean_a;
}

/* mV for the trace: clamped to [0, ADC full scale] BEFORE the cast, so no
 * value can overflow int32 (SRS-037); NaN cannot occur, it would read 0 */
static int32_t trace_mv(double volts)
{
    double mv = volts * 1e3;
    int32_t r = 0;
    if (mv > (double)REG_ADC_VOLTAGE_MAX_MV) {
        r = REG_ADC_VOLTAGE_MAX_MV;
    } else if (mv > 0.0) {
        r = (int32_t)mv;
    } else {
        r = 0;
    }
    return r;
}

static void fill_row(const sim_rig_t *rig, sim_row_t *row)
{
    row->measured_ua = rig->out.measured_ua;
    row->voltage_mv = trace_mv(rig->v_term_v);
    row->drive_mv = rig->out.drive_mv;
    row->reference_ua = rig->out.reference_ua;
    row->setpoint_ua = rig->out.setpoint_ua;
    row->target_ua = rig->out.target_ua;
    row->polarity = rig->out.polarity;
    row->fault = rig->out.fault;
    row->flowing_permille = rig->out.flowing_permille;
    row->antishock_cuts = rig->reg.cut_total;
    row->flags = rig->out.flags;
    row->load_estimate_ohms = (double)rig->out.load_ohms;
    if (rig->lifted != 0) {
        row->load_ohms = 0.0;
    } else if (rig->short_ohm > 0.0) {
        row->load_ohms = rig->short_ohm;
    } else {
        row->load_ohms = rig->rs_ohm + rig->rsk_ohm;
    }
}

int32_t sim_run_rows(sim_rig_t *rig, sim_row_t *rows, uint32_t max_rows, uint32_t ticks_per_row,
                     uint32_t options, sim_batch_t *batch)
{
    int32_t status = REG_OK;
    if ((rig == NULL) || (rows == NULL) || (batch == NULL)) {
        status = REG_ERR_NULL;
    } else if ((max_rows == 0u) || (ticks_per_row == 0u) || (ticks_per_row > SIM_MAX_TICKS_PER_ROW) ||
               (options > (SIM_OPT_KICK_EACH_ROW | SIM_OPT_STOP_ON_EVENT))) {
        status = REG_ERR_RANGE;
    } else {
        uint32_t r;
        uint32_t stop = 0u;
        int64_t load0_ohms = ((rig->out.sense == 0) && (rig->out.stage_on != 0)) ? (int64_t)rig->out.load_ohms : 0;
        double charge_a_ticks = 0.0;
        double max_a = 0.0;
        batch->rows_run = 0u;
        batch->events = 0u;
        for (r = 0u; (r < max_rows) && (stop == 0u); r++) {
            sim_row_t *row = &rows[r];
            uint32_t t;
            uint32_t events = 0u;
            double sum_a = 0.0;
            double row_peak_a = 0.0;
            double row_swing_v = 0.0;
            double sum_v = 0.0;
            if ((options & SIM_OPT_KICK_EACH_ROW) != 0u) {
                (void)sim_kick(rig);
            }
            for (t = 0u; t < ticks_per_row; t++) {
                double peak_a;
                sum_a += rig_tick(rig, &peak_a, &events);
                sum_v += rig->tick_vmean_v;
                if (peak_a > row_peak_a) {
                    row_peak_a = peak_a;
                }
                if ((rig->skin_max_v - rig->skin_min_v) > row_swing_v) {
                    row_swing_v = rig->skin_max_v - rig->skin_min_v;
                }
            }
            row->skin_swing_v = row_swing_v;
            row->mean_voltage_v = sum_v / (double)ticks_per_row;
            row->ticks = (int32_t)ticks_per_row;
            row->mean_current_ua = (sum_a / (double)ticks_per_row) * 1e6;
            row->peak_current_ua = row_peak_a * 1e6;
            row->events = events;
            fill_row(rig, row);
            charge_a_ticks += sum_a;
            if (row_peak_a > max_a) {
                max_a = row_peak_a;
            }
            if ((rig->out.sense != 0) || (rig->out.stage_on == 0)) {
                /* sense level or off: the contact events cover the load; the
                 * estimate under drive is followed again from its next value */
                load0_ohms = 0;
            } else if (load0_ohms <= 0) {
                load0_ohms = (int64_t)rig->out.load_ohms;   /* the estimate became known */
            } else if (rig->out.load_ohms > 0) {
                int64_t moved = (int64_t)rig->out.load_ohms - load0_ohms;
                if (moved < 0) {
                    moved = -moved;
                }
                if ((moved * 100) > (load0_ohms * (int64_t)SIM_LOAD_MOVED_PERCENT)) {
                    events |= SIM_EVENT_LOAD_MOVED;
                    row->events = events;
                }
            } else {
                /* unknown again (lift-off, sense level): contact events cover it */
            }
            batch->rows_run += 1u;
            batch->events |= events;
            if (((options & SIM_OPT_STOP_ON_EVENT) != 0u) && (events != 0u)) {
                stop = 1u;
            }
        }
        batch->loop_ticks = rig->reg.tick;
        batch->charge_uas = charge_a_ticks * 1e6 * TICK_S;
        batch->max_current_ua = max_a * 1e6;
    }
    return status;
}

/* ---- hooks for the hardware abstraction (cext/hal_sim.c, issue 13) --------
 * The simulated board for a regulator ticked elsewhere (the real-time
 * runner): the sensors and the load of rig_tick, without its reg_tick. Added
 * next to the existing functions, whose behaviour is unchanged. */

/* the three readings of this tick (SRS-031) */
int32_t sim_hal_read(sim_rig_t *rig, reg_inputs_t *in)
{
    int32_t status = REG_ERR_NULL;
    if ((rig != NULL) && (in != NULL)) {
        read_sensors(rig, in);
        status = REG_OK;
    }
    return status;
}

/* the drive command applied to the load for one tick: rig_tick with the loop
 * "frozen" (the caller ticked the regulator); *mean_ua / *peak_ua get the
 * true patient current of the tick */
int32_t sim_hal_apply(sim_rig_t *rig, const reg_output_t *out, double *mean_ua, double *peak_ua)
{
    int32_t status = REG_ERR_NULL;
    if ((rig != NULL) && (out != NULL) && (mean_ua != NULL) && (peak_ua != NULL)) {
        int32_t frozen = rig->loop_frozen;
        uint32_t events = 0u;
        double peak_a = 0.0;
        rig->out = *out;
        rig->loop_frozen = 1;
        *mean_ua = rig_tick(rig, &peak_a, &events) * 1e6;
        *peak_ua = peak_a * 1e6;
        rig->loop_frozen = frozen;
        status = REG_OK;
    }
    return status;
}
