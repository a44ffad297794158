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

/* SRS-003, SRS-018: accepted slew rates of the reference, in nA per second
 * (SRS-028: the unit is fine enough that every ramp of the settings range,
 * 1..25 mA in 0.01 mA steps over 10..120 s, ends within 10 ms of its set
 * length: whole uA/s made 1.00 mA over 106 s take 6 % longer, which the
 * supervisor's ramp-overrun check turned into a fault. Rounding the slew to
 * the nearest nA/s moves a ramp's end by at most 0.5 nA/s / (1 mA/120 s) x
 * 120 s = 7.2 ms, plus one 0.1 ms tick).
 * 1 uA/s allows ramps of many minutes; 5 mA/s brings 25 mA to 0 in 5 s, the
 * fastest controlled ramp-down; faster steps are felt as shocks ("slowly"
 * [FI, SAALP]; 30 s ramps in drug iontophoresis [IDC]). */
#define REG_SLEW_MIN_NA_PER_S 1000
#define REG_SLEW_MAX_NA_PER_S 5000000

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

/* SRS-025: lift-off at low setpoints (issue 8 point 1). Physics of the load:
 * at re-contact after the skin capacitance has discharged, the first tick's
 * current is drive / series resistance (30 % of the load); the steady drive
 * for a reference s is 1.175 x load x s (skin +25 % at DC onset), so even an
 * unchanged drive meets the hand with 3.9 x s. That is within s + 0.5 mA only
 * for s <= 0.17 mA: above it the lift must be seen before re-contact.
 * Sensor: noise bounded at 49 uA, 12-bit steps of 12.2 uA: an open circuit
 * reads at most 48.8 uA on either channel (4 steps).
 * - collapse tier: a reading below REG_OPEN_NOISE_UA (50 uA) is open at once
 *   once a reading >= REG_OPEN_ARM_UA (160 uA = 50 uA + 49 uA noise + 12 uA
 *   step, rounded up: the true current was then >= 105 uA, so a healthy
 *   contact cannot read below 50 uA without losing current) has been seen
 *   since the last restart, while the setpoint is >= REG_OPEN_FIRE_MIN_UA
 *   (120 uA: a regulated current this high reads >= 65 uA) and the last
 *   drive is at least what a load of REG_SHORT_OHMS needs for the setpoint
 *   (below, e.g. a 100 ohm short, 1 mV of drive is 10 uA and the current
 *   jitters; the short check of SRS-012 decides there). Arming on a
 *   reading, not on the setpoint, keeps a lagging ramp (10 kOhm at 5 mA/s:
 *   ~60 uA behind, or still driving blind, see below) from tripping it; the
 *   1/4 tier of SRS-024 (setpoint >= 0.5 mA) is armed the same way.
 * - blind rise: a reading above REG_OPEN_NOISE_UA is evidence that the last
 *   drive reached a load. Without evidence the drive stays within
 *   max(REG_BLIND_RISE_MIN_MV, 1/REG_BLIND_RISE_DIV of it) above the drive of
 *   the last evidence, so a lift too small to be seen winds the drive up by
 *   at most 25 % + 10 mV however long it lasts: re-contact meets
 *   (1.25 x 1.175 x R x s + 10 mV) / 0.3 R = 4.9 s + 10 mV / 0.3 R, within
 *   s + 0.5 mA for s <= 0.11 mA at 500 ohm (10 mV / 150 ohm = 67 uA) and
 *   above that the collapse tier is armed (reading >= 160 uA). 1/4, not
 *   less: at 10 kOhm the current is seen only on some ticks below ~50 uA,
 *   and a smaller step stalled the start of a ramp there (measured).
 * - until the first 160 uA reading after a restart the drive may rise blind
 *   to a boot bound chosen from the load the regulator knows BEFORE it drives
 *   (issue 8 point 1 residual): REG_BLIND_RISE_BOOT_MV (120 mV) when the
 *   load is known to be above REG_BLIND_BOOT_HIGH_OHMS (2.5 kOhm), else
 *   REG_BLIND_BOOT_LOW_MV (70 mV). Re-contact after the skin capacitance has
 *   discharged meets bound / series resistance (0.3 R): 70 mV / 150 ohm =
 *   0.47 mA at 500 ohm (<= 0.5 mA; 75 mV would be the limit); 120 mV /
 *   (0.3 x 2.5 kOhm) = 0.16 mA, and 120 mV is within 0.5 mA for any load
 *   above 800 ohm. 120 mV is needed only near 10 kOhm (11.75 kOhm at onset:
 *   >= 70 mV before its current can read above the 48.8 uA open-circuit
 *   bound; 120 mV gives 10 uA); 70 mV gives the same 10 uA up to ~6 kOhm.
 *   Where the load is known:
 *   . at enable: the enable probe, one window of REG_CONTACT_WINDOW_TICKS
 *     (10 ms) at the sense level before the first plain drive, the
 *     reference slewing on (SRS-010: ramp timing unchanged, no contact in
 *     the window -> contact lost);
 *   . at a contact return: the last sense window (SRS-011);
 *   . after an anti-shock cut: V/I of the cut reading (> 0.5 mA flowing; the
 *     load the current met, low when the load fell: the safe side).
 *   The window mean at the sense level: 2 V x R / (220 kOhm + R) is 4.5 mV at
 *   500 ohm, 22.5 mV at 2.5 kOhm, 89 mV at 10 kOhm (x 1.175 at DC onset);
 *   the reading has 20 mV rms noise and 19.5 mV steps and is clipped at 0,
 *   so the mean is E[max(0, V + n)]: ~10.4 mV at 500 ohm (2 mV rms over 100
 *   readings), ~24 mV at 2.5 kOhm. Threshold REG_BLIND_BOOT_HIGH_MV = 22 mV
 *   (2.5 kOhm) is ~6 sigma above 500 ohm. Measured on the rig (window
 *   estimate after the enable probe, 12 seeds, 0.01/1/10 uF): 500 ohm
 *   0.76..1.28 kOhm, 800 ohm <= 1.58 kOhm, 1.5 kOhm <= 2.1 kOhm -> always
 *   low; 10 kOhm >= 3.05 kOhm (10 uF: the capacitance still charging) ->
 *   always high; 4 kOhm at 10 uF reads ~1.8 kOhm -> low, safe and it starts.
 *   A misjudged load errs low (a charging capacitance lowers the mean).
 *   The bound holds until the first 160 uA reading at ANY setpoint (issue 8
 *   point 1, review of main): it used to end at REG_BLIND_MAX_UA, and a lift
 *   that began before any evidence and lasted while the reference passed
 *   0.2 mA met the 1 V open tier through the series resistance (6.56 mA
 *   above the reference at 500 ohm). */
