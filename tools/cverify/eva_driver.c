/*
 * Frama-C Eva driver of the regulation loop (issue 12 point 5). A developer
 * tool: never part of a device build.
 *
 * reg_init, then any number of API calls in any order, each with arbitrary
 * arguments over the whole int32 range (NULL pointers included) and
 * arbitrary readings: Eva must prove every call free of undefined behaviour
 * (overflow, out-of-bounds, invalid pointer, division by zero) for every
 * reachable state of the loop. Nothing is assumed about the state: bounds
 * the proof needs are enforced in regulator.c itself.
 */
#include "__fc_builtin.h"
#include "regulator.h"
#include "arming.h"

static reg_state_t reg;

static int32_t any_i32(void)
{
    return (int32_t)Frama_C_interval(INT32_MIN, INT32_MAX);
}

/* a checklist of arbitrary words: version, counts and every answer (arming.h) */
static void any_checklist(reg_checklist_t *c)
{
    int32_t i;
    c->version = any_i32();
    c->n_contraindications = any_i32();
    for (i = 0; i < REG_ARM_CONTRAINDICATIONS; i++) {
        c->contraindication[i] = any_i32();
    }
    c->n_preparation = any_i32();
    for (i = 0; i < REG_ARM_PREPARATION_STEPS; i++) {
        c->preparation[i] = any_i32();
    }
}

void eva_main(void)
{
    reg_inputs_t in;
    reg_output_t out;
    reg_checklist_t answers;
    if (reg_init(&reg) != REG_OK) {
        return;
    }
    (void)reg_init(NULL);
    while (Frama_C_nondet(0, 1) != 0) {
        switch (Frama_C_interval(0, 9)) {
        case 0:
            (void)reg_command(&reg, any_i32(), any_i32());
            break;
        case 1: /* enable, after an arm with arbitrary answers (SRS-306) or a disarm, or neither */
            if (Frama_C_nondet(0, 1) != 0) {
                any_checklist(&answers);
                (void)reg_arm(&reg, &answers);
            } else if (Frama_C_nondet(0, 1) != 0) {
                (void)reg_disarm(&reg);
            } else {
                /* the arm as it is */
            }
            (void)reg_enable(&reg, any_i32());
            break;
        case 2:
            (void)reg_set_polarity(&reg, any_i32());
            break;
        case 3:
            (void)reg_reset_fault(&reg);
            break;
        case 4:
            (void)reg_search_contact(&reg);
            break;
        case 5:
            (void)reg_kick(&reg);
            break;
        case 7:
            (void)reg_set_pulse(&reg, any_i32(), any_i32());
            break;
        case 6: /* NULL arguments */
            any_checklist(&answers);
            (void)reg_arm(NULL, &answers);
            (void)reg_arm(&reg, NULL);
            (void)reg_disarm(NULL);
            (void)reg_command(NULL, any_i32(), any_i32());
            (void)reg_enable(NULL, any_i32());
            (void)reg_set_polarity(NULL, any_i32());
            (void)reg_set_pulse(NULL, any_i32(), any_i32());
            (void)reg_reset_fault(NULL);
            (void)reg_search_contact(NULL);
            (void)reg_kick(NULL);
            (void)reg_tick(NULL, &in, &out);
            (void)reg_tick(&reg, NULL, &out);
            (void)reg_tick(&reg, &in, NULL);
            break;
        default:
            in.current_a_ua = any_i32();
            in.current_b_ua = any_i32();
            in.voltage_mv = any_i32();
            in.off_current_ua = any_i32();
            in.settled_a_ua = any_i32();
            in.settled_b_ua = any_i32();
            (void)reg_tick(&reg, &in, &out);
            break;
        }
    }
}
