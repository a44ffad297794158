#define _POSIX_C_SOURCE 200112L /* deviation D3: clock_gettime (cext/misra-deviations.md) */
/*
 * The simulated board (SRS-210): simload.c's load model behind hal_t, for
 * the real-time runner off-device. One instance (static: no heap).
 */
#include <stddef.h>
#include <time.h>
#include "hal.h"
#include "simload.h"

typedef struct {
    int32_t event;
    int32_t arg;
    int32_t arg2;
} hal_sim_event_t;

static sim_rig_t g_rig;
static hal_sim_event_t g_event;    /* written by the poster under g_post_seq */
static uint32_t g_post_seq;        /* odd while the poster writes g_event */
static uint32_t g_done_seq;        /* last post applied by the tick */
static int32_t g_open;             /* 1: the disconnect was opened (any thread) */

static void apply_event(const hal_sim_event_t *ev)
{
    switch (ev->event) {
    case HAL_SIM_EV_LIFT_OFF:
        (void)sim_lift_off(&g_rig);
        break;
    case HAL_SIM_EV_CONTACT:
        (void)sim_contact(&g_rig);
        break;
    case HAL_SIM_EV_SHORT:
        (void)sim_short(&g_rig, ev->arg);
        break;
    case HAL_SIM_EV_CLEAR_SHORT:
        (void)sim_clear_short(&g_rig);
        break;
    case HAL_SIM_EV_CHANGE_LOAD:
        (void)sim_change_load(&g_rig, ev->arg, ev->arg2);
        break;
    case HAL_SIM_EV_STICK_SENSOR:
        (void)sim_stick_sensor(&g_rig, ev->arg, ev->arg2);
        break;
    case HAL_SIM_EV_UNSTICK_SENSOR:
        (void)sim_unstick_sensor(&g_rig, ev->arg);
        break;
    default:
        /* HAL_SIM_EV_NONE */
        break;
    }
}

/* a posted load event, taken whole or not at all (seqlock read) */
static void take_event(void)
{
    uint32_t s1 = __atomic_load_n(&g_post_seq, __ATOMIC_ACQUIRE);
    if (((s1 & 1u) == 0u) && (s1 != g_done_seq)) {
        hal_sim_event_t ev;
        uint32_t s2;
        ev.event = __atomic_load_n(&g_event.event, __ATOMIC_RELAXED);
        ev.arg = __atomic_load_n(&g_event.arg, __ATOMIC_RELAXED);
        ev.arg2 = __atomic_load_n(&g_event.arg2, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        s2 = __atomic_load_n(&g_post_seq, __ATOMIC_RELAXED);
        if (s1 == s2) {
            apply_event(&ev);
            __atomic_store_n(&g_done_seq, s1, __ATOMIC_RELEASE);
        }
    }
}

static int32_t sim_read(void *ctx, reg_inputs_t *in)
{
    (void)ctx;
    take_event();
    return sim_hal_read(&g_rig, in);
}

static int32_t sim_apply(void *ctx, const reg_output_t *out, int32_t *patient_ua)
{
    double mean_ua = 0.0;
    double peak_ua = 0.0;
    int32_t status;
    (void)ctx;
    if (__atomic_load_n(&g_open, __ATOMIC_ACQUIRE) != 0) {
        /* the load is only stepped here, in the tick: it sees the open
         * disconnect from the first step after the request on */
        (void)sim_disconnect(&g_rig, 1);
    }
    status = sim_hal_apply(&g_rig, out, &mean_ua, &peak_ua);
    /* the clamp bounds the true current to SIM_CLAMP_UA: the cast cannot overflow */
    *patient_ua = (int32_t)(mean_ua + 0.5);
    return status;
}

static int32_t sim_open(void *ctx)
{
    (void)ctx;
    /* any thread: a flag the tick applies before it steps the load again */
    __atomic_store_n(&g_open, 1, __ATOMIC_RELEASE);
    return REG_OK;
}

static int64_t sim_now_ns(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((int64_t)ts.tv_sec * 1000000000) + (int64_t)ts.tv_nsec;
}

/* the simulated board with a fresh load (not while a runner uses it) */
int32_t hal_sim_bind(hal_t *hal, uint64_t seed, int32_t load_ohms, int32_t capacitance_nf)
{
    int32_t status = REG_ERR_NULL;
    if (hal != NULL) {
        status = sim_init(&g_rig, seed, load_ohms, capacitance_nf);
        if (status == REG_OK) {
            g_post_seq = 0u;
            g_done_seq = 0u;
            g_open = 0;
            hal->ctx = NULL;
            hal->read_inputs = &sim_read;
            hal->apply_output = &sim_apply;
            hal->disconnect = &sim_open;
            hal->now_ns = &sim_now_ns;
        }
    }
    return status;
}

/* a load event for the next tick (one writer; the caller waits for
 * hal_sim_event_done to reach the returned sequence before posting again) */
int32_t hal_sim_post(int32_t event, int32_t arg, int32_t arg2)
{
    int32_t status = REG_OK;
    if ((event < HAL_SIM_EV_LIFT_OFF) || (event > HAL_SIM_EV_UNSTICK_SENSOR)) {
        status = REG_ERR_RANGE;
    } else {
        uint32_t s = __atomic_load_n(&g_post_seq, __ATOMIC_RELAXED);
        __atomic_store_n(&g_post_seq, s + 1u, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        __atomic_store_n(&g_event.event, event, __ATOMIC_RELAXED);
        __atomic_store_n(&g_event.arg, arg, __ATOMIC_RELAXED);
        __atomic_store_n(&g_event.arg2, arg2, __ATOMIC_RELAXED);
        __atomic_store_n(&g_post_seq, s + 2u, __ATOMIC_RELEASE);
    }
    return status;
}

int32_t hal_sim_event_done(uint32_t *done_seq)
{
    int32_t status = REG_ERR_NULL;
    if (done_seq != NULL) {
        uint32_t done = __atomic_load_n(&g_done_seq, __ATOMIC_ACQUIRE);
        uint32_t posted = __atomic_load_n(&g_post_seq, __ATOMIC_ACQUIRE);
        *done_seq = 0u;
        if (done == posted) {
            *done_seq = 1u;
        }
        status = REG_OK;
    }
    return status;
}

int32_t hal_sim_disconnected(int32_t *open)
{
    int32_t status = REG_ERR_NULL;
    if (open != NULL) {
        *open = __atomic_load_n(&g_open, __ATOMIC_ACQUIRE);
        status = REG_OK;
    }
    return status;
}