#define REG_OPEN_ARM_UA 160
#define REG_OPEN_FIRE_MIN_UA 120
#define REG_BLIND_RISE_BOOT_MV 120
#define REG_BLIND_BOOT_LOW_MV 70
#define REG_BLIND_BOOT_HIGH_OHMS 2500
#define REG_BLIND_BOOT_HIGH_MV ((REG_SENSE_MV * REG_BLIND_BOOT_HIGH_OHMS) / (REG_BLIND_BOOT_HIGH_OHMS + REG_SENSE_SERIES_OHMS))
/* SRS-025: a sense window with a reading at or above REG_BLIND_BOOT_OPEN_MV
 * (314 mV, twice the contact level) held an open-circuit tick (a lifted hand
 * reads the 2 V sense level): its mean says nothing about the load, and the
 * low bound is taken. A contact below REG_CONTACT_OHMS reads at most 157 mV +
 * 49 mV noise + one 19.5 mV step = 226 mV; a lift of one tick in a 500 ohm
 * window raised its mean from ~10 to ~30 mV, above the 22 mV high-bound
 * threshold, and a 1-98-38 tick chatter then met 82 mV of drive: 0.51 mA
 * above the reference (issue 8 point 1, hypothesis case). */
#define REG_BLIND_BOOT_OPEN_MV (2 * REG_CONTACT_MV)
/* once a 160 uA reading has been seen the blind-rise bound acts only below
 * REG_BLIND_MAX_UA (200 uA): above, the collapse tier (armed by that
 * reading), the 1 V open-circuit tiers of SRS-010/024 and the 20 mV/tick
 * rise limit bound a lift. Before it, the bound holds at every setpoint: a
 * 10 kOhm ramp still rises, by 1/4 per reading above 50 uA; while the bound
 * holds the drive back the reference waits (a current that never shows
 * ends the ramp by the supervisor's ramp-overrun bound, not "completed"). */
