/* ThreadSanitizer harness of the runner (issue 13): the runner ticks the
 * simulated board while this thread posts commands and load events as fast
 * as it can and reads the status and the rows; then a stall is injected.
 * Built with -fsanitize=thread by tests/realtime/test_tsan.py. */
#include <stdio.h>
#include <time.h>
#include "hal.h"
#include "runner.h"

static rt_row_t rows[64];

int main(void)
{
    hal_t hal;
    rt_command_t cmd;
    rt_status_t st;
    rt_batch_t batch;
    uint32_t seq = 0u;
    int64_t from = 0;
    int i;
    struct timespec ms = {0, 1000000};
    if ((hal_sim_bind(&hal, 1u, 2000, 1000) != REG_OK) || (rt_start(&hal, RT_OPT_REALTIME) != REG_OK)) {
        return 2;
    }
    /* the checklist all clear (arming.h): the arm's words cross the mailbox too */
    cmd.checklist.version = REG_ARM_CHECKLIST_VERSION;
    cmd.checklist.n_contraindications = REG_ARM_CONTRAINDICATIONS;
    cmd.checklist.n_preparation = REG_ARM_PREPARATION_STEPS;
    for (i = 0; i < REG_ARM_CONTRAINDICATIONS; i++) {
        cmd.checklist.contraindication[i] = REG_ANSWER_NO;
    }
    for (i = 0; i < REG_ARM_PREPARATION_STEPS; i++) {
        cmd.checklist.preparation[i] = REG_ANSWER_YES;
    }
    for (i = 0; i < 2000; i++) {
        cmd.ops = RT_OP_COMMAND | RT_OP_ENABLE | RT_OP_KICK | (((i % 7) == 0) ? RT_OP_ARM : 0u);
        cmd.target_ua = (i % 30) * 100;
        cmd.slew_na_per_s = 1000 + (i * 997) % 4000000;
        cmd.on = i % 2;
        cmd.polarity = 1;
        (void)rt_post(&cmd, &seq);
        (void)rt_status(&st);
        if ((i % 50) == 0) {
            uint32_t done = 0u;
            (void)hal_sim_event_done(&done);
            (void)hal_sim_post((i % 100) == 0 ? HAL_SIM_EV_LIFT_OFF : HAL_SIM_EV_CONTACT, 0, 0);
            (void)nanosleep(&ms, NULL);
            if (rt_rows(from, 10u, 64u, 0u, rows, &batch) == REG_OK) {
                from = batch.next_tick;
            }
        }
    }
    (void)rt_inject_stall(1, 20000);
    (void)nanosleep(&ms, NULL);
    (void)rt_disconnect();
    (void)rt_stop();
    (void)rt_status(&st);
    printf("ticks %lld fault %d\n", (long long)st.loop_ticks, (int)st.loop_fault);
    return 0;
}
