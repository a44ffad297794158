/*
 * The checklist gate of the output (SRS-306, SRS-307; RC-93).
 *
 * The loop enables the output only after reg_arm() has seen the RAW answers
 * of the product's pre-session checklist and judged them itself: every
 * contraindication answered "no", every preparation step answered "yes",
 * each with its own explicit code. The C side holds its own count of the
 * items (REG_ARM_CONTRAINDICATIONS, REG_ARM_PREPARATION_STEPS: the twelve
 * contraindications and three preparation steps of the product), so a short
 * or empty list is refused, a list of other items or in another order too
 * (the version, SRS-309), and an answer that is zero, missing or any value
 * other than the two codes is "unanswered", never "no". The verdict does not
 * depend on the Python machine, checklist evaluation or CLI that collected
 * the answers: a session whose Python side skips the checklist never arms.
 *
 * The arm lasts for one session: reg_disarm() (session end), any latched
 * fault (latch_fault in regulator.c) and reg_init() end it; a refused
 * reg_arm() ends it too. Switching the output off (a pause, the lift-off
 * pause at the sense level, a density cut, the polarity switch) keeps it:
 * the same session may enable again without a new checklist.
 * Calling context: the tick's, as every function of regulator.h (SRS-212).
 */
#ifndef ARMING_H
#define ARMING_H

#include <stdint.h>
#include "regulator.h"
/* REG_ARM_CHECKLIST_VERSION: the version of the ordered item ids, generated
 * from core/checklist.py (scripts/gen_checklist_version.py, SRS-309); a
 * caller that sends another list (reordered, swapped, replaced) is refused */
#include "checklist_version.h"

/* the product's checklist (core/checklist.py, docs/domain.md), counted here
 * independently of the Python side */
#define REG_ARM_CONTRAINDICATIONS 12
#define REG_ARM_PREPARATION_STEPS 3

/* answer codes: neither is 0, all-ones, or one bit flip from the other */
#define REG_ANSWER_NO 0x5A
#define REG_ANSWER_YES 0xA5

/* the raw answers of one session's checklist */
typedef struct {
    int32_t version;                  /* REG_ARM_CHECKLIST_VERSION of the items sent */
    int32_t n_contraindications;      /* must be REG_ARM_CONTRAINDICATIONS */
    int32_t contraindication[REG_ARM_CONTRAINDICATIONS]; /* REG_ANSWER_NO each to pass */
    int32_t n_preparation;            /* must be REG_ARM_PREPARATION_STEPS */
    int32_t preparation[REG_ARM_PREPARATION_STEPS];      /* REG_ANSWER_YES each to pass */
} reg_checklist_t;

/*
 * reg_arm: REG_OK and the output may be enabled when every answer passes;
 * REG_ERR_RANGE for a version or count other than the C's (empty, short or
 * long list), REG_ERR_ARM_REFUSED for a contraindication not answered "no"
 * or a preparation step not answered "yes". Any refusal ends an arm held
 * before and switches the output off.
 * reg_disarm: the session ends: output off, the arm ended.
 */
int32_t reg_arm(reg_state_t *reg, const reg_checklist_t *answers);
int32_t reg_disarm(reg_state_t *reg);

#endif /* ARMING_H */