#define REG_BLIND_MAX_UA 200
/* SRS-025 (issue 8 point 1, residual of main 29f408b): the band 0.11..0.2
 * mA. A current regulated at 0.12..0.17 mA reads >= 160 uA only with
 * favourable noise, so the collapse tier stayed unarmed there and the 1/4
 * blind rise met re-contact with 4.9 s + 10 mV / 0.3 R (0.50..0.64 mA above
 * the reference in the stress runs: 18 of 1200 chatter cases, 5 of 3000
 * cases of 1..20 ms chatter). And a 160 uA reading seen while the setpoint
 * was below 0.12 mA counted as evidence without arming: above 0.2 mA the
 * bound was then off and a lift wound the drive at 20 mV per tick to the
 * 1 V tier, 6.1 mA above the reference at 500 ohm. Now:
 * - arming by the filtered mean: every plain reading enters a filter of
 *   1/REG_OPEN_ARM_FILTER_DIV (1/8) per tick, in 1/REG_OPEN_ARM_Q (1/16)
 *   uA; a mean >= REG_OPEN_ARM_MEAN_UA (131 uA) arms the collapse tier
 *   like a 160 uA reading. The filter's sd is 20.3 uA x sqrt(1/15) = 5.2
 *   uA (20 uA rms noise + the 12.2 uA step), so 131 uA is 5 sd above the
 *   105 uA a healthy contact needs to never read below 50 uA: a current
 *   below 105 uA arms with p < 3e-7 per tick (and a false arming costs one
 *   safe "contact lost"), a current at 0.137 mA arms within a few ms. The
 *   filter restarts from 0 at every restart, so it lags a rising current;
 *   a collapse reading is judged before the arming, so the mean that a
 *   lift has not yet pulled down never shadows it. Arming sets the
 *   evidence too (the reference no longer waits).
 * - the bound holds at every setpoint until the tier is armed, not only
 *   until the first 160 uA reading.
 * - the blind rise by band: below REG_BLIND_FINE_MIN_UA (0.1 mA) 1/4, at
 *   least 10 mV, as before (a 10 kOhm start needs it); from 0.1 mA
 *   1/REG_BLIND_FINE_DIV (1/16), at least REG_BLIND_FINE_MIN_MV (2 mV: a
 *   short's drive of ~10 mV still rises): re-contact meets 1.0625 x 3.92 s
 *   + 2 mV / 150 ohm = 4.17 s + 13 uA, within s + 0.5 mA up to 0.153 mA,
 *   above the ~0.137 mA where the mean arms the tier.
 * - less compounding: from REG_BLIND_START_MAX_UA (120 uA) a reading above
 *   the setpoint never raises the anchor (the drive was enough). One-tick
 *   contacts at 0.1 mA read 97, 122 and 134 uA at drives the blind rise had
 *   wound up, each re-anchored the next, 72 -> 112 mV: 0.62 mA at 600 ohm
 *   (0.52 mA above the reference). From 50 uA the rule held every stress
 *   case, but 1 mA sessions ramped over 106..120 s reached the set current
 *   0.5 s late (SRS-028); from 75 uA a 1 mA / 119 s ramp ended 10 ms late.
 *   A finer rise below 0.1 mA (1/6, 1/8) also held the band but made the
 *   reference wait: a 1 mA / 119 s ramp at 1 kOhm ended 10 ms late (SRS-028).
 * - short contacts (PR-038, issue 8 point 1 residual): below 0.12 mA one-
 *   and two-tick contacts after lifts still compounded the 1/4 rise: the
 *   reading is that of the tick before (one tick late), a contact of one tick
 *   read 85..134 uA at the drive the lift had wound up to the bound, and
 *   each re-anchored the next: 52 -> 70 -> 87 mV at 500 ohm, 87 mV / 150 ohm
 *   = 0.58 mA at 0.07 mA (4 of the 23 stress failures of main, 0.51..0.55
 *   mA above; 4 of 2000 random sub-ms chatter cases). Now the first
 *   REG_BLIND_SHORT_RUN (2) readings above the noise after one at it, above
 *   a setpoint of more than REG_BLIND_SHORT_MIN_UA (55 uA) and below 120 uA,
 *   never raise the anchor, like readings above the setpoint from 120 uA,
 *   where the load is known low: the low boot bound and either the
 *   reference at its target, an anti-shock cut since the last sense window
 *   (s28, SRS-025 (b)), or that window below REG_BLIND_LOW_LOAD_OHMS (1.3
 *   kOhm; window estimates: 500 ohm 0.76..1.28 kOhm, 2.5 kOhm at 10 uF
 *   1.25..1.73 kOhm, 4..5 kOhm at 10 uF >= 1.68 kOhm). Narrower than the
 *   physics asks, on purpose: applied to every low boot bound (or with the
 *   reading's DC share as the anchor) it held every case, but 4..5 kOhm
 *   starts at 10 uF (judged low) ended their ramps 31..61 ms late, and
 *   from 50 uA a 800 ohm return to 0.05 mA settled 5.7 ms later.
 *   OPEN (PR-038): 4 of 4000 random sub-ms chatter cases 0.515..0.574 mA
 *   above the reference: three while the reference still rises on a
 *   500..800 ohm load whose window read above 1.3 kOhm, one compounding on
 *   2.5 kOhm with the high boot bound.
 */
