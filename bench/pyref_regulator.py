"""Pure-Python reference of the C regulator tick and the C load model, for the
speed ratio of bench/bench_regulator.py (SRS-021). Same algorithm and same
work per tick as cext/regulator.c + cext/simload.c (normal regulation path:
reading checks, trip, channel comparison, watchdog, voltage plausibility,
short/open detection (three tiers), anti-shock band, slew, compliance hold
of the setpoint, PI with anti-windup, drive rise-rate limit, load estimate,
saturating counters; Cole load step,
noise, quantisation); the sense mode and the anti-shock hold-off, which a
regulating tick does not run, are left out. The limits the wrapper exposes
are read from the compiled module; the detector constants written below as
numbers are copies of cext/regulator_config.h, for timing only. Not used by
the product."""
from __future__ import annotations

import math

from core.regulator import LIMITS

TICK_HZ = LIMITS.tick_hz
TICK_S = 1.0 / TICK_HZ
TRIP_UA = int(LIMITS.trip_ma * 1000)
COMPLIANCE_Q2 = int(LIMITS.compliance_v * 1000) << 20
WATCHDOG_TICKS = int(LIMITS.watchdog_ms * TICK_HZ / 1000)
ADC_MAX_UA, ADC_MAX_MV, ADC_COUNTS = 50_000, 80_000, 4096
CLAMP_A = LIMITS.hardware_clamp_ma / 1000
MASK64 = (1 << 64) - 1
RISE_MV = round(LIMITS.drive_rise_v_per_tick * 1000)
HOLD_UA = round(LIMITS.compliance_hold_margin_ma * 1000)
OPEN_OHMS = LIMITS.open_ohms
PLAUS_MV, PLAUS_PCT, PLAUS_TICKS = round(LIMITS.plausible_abs_v * 1000), LIMITS.plausible_percent, LIMITS.plausible_ticks


