/*
 * Build-time limits of the current-regulation loop.
 *
 * This header is the ONE place where every limit, threshold and timing of
 * the C regulator is defined. Each value cites the requirement that sets it
 * (docs/requirement-ids.md, spec/requirements.yaml) and says why it has this
 * value. Units: uA, mV, ohm, ticks (one tick = 1 / REG_TICK_HZ s).
 * Nothing in this file can be changed at run time; the Python wrapper reads
 * these values from the compiled module, it never defines them again.
 */
#ifndef REGULATOR_CONFIG_H
#define REGULATOR_CONFIG_H

/* ---- timing -------------------------------------------------------------- */

/* SRS-001: loop rate. 10 kHz gives 0.1 ms ticks: a trip acts within 0.2 ms. */
#define REG_TICK_HZ 10000
#define REG_TICKS_PER_MS (REG_TICK_HZ / 1000)

/* ---- current limits ------------------------------------------------------ */

/* SRS-005: hard current limit. No command can raise it: targets above it are
 * rejected and the reference is never above it. 30 mA is the highest rating
 * of commercial home devices (The Fischer 30 mA [FI]; Saalio 20-30 mA [SAAL]). */
#define REG_HARD_LIMIT_UA 30000

/* SRS-018: accepted range of the commanded target. The top of the range IS
 * the hard limit (one number, one place). */
#define REG_TARGET_MIN_UA 0
#define REG_TARGET_MAX_UA REG_HARD_LIMIT_UA

/* SRS-009: trip level. Any channel reading above it latches OVERCURRENT_TRIP
 * (or SHORT when the load impedance is below REG_SHORT_OHMS) with the output
 * off in the same tick. Set equal to the hard limit (requirement: <= hard
 * limit); Hidrex' separate circuit trips at 35 mA [HXS], we trip earlier. */
#define REG_TRIP_UA REG_HARD_LIMIT_UA

/* SRS-003, SRS-018: accepted slew rates of the reference (uA per second).
 * 1 uA/s allows ramps of many minutes; 5000 uA/s (5 mA/s) brings 25 mA to 0
 * in 5 s, the fastest controlled ramp-down; faster steps are felt as shocks
 * ("slowly" [FI, SAALP]; 30 s ramps in drug iontophoresis [IDC]). */
#define REG_SLEW_MIN_UA_PER_S 1
#define REG_SLEW_MAX_UA_PER_S 5000

/* ---- drive voltage ------------------------------------------------------- */

/* SRS-006: compliance limit of the drive. 60 V: strong commercial units reach
 * 58-60 V [FI, SAAL]. The drive command never exceeds it. */
#define REG_COMPLIANCE_MV 60000

/* SRS-006: "compliance limited" is reported after the drive has been at the
 * compliance limit with current below the reference for 5 ms, and cleared
 * after 5 ms off the limit (hysteresis: no flicker from sensor noise). */
#define REG_COMPLIANCE_TICKS (5 * REG_TICKS_PER_MS)

/* ---- anti-shock ---------------------------------------------------------- */

/* SRS-007: anti-shock band. A reading above reference + max(20 % of the
 * reference, 0.5 mA) cuts the output. The band follows the reference (not
 * only the target) so that a re-ramp from 0 is guarded too, and so that a
 * lowered target does not cut while the reference slews down. The 0.5 mA
 * floor is 25 standard deviations of the sensor noise (20 uA rms) so noise
 * at 1 mA never cuts, and below the 1 mA that is barely perceptible. */
#define REG_ANTISHOCK_BAND_PERCENT 20
#define REG_ANTISHOCK_FLOOR_UA 500

/* SRS-007: after a cut the output stays off for 10 ms before the reference
 * restarts from 0 under the slew limit (lets the load's charge decay). */
#define REG_ANTISHOCK_HOLDOFF_TICKS (10 * REG_TICKS_PER_MS)

/* SRS-008: REG_TRANSIENT_COUNT cuts within REG_TRANSIENT_WINDOW_TICKS latch a
 * TRANSIENTS fault: 3 cuts in 10 s means the contact is unstable, restarting
 * again would shock the patient repeatedly. */
#define REG_TRANSIENT_COUNT 3
#define REG_TRANSIENT_WINDOW_S 10
#define REG_TRANSIENT_WINDOW_TICKS (REG_TRANSIENT_WINDOW_S * REG_TICK_HZ)

/* ---- open circuit (lift-off) --------------------------------------------- */

/* SRS-010: open circuit is declared when the apparent load (voltage over
 * current) is above 100 kOhm with at least 1 V of drive, for 2 ms. 100 kOhm
 * is 10x the highest load we must regulate (10 kOhm). Detection plus the
 * change to the sense level takes < 3 ms, well inside the 10 ms required. */