#define REG_OPEN_ARM_MEAN_UA 131
#define REG_OPEN_ARM_Q 16
#define REG_OPEN_ARM_FILTER_DIV 8
#define REG_BLIND_FINE_MIN_UA 100
#define REG_BLIND_FINE_DIV 16
#define REG_BLIND_FINE_MIN_MV 2
#define REG_BLIND_START_MAX_UA 120
#define REG_BLIND_RISE_MIN_MV 10
#define REG_BLIND_RISE_DIV 4
#define REG_BLIND_SHORT_RUN 2
#define REG_BLIND_SHORT_MIN_UA 55
#define REG_BLIND_LOW_LOAD_OHMS 1300
/* a window is below REG_BLIND_LOW_LOAD_OHMS when its sum of sense readings
 * times (REG_BLIND_LOW_LOAD_OHMS + REG_SENSE_SERIES_OHMS) is below this
 * (REG_SENSE_MV x REG_BLIND_LOW_LOAD_OHMS x the window: a window mean of
 * 11.75 mV, 1.3 kOhm exactly; s30: the mean rounded down to 11 mV judged
 * 1.217..1.3 kOhm not low, against SRS-025 (b)) */
#define REG_BLIND_LOW_LOAD_CROSS ((int64_t)REG_SENSE_MV * (int64_t)REG_BLIND_LOW_LOAD_OHMS * (int64_t)REG_CONTACT_WINDOW_TICKS)