class PyRig:
    """Regulator + load, one tick per call of tick()."""

    def __init__(self, seed: int = 0, load_ohms: float = 2000.0, capacitance_uf: float = 1.0) -> None:
        self.rng = (seed * 0x9E3779B97F4A7C15 + 1) & MASK64 or 1
        self.rs, self.rsk, self.c = 0.3 * load_ohms, 0.7 * load_ohms, capacitance_uf * 1e-6
        tau = self.c * self.rs * self.rsk / (self.rs + self.rsk)
        self.e = math.exp(-TICK_S / tau)
        self.m = (1 - self.e) * tau / TICK_S
        self.vc = self.i_end = self.v_term = 0.0
        # regulator state
        self.target_ua, self.slew_pa, self.ref_pa, self.integ_q2 = 0, 100, 0, 0
        self.enabled, self.fault, self.r_est, self.est_count = 0, 0, 512, 0
        self.disagree = self.watchdog = self.short_count = self.open_count = self.comp_count = 0
        self.drive_mv = 0
        self.plain, self.plaus, self.saturated, self.hold_on, self.hold_pa, self.setpoint = 0, 0, 0, 0, 0, 0

    def command(self, target_ma: float, slew_ma_per_s: float) -> None:
        self.target_ua = int(round(target_ma * 1000))
        self.slew_pa = int(round(slew_ma_per_s * 1000)) * (1_000_000 // TICK_HZ)

    def _noise3(self) -> tuple[float, float, float]:
        x = self.rng
        x ^= x >> 12
        x ^= (x << 25) & MASK64
        x ^= x >> 27
        self.rng = x
        r = (x * 0x2545F4914F6CDD1D) & MASK64
        k = 2.449489742783178 / 1024.0
        return (((r & 0x3FF) + ((r >> 10) & 0x3FF) - 1023.0) * k,
                (((r >> 20) & 0x3FF) + ((r >> 30) & 0x3FF) - 1023.0) * k,
                (((r >> 40) & 0x3FF) + ((r >> 50) & 0x3FF) - 1023.0) * k)

    @staticmethod
    def _quantise(value: float, full_scale: int) -> int:
        v = min(max(value, 0.0), full_scale)
        return int(v * ADC_COUNTS / full_scale + 0.5) * full_scale // ADC_COUNTS

    def tick(self) -> float:
        # sensors
        i_ua = self.i_end * 1e6
        n0, n1, n2 = self._noise3()
        a = self._quantise(i_ua + n0 * 20, ADC_MAX_UA)
        b = self._quantise(i_ua + n1 * 20, ADC_MAX_UA)
        v = self._quantise(self.v_term * 1e3 + n2 * 20, ADC_MAX_MV)
        # regulator
        drive_mv = 0
        if not (0 <= a <= ADC_MAX_UA and 0 <= b <= ADC_MAX_UA and 0 <= v <= ADC_MAX_MV):
            self.fault = 5
        imax, imin = max(a, b), min(a, b)
        if self.fault == 0:
            if imax > TRIP_UA:
                self.fault = 1
            diff = imax - imin
            self.disagree = min(self.disagree + 1, 5) if diff > 500 and diff * 100 > imax * 10 else 0
            if self.disagree >= 5:
                self.fault = 4
            self.watchdog = min(self.watchdog + 1, WATCHDOG_TICKS)
            if self.watchdog >= WATCHDOG_TICKS:
                self.fault = 6
        if self.enabled and self.fault == 0:
            low = self.plain and v < self.drive_mv - max(PLAUS_MV, self.drive_mv * PLAUS_PCT // 100)
            self.plaus = min(self.plaus + 1, PLAUS_TICKS) if low else 0
            if self.plaus >= PLAUS_TICKS:
                self.fault = 7
        if self.enabled and self.fault == 0:
            self.short_count = min(self.short_count + 1, 5) if imax >= 500 and v * 1000 < 250 * imax else 0
            if v >= 1000 and v * 1000 > OPEN_OHMS * imax:
                self.open_count = min(self.open_count + 1, 20)
                if v * 1000 > OPEN_OHMS * (imax + 50):
                    self.open_count = 20
            else:
                self.open_count = 0
            if self.setpoint >= 500 and imax * 4 < self.setpoint:
                self.open_count = 20
            sp = self.setpoint
            above = imax - sp
            if above > 500 and above * 100 > sp * 20:
                self.ref_pa = self.integ_q2 = self.setpoint = self.hold_on = 0
            else:
                target_pa = self.target_ua * 1_000_000
                if self.ref_pa < target_pa:
                    self.ref_pa = min(self.ref_pa + self.slew_pa, target_pa)
                elif self.ref_pa > target_pa:
                    self.ref_pa = max(self.ref_pa - self.slew_pa, target_pa)
                # setpoint: the reference, held at the current + margin at compliance
                if self.hold_on:
                    self.hold_pa = min(self.hold_pa + self.slew_pa, self.ref_pa)
                    if self.hold_pa >= self.ref_pa:
                        self.hold_on = 0
                if self.saturated:
                    cap_pa = (imax + HOLD_UA) * 1_000_000
                    if cap_pa < (self.hold_pa if self.hold_on else self.ref_pa):
                        self.hold_on, self.hold_pa = 1, cap_pa
                self.setpoint = (self.hold_pa if self.hold_on else self.ref_pa) // 1_000_000
                e = self.setpoint - imax
                scaled = e * self.r_est
                p = scaled * 26
                unclamped = self.integ_q2 + p
                if not ((unclamped >= COMPLIANCE_Q2 and e > 0) or (unclamped <= 0 and e < 0)):
                    self.integ_q2 = min(max(self.integ_q2 + scaled * 205, 0), COMPLIANCE_Q2)
                drive_q2 = min(max(self.integ_q2 + p, 0), COMPLIANCE_Q2)
                rise_q2 = (self.drive_mv + RISE_MV) << 20
                if drive_q2 > rise_q2:
                    drive_q2 = rise_q2
                    self.integ_q2 = min(max(rise_q2 - p, 0), COMPLIANCE_Q2)
                self.saturated = 1 if drive_q2 >= COMPLIANCE_Q2 and e > 0 else 0
                self.comp_count = min(self.comp_count + 1, 50) if self.saturated else 0
                self.est_count += 1
                if self.est_count >= 4:
                    self.est_count = 0
                    if imax >= 200:
                        r = min(max(v * 1024 // imax, 512), 20_480)
                        self.r_est += int((r - self.r_est) / 4)
                drive_mv = drive_q2 >> 20
        self.drive_mv, self.plain = drive_mv, 1 if drive_mv > 0 else 0
        # output stage and load
        volts = drive_mv * 1e-3
        i0 = (volts - self.vc) / self.rs
        if drive_mv == 0 or i0 <= 0:
            self.i_end = 0.0
            return 0.0
        if i0 > CLAMP_A:
            self.i_end = CLAMP_A
            return CLAMP_A
        vinf = volts * self.rsk / (self.rs + self.rsk)
        d0 = self.vc - vinf
        self.vc = vinf + d0 * self.e
        mean = (volts - (vinf + d0 * self.m)) / self.rs
        self.i_end = (volts - self.vc) / self.rs
        self.v_term = volts
        return mean

    def run(self, ticks: int) -> float:
        """Steps ticks ticks (watchdog kicked every 100 ticks); returns the charge in mA*s."""
        total = 0.0
        for t in range(ticks):
            if t % 100 == 0:
                self.watchdog = 0
            total += self.tick()
        return total * 1000 * TICK_S
