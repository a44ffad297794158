/*
 * Real-time runner of the regulation loop (SRS-211..SRS-215): one thread
 * calls reg_tick every RT_PERIOD_NS against absolute deadlines on
 * CLOCK_MONOTONIC, with the board behind hal_t. Pure C: no Python
 * interpreter (and no GIL) is involved while it runs. One runner per process
 * (static state: no heap).
 *
 * Calling context (every function below may be called from any one thread
 * other than the runner's; rt_post has one writer at a time):
 *  - rt_start / rt_stop: the controlling thread, not concurrently;
 *  - rt_post: a command (any set of reg_command, reg_enable, reg_kick,
 *    reg_set_polarity, reg_reset_fault, reg_search_contact, reg_arm,
 *    reg_disarm) is published in
 *    a sequence-counted mailbox and applied whole at the start of a tick
 *    (never half: SRS-212); wait-free for the tick; the results come back in
 *    rt_status_t.results with applied_seq;
 *  - rt_status: a consistent copy of the last tick's status (seqlock);
 *  - rt_rows: rows of per-tick records aggregated (mean, peak, charge,
 *    events), each record taken whole or reported lost (SRS-213);
 *  - rt_disconnect: any thread, any time (hal_t.disconnect).
 */
#ifndef RUNNER_H
#define RUNNER_H

#include <stdint.h>
#include "regulator.h"
#include "arming.h"
#include "hal.h"

/* SRS-211: one tick every 100 us (REG_TICK_HZ) */
#define RT_PERIOD_NS (1000000000 / REG_TICK_HZ)
/* SRS-214: a tick starting more than RT_LATE_FAULT_NS after its deadline is
 * a fault of the loop: the output disconnect opens and the loop stops.
 * 0.8 ms = the 1 ms that SRS-009 allows a current above the hard limit,
 * less the 2 ticks the trip itself may take: a late loop never holds an
 * unsupervised drive longer than the regulator's own fastest protection
 * allows. It is above the platform's floor with real-time priority (max
 * 0.6 ms measured, issue 13) and 60 times shorter than the 50 ms watchdog. */
#define RT_LATE_FAULT_NS 800000
/* SRS-215: the monitor thread checks the tick's heartbeat this often */
#define RT_MONITOR_NS 200000
/* a tick starting later than one period after its deadline counts as a miss */
#define RT_MISS_NS RT_PERIOD_NS
/* wake-up latency histogram: 10 us bins, the last one open-ended */
#define RT_HIST_BIN_NS 10000
#define RT_HIST_BINS 256
/* per-tick records kept for rt_rows: 2^16 ticks = 6.5 s */
#define RT_RING_TICKS 65536
#define RT_MAX_TICKS_PER_ROW 6000000

/* status codes beyond REG_* */
#define RT_ERR_STATE (-20)       /* not running / already running */
#define RT_ERR_THREAD (-21)      /* the thread could not be created */
#define RT_ERR_LOST (-22)        /* records overwritten before they were read */
#define RT_ERR_BUSY (-23)        /* the status could not be read consistently */

/* rt_start options */
#define RT_OPT_REALTIME 0x01u    /* SCHED_FIFO and mlockall where permitted */

/* mailbox operations (rt_command_t.ops), applied in this order */
#define RT_OP_RESET 0x01u
#define RT_OP_POLARITY 0x02u
#define RT_OP_COMMAND 0x04u
#define RT_OP_ENABLE 0x08u       /* with on = 1 the watchdog restarts in the same tick */
#define RT_OP_SEARCH 0x10u
#define RT_OP_KICK 0x20u
#define RT_OP_ARM 0x40u          /* reg_arm with rt_command_t.checklist (SRS-307) */
#define RT_OP_DISARM 0x80u       /* reg_disarm: the session ended */
#define RT_OP_COUNT 8

/* fault of the loop itself (rt_status_t.loop_fault) */
#define RT_FAULT_NONE 0
#define RT_FAULT_LATE 1          /* a tick started more than RT_LATE_FAULT_NS late */
#define RT_FAULT_STALLED 2       /* the monitor saw no tick for RT_LATE_FAULT_NS + a period */

typedef struct {
    uint32_t ops;            /* RT_OP_* */
    int32_t target_ua;
    int32_t slew_na_per_s;
    int32_t on;
    int32_t polarity;
    reg_checklist_t checklist; /* RT_OP_ARM: the raw answers, copied whole with the rest */
} rt_command_t;