/* SRS-025 (PR-026, issue 8 point 1): re-contact onto a lower load. The drive
 * held during a lift that is not seen is the drive that regulated the old
 * load R: 1.175 x R x i. Re-contact onto R/10 after the skin capacitance has
 * discharged meets it through 0.3 x R/10: 39 x i (5 kOhm at 0.12 mA, lifted
 * 5 ms, onto 500 ohm: 5.5 mA). Before the collapse tier is armed, so below
 * ~0.13 mA, one reading at the noise cannot tell a lift from a current of
 * 20..105 uA; a RUN of them can: an open circuit never reads above
 * REG_OPEN_NOISE_UA, a current i reads at or below it on both channels with
 * q(i) per tick (20 uA rms triangular noise, 12.2 uA steps): q = 0.92 at
 * 20 uA, 0.36 at 50 uA, 0.014 at 80 uA, 0 from 105 uA. The current a run
 * began from is known from arm_mean_q at the last reading above the noise
 * (run_mean_q): it reads the current + 11..15 uA (the larger channel),
 * sd 4 uA; i >= run_mean - REG_LIFT_MEAN_MARGIN_UA (41 uA) is a 6 sd bound.
 * Tiers, each a false lift with q^K < 1e-9 per run:
 *   run_mean >= 121 uA (i >= 80 uA): 5 readings   (0.014^5 = 6e-10)
 *   run_mean >=  91 uA (i >= 50 uA): 21 readings  (0.36^21 = 4e-10)
 *   run_mean >=  61 uA (i >= 20 uA): 250 readings (0.92^250 = 9e-10)
 * A run that long is a lift: contact lost, the sense level, and the boot
 * bound chosen again from the load seen at the return (SRS-011). Only while
 * the last drive is above what re-contact onto the lowest regulated load
 * may meet: REG_LIFT_SERIES_OHMS (0.3 x 500 ohm) x (setpoint +
 * REG_LIFT_BAND_UA); below it an unseen lift is harmless (a 500 ohm
 * session, a short's drive of a few mV, the boot bound of 70 mV).
 * The review's session (5 kOhm, 1 uF, 25 mA at 2.5 mA/s, lifted at
 * 0.143..0.145 mA for 5 or 10 ms onto 500 ohm): 4.3..4.5 mA on main, now
 * told within 5 readings, the sense level at re-contact.
 * OPEN (PR-026), physics of the noise, not of this rule: a lift shorter
 * than its tier (5 readings from 121 uA .. 3000 from 51 uA) still meets
 * the held drive, onto 1/10 of the load up to 39 x i (1 tick at 82 uA,
 * 5 kOhm onto 500 ohm: 3.2 mA above the reference); a run that began below
 * 51 uA (currents below ~40 uA, the first seconds of a slow ramp) is never
 * told (7.5 kOhm below ~40 uA, lifted 0.6 s onto 750 ohm: 2.0 mA above); the
 * 120 mV boot bound (loads read above 2.5 kOhm) meets 0.8 mA through the
 * 150 ohm of a 500 ohm load. Random cases over the range of SRS-025 (d)
 * (600, 1..25 mA ramps, lifts 0.1 ms..0.6 s, loads down to 1/10): 44 over
 * the band, worst 3.7 mA above, none with the lift as long as its tier. */
#define REG_LIFT_FAST_MEAN_UA 121
#define REG_LIFT_FAST_TICKS 5
#define REG_LIFT_MID_MEAN_UA 91
#define REG_LIFT_MID_TICKS 21
#define REG_LIFT_LOW_MEAN_UA 71
#define REG_LIFT_LOW_TICKS 81
#define REG_LIFT_SLOW_MEAN_UA 61
#define REG_LIFT_SLOW_TICKS 250
#define REG_LIFT_FAINT_MEAN_UA 51
#define REG_LIFT_FAINT_TICKS 3000
#define REG_LIFT_SERIES_OHMS 150
#define REG_LIFT_BAND_UA 500

