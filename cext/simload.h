/*
 * Simulated patient load, sensors and output stage (SRS-030..SRS-034), and
 * the batch stepper that runs the regulator against them. Off-device only:
 * a device build links regulator.c alone.
 *
 * Load (Cole form [COLE]): series resistance (water, electrodes) plus skin
 * resistance in parallel with the skin capacitance. The skin resistance starts
 * higher and falls while direct current flows [HAHN]. Sensors: two current
 * channels and the electrode voltage, with noise and 12-bit quantisation from
 * a seeded PRNG (same seed, same run). Output stage: 16-bit DAC, cannot sink
 * current, independent hardware current clamp, sense resistor in sense mode,
 * and a PWM that can gate the plain drive with a pulse train (SRS-258).
 */
#ifndef SIMLOAD_H
#define SIMLOAD_H

#include <stdint.h>
#include "regulator.h"

/* ---- load model ---------------------------------------------------------- */

/* SRS-030: default total load (settled), hands or feet in trays: the 2 kOhm
 * rating basis of commercial devices [SAAL]. */
#define SIM_DEFAULT_LOAD_OHMS 2000
/* SRS-030: share of the series resistance (water, electrodes) in the total.
 * Not found in the sources; 30 % chosen (tap water between plate and skin is
 * a few hundred ohm). */
#define SIM_SERIES_PERCENT 30
/* SRS-030: skin capacitance of the immersed area. "Not found" [domain.md]:
 * 1 uF chosen (order of 0.01 uF/cm2 over ~100 cm2); tests cover 0.01..10 uF. */
#define SIM_DEFAULT_CAPACITANCE_NF 1000
/* SRS-030: skin resistance at DC onset is 25 % above its settled value and
 * falls with a 10 s time constant while current flows [HAHN]. */
#define SIM_ONSET_EXCESS_PERCENT 25
#define SIM_ONSET_TAU_S 10
/* accepted ranges of the load arguments */
#define SIM_LOAD_MIN_OHMS 100
#define SIM_LOAD_MAX_OHMS 1000000
#define SIM_CAPACITANCE_MIN_NF 1
#define SIM_CAPACITANCE_MAX_NF 100000
#define SIM_SHORT_MIN_OHMS 1
#define SIM_SHORT_MAX_OHMS 1000
#define SIM_CHANGE_MAX_MS 600000
#define SIM_STALL_MAX_MS 600000
#define SIM_STUCK_NOISE_MAX_UA 1000
/* A fault of the board's one sampling at the on-phase's end, which feeds both
 * settled channels (FM-REG-12, PR-075): both read 0 (the trigger lost, a port
 * that leaves 0), the off-phase's end (the trigger mistimed), the value of
 * the tick the fault began (stale), or gain_permille / 1000 of the true value
 * (a common gain fault); each with the channels' own noise. */
#define SIM_SETTLED_OK 0
#define SIM_SETTLED_ZERO 1
#define SIM_SETTLED_OFF_PHASE 2
#define SIM_SETTLED_STALE 3
#define SIM_SETTLED_SCALED 4
#define SIM_SETTLED_GAIN_MAX_PERMILLE 2000

/* ---- output stage and sensors -------------------------------------------- */

/* SRS-032: independent hardware current clamp of the output stage (a
 * separate circuit, like Hidrex' 35 mA safety circuit [HXS]). */
#define SIM_CLAMP_UA 40000
/* output stage DAC: 16 bits over 0..65.535 V, 1 mV per code, the
 * resolution of the drive command (coarser steps into the skin capacitance
 * give current spikes of step / series resistance) */
#define SIM_DAC_LSB_UV 1000
/* SRS-031: sensor noise (rms, triangular, bounded at 2.45 rms) before the
 * 12-bit quantisation */
#define SIM_NOISE_UA 20
#define SIM_NOISE_MV 20
/* load parameters are updated every 8 ticks (0.8 ms) while the load is
 * being changed, otherwise every 64 ticks (6.4 ms; the onset has a 10 s
 * time constant) */
#define SIM_PARAM_TICKS 8
#define SIM_PARAM_SLOW_TICKS 64

/* ---- pulsed drive (SRS-258) ---------------------------------------------- */

/* The board's PWM gates the plain drive with a pulse train of pulse_hz and
 * duty_percent (ranges in regulator_config.h), those the regulator publishes
 * in reg_output_t (SRS-259); the sense level is not gated.
 * Time within a period counts in units of 1 / (pulse_hz x REG_TICK_HZ) s:
 * a period is REG_TICK_HZ units and a tick pulse_hz units, both whole, so the
 * phase never drifts. Each on- or off-segment is solved in closed form; a
 * tick (at most one period long) holds at most 3 segments. */
