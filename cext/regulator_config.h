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

/* SRS-024: while the drive is at the compliance limit the regulated setpoint
 * is held at most 0.2 mA above the measured current (the reported reference
 * still slews to the target). When the load falls again (hand back in the
 * tray) the setpoint rises only at the commanded slew and the anti-shock band
 * follows what actually flows, so the current cannot step up to the target
 * (safety review F3). 0.2 mA is 4x the sensor noise bound (49 uA): noise
 * never pulls the setpoint below the current, which keeps the drive
 * saturated and the status steady. */
#define REG_COMPLIANCE_HOLD_MARGIN_UA 200

/* SRS-022: the drive may RISE by at most 20 mV per tick (200 V/s); it may
 * fall as fast as the loop wants. The fastest legitimate rise is the 5 mA/s
 * maximum slew into the 10 kOhm highest load: 50 V/s = 5 mV per tick; 20 mV
 * leaves 4x for the skin-capacitance charge and the PI. Without it the
 * integrator wound the drive from 20 V to the 60 V compliance within ~10
 * ticks of a lift-off, before the (then 2 ms) open detection, and a 1.5 ms
 * contact bounce at 10 mA then met 60 V at re-contact (safety review F5; the
 * "electric fence" shock [SGS, SAALW]). With it, 2 ms of windup add at most
 * 0.4 V: 0.2 mA more on a 2 kOhm load (defence in depth behind the open
 * detection of SRS-010, which waits 2 ms below 2 V of drive). */
#define REG_DRIVE_RISE_MV_PER_TICK 20

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

/* SRS-010, SRS-024: open circuit. The apparent load (voltage over current)
 * is compared with 20 kOhm, 2x the highest load we must regulate (10 kOhm;
 * 11.75 kOhm with the skin's DC-onset excess). It was 100 kOhm: a partial
 * lift-off between 20 and 100 kOhm then sat at the 60 V compliance and
 * re-immersion met 60 V (safety review F3; re-immersion shocks [SGS, SAALW]).
 * Two tiers:
 * - at once (one reading) when the voltage is above 20 kOhm x (current +
 *   REG_OPEN_NOISE_UA), i.e. the current is below the load's share even
 *   allowing for the sensor noise bound (2.45 x 20 uA rms = 49 uA): an open
 *   circuit with >= 2 V of drive. While lifted the skin capacitance
 *   discharges through the skin resistance (1.4 ms at 2 kOhm, 1 uF), so a
 *   1.5 ms contact bounce re-met an unchanged 20 V drive through the series
 *   resistance alone: 26 mA (safety review F5). The sense level at once
 *   removes it. A regulated load would have to lose half its current plus
 *   the noise bound in one tick to trip this.
 * - at once when the current falls below 1/4 of a setpoint of at least
 *   0.5 mA (an open circuit reads <= 49 uA, under 1/4 of 0.5 mA; the drive
 *   may be below 1 V, e.g. 1 mA on 500 ohm). A load cannot lose 3/4 of its
 *   current in a tick while in the tray; a 4x rise of the load is a partial
 *   lift-off, and the sense level is the safe answer to it too.
 * - after 2 ms when the voltage is >= 1 V and above 20 kOhm x current (the
 *   1..2 V drives of low currents, where one reading cannot tell an open
 *   circuit from noise: 20 kOhm x 49 uA = 0.98 V < 1 V). */
#define REG_OPEN_OHMS 20000
#define REG_OPEN_NOISE_UA 50
#define REG_OPEN_LOST_MIN_UA 500
#define REG_OPEN_LOST_DIV 4
#define REG_OPEN_MIN_MV 1000
#define REG_OPEN_TICKS (2 * REG_TICKS_PER_MS)

/* SRS-010: sense level while contact is lost. The output stage applies it
 * through its sense resistor (hardware, REG_SENSE_SERIES_OHMS), so at most
 * 0.1 mA can flow at re-immersion: no "electric fence" shock [SGS, SAALW]. */
#define REG_SENSE_MV 5000
#define REG_SENSE_SERIES_OHMS 50000

/* SRS-011, SRS-024: contact is back when the electrode voltage under the
 * sense level falls below 1.25 V (a load below 16.7 kOhm: 5 V x R / (R + 50
 * kOhm)) for 1 ms. Below the 20 kOhm open threshold (hysteresis), so a hand
 * half in the tray (20..100 kOhm) stays "contact lost" instead of cycling
 * between a restart and a new open detection; above the 0.95 V that the
 * highest regulated load (11.75 kOhm) takes, plus noise. */
#define REG_CONTACT_MV 1250
#define REG_CONTACT_WINDOW_TICKS 10
#define REG_CONTACT_WINDOWS 1

/* SRS-027: the published load estimate under the sense level is "unknown"
 * (0) above 1 MOhm: the sense divider cannot resolve more. */
#define REG_SENSE_LOAD_MAX_OHMS 1000000

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

/* SRS-023: plausibility of the electrode-voltage reading against the drive
 * the regulator commanded in the previous tick. With the stage on and not in
 * sense mode the electrodes carry the drive (open, loaded or shorted alike);
 * only the hardware clamp (above the trip level, so already a fault) lowers
 * them. A reading more than max(2 V, 10 % of the drive) BELOW the drive for
 * 5 consecutive ticks (0.5 ms) latches VOLTAGE_IMPLAUSIBLE: a voltage channel
 * failed low would otherwise hide a lift-off (no open detection, drive at
 * compliance at re-immersion: safety review F4, single fault). A reading
 * ABOVE the drive is plausible (the stage cannot sink current, the skin
 * capacitance holds its charge after the drive falls) and fails safe (a
 * high reading looks like an open circuit). 2 V is 40x the noise bound
 * (49 mV) plus one ADC step (19.5 mV). */
#define REG_PLAUSIBLE_ABS_MV 2000
#define REG_PLAUSIBLE_PERCENT 10
#define REG_PLAUSIBLE_TICKS 5

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