/* SRS-010, SRS-029: sense level while contact is lost. The output stage
 * applies it through its sense resistor (hardware, REG_SENSE_SERIES_OHMS).
 * 2 V through 220 kOhm drives at most 2 V / 220 kOhm = 9.1 uA into any load
 * down to a dead short: within the 10 uA d.c. patient auxiliary current that
 * IEC 60601-1 allows in normal condition, with 9 % left for the tolerance of
 * the resistor and the DAC (issue 8 point 8: 5 V through 50 kOhm drove 42-71
 * uA through partial contacts of 18-60 kOhm while paused). No "electric
 * fence" shock at re-immersion [SGS, SAALW]. */
#define REG_SENSE_MV 2000
#define REG_SENSE_SERIES_OHMS 220000

/* SRS-011, SRS-024, SRS-029: contact is back when the MEAN electrode voltage
 * under the sense level over each of REG_CONTACT_WINDOWS consecutive windows
 * of REG_CONTACT_WINDOW_TICKS readings is below REG_CONTACT_MV, i.e. a load
 * below REG_CONTACT_OHMS. With ~9 uA the electrode voltage is ~9 uA x R (15
 * kOhm: 0.13 V) against 20 mV rms reading noise, so single readings cannot
 * decide; the mean of 100 readings has 2 mV rms (+ the 12-bit step, dithered
 * by the noise). Threshold 18.75 kOhm = 157 mV: between a 15 kOhm contact
 * at DC onset (17.6 kOhm, 148 mV: 9 mV = 4.5 sigma below) and 20 kOhm
 * (167 mV: 10 mV = 5 sigma above); two windows in a row (20 ms) make a false
 * "contact" at 20 kOhm a ~1e-11 event per window, and 25 kOhm (204 mV) is 23
 * sigma away. Below the 20 kOhm open threshold (hysteresis): a hand half in
 * the tray stays "contact lost" instead of cycling between a restart and a
 * new open detection.
 * Settled: since SRS-131 a rise over one window (12 mV) with a bypass
 * under 127 mV no longer decides: see below. */
#define REG_CONTACT_OHMS 18750
#define REG_CONTACT_MV ((REG_SENSE_MV * REG_CONTACT_OHMS) / (REG_CONTACT_OHMS + REG_SENSE_SERIES_OHMS))
#define REG_CONTACT_WINDOW_TICKS 100
#define REG_CONTACT_WINDOWS 2
/* SRS-131 (issue 8, safety review): settled over REG_CONTACT_SETTLE_WINDOWS.
 * The skin capacitance charges through the sense resistor with tau = C x
 * (226 kOhm || 0.7 R x 1.25), 0.13..0.16 s for 20 kOhm at 10 uF: on its way
 * to 167..193 mV it spends ~0.2 s under the 157 mV level, and a window-to-
 * window rise there is 0.6 mV per 10 ms against 2 mV rms noise, so neither
 * one window (enable probe) nor the rise over one window (with the 127 mV
 * bypass) could tell it from a 15 kOhm contact: 20..40 kOhm was taken as
 * contact at 1..10 uF. At a contact return (SRS-131; the enable probe still
 * judges one window, open) the mean of the last REG_CONTACT_WINDOWS windows
 * must not exceed the mean of the REG_CONTACT_WINDOWS windows
 * REG_CONTACT_SETTLE_WINDOWS (200 ms) earlier by more than
 * REG_CONTACT_RISE_MV. A 20 kOhm load at 10 uF under the level is >= 10 mV
 * below its asymptote, so it rises >= 10 x (e^(0.2/0.132) - 1) = 36 mV over
 * 200 ms; the difference of two 2-window means has ~2.1 mV rms, and 8 mV is
 * ~4 sigma (a settled contact is delayed by a window now and then, never
 * refused). No bypass below any level: the cost is a longer detection, up
 * to ~0.51 s for 15 kOhm at 10 uF after a lift (<= 1 s, SRS-131; ~0.95 s
 * after a pause, the charged capacitance discharging first), which only
 * delays current. */