typedef struct {
    int64_t loop_ticks;      /* reg_tick calls since rt_start */
    int64_t last_tick_ns;    /* start of the last tick (hal now_ns) */
    int64_t fault_ns;        /* when the loop fault was declared (0: none) */
    int64_t fault_wake_late_ns; /* the detecting thread's own wake-up lateness at that moment */
    uint32_t applied_seq;    /* last mailbox command applied */
    int32_t results[RT_OP_COUNT]; /* status of each op of that command, in RT_OP_* bit order */
    int32_t target_ua;       /* regulator state after the tick: target, */
    int32_t slew_fa_per_tick;/* its slew, */
    int32_t enabled;
    int32_t watchdog_count;  /* ticks since the last kick or enable */
    int32_t polarity;
    int32_t fault;
    uint32_t flags;
    int32_t measured_ua;
    int32_t loop_fault;      /* RT_FAULT_* */
    int32_t running;
    int32_t realtime;        /* 1: SCHED_FIFO granted */
    int32_t locked;          /* 1: mlockall granted */
} rt_status_t;

/* one row of ticks (the fields of simload's sim_row_t the trace uses) */
typedef struct {
    double mean_current_ua;  /* patient current (hal apply_output), mean over the row */
    double peak_current_ua;  /* largest per-tick patient current within the row */
    double load_ohms;        /* unknown on a board: 0 */
    double load_estimate_ohms;
    int32_t ticks;
    int32_t measured_ua;
    int32_t voltage_mv;
    int32_t drive_mv;
    int32_t reference_ua;
    int32_t setpoint_ua;
    int32_t target_ua;
    int32_t polarity;
    int32_t fault;
    int32_t flowing_permille;
    int32_t antishock_cuts;
    uint32_t flags;
    uint32_t events;         /* SIM_EVENT_* bits (same values) within the row */
    uint32_t applied_seq;    /* the last mailbox command applied by the row's last tick (SRS-316) */
} rt_row_t;

typedef struct {
    uint32_t rows_run;
    uint32_t events;
    int64_t next_tick;       /* first tick not yet in a row */
    int64_t loop_ticks;
    double charge_uas;
    double max_current_ua;
} rt_batch_t;

typedef struct {
    uint64_t wakeups;
    uint64_t misses;         /* ticks starting more than RT_MISS_NS late */
    int64_t max_late_ns;
    int64_t max_run_late_ns; /* largest lateness of a tick that was run (SRS-214: <= RT_LATE_FAULT_NS) */
    int64_t cpu_ns;          /* CPU time of the loop thread */
    int64_t wall_ns;         /* since rt_start */
    uint64_t torn_retries;   /* mailbox reads retried (a post in progress) */
    uint64_t hist[RT_HIST_BINS];
} rt_stats_t;

/* SRS-211: the loop's schedule of absolute deadlines, one step per wake-up.
 * rt_schedule_wake takes the clock read on waking from the sleep to
 * deadline_ns, gives that wake-up's lateness and moves the deadline one
 * period on from the deadline, never from the wake-up: lateness does not
 * accumulate, and the wake-ups keep the clock's count of periods. The first
 * wake-up starts the schedule at its own time, lateness 0 (SRS-214: the
 * thread's start-up latency is no late tick). */
typedef struct {
    int64_t deadline_ns;     /* the next wake-up's absolute CLOCK_MONOTONIC time */
    int32_t started;         /* 0 until the first wake-up */
} rt_schedule_t;

int32_t rt_schedule_start(rt_schedule_t *sched, int64_t now_ns);
int32_t rt_schedule_wake(rt_schedule_t *sched, int64_t now_ns, int64_t *late_ns);

int32_t rt_start(const hal_t *hal, uint32_t options);
int32_t rt_stop(void);
int32_t rt_post(const rt_command_t *cmd, uint32_t *seq);
int32_t rt_status(rt_status_t *st);
int32_t rt_rows(int64_t from_tick, uint32_t ticks_per_row, uint32_t max_rows, uint32_t stop_on_event,
                rt_row_t *rows, rt_batch_t *batch);
int32_t rt_stats(rt_stats_t *stats);
int32_t rt_disconnect(void);
/* fault injection (tests): the next `ticks` ticks each stall `us` inside the tick */
int32_t rt_inject_stall(int32_t ticks, int32_t us);
/* the platform's floor: a bare clock_nanosleep loop at RT_PERIOD_NS in the
 * calling thread for `ms`, its wake-up latency into stats */
int32_t rt_floor(int32_t ms, uint32_t options, rt_stats_t *stats);

#endif /* RUNNER_H */