#define SIM_PULSE_PERIOD_UNITS REG_TICK_HZ
#define SIM_PULSE_MAX_SEGMENTS 8

/* ---- batch stepping ------------------------------------------------------ */

#define SIM_MAX_TICKS_PER_ROW 6000000u
#define SIM_OPT_KICK_EACH_ROW 0x01u
#define SIM_OPT_STOP_ON_EVENT 0x02u

#define SIM_EVENT_CONTACT_LOST 0x01u
#define SIM_EVENT_CONTACT_RESTORED 0x02u
#define SIM_EVENT_ANTISHOCK 0x04u
#define SIM_EVENT_FAULT 0x08u
#define SIM_EVENT_AT_TARGET 0x10u
#define SIM_EVENT_COMPLIANCE_START 0x20u
#define SIM_EVENT_COMPLIANCE_END 0x40u
/* SRS-092: the regulator's published load estimate moved by more than
 * SIM_LOAD_MOVED_PERCENT since the batch began (or since it became known):
 * the batch ends at that row so that the supervisor's current-density check
 * acts within one row of a shrinking contact area, not at the next batch. */
#define SIM_EVENT_LOAD_MOVED 0x80u
#define SIM_LOAD_MOVED_PERCENT 5

/* one row of the trace: true current from the load model, the rest from the
 * regulator's output at the end of the row */
typedef struct {
    double mean_current_ua;  /* true patient current, mean over the row */
    double peak_current_ua;  /* largest true current within the row */
    double load_ohms;        /* model load at the end of the row (0: open) */
    double load_estimate_ohms; /* the regulator's load estimate at the end of the row (0: unknown) */
    double skin_swing_v;     /* largest skin-voltage swing of a tick within the row (SRS-258) */
    double mean_voltage_v;   /* electrode voltage, mean over the row: pulsed, the exact mean of each
                              * segment; otherwise each tick's end value (SRS-302) */
    int32_t ticks;
    int32_t measured_ua;
    int32_t voltage_mv;      /* electrode voltage reading */
    int32_t drive_mv;
    int32_t reference_ua;
    int32_t setpoint_ua;     /* regulated value (below the reference while compliance limited) */
    int32_t target_ua;
    int32_t polarity;
    int32_t fault;
    int32_t flowing_permille;
    int32_t antishock_cuts;  /* cuts since the rig was created */
    uint32_t flags;          /* REG_FLAG_* at the end of the row */
    uint32_t events;         /* SIM_EVENT_* within the row */
} sim_row_t;

typedef struct {
    uint32_t rows_run;
    uint32_t events;         /* OR of the rows' events */
    int64_t loop_ticks;      /* the regulator's own tick count at the end (reg_tick calls) */
    double charge_uas;       /* integral of the true current, uA*s */
    double max_current_ua;   /* largest true current */
} sim_batch_t;

/* regulator + load + sensors; fields are private to simload.c */
typedef struct {
    reg_state_t reg;
    reg_output_t out;        /* command applied during the next tick */
    uint64_t rng;
    double rs_ohm;           /* series resistance (scaled with the load) */
    double rsk_nom_ohm;      /* settled skin resistance */
    double rsk_ohm;          /* skin resistance now (onset) */
    double c_f;              /* skin capacitance */
    double vc_v;             /* capacitor voltage */
    int64_t onset_ticks;     /* ticks with current flowing */
    double i_end_a;          /* true current at the end of the last tick */
    double v_term_v;         /* electrode voltage at the end of the last tick */
    double change_from_ohm;
    double change_to_ohm;
    int32_t change_ticks;
    int32_t change_done;
    int32_t lifted;
    double short_ohm;        /* > 0 while shorted */
    int32_t stuck[2];
    int32_t stuck_ua[2];
    int32_t stuck_noise_ua[2]; /* +- noise of a stuck reading (0: constant) */
    int32_t voltage_stuck;   /* 1: the voltage channel reads voltage_stuck_mv */
    int32_t voltage_stuck_mv;
    int32_t stall_ticks;
    int32_t loop_frozen;     /* 1: reg_tick is not called (a stopped tick interrupt); the stage keeps the last command */
    int32_t disconnected;    /* 1: the independent output disconnect is open: no current whatever the stage does */
    int32_t param_count;
    double k_drive_e;        /* per-tick decay and mean factors, drive */
    double k_drive_m;
    double k_sense_e;        /* the same through the sense resistor */
    double k_sense_m;
    double k_off_e;          /* skin charge decay, output off */
    double g_drive_s;        /* 1 / series resistance */
    double g_sense_s;        /* 1 / (series + sense resistance) */
    double div_drive;        /* skin share of the DC divider */
    double div_sense;
    int32_t pulse_hz;        /* SRS-258: pulse frequency; 0: plain DC */
    int32_t pulse_on_units;  /* on-time of a period, units of 1 / (pulse_hz x REG_TICK_HZ) s */
    int32_t pulse_phase;     /* position in the period, 0..SIM_PULSE_PERIOD_UNITS - 1 */
    int32_t pulse_duty_percent; /* the duty the board applies (0: DC) */
    int32_t pulse_stuck;     /* 1: the pulse stage is stuck on: the drive is never gated (SRS-259) */
    double i_on_a;           /* largest current of the last on-phase (the on-phase reading) */
    double v_on_v;           /* electrode voltage at the end of the last on-phase */
    double i_off_a;          /* current at the end of the last off-phase (the off-phase reading) */
    double i_settled_a;      /* current at the end of the last on-phase (the settled reading, PR-069) */
    int32_t settled_fault;   /* SIM_SETTLED_*: a common fault of the settled sampling (FM-REG-12) */
    int32_t settled_gain_permille; /* SIM_SETTLED_SCALED: the common gain */
    double settled_stale_a;  /* SIM_SETTLED_STALE: the value both channels keep */
    double v_off_v;          /* electrode voltage at the end of the last off-phase */
    double skin_min_v;       /* skin (capacitor) voltage, lowest and highest within the last tick */
    double skin_max_v;
    double tick_vmean_v;     /* electrode voltage of the last tick: mean (pulsed) or end (SRS-302) */
    double tick_mean_a;      /* true current of the last tick: mean and largest */
    double tick_peak_a;
    double tick_rs_ohm;      /* the resistances the last tick ran with */
    double tick_rsk_ohm;
} sim_rig_t;