#define REG_CONTACT_SETTLE_WINDOWS 20
#define REG_CONTACT_RISE_MV 8
#define REG_CONTACT_HIST (REG_CONTACT_SETTLE_WINDOWS + REG_CONTACT_WINDOWS)

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
/* SRS-311 (PR-069): pulsed, the fault also needs this many readings in a row
 * of the settled pulse (the two channels at the on-phase's end) below
 * REG_SHORT_OHMS. A metal contact's first settled reading comes at most 2
 * readings after its first peak (an on-phase lasts <= 186 us, 4.3 kHz 80 %),
 * so by the 5th peak reading it has given 3: the latch tick is unchanged;
 * one noisy reading (20 mV rms at 80 mV, 0.5 mA on 150 ohm) no longer ends
 * a session whose peaks meet only the series resistance. */
#define REG_SHORT_SETTLED_TICKS 3
/* SRS-311: the settled pulse counts for at most the peak / 2: the spike of a
 * skin capacitance is credited up to twice the peak's V/I, so a settled pair
 * that fails low (or stuck) cannot hide a contact below 125 ohm, the 100 ohm
 * short REG_SHORT_OHMS is set to catch included. At 500..700 ohm below 1 uF
 * the peak's V/I is 150..230 ohm (series resistance, 30 % of the load): x 2
 * is 300..460, above the bound. */
#define REG_SHORT_SETTLED_DIV 2
#if (REG_SHORT_SETTLED_TICKS < 1) || (REG_SHORT_SETTLED_TICKS > (REG_SHORT_TICKS - 2))
#error "REG_SHORT_SETTLED_TICKS must leave the short's latch tick unchanged"
#endif
#if (REG_SHORT_SETTLED_DIV < 1) || ((REG_SHORT_OHMS / REG_SHORT_SETTLED_DIV) <= 100)
#error "REG_SHORT_SETTLED_DIV must keep a 100 ohm short latched whatever the settled readings"
#endif
/* SRS-312 (PR-075): the settled pair is checked for plausibility, as one
 * fault of its PWM-triggered sampling (lost, mistimed into the off-phase, a
 * board that never fills it) fails both channels together and would hide
 * 125..250 ohm. While the peak's V/I is below REG_SHORT_OHMS the settled
 * V/I must not exceed REG_SETTLED_MAX_OHMS: a series R + skin RC load ends
 * its on-phase with at least V / (its DC resistance), and a load above
 * REG_OPEN_OHMS is an open contact (SRS-010); the 500..1000 ohm loads of
 * PR-069 read 500..1000. At 5 mA on 130 ohm the bound is 33 uA, 1.6x the
 * 20 uA rms noise of a dead channel. REG_SETTLED_BAD_TICKS readings in a row
 * latch SENSOR_DISAGREE: one more than the short's, so a contact below
 * 125 ohm with a dead pair still latches as SHORT. */
#define REG_SETTLED_MAX_OHMS REG_OPEN_OHMS
#define REG_SETTLED_BAD_TICKS (REG_SHORT_TICKS + 1)
#if (REG_SETTLED_BAD_TICKS <= REG_SHORT_TICKS) || (REG_SETTLED_MAX_OHMS < REG_OPEN_OHMS)
#error "REG_SETTLED_BAD_TICKS must let a short latch first, REG_SETTLED_MAX_OHMS must not judge a load the open check keeps"
#endif

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

/* SRS-026: a current channel whose reading above the open-circuit noise
 * bound (REG_OPEN_NOISE_UA) does not change at all for 20 ticks (2 ms) in a
 * row while the stage drives the electrodes directly latches SENSOR_FROZEN.
 * A working 12-bit channel with the required >= 1 LSB rms of noise or dither
 * (hardware duty, risk file RC-27) repeats a reading with p <= ~0.3 per
 * tick, so 19 repeats are a ~1e-10 event; 2 ms at the 20 mV/tick drive rise
 * limit adds at most 0.4 V: +0.24 mA at 1.7 kOhm, inside the 10 % / 10 ms
 * bound of SRS-026 (issue 8 point 2: both channels stuck at 14.9 mA with 15
 * mA set on 1.7 kOhm drove 60 V and 32-35 mA for minutes). */
