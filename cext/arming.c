/*
 * The checklist gate of the output (SRS-306, SRS-307); see arming.h.
 * Every answer is compared with its one passing code: no default, no
 * "anything but yes is no"; a count other than the C's own is refused
 * before any answer is read.
 */
#include "arming.h"

/* 1 when every one of the n answers equals the passing code, else 0; the
 * caller arms only on exactly 1 */
static int32_t all_equal(const int32_t *answers, int32_t n, int32_t code)
{
    int32_t pass = 1;
    int32_t i;
    for (i = 0; i < n; i++) {
        if (answers[i] != code) {
            pass = 0;
        }
    }
    return pass;
}

/* ends the arm and switches the output off (reg_enable(0) cannot fail on a
 * valid pointer) */
static void end_arm(reg_state_t *reg)
{
    reg->armed = 0u;
    (void)reg_enable(reg, 0);
}

int32_t reg_arm(reg_state_t *reg, const reg_checklist_t *answers)
{
    int32_t status = REG_OK;
    if ((reg == NULL) || (answers == NULL)) {
        status = REG_ERR_NULL;
    } else if ((answers->version != REG_ARM_CHECKLIST_VERSION) ||
               (answers->n_contraindications != REG_ARM_CONTRAINDICATIONS) ||
               (answers->n_preparation != REG_ARM_PREPARATION_STEPS)) {
        end_arm(reg);
        status = REG_ERR_RANGE;
    } else if ((all_equal(answers->contraindication, REG_ARM_CONTRAINDICATIONS, REG_ANSWER_NO) != 1) ||
               (all_equal(answers->preparation, REG_ARM_PREPARATION_STEPS, REG_ANSWER_YES) != 1)) {
        end_arm(reg);
        status = REG_ERR_ARM_REFUSED;
    } else {
        reg->armed = REG_ARMED_PATTERN;
    }
    return status;
}

int32_t reg_disarm(reg_state_t *reg)
{
    int32_t status = REG_ERR_NULL;
    if (reg != NULL) {
        end_arm(reg);
        status = REG_OK;
    }
    return status;
}
