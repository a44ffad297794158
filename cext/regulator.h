/*
 * Constant-current regulation loop with its protective limits (SRS-001..020).
 *
 * One call of reg_tick() per tick takes two independent current readings and
 * the electrode voltage reading and returns the drive command. Every limit
 * that protects the patient is enforced here, whatever the caller commands;
 * the limits are in regulator_config.h. No heap, no recursion, bounded loops;
 * every function returns a status code (REG_OK or a REG_ERR_*).
 */
#ifndef REGULATOR_H
#define REGULATOR_H

#include <stddef.h>
#include <stdint.h>
#include "regulator_config.h"

/* status codes of every function */
#define REG_OK 0
#define REG_ERR_NULL (-1)             /* a pointer argument is NULL */
#define REG_ERR_RANGE (-2)            /* an argument is out of its range */
#define REG_ERR_POLARITY_REFUSED (-3) /* output on or current >= 0.1 mA */
#define REG_ERR_RESET_REFUSED (-4)    /* current still flowing */
#define REG_ERR_FAULT_LATCHED (-5)    /* output cannot be enabled: fault latched */
#define REG_ERR_MODE_REFUSED (-6)     /* pulse mode change: output on or current >= 0.1 mA */
#define REG_ERR_ARM_REFUSED (-7)      /* reg_arm: a checklist answer does not pass (arming.h, SRS-306) */
#define REG_ERR_NOT_ARMED (-8)        /* reg_enable(1) without a checklist arm: output stays off (SRS-307) */

/* reg_state_t.armed while a checklist arm holds (arming.h): a pattern, not
 * 1, so that no zeroed or single-bit-flipped word reads as armed */
#define REG_ARMED_PATTERN 0x4152u

/* fault codes (latched until reg_reset_fault) */
#define REG_FAULT_NONE 0
#define REG_FAULT_OVERCURRENT_TRIP 1
#define REG_FAULT_TRANSIENTS 2
#define REG_FAULT_SHORT 3
#define REG_FAULT_SENSOR_DISAGREE 4
#define REG_FAULT_SENSOR_RANGE 5
#define REG_FAULT_WATCHDOG 6
#define REG_FAULT_VOLTAGE_IMPLAUSIBLE 7 /* voltage reading below the drive (SRS-023) */
#define REG_FAULT_SENSOR_FROZEN 8       /* a current channel is frozen (SRS-026) or quieter than a live ADC (SRS-130) */
#define REG_FAULT_PULSE_STAGE 9         /* pulsed: current between the pulses, the pulse stage is stuck on (SRS-259) */

/*
 * Pulsed drive (SRS-259). The board's PWM gates the output stage, not the
 * tick: the regulator publishes the pulse train (reg_output_t.pulse_hz,
 * duty_percent) and the drive level, the board's timer switches the stage
 * on and off at pulse_hz with duty_percent and triggers the ADC. The tick
 * stays at REG_TICK_HZ (10 kHz) for any pulse rate: the current channels
 * deliver the largest current of the last pulse (a peak-hold restarted at
 * each rising edge), so every limit of the loop acts on the peak of every
 * pulse, and a third reading, off_current_ua, is the current at the end of
 * the last off-phase. Gating by the tick would need a tick of at least
 * pulse_hz / min(duty, 1 - duty), i.e. 50 kHz for 10 kHz at 80 %, and an
 * ADC reading per phase: 5x the tick budget of a Cortex-M0+. The sense
 * level (contact search) is never gated. The set current (target) is the
 * pulse's peak; the mean is about duty x peak.
 */

/* polarity of the output */
#define REG_POLARITY_NORMAL 1
#define REG_POLARITY_REVERSED (-1)

/* status flags (reg_output_t.flags) */
#define REG_FLAG_OUTPUT_ENABLED 0x01u    /* enabled by command, armed, no fault: the output may drive */
#define REG_FLAG_CONTACT_LOST 0x02u      /* open circuit: sense level only */
#define REG_FLAG_COMPLIANCE_LIMITED 0x04u
#define REG_FLAG_FAULT 0x08u
#define REG_FLAG_AT_TARGET 0x10u         /* reference, its sub-uA part included, equals target (SRS-314) */
#define REG_FLAG_ANTISHOCK_CUT 0x20u     /* a cut happened in this tick */
#define REG_FLAG_HOLDOFF 0x40u           /* output off after a cut */

/* sensor readings of one tick */
typedef struct {
    int32_t current_a_ua; /* channel A, magnitude, uA (pulsed: the peak of the last pulse) */
    int32_t current_b_ua; /* channel B, independent, uA (pulsed: the same) */
    int32_t voltage_mv;   /* electrode voltage, magnitude, mV (pulsed: in the on-phase) */
    int32_t off_current_ua; /* pulsed only: current at the end of the last off-phase, uA (ignored in DC) */
    int32_t settled_a_ua; /* pulsed only: channel A at the end of the last on-phase (the settled pulse), uA (ignored in DC) */
    int32_t settled_b_ua; /* pulsed only: channel B at the same instant, uA (ignored in DC) */
} reg_inputs_t;