#define REG_FROZEN_TICKS 20

/* SRS-130: noise floor of a live channel (issue 8 point 2). A channel must
 * move with at least the >= 1 LSB rms noise or dither its hardware gives it
 * (RC-27). The mean of its tick-to-tick changes (each capped at
 * REG_QUIET_STEP_CAP_UA = 50 uA), filtered by 1/REG_QUIET_FILTER_DIV (1/32)
 * per reading in 1/REG_QUIET_Q (1/64) uA, judged only under plain drive with
 * readings above REG_OPEN_NOISE_UA, below REG_QUIET_MIN_UA (5 uA) latches
 * SENSOR_FROZEN.
 * Live channel at the least allowed noise (1 LSB = 12.2 uA rms): a reading
 * repeats with p <= ~0.3 (SRS-026) and every change is >= 12.2 uA: mean
 * change ~10.9 uA, sd ~8.5 uA; the filter (~63 readings) has sd ~1.1 uA, so
 * 5 uA is 5.5 sd below (~2e-8 per 6 ms). The simulated channels (20 uA rms)
 * give ~21 uA. A change of the current only adds to the mean, so drive,
 * load, skin capacitance, drying, lift and re-contact cannot trip it.
 * Stuck with jitter: +-5 uA (uniform) gives 3.3 uA (+ <= 0.5 uA of
 * truncation): detected; from the 50 uA start the filter falls below 5 uA
 * within 32 x ln(47 / 2) = ~100 readings (10 ms; measured 6-9 ms), so the
 * drive can rise at most 2 V (SRS-022) before the fault: +1.2 mA on
 * 1.7 kOhm at 15 mA set (16.4 mA measured, was 35 mA). */
#define REG_QUIET_STEP_CAP_UA 50
#define REG_QUIET_Q 64
#define REG_QUIET_FILTER_DIV 32
#define REG_QUIET_MIN_UA 5

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

/* ---- pulsed drive -------------------------------------------------------- */

/* SRS-258: pulse frequency of the pulsed drive. Pulses at 4.3 and 10 kHz gave
 * no shocks, 5-10 kHz were the most comfortable [R95, HOL, DP450]: the range
 * is the span the studies cover, nothing extrapolated. 10 kHz is also the
 * tick rate: a pulse is never shorter than a tick's period. */
#define REG_PULSE_MIN_HZ 4300
#define REG_PULSE_MAX_HZ 10000

/* SRS-258: duty cycle (on-time / period) of the pulsed drive, percent.
 * 50 % is the one duty found in the sources (Hidrex [HXS, DP450]); none
 * gives another. Not below 50 %: no source shows an effect at less, and
 * the mean for a given pulse current would fall below half of it. Not above
 * 80 %: the off-phase then lasts >= 20 us at 10 kHz, time for the ADC to
 * sample it settled (the off-phase reading, SRS-258); nearer 100 % the
 * pulse train is DC in all but name. */
#define REG_PULSE_DUTY_MIN_PERCENT 50
#define REG_PULSE_DUTY_MAX_PERCENT 80

/* SRS-259: a pulse stage stuck on. In the off-phase the stage is open, so
 * the off-phase reading of a working stage is the ADC noise, at most 49 uA
 * (2.45 x 20 uA rms, bounded); above REG_OPEN_NOISE_UA (50 uA) in
 * REG_PULSE_STUCK_TICKS readings in a row after a plain drive, current flows
 * between the pulses: the fault PULSE_STAGE, output off. 3 ticks (0.3 ms):
 * at 4.3 kHz a new off-phase reading comes every 2.3 ticks, so two of the
 * three readings are fresh; a stuck stage drives plain DC at the set pulse
 * current, which no limit forbids but the user did not choose. */
#define REG_PULSE_STUCK_UA REG_OPEN_NOISE_UA
#define REG_PULSE_STUCK_TICKS 3

#endif /* REGULATOR_CONFIG_H */