#define REG_OPEN_OHMS 100000
#define REG_OPEN_MIN_MV 1000
#define REG_OPEN_TICKS (2 * REG_TICKS_PER_MS)

/* SRS-010: sense level while contact is lost. The output stage applies it
 * through its sense resistor (hardware, REG_SENSE_SERIES_OHMS), so at most
 * 0.1 mA can flow at re-immersion: no "electric fence" shock [SGS, SAALW]. */
#define REG_SENSE_MV 5000
#define REG_SENSE_SERIES_OHMS 50000

/* SRS-011: contact is back when the electrode voltage under the sense level
 * falls below 2.5 V (the load takes at least half of the sense voltage: any
 * load up to 50 kOhm) for 1 ms. */
#define REG_CONTACT_MV 2500
#define REG_CONTACT_TICKS (1 * REG_TICKS_PER_MS)

/* ---- short (low impedance) ----------------------------------------------- */

/* SRS-012: a load below 250 ohm with at least 0.5 mA flowing, for 0.5 ms, is a
 * short (metal contact [FI, HXC]). 250 ohm lies between the 100 ohm short we
 * must catch and the 500 ohm lowest load we must regulate (2x margin each). */
#define REG_SHORT_OHMS 250
#define REG_SHORT_MIN_UA 500
#define REG_SHORT_TICKS 5

/* ---- redundant sensing --------------------------------------------------- */

/* SRS-013: the two current channels may differ by at most
 * max(0.5 mA, 10 % of the larger reading); beyond both for 5 consecutive
 * ticks (0.5 ms) a SENSOR_DISAGREE fault latches. 0.5 mA is 18 standard
 * deviations of the difference of two noisy channels. */
#define REG_DISAGREE_ABS_UA 500
#define REG_DISAGREE_PERCENT 10
#define REG_DISAGREE_TICKS 5

/* ---- ADC ranges ---------------------------------------------------------- */

/* SRS-014: plausible readings. Current channels: 12-bit ADC, 0..50 mA full
 * scale (above the 40 mA hardware clamp, so a working sensor never reads
 * beyond). Electrode voltage: 0..80 V full scale (above the 60 V compliance).
 * A reading outside [0, full scale] cannot come from a working ADC. */
#define REG_ADC_COUNTS 4096 /* 12 bits */
#define REG_ADC_CURRENT_MIN_UA 0
#define REG_ADC_CURRENT_MAX_UA 50000
#define REG_ADC_VOLTAGE_MIN_MV 0
#define REG_ADC_VOLTAGE_MAX_MV 80000

/* ---- watchdog ------------------------------------------------------------ */

/* SRS-015: the supervisor must kick within 50 ms while the output is
 * enabled; otherwise output off and WATCHDOG latched. 50 ms is 5 supervisor
 * rows of 10 ms (SRS-085) and short against any thermal effect. */
#define REG_WATCHDOG_MS 50
#define REG_WATCHDOG_TICKS (REG_WATCHDOG_MS * REG_TICKS_PER_MS)

/* ---- zero current -------------------------------------------------------- */

/* SRS-016, SRS-017: "no current flowing": both channels below 0.1 mA.
 * Polarity changes and fault resets need it. */
#define REG_ZERO_CURRENT_UA 100

/* ---- controller ---------------------------------------------------------- */

/* SRS-002, SRS-004: PI gains, scaled by the estimated load resistance so the
 * loop has the same speed at 500 ohm and at 10 kOhm. In 1/1024 units (the
 * code works in 1/2^20 mV: load estimate 1/1024 mV/uA times these gains):
 * integral 0.2 per tick (0.5 ms time constant on a resistive load: a load
 * halving over 20 ms peaks <= 7.1 % above target), proportional 0.025 (small:
 * the P path passes sensor noise straight to the patient current). With the
 * series resistance >= 30 % of the load (load model) the high-frequency loop
 * gain stays below 0.8 (stable, no ringing). Tuned on the load model over
 * 500 ohm..10 kOhm and 0.01..10 uF. */
#define REG_KI_NUM 205
#define REG_KP_NUM 26

/* SRS-002: load estimate (ohm) used to scale the gains. It starts at the
 * lowest regulated load (slowest, safest loop) after every restart and
 * follows voltage/current only while at least 0.2 mA flows. */
#define REG_REST_MIN_OHMS 500
#define REG_REST_MAX_OHMS 20000
#define REG_REST_INIT_OHMS REG_REST_MIN_OHMS
#define REG_REST_MIN_CURRENT_UA 200
#define REG_REST_EVERY_TICKS 4 /* updated every 4 ticks ... */
#define REG_REST_FILTER_DIV 4  /* ... by 1/4 of its error: a 1.6 ms filter */

#endif /* REGULATOR_CONFIG_H */
