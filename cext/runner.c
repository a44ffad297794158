/*
 * Real-time runner of the regulation loop (SRS-211..SRS-215); see runner.h
 * for the calling-context contract. Shared words are read and written with
 * the compiler's __atomic builtins only: every cross-thread exchange is a
 * sequence counter (mailbox, status) or a stamped record (rows), copied
 * word by word and checked, never a lock the tick could wait on.
 */
#define _GNU_SOURCE /* deviation D3: clock_nanosleep, SCHED_FIFO, mlockall (cext/misra-deviations.md) */
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <sys/mman.h>
#include <time.h>
#include "runner.h"

/* SIM_EVENT_* values (simload.h), repeated here so that a device build does
 * not need the simulation's header; tests check they agree */
#define EV_CONTACT_LOST 0x01u
#define EV_CONTACT_RESTORED 0x02u
#define EV_ANTISHOCK 0x04u
#define EV_FAULT 0x08u
#define EV_AT_TARGET 0x10u
#define EV_COMPLIANCE_START 0x20u
#define EV_COMPLIANCE_END 0x40u
#define EV_LOAD_MOVED 0x80u
#define LOAD_MOVED_PERCENT 5

/* ops, target, slew, on, polarity, then the checklist: version, count,
 * answers, count, answers */
#define CMD_FIXED_WORDS 5
#define CMD_WORDS (CMD_FIXED_WORDS + 3 + REG_ARM_CONTRAINDICATIONS + REG_ARM_PREPARATION_STEPS)
#define ST_WORDS 30
/* status words: tick (2), applied_seq, the results of each op, then the state */
#define ST_STATE (3 + RT_OP_COUNT)
/* every RT_OP_* bit (RT_OP_COUNT of them) */
#define RT_OPS_ALL 0xFFu
#if RT_OPS_ALL != ((1u << RT_OP_COUNT) - 1u)
#error "runner.c: RT_OPS_ALL does not match RT_OP_COUNT"
#endif
#define REC_WORDS 15
/* the 64-bit tick count in two int32 words */
#define TICK_SPLIT INT64_C(2147483648)

/* ---- shared state ---------------------------------------------------------- */
static hal_t g_hal;
static reg_state_t g_reg;
static reg_output_t g_out;
static pthread_t g_thread;
static pthread_t g_monitor;
static int32_t g_running;          /* 1 while the threads run */
static int32_t g_loop_dead;        /* 1 after a loop fault: reg_tick is no longer called */
static int32_t g_loop_fault;
static int64_t g_fault_ns;
static int64_t g_fault_wake_late_ns;
static int64_t g_max_run_late_ns;
static int64_t g_heartbeat_ns;     /* start of the last tick */
static int64_t g_start_ns;
static int32_t g_realtime;
static int32_t g_locked;

static uint32_t g_cmd_seq;         /* mailbox: odd while the writer writes */
static int32_t g_cmd[CMD_WORDS];
static uint32_t g_cmd_applied;     /* written by the tick only */

static uint32_t g_st_seq;          /* status seqlock: odd while the tick writes */
static int32_t g_st[ST_WORDS];

static int64_t g_stamp[RT_RING_TICKS]; /* tick number of the record, -1 while written */
static int32_t g_rec[RT_RING_TICKS][REC_WORDS];

static uint64_t g_wakeups;
static uint64_t g_misses;
static int64_t g_max_late_ns;
static int64_t g_cpu_ns;
static uint64_t g_torn;
static uint64_t g_hist[RT_HIST_BINS];

static int32_t g_stall_ticks;      /* fault injection */
static int32_t g_stall_us;

/* ---- helpers ---------------------------------------------------------------- */
static int64_t mono_ns(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((int64_t)ts.tv_sec * 1000000000) + (int64_t)ts.tv_nsec;
}

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ((int64_t)ts.tv_sec * 1000000000) + (int64_t)ts.tv_nsec;
}

static struct timespec to_ts(int64_t ns)
{
    struct timespec ts;
    int64_t sec = ns / 1000000000;
    int64_t sub = ns % 1000000000;
    ts.tv_sec = (time_t)sec;
    ts.tv_nsec = (long)sub;
    return ts;
}

static void sleep_until(int64_t deadline_ns)
{
    struct timespec ts = to_ts(deadline_ns);
    int rc;
    do {
        rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    } while (rc == EINTR);
}