/* drive command and status of one tick */
typedef struct {
    int32_t drive_mv;        /* drive voltage, 0..REG_COMPLIANCE_MV */
    int32_t stage_on;        /* 1: output stage drives the electrodes */
    int32_t sense;           /* 1: drive through the sense resistor */
    int32_t polarity;        /* REG_POLARITY_* */
    uint32_t flags;          /* REG_FLAG_* */
    int32_t fault;           /* REG_FAULT_* */
    int32_t reference_ua;    /* slewed reference (toward the target) */
    int32_t setpoint_ua;     /* regulated value: the reference, held lower while compliance limited */
    int32_t target_ua;       /* commanded target */
    int32_t measured_ua;     /* larger of the two channels (the regulated value) */
    int32_t flowing_permille;/* measured / target, 0..1000 (1000 if target 0) */
    int32_t load_ohms;       /* load estimate (SRS-027): V/I under drive, the sense divider
                                under the sense level; 0 when unknown (output off, open) */
    int32_t pulse_hz;        /* pulse train the board's PWM applies to the plain drive; 0: DC (SRS-259) */
    int32_t duty_percent;    /* its duty cycle; 0 in DC */
} reg_output_t;

/* noise-floor filter of one current channel (SRS-130) */
typedef struct {
    int32_t prev_ua;          /* last reading under plain drive (0: none) */
    int32_t mean_q;           /* filtered mean of |change|, 1/64 uA */
} reg_quiet_t;

/* regulator state; fields are private to regulator.c */
typedef struct {
    int32_t reference_ua;     /* slewed reference, whole uA */
    int32_t reference_frac_fa;/* and its sub-uA part, 0..999 999 999 fA (exact slew) */
    int32_t slew_fa_per_tick; /* 100 fA per nA/s: at most 5e8 fA (5 mA/s) */
    int32_t target_ua;
    uint32_t permille_recip;  /* (1000 << 16) / target, for the flowing fraction */
    int32_t enabled;
    int32_t polarity;
    int32_t fault;
    int32_t contact_lost;
    int32_t open_count;
    int32_t contact_count;
    int32_t short_count;
    int32_t settled_short_count; /* settled-pulse readings in a row below REG_SHORT_OHMS (SRS-311) */
    int32_t disagree_count;
    int32_t watchdog_count;
    int32_t holdoff_count;
    int32_t compliance_count;
    int32_t compliance_limited;
    int32_t r_est_q;          /* load estimate, 1/1024 mV per uA (1.024 x ohm) */
    int32_t estimate_count;
    int32_t load_q;           /* published load estimate, 1/1024 mV per uA; 0: unknown */
    int32_t sense_sum_mv;     /* sum of the voltage readings of the current sense window */
    int32_t sense_n;          /* readings in it */
    int32_t sense_hist_mv[REG_CONTACT_HIST]; /* sums of the last sense windows, newest at sense_hist_at (SRS-131) */
    int32_t sense_hist_at;    /* index of the newest entry */
    int32_t sense_hist_n;     /* valid entries (saturates at REG_CONTACT_HIST) */
    int32_t sense_max_mv;     /* largest reading of the current sense window (SRS-025) */
    int32_t last_max_ua;      /* larger channel of the last valid reading */
    int32_t last_drive_mv;    /* drive applied during the last tick */
    int32_t last_plain;       /* 1: last tick drove the electrodes directly (stage on, not sense) */
    int32_t plausible_count;  /* ticks with the voltage reading below the drive */
    int32_t last_a_ua;        /* last readings of the two channels (SRS-026) */
    int32_t last_b_ua;
    int32_t frozen_a_count;   /* ticks in a row with an unchanged reading above the noise bound */
    int32_t frozen_b_count;
    reg_quiet_t quiet_a;      /* noise-floor filters of the two channels (SRS-130) */
    reg_quiet_t quiet_b;
    int32_t saturated;        /* 1: last tick's drive at compliance with current below setpoint */
    int32_t blind_held;       /* 1: last tick's drive was held at the blind-rise bound, current below setpoint (SRS-025) */
    int32_t hold_on;          /* 1: setpoint held below the reference (SRS-024) */
    int32_t hold_ua;          /* held setpoint, whole uA */
    int32_t hold_frac_fa;     /* and its sub-uA part, fA */
    int32_t setpoint_ua;
    int32_t open_armed;       /* 1: a reading >= REG_OPEN_ARM_UA or a filtered mean >= REG_OPEN_ARM_MEAN_UA since the last restart (SRS-025) */
    int32_t anchor_mv;        /* drive of the last tick whose current was above the open-circuit noise (SRS-025) */
    int32_t evident_run;      /* plain readings in a row above the open-circuit noise, saturating at REG_BLIND_SHORT_RUN (SRS-025) */
    int32_t evidence;         /* 1: a reading >= REG_OPEN_ARM_UA, or the collapse tier armed, since the last restart */
    int32_t arm_mean_q;       /* filtered current reading under plain drive, 1/REG_OPEN_ARM_Q uA (SRS-025) */
    int32_t unseen_run;       /* plain readings in a row at or below the open-circuit noise, saturating at REG_LIFT_FAINT_TICKS (SRS-025, PR-026) */
    int32_t run_mean_q;       /* arm_mean_q at the last reading above the noise: the current the run began from (SRS-025, PR-026) */
    int32_t low_load;         /* 1: the load known before the drive is below REG_BLIND_LOW_LOAD_OHMS, or unknown (SRS-025) */
    int32_t boot_mv;          /* blind-rise bound until evidence, chosen from the known load (SRS-025) */
    int32_t probing;          /* 1: enable probe at the sense level before the first plain drive (SRS-010, SRS-025) */
    int64_t integ_q2;         /* PI integrator, 1/2^20 mV */
    int64_t tick;             /* tick counter (never wraps: 2^63 ticks) */
    int64_t cut_ticks[REG_TRANSIENT_COUNT]; /* ticks of the last cuts */
    int32_t cut_index;
    int32_t cut_stored;       /* valid entries in cut_ticks */
    int32_t cut_total;        /* anti-shock cuts since init */
    int32_t pulse_hz;         /* pulsed drive (SRS-259): 0 = DC */
    int32_t duty_percent;
    int32_t stuck_count;      /* off-phase readings in a row above REG_PULSE_STUCK_UA */
    int32_t settled_bad_count; /* settled-pair readings in a row that cannot be right (SRS-312) */
    uint32_t armed;           /* REG_ARMED_PATTERN: a passed checklist armed this session (SRS-307) */
} reg_state_t;