/* the last tick of the load model (SRS-258): true current, skin voltage and
 * the two readings a pulse-triggered ADC takes */
typedef struct {
    double mean_ua;          /* true patient current, mean over the tick */
    double peak_ua;          /* largest true current within the tick */
    double skin_swing_v;     /* skin voltage, highest minus lowest within the tick */
    double skin_v;           /* skin voltage at the end of the tick */
    double on_reading_ua;    /* largest current of the last on-phase (plain DC: the tick's end) */
    double off_reading_ua;   /* current at the end of the last off-phase (plain DC: 0) */
    double series_ohms;      /* the model's series and skin resistance in this tick */
    double skin_ohms;
} sim_tick_t;

int32_t sim_init(sim_rig_t *rig, uint64_t seed, int32_t load_ohms, int32_t capacitance_nf);
int32_t sim_lift_off(sim_rig_t *rig);
int32_t sim_contact(sim_rig_t *rig);
int32_t sim_short(sim_rig_t *rig, int32_t ohms);
int32_t sim_clear_short(sim_rig_t *rig);
int32_t sim_change_load(sim_rig_t *rig, int32_t ohms, int32_t over_ms);
int32_t sim_stick_sensor(sim_rig_t *rig, int32_t channel, int32_t current_ua);
int32_t sim_stick_sensor_noisy(sim_rig_t *rig, int32_t channel, int32_t current_ua, int32_t noise_ua);
int32_t sim_unstick_sensor(sim_rig_t *rig, int32_t channel);
int32_t sim_fail_settled(sim_rig_t *rig, int32_t mode, int32_t gain_permille);
int32_t sim_stick_voltage(sim_rig_t *rig, int32_t voltage_mv);
int32_t sim_unstick_voltage(sim_rig_t *rig);
int32_t sim_stall(sim_rig_t *rig, int32_t ms);
int32_t sim_kick(sim_rig_t *rig);
int32_t sim_freeze_loop(sim_rig_t *rig, int32_t frozen);
int32_t sim_disconnect(sim_rig_t *rig, int32_t open);
int32_t sim_set_pulse(sim_rig_t *rig, int32_t pulse_hz, int32_t duty_percent);
int32_t sim_stick_pulse_stage(sim_rig_t *rig, int32_t stuck);
int32_t sim_last_tick(const sim_rig_t *rig, sim_tick_t *tick);
int32_t sim_run_rows(sim_rig_t *rig, sim_row_t *rows, uint32_t max_rows, uint32_t ticks_per_row,
                     uint32_t options, sim_batch_t *batch);

/* hooks for cext/hal_sim.c: the sensors and the load for a regulator ticked
 * by the real-time runner (issue 13) */
int32_t sim_hal_read(sim_rig_t *rig, reg_inputs_t *in);
int32_t sim_hal_apply(sim_rig_t *rig, const reg_output_t *out, double *mean_ua, double *peak_ua);

#endif /* SIMLOAD_H */