static void record_latency(int64_t late_ns, uint64_t *hist, int64_t *max_late, uint64_t *misses)
{
    int64_t bin = late_ns / RT_HIST_BIN_NS;
    if (bin < 0) {
        bin = 0;
    }
    if (bin >= RT_HIST_BINS) {
        bin = RT_HIST_BINS - 1;
    }
    __atomic_fetch_add(&hist[bin], 1u, __ATOMIC_RELAXED);
    if (late_ns > __atomic_load_n(max_late, __ATOMIC_RELAXED)) {
        __atomic_store_n(max_late, late_ns, __ATOMIC_RELAXED);
    }
    if (late_ns > RT_MISS_NS) {
        __atomic_fetch_add(misses, 1u, __ATOMIC_RELAXED);
    }
}

/* the loop cannot be trusted: the independent disconnect first, then the
 * stage off; reg_tick is not called again until rt_stop (SRS-214, SRS-215) */
static void loop_fault(int32_t code, int64_t now_ns, int64_t wake_late_ns)
{
    int32_t none = RT_FAULT_NONE;
    bool first = __atomic_compare_exchange_n(&g_loop_fault, &none, code, false, __ATOMIC_ACQ_REL,
                                             __ATOMIC_ACQUIRE);
    if (first) {
        (void)g_hal.disconnect(g_hal.ctx);
        __atomic_store_n(&g_fault_wake_late_ns, wake_late_ns, __ATOMIC_RELEASE);
        __atomic_store_n(&g_fault_ns, now_ns, __ATOMIC_RELEASE);
        __atomic_store_n(&g_loop_dead, 1, __ATOMIC_RELEASE);
    }
}

/* ---- the tick ----------------------------------------------------------------- */
static uint32_t rt_tick_events(uint32_t before, uint32_t after)
{
    uint32_t ev = 0u;
    uint32_t rose = after & ~before;
    uint32_t fell = before & ~after;
    if ((rose & REG_FLAG_CONTACT_LOST) != 0u) {
        ev |= EV_CONTACT_LOST;
    }
    if (((fell & REG_FLAG_CONTACT_LOST) != 0u) && ((after & REG_FLAG_OUTPUT_ENABLED) != 0u)) {
        ev |= EV_CONTACT_RESTORED;
    }
    if ((after & REG_FLAG_ANTISHOCK_CUT) != 0u) {
        ev |= EV_ANTISHOCK;
    }
    if ((rose & REG_FLAG_FAULT) != 0u) {
        ev |= EV_FAULT;
    }
    if ((rose & REG_FLAG_AT_TARGET) != 0u) {
        ev |= EV_AT_TARGET;
    }
    if ((rose & REG_FLAG_COMPLIANCE_LIMITED) != 0u) {
        ev |= EV_COMPLIANCE_START;
    }
    if ((fell & REG_FLAG_COMPLIANCE_LIMITED) != 0u) {
        ev |= EV_COMPLIANCE_END;
    }
    return ev;
}

/* the checklist of a posted command from its mailbox words (rt_post's order) */
static void checklist_from_words(const int32_t *w, reg_checklist_t *answers)
{
    int32_t i;
    answers->version = w[0];
    answers->n_contraindications = w[1];
    for (i = 0; i < REG_ARM_CONTRAINDICATIONS; i++) {
        answers->contraindication[i] = w[2 + i];
    }
    answers->n_preparation = w[2 + REG_ARM_CONTRAINDICATIONS];
    for (i = 0; i < REG_ARM_PREPARATION_STEPS; i++) {
        answers->preparation[i] = w[3 + REG_ARM_CONTRAINDICATIONS + i];
    }
}

/* the posted command, whole or not at all (SRS-212): a read overlapping a
 * post is retried at the next tick; no wait in the tick */
