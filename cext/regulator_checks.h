/*
 * Compile-time checks of the assumptions regulator.c makes about
 * regulator_config.h (issue 12 point 6). Preprocessor arithmetic only (C99
 * has no _Static_assert): a limit changed beyond what the code can carry
 * stops the build with the assumption it breaks, instead of overflowing or
 * dividing by zero in the loop. Included by regulator.c only (not handed to
 * cffi, which reads the other headers).
 */
#ifndef REGULATOR_CHECKS_H
#define REGULATOR_CHECKS_H

#include "regulator_config.h"

#define REG_CHECK_INT32_MAX 2147483647

/* ---- timing: the tick divides a second and a millisecond exactly -------- */
#if (REG_TICK_HZ <= 0) || ((1000000 % REG_TICK_HZ) != 0) || (REG_TICKS_PER_MS < 1) || ((REG_TICK_HZ % 1000) != 0)
#error "REG_TICK_HZ: must divide 1e6 (fA per tick per nA/s exact) and be a whole number of ticks per ms"
#endif

/* ---- slew: one tick's step is below 1 uA (at most one carry, frac + step
 * fits int32) and the unit conversion fits int32 (SRS-003, SRS-028) ------- */
#if (REG_SLEW_MIN_NA_PER_S <= 0) || (REG_SLEW_MIN_NA_PER_S > REG_SLEW_MAX_NA_PER_S)
#error "REG_SLEW_MIN/MAX_NA_PER_S: need 0 < min <= max"
#endif
#if (REG_SLEW_MAX_NA_PER_S * (1000000 / REG_TICK_HZ)) >= 1000000000
#error "REG_SLEW_MAX_NA_PER_S: the step per tick must stay below 1 uA (slew_toward carries once)"
#endif

/* ---- current limits (SRS-005, SRS-009, SRS-018) ------------------------- */
#if (REG_TARGET_MIN_UA != 0) || (REG_TARGET_MAX_UA > REG_HARD_LIMIT_UA) || (REG_TRIP_UA > REG_HARD_LIMIT_UA)
#error "targets and the trip level must be within the hard limit"
#endif
#if (REG_HARD_LIMIT_UA >= REG_ADC_CURRENT_MAX_UA) || (REG_COMPLIANCE_MV >= REG_ADC_VOLTAGE_MAX_MV)
#error "the ADC full scale must be above the hard limit and the compliance (SRS-014)"
#endif

/* ---- divisors are non-zero ----------------------------------------------- */
#if (REG_REST_FILTER_DIV < 1) || (REG_BLIND_RISE_DIV < 1) || (REG_OPEN_LOST_DIV < 1) || (REG_REST_EVERY_TICKS < 1)
#error "a divisor of the loop is zero"
#endif
#if (REG_TRANSIENT_COUNT < 1) || (REG_CONTACT_WINDOW_TICKS < 1) || (REG_CONTACT_WINDOWS < 1)
#error "a count of the loop is zero"
#endif
#if (REG_REST_MIN_CURRENT_UA < 1) || ((REG_CONTACT_OHMS + REG_SENSE_SERIES_OHMS) < 1)
#error "a divisor of the load estimate is zero"
#endif

/* ---- int32 products of the tick fit (readings range-checked first) ------- */
#if (REG_ADC_VOLTAGE_MAX_MV > (REG_CHECK_INT32_MAX / 1024))
#error "v_mv * 1024 (load estimate) overflows int32"
#endif
#if (REG_ADC_CURRENT_MAX_UA > (REG_CHECK_INT32_MAX / 100)) || (REG_DISAGREE_PERCENT > 100) || \
    (REG_ANTISHOCK_BAND_PERCENT > 100) || (REG_PLAUSIBLE_PERCENT > 100)
#error "a percentage product (x 100) of a reading overflows int32"
#endif
#if (REG_ADC_CURRENT_MAX_UA > (REG_CHECK_INT32_MAX / REG_OPEN_LOST_DIV))
#error "i_ua * REG_OPEN_LOST_DIV overflows int32"
#endif
#if (REG_ADC_VOLTAGE_MAX_MV > (REG_CHECK_INT32_MAX / REG_CONTACT_WINDOW_TICKS)) || \
    (REG_SENSE_MV > (REG_CHECK_INT32_MAX / REG_CONTACT_WINDOW_TICKS))
#error "a sense window's sum of readings overflows int32"
#endif
#if (REG_TRANSIENT_WINDOW_TICKS > REG_CHECK_INT32_MAX) || (REG_WATCHDOG_TICKS < 1)
#error "the transient window or the watchdog count does not fit"
#endif

/* ---- load estimate bounds (SRS-002, SRS-027) ----------------------------- */
#if (REG_REST_MIN_OHMS >= REG_REST_MAX_OHMS) || (REG_REST_INIT_OHMS < REG_REST_MIN_OHMS) || \
    (REG_REST_INIT_OHMS > REG_REST_MAX_OHMS)
#error "the gain-scaling load estimate needs min <= init <= max"
#endif
#if ((REG_ADC_VOLTAGE_MAX_MV * 1024) / REG_REST_MIN_CURRENT_UA) > ((REG_SENSE_LOAD_MAX_OHMS * 1024) / 1000)
#error "V/I under drive can exceed the published estimate's bound (LOAD_Q_MAX)"
#endif
#if ((REG_SENSE_LOAD_MAX_OHMS * 1024) / 1000) > (REG_CHECK_INT32_MAX / 1000)
#error "the published load estimate x 1000 overflows int32"
#endif
#if (((REG_REST_MAX_OHMS * 1024) / 1000) * (REG_ADC_CURRENT_MAX_UA + REG_HARD_LIMIT_UA)) > REG_CHECK_INT32_MAX
#error "error x gain scale of the PI overflows int32 (kept in int64, but bounded here)"
#endif

/* ---- thresholds in the order the design needs ---------------------------- */
#if REG_SHORT_OHMS >= REG_REST_MIN_OHMS
#error "SRS-012: the short threshold must be below the lowest regulated load"
#endif
#if REG_CONTACT_OHMS >= REG_OPEN_OHMS
#error "SRS-011: contact is judged below the open threshold (hysteresis)"
#endif
#if ((REG_SENSE_MV * 1000) / REG_SENSE_SERIES_OHMS) >= 10
#error "SRS-029: the sense level must drive below 10 uA into a dead short"
#endif
#if (REG_ZERO_CURRENT_UA < 1) || (REG_OPEN_NOISE_UA >= REG_OPEN_ARM_UA) || (REG_OPEN_FIRE_MIN_UA >= REG_OPEN_ARM_UA)
#error "zero-current and open-circuit thresholds out of order"
#endif
#if (REG_DRIVE_RISE_MV_PER_TICK < 1) || (REG_COMPLIANCE_MV < REG_SENSE_MV)
#error "drive limits out of order"
#endif

#endif /* REGULATOR_CHECKS_H */