/*
 * Calling-context contract (SRS-212). The functions below are not
 * thread-safe and not reentrant: every one reads or writes several fields of
 * *reg that reg_tick also uses. They shall all run in ONE context, the
 * tick's: the same thread (or interrupt) that calls reg_tick, between two
 * calls of it, never concurrently with it. A command from another thread or
 * a lower-priority context reaches the tick through a mailbox that the tick
 * context applies at the start of a tick, so a command is never seen half
 * applied:
 *  - the C runner (cext/runner.h) does this: rt_post() from any one thread,
 *    the runner calls the functions below at the start of the next tick;
 *  - a timer interrupt on a microcontroller does the same with its own
 *    mailbox (or calls them with the tick interrupt masked);
 *  - the batch simulation (simload.c) calls them between batches, in the
 *    one thread that steps the ticks.
 *
 * reg_init           tick context, before the first reg_tick (or with the tick stopped)
 * reg_command        tick context; target and slew take effect together at the next reg_tick
 * reg_enable         tick context; on = 1 also restarts the watchdog in the same call;
 *                    on = 1 refused (REG_ERR_NOT_ARMED) unless reg_arm armed the session
 * reg_arm, reg_disarm tick context (arming.h)
 * reg_set_polarity   tick context; refused unless the output is off and |I| < 0.1 mA
 * reg_set_pulse      tick context; refused unless the output is off and |I| < 0.1 mA
 * reg_kick           tick context (the supervisor's kick arrives through the mailbox)
 * reg_search_contact tick context
 * reg_reset_fault    tick context; refused while current flows
 * reg_tick           the tick context itself, once per period (100 us)
 *
 * None of them blocks, allocates or loops unboundedly; each returns a status
 * code. Reading reg_state_t or reg_output_t from another thread is not
 * allowed either: the runner publishes a consistent copy (rt_status, rt_rows).
 */
int32_t reg_init(reg_state_t *reg);
int32_t reg_command(reg_state_t *reg, int32_t target_ua, int32_t slew_na_per_s);
int32_t reg_enable(reg_state_t *reg, int32_t on);
int32_t reg_set_polarity(reg_state_t *reg, int32_t polarity);
int32_t reg_set_pulse(reg_state_t *reg, int32_t pulse_hz, int32_t duty_percent);
int32_t reg_kick(reg_state_t *reg);
int32_t reg_search_contact(reg_state_t *reg);
int32_t reg_reset_fault(reg_state_t *reg);
int32_t reg_tick(reg_state_t *reg, const reg_inputs_t *in, reg_output_t *out);

#endif /* REGULATOR_H */