static void apply_mailbox(int32_t *results)
{
    uint32_t s1 = __atomic_load_n(&g_cmd_seq, __ATOMIC_ACQUIRE);
    if (((s1 & 1u) == 0u) && (s1 != g_cmd_applied)) {
        int32_t c[CMD_WORDS];
        uint32_t s2;
        int32_t i;
        for (i = 0; i < CMD_WORDS; i++) {
            c[i] = __atomic_load_n(&g_cmd[i], __ATOMIC_RELAXED);
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        s2 = __atomic_load_n(&g_cmd_seq, __ATOMIC_RELAXED);
        if (s1 != s2) {
            __atomic_fetch_add(&g_torn, 1u, __ATOMIC_RELAXED);
        } else {
            uint32_t ops = (uint32_t)c[0];
            for (i = 0; i < RT_OP_COUNT; i++) {
                results[i] = REG_OK;
            }
            if ((ops & RT_OP_RESET) != 0u) {
                results[0] = reg_reset_fault(&g_reg);
            }
            if ((ops & RT_OP_POLARITY) != 0u) {
                results[1] = reg_set_polarity(&g_reg, c[4]);
            }
            if ((ops & RT_OP_COMMAND) != 0u) {
                results[2] = reg_command(&g_reg, c[1], c[2]);
            }
            if ((ops & RT_OP_ENABLE) != 0u) {
                results[3] = reg_enable(&g_reg, c[3]);
            }
            if ((ops & RT_OP_SEARCH) != 0u) {
                results[4] = reg_search_contact(&g_reg);
            }
            if ((ops & RT_OP_KICK) != 0u) {
                results[5] = reg_kick(&g_reg);
            }
            if ((ops & RT_OP_ARM) != 0u) {
                reg_checklist_t answers;
                checklist_from_words(&c[CMD_FIXED_WORDS], &answers);
                results[6] = reg_arm(&g_reg, &answers);
            }
            if ((ops & RT_OP_DISARM) != 0u) {
                results[7] = reg_disarm(&g_reg);
            }
            g_cmd_applied = s1;
        }
    }
}

static void publish_status(const int32_t *results)
{
    int32_t w[ST_WORDS];
    int32_t i;
    int64_t lo = g_reg.tick % TICK_SPLIT;
    int64_t hi = g_reg.tick / TICK_SPLIT;
    w[0] = (int32_t)lo;
    w[1] = (int32_t)hi;
    w[2] = (int32_t)g_cmd_applied;
    for (i = 0; i < RT_OP_COUNT; i++) {
        w[3 + i] = results[i];
    }
    w[ST_STATE] = g_reg.target_ua;
    w[ST_STATE + 1] = g_reg.slew_fa_per_tick;
    w[ST_STATE + 2] = g_reg.enabled;
    w[ST_STATE + 3] = g_reg.watchdog_count;
    w[ST_STATE + 4] = g_reg.polarity;
    w[ST_STATE + 5] = g_reg.fault;
    w[ST_STATE + 6] = (int32_t)g_out.flags;
    w[ST_STATE + 7] = g_out.measured_ua;
    for (i = ST_STATE + 8; i < ST_WORDS; i++) {
        w[i] = 0;
    }
    {
        uint32_t s = __atomic_load_n(&g_st_seq, __ATOMIC_RELAXED);
        __atomic_store_n(&g_st_seq, s + 1u, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        for (i = 0; i < ST_WORDS; i++) {
            __atomic_store_n(&g_st[i], w[i], __ATOMIC_RELAXED);
        }
        __atomic_store_n(&g_st_seq, s + 2u, __ATOMIC_RELEASE);
    }
}

static void publish_record(int32_t patient_ua, int32_t voltage_mv, uint32_t events)
{
    int64_t t = g_reg.tick - 1; /* this tick's number, from 0 */
    int64_t slot64 = t % RT_RING_TICKS;
    int32_t slot = (int32_t)slot64;
    int32_t w[REC_WORDS];
    int32_t i;
    w[0] = patient_ua;
    w[1] = g_out.measured_ua;
    w[2] = voltage_mv;
    w[3] = g_out.drive_mv;
    w[4] = g_out.reference_ua;
    w[5] = g_out.setpoint_ua;
    w[6] = g_out.target_ua;
    w[7] = g_out.polarity;
    w[8] = g_out.fault;
    w[9] = g_out.flowing_permille;
    w[10] = g_reg.cut_total;
    w[11] = (int32_t)g_out.flags;
    w[12] = (int32_t)events;
    w[13] = g_out.load_ohms;
    w[14] = (int32_t)g_cmd_applied; /* the command this tick ran under (SRS-316) */
    __atomic_store_n(&g_stamp[slot], (int64_t)-1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (i = 0; i < REC_WORDS; i++) {
        __atomic_store_n(&g_rec[slot][i], w[i], __ATOMIC_RELAXED);
    }
    __atomic_store_n(&g_stamp[slot], t, __ATOMIC_RELEASE);
}

static void tick_once(void)
{
    reg_inputs_t in;
    int32_t results[RT_OP_COUNT] = {0, 0, 0, 0, 0, 0, 0, 0};
    int32_t patient_ua = 0;
    uint32_t before = g_out.flags;
    uint32_t prev_applied = g_cmd_applied;
    apply_mailbox(results);
    if (prev_applied == g_cmd_applied) {
        int32_t i;
        /* no new command: keep publishing the last results */
        for (i = 0; i < RT_OP_COUNT; i++) {
            results[i] = __atomic_load_n(&g_st[3 + i], __ATOMIC_RELAXED);
        }
    }
    (void)g_hal.read_inputs(g_hal.ctx, &in);
    (void)reg_tick(&g_reg, &in, &g_out);
    (void)g_hal.apply_output(g_hal.ctx, &g_out, &patient_ua);
    publish_record(patient_ua, in.voltage_mv, rt_tick_events(before, g_out.flags));
    publish_status(results);
}

int32_t rt_schedule_start(rt_schedule_t *sched, int64_t now_ns)
{
    int32_t status = REG_OK;
    if (sched == NULL) {
        status = REG_ERR_NULL;
    } else {
        sched->deadline_ns = now_ns + RT_PERIOD_NS;
        sched->started = 0;
    }
    return status;
}

int32_t rt_schedule_wake(rt_schedule_t *sched, int64_t now_ns, int64_t *late_ns)
{
    int32_t status = REG_OK;
    if ((sched == NULL) || (late_ns == NULL)) {
        status = REG_ERR_NULL;
    } else {
        if (sched->started == 0) {
            /* SRS-214: the schedule starts at the first tick. Before it no tick
             * has run (reg_init: output off) and no drive is held, so the
             * thread's start-up latency is no late tick (a loaded machine took
             * over 0.8 ms to first schedule it: 11 of 30 starts failed) */
            sched->deadline_ns = now_ns;
            sched->started = 1;
        }
        *late_ns = now_ns - sched->deadline_ns;
        /* SRS-211: from the deadline, not from now_ns */
        sched->deadline_ns += RT_PERIOD_NS;
    }
    return status;
}

static void *loop_thread(void *arg)
{
    rt_schedule_t sched;
    (void)arg;
    (void)rt_schedule_start(&sched, mono_ns());
    while (__atomic_load_n(&g_running, __ATOMIC_ACQUIRE) != 0) {
        int64_t now;
        int64_t late = 0;
        sleep_until(sched.deadline_ns);
        now = mono_ns();
        (void)rt_schedule_wake(&sched, now, &late);
        record_latency(late, g_hist, &g_max_late_ns, &g_misses);
        __atomic_fetch_add(&g_wakeups, 1u, __ATOMIC_RELAXED);
        if (late > RT_LATE_FAULT_NS) {
            loop_fault(RT_FAULT_LATE, now, late);
        }
        if (__atomic_load_n(&g_loop_dead, __ATOMIC_ACQUIRE) == 0) {
            __atomic_store_n(&g_heartbeat_ns, now, __ATOMIC_RELEASE);
            if (late > __atomic_load_n(&g_max_run_late_ns, __ATOMIC_RELAXED)) {
                __atomic_store_n(&g_max_run_late_ns, late, __ATOMIC_RELAXED);
            }
            tick_once();
            if (__atomic_load_n(&g_stall_ticks, __ATOMIC_ACQUIRE) > 0) {
                /* fault injection: this tick overruns by g_stall_us */
                struct timespec st = to_ts((int64_t)__atomic_load_n(&g_stall_us, __ATOMIC_ACQUIRE) * 1000);
                (void)__atomic_fetch_sub(&g_stall_ticks, 1, __ATOMIC_ACQ_REL);
                (void)nanosleep(&st, NULL);
            }
        }
        __atomic_store_n(&g_cpu_ns, thread_cpu_ns(), __ATOMIC_RELAXED);
    }
    return NULL;
}

/* SRS-215: the loop's heartbeat, watched from a second thread: a runner
 * that stops (a stalled thread never sees its own lateness) still ends
 * with the disconnect open */
static void *monitor_thread(void *arg)
{
    int64_t deadline = mono_ns() + RT_MONITOR_NS;
    (void)arg;
    while (__atomic_load_n(&g_running, __ATOMIC_ACQUIRE) != 0) {
        int64_t now;
        sleep_until(deadline);
        now = mono_ns();
        int64_t beat = __atomic_load_n(&g_heartbeat_ns, __ATOMIC_ACQUIRE);
        /* armed from the first tick on: before it the output is off (reg_init)
         * and no command can have been applied */
        if ((beat != 0) && ((now - beat) > (RT_LATE_FAULT_NS + RT_PERIOD_NS))) {
            loop_fault(RT_FAULT_STALLED, now, now - deadline);
        }
        deadline += RT_MONITOR_NS;
        if (deadline < now) {
            deadline = now + RT_MONITOR_NS; /* the monitor itself was late: no catch-up burst */
        }
    }
    return NULL;
}

static int32_t make_thread(pthread_t *th, void *(*fn)(void *), uint32_t options, int32_t prio, int32_t *rt)
{
    pthread_attr_t attr;
    int32_t status = REG_OK;
    int rc = -1;
    (void)pthread_attr_init(&attr);
    if ((options & RT_OPT_REALTIME) != 0u) {
        struct sched_param sp;
        sp.sched_priority = prio;
        (void)pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
        (void)pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
        (void)pthread_attr_setschedparam(&attr, &sp);
        rc = pthread_create(th, &attr, fn, NULL);
        if (rc == 0) {
            *rt = 1;
        }
    }
    if (rc != 0) {
        /* not permitted (EPERM) or not asked: normal priority */
        rc = pthread_create(th, NULL, fn, NULL);
    }
    if (rc != 0) {
        status = RT_ERR_THREAD;
    }
    (void)pthread_attr_destroy(&attr);
    return status;
}

/* ---- API ---------------------------------------------------------------------- */
int32_t rt_start(const hal_t *hal, uint32_t options)
{
    int32_t status = REG_OK;
    if ((hal == NULL) || (hal->read_inputs == NULL) || (hal->apply_output == NULL) ||
        (hal->disconnect == NULL) || (hal->now_ns == NULL)) {
        status = REG_ERR_NULL;
    } else if (options > RT_OPT_REALTIME) {
        status = REG_ERR_RANGE;
    } else if (__atomic_load_n(&g_running, __ATOMIC_ACQUIRE) != 0) {
        status = RT_ERR_STATE;
    } else {
        int32_t i;
        int32_t rt_loop = 0;
        int32_t rt_mon = 0;
        g_hal = *hal;
        (void)reg_init(&g_reg);
        g_out.flags = 0u;
        g_out.fault = REG_FAULT_NONE;
        g_cmd_seq = 0u;
        g_cmd_applied = 0u;
        g_st_seq = 0u;
        for (i = 0; i < ST_WORDS; i++) {
            g_st[i] = 0;
        }
        for (i = 0; i < RT_RING_TICKS; i++) {
            g_stamp[i] = -1;
        }
        for (i = 0; i < RT_HIST_BINS; i++) {
            g_hist[i] = 0u;
        }
        g_wakeups = 0u;
        g_misses = 0u;
        g_max_late_ns = 0;
        g_cpu_ns = 0;
        g_torn = 0u;
        g_loop_dead = 0;
        g_loop_fault = RT_FAULT_NONE;
        g_fault_ns = 0;
        g_fault_wake_late_ns = 0;
        g_max_run_late_ns = 0;
        g_stall_ticks = 0;
        g_locked = 0;
        g_start_ns = mono_ns();
        g_heartbeat_ns = 0;
        if ((options & RT_OPT_REALTIME) != 0u) {
            if (mlockall(MCL_CURRENT | MCL_FUTURE) == 0) {
                g_locked = 1;
            }
        }
        __atomic_store_n(&g_running, 1, __ATOMIC_RELEASE);
        status = make_thread(&g_thread, &loop_thread, options, 80, &rt_loop);
        if (status == REG_OK) {
            status = make_thread(&g_monitor, &monitor_thread, options, 81, &rt_mon);
            if (status != REG_OK) {
                __atomic_store_n(&g_running, 0, __ATOMIC_RELEASE);
                (void)pthread_join(g_thread, NULL);
            }
        } else {
            __atomic_store_n(&g_running, 0, __ATOMIC_RELEASE);
        }
        g_realtime = 0;
        if ((rt_loop != 0) && (rt_mon != 0)) {
            g_realtime = 1;
        }
    }
    return status;
}

/* stops both threads; the disconnect is opened: a stopped loop must not
 * leave the stage driving */
int32_t rt_stop(void)
{
    int32_t status = RT_ERR_STATE;
    if (__atomic_load_n(&g_running, __ATOMIC_ACQUIRE) != 0) {
        __atomic_store_n(&g_running, 0, __ATOMIC_RELEASE);
        (void)pthread_join(g_thread, NULL);
        (void)pthread_join(g_monitor, NULL);
        (void)g_hal.disconnect(g_hal.ctx);
        if (g_locked != 0) {
            (void)munlockall();
            g_locked = 0;
        }
        status = REG_OK;
    }
    return status;
}

/* the checklist into the mailbox words after the fixed ones (checklist_from_words' order) */
static void checklist_to_words(const reg_checklist_t *answers)
{
    int32_t i;
    __atomic_store_n(&g_cmd[CMD_FIXED_WORDS], answers->version, __ATOMIC_RELAXED);
    __atomic_store_n(&g_cmd[CMD_FIXED_WORDS + 1], answers->n_contraindications, __ATOMIC_RELAXED);
    for (i = 0; i < REG_ARM_CONTRAINDICATIONS; i++) {
        __atomic_store_n(&g_cmd[CMD_FIXED_WORDS + 2 + i], answers->contraindication[i], __ATOMIC_RELAXED);
    }
    __atomic_store_n(&g_cmd[CMD_FIXED_WORDS + 2 + REG_ARM_CONTRAINDICATIONS], answers->n_preparation,
                     __ATOMIC_RELAXED);
    for (i = 0; i < REG_ARM_PREPARATION_STEPS; i++) {
        __atomic_store_n(&g_cmd[CMD_FIXED_WORDS + 3 + REG_ARM_CONTRAINDICATIONS + i], answers->preparation[i],
                         __ATOMIC_RELAXED);
    }
}

/* one writer at a time; *seq gets the sequence to wait for in applied_seq */
int32_t rt_post(const rt_command_t *cmd, uint32_t *seq)
{
    int32_t status = REG_OK;
    if ((cmd == NULL) || (seq == NULL)) {
        status = REG_ERR_NULL;
    } else if ((cmd->ops == 0u) || (cmd->ops > RT_OPS_ALL)) {
        status = REG_ERR_RANGE;
    } else {
        uint32_t s = __atomic_load_n(&g_cmd_seq, __ATOMIC_RELAXED);
        __atomic_store_n(&g_cmd_seq, s + 1u, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        __atomic_store_n(&g_cmd[0], (int32_t)cmd->ops, __ATOMIC_RELAXED);
        __atomic_store_n(&g_cmd[1], cmd->target_ua, __ATOMIC_RELAXED);
        __atomic_store_n(&g_cmd[2], cmd->slew_na_per_s, __ATOMIC_RELAXED);
        __atomic_store_n(&g_cmd[3], cmd->on, __ATOMIC_RELAXED);
        __atomic_store_n(&g_cmd[4], cmd->polarity, __ATOMIC_RELAXED);
        checklist_to_words(&cmd->checklist);
        __atomic_store_n(&g_cmd_seq, s + 2u, __ATOMIC_RELEASE);
        *seq = s + 2u;
    }
    return status;
}

int32_t rt_status(rt_status_t *st)
{
    int32_t status = RT_ERR_BUSY;
    if (st == NULL) {
        status = REG_ERR_NULL;
    } else {
        int32_t tries;
        for (tries = 0; (tries < 10000) && (status != REG_OK); tries++) {
            int32_t w[ST_WORDS];
            int32_t i;
            uint32_t s1 = __atomic_load_n(&g_st_seq, __ATOMIC_ACQUIRE);
            uint32_t s2;
            for (i = 0; i < ST_WORDS; i++) {
                w[i] = __atomic_load_n(&g_st[i], __ATOMIC_RELAXED);
            }
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            s2 = __atomic_load_n(&g_st_seq, __ATOMIC_RELAXED);
            if (((s1 & 1u) == 0u) && (s1 == s2)) {
                st->loop_ticks = (int64_t)w[0] + ((int64_t)w[1] * TICK_SPLIT);
                st->applied_seq = (uint32_t)w[2];
                for (i = 0; i < RT_OP_COUNT; i++) {
                    st->results[i] = w[3 + i];
                }
                st->target_ua = w[ST_STATE];
                st->slew_fa_per_tick = w[ST_STATE + 1];
                st->enabled = w[ST_STATE + 2];
                st->watchdog_count = w[ST_STATE + 3];
                st->polarity = w[ST_STATE + 4];
                st->fault = w[ST_STATE + 5];
                st->flags = (uint32_t)w[ST_STATE + 6];
                st->measured_ua = w[ST_STATE + 7];
                status = REG_OK;
            }
        }
        st->last_tick_ns = __atomic_load_n(&g_heartbeat_ns, __ATOMIC_ACQUIRE);
        st->fault_ns = __atomic_load_n(&g_fault_ns, __ATOMIC_ACQUIRE);
        st->fault_wake_late_ns = __atomic_load_n(&g_fault_wake_late_ns, __ATOMIC_ACQUIRE);
        st->loop_fault = __atomic_load_n(&g_loop_fault, __ATOMIC_ACQUIRE);
        st->running = __atomic_load_n(&g_running, __ATOMIC_ACQUIRE);
        st->realtime = g_realtime;
        st->locked = g_locked;
    }
    return status;
}

/* one record whole, or 0 if it is not there (not yet written, overwritten) */
static int32_t read_record(int64_t t, int32_t *w)
{
    int64_t slot64 = t % RT_RING_TICKS;
    int32_t slot = (int32_t)slot64;
    int32_t ok = 0;
    if (__atomic_load_n(&g_stamp[slot], __ATOMIC_ACQUIRE) == t) {
        int32_t i;
        for (i = 0; i < REC_WORDS; i++) {
            w[i] = __atomic_load_n(&g_rec[slot][i], __ATOMIC_RELAXED);
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&g_stamp[slot], __ATOMIC_RELAXED) == t) {
            ok = 1;
        }
    }
    return ok;
}

static void fill_rt_row(rt_row_t *row, const int32_t *w, uint32_t ticks)
{
    row->ticks = (int32_t)ticks;
    row->measured_ua = w[1];
    row->voltage_mv = w[2];
    row->drive_mv = w[3];
    row->reference_ua = w[4];
    row->setpoint_ua = w[5];
    row->target_ua = w[6];
    row->polarity = w[7];
    row->fault = w[8];
    row->flowing_permille = w[9];
    row->antishock_cuts = w[10];
    row->flags = (uint32_t)w[11];
    row->load_estimate_ohms = (double)w[13];
    row->load_ohms = 0.0;
    row->applied_seq = (uint32_t)w[14];
}

/* Complete rows of ticks [from_tick, ...) that the loop has run, at most
 * max_rows; with stop_on_event, up to and including the first row with an
 * event. RT_ERR_LOST if a record was overwritten (the reader fell more than
 * RT_RING_TICKS behind). */
int32_t rt_rows(int64_t from_tick, uint32_t ticks_per_row, uint32_t max_rows, uint32_t stop_on_event,
                rt_row_t *rows, rt_batch_t *batch)
{
    int32_t status = REG_OK;
    if ((rows == NULL) || (batch == NULL)) {
        status = REG_ERR_NULL;
    } else if ((from_tick < 0) || (ticks_per_row == 0u) || (ticks_per_row > (uint32_t)RT_MAX_TICKS_PER_ROW) ||
               (max_rows == 0u) || (stop_on_event > 1u)) {
        status = REG_ERR_RANGE;
    } else {
        rt_status_t st;
        int64_t avail;
        int64_t t = from_tick;
        uint32_t r;
        uint32_t stop = 0u;
        int64_t load0 = 0;
        (void)rt_status(&st);
        avail = st.loop_ticks;
        batch->rows_run = 0u;
        batch->events = 0u;
        batch->charge_uas = 0.0;
        batch->max_current_ua = 0.0;
        if ((avail - from_tick) > (int64_t)RT_RING_TICKS) {
            status = RT_ERR_LOST;
        }
        for (r = 0u; (status == REG_OK) && (r < max_rows) && (stop == 0u) &&
                     ((t + (int64_t)ticks_per_row) <= avail); r++) {
            rt_row_t *row = &rows[r];
            int32_t w[REC_WORDS];
            uint32_t k;
            uint32_t events = 0u;
            double sum = 0.0;
            double peak = 0.0;
            for (k = 0u; (k < ticks_per_row) && (status == REG_OK); k++) {
                if (read_record(t + (int64_t)k, w) == 0) {
                    status = RT_ERR_LOST;
                } else {
                    sum += (double)w[0];
                    if ((double)w[0] > peak) {
                        peak = (double)w[0];
                    }
                    events |= (uint32_t)w[12];
                }
            }
            if (status == REG_OK) {
                fill_rt_row(row, w, ticks_per_row);
                row->mean_current_ua = sum / (double)ticks_per_row;
                row->peak_current_ua = peak;
                /* SIM_EVENT_LOAD_MOVED as sim_run_rows reports it (SRS-092) */
                if ((w[3] == 0) || ((row->flags & REG_FLAG_CONTACT_LOST) != 0u) || (w[13] <= 0)) {
                    load0 = (w[13] > 0) ? 0 : load0;
                } else if (load0 <= 0) {
                    load0 = (int64_t)w[13];
                } else {
                    int64_t moved = (int64_t)w[13] - load0;
                    moved = (moved < 0) ? -moved : moved;
                    if ((moved * 100) > (load0 * LOAD_MOVED_PERCENT)) {
                        events |= EV_LOAD_MOVED;
                    }
                }
                row->events = events;
                batch->events |= events;
                batch->charge_uas += sum / (double)REG_TICK_HZ;
                if (peak > batch->max_current_ua) {
                    batch->max_current_ua = peak;
                }
                batch->rows_run += 1u;
                t += (int64_t)ticks_per_row;
                if ((stop_on_event != 0u) && (events != 0u)) {
                    stop = 1u;
                }
            }
        }
        batch->next_tick = t;
        batch->loop_ticks = avail;
    }
    return status;
}

int32_t rt_stats(rt_stats_t *stats)
{
    int32_t status = REG_ERR_NULL;
    if (stats != NULL) {
        int32_t i;
        stats->wakeups = __atomic_load_n(&g_wakeups, __ATOMIC_RELAXED);
        stats->misses = __atomic_load_n(&g_misses, __ATOMIC_RELAXED);
        stats->max_late_ns = __atomic_load_n(&g_max_late_ns, __ATOMIC_RELAXED);
        stats->max_run_late_ns = __atomic_load_n(&g_max_run_late_ns, __ATOMIC_RELAXED);
        stats->cpu_ns = __atomic_load_n(&g_cpu_ns, __ATOMIC_RELAXED);
        stats->wall_ns = mono_ns() - g_start_ns;
        stats->torn_retries = __atomic_load_n(&g_torn, __ATOMIC_RELAXED);
        for (i = 0; i < RT_HIST_BINS; i++) {
            stats->hist[i] = __atomic_load_n(&g_hist[i], __ATOMIC_RELAXED);
        }
        status = REG_OK;
    }
    return status;
}

int32_t rt_disconnect(void)
{
    int32_t status = RT_ERR_STATE;
    if (g_hal.disconnect != NULL) {
        status = g_hal.disconnect(g_hal.ctx);
    }
    return status;
}

int32_t rt_inject_stall(int32_t ticks, int32_t us)
{
    int32_t status = REG_OK;
    if ((ticks < 0) || (ticks > 100000) || (us < 0) || (us > 1000000)) {
        status = REG_ERR_RANGE;
    } else {
        /* read by the loop thread at its next tick; an int each, written whole */
        __atomic_store_n(&g_stall_us, us, __ATOMIC_RELEASE);
        __atomic_store_n(&g_stall_ticks, ticks, __ATOMIC_RELEASE);
    }
    return status;
}

int32_t rt_floor(int32_t ms, uint32_t options, rt_stats_t *stats)
{
    int32_t status = REG_OK;
    if (stats == NULL) {
        status = REG_ERR_NULL;
    } else if ((ms <= 0) || (ms > 600000) || (options > RT_OPT_REALTIME)) {
        status = REG_ERR_RANGE;
    } else {
        int32_t i;
        int32_t old_policy = 0;
        struct sched_param old_sp;
        int32_t switched = 0;
        int64_t start;
        int64_t deadline;
        int64_t end;
        int64_t cpu0;
        (void)pthread_getschedparam(pthread_self(), &old_policy, &old_sp);
        if ((options & RT_OPT_REALTIME) != 0u) {
            struct sched_param sp;
            sp.sched_priority = 80;
            if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0) {
                switched = 1;
            }
        }
        for (i = 0; i < RT_HIST_BINS; i++) {
            stats->hist[i] = 0u;
        }
        stats->wakeups = 0u;
        stats->misses = 0u;
        stats->max_late_ns = 0;
        stats->max_run_late_ns = 0;
        stats->torn_retries = 0u;
        start = mono_ns();
        cpu0 = thread_cpu_ns();
        end = start + ((int64_t)ms * 1000000);
        deadline = start + RT_PERIOD_NS;
        while (deadline < end) {
            sleep_until(deadline);
            record_latency(mono_ns() - deadline, stats->hist, &stats->max_late_ns, &stats->misses);
            stats->wakeups += 1u;
            deadline += RT_PERIOD_NS;
        }
        stats->cpu_ns = thread_cpu_ns() - cpu0;
        stats->wall_ns = mono_ns() - start;
        if (switched != 0) {
            (void)pthread_setschedparam(pthread_self(), old_policy, &old_sp);
        }
        if ((switched == 0) && ((options & RT_OPT_REALTIME) != 0u)) {
            status = RT_ERR_THREAD; /* measured at normal priority: say so */
        }
    }
    return status;
}
