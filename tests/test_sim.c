/*
 * test_sim.c - the deterministic simulator.
 *
 * The parts first, through their own headers: the event heap's order, the
 * network's FIFO delivery times and injected faults (breaks, duplicates,
 * overtaking), partitions and crashes, the disk's sync, crash, torn-record
 * and truncation semantics (checked against a model of what is durable), and
 * the invariant checker on histories that break each invariant.
 *
 * Then whole ensembles through zab_sim.h: election, writes from every node,
 * replay of a seed, follower and leader crashes, isolation, torn logs, and a
 * faulty run that must still settle with every invariant intact.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "sim/check.h"
#include "sim/disk.h"
#include "sim/net.h"
#include "sim/queue.h"
#include "sim/rng.h"
#include "sim/sim.h"
#include "util/prim.h"
#include "zab.h"
#include "zab_sim.h"

/* ------------------------------------------------------------------------ */
/* The event heap                                                            */
/* ------------------------------------------------------------------------ */

START_TEST(queue_orders_by_time_then_push_order)
{
    zab_sim_queue q = { 0 };
    zab_sim_rng rng;
    zab_sim_rng_seed(&rng, 7);
    /* 2000 events over 50 instants, so most instants hold many. */
    for (uint32_t i = 0; i < 2000; i++)
        ck_assert_int_eq(zab_sim_queue_push(&q, zab_sim_rng_range(&rng, 0, 49), ZAB_SIM_EV_TIMER,
                                            i, 0, 0, i),
                         0);
    zab_sim_event ev, last = { .at = -1 };
    uint32_t n = 0;
    while (zab_sim_queue_pop(&q, &ev)) {
        ck_assert_int_ge(ev.at, last.at);
        if (ev.at == last.at) ck_assert_uint_gt(ev.a, last.a); /* pushed later */
        ck_assert_uint_eq(ev.arg, ev.a);
        last = ev;
        n++;
    }
    ck_assert_uint_eq(n, 2000);
    ck_assert_ptr_null(zab_sim_queue_peek(&q));
    ck_assert_int_eq(zab_sim_queue_pop(&q, &ev), 0);
    zab_sim_queue_free(&q);
}
END_TEST

START_TEST(queue_peek_is_the_next_pop)
{
    zab_sim_queue q = { 0 };
    zab_sim_queue_push(&q, 30, ZAB_SIM_EV_SYNC, 1, 0, 0, 0);
    zab_sim_queue_push(&q, 10, ZAB_SIM_EV_TIMER, 2, 0, 0, 0);
    zab_sim_queue_push(&q, 10, ZAB_SIM_EV_LINK_UP, 3, 0, 0, 0);
    zab_sim_queue_push(&q, 20, ZAB_SIM_EV_DELIVER, 4, 0, 0, 0);
    uint32_t want[] = { 2, 3, 4, 1 };
    for (int i = 0; i < 4; i++) {
        const zab_sim_event *top = zab_sim_queue_peek(&q);
        ck_assert_ptr_nonnull(top);
        zab_sim_event ev;
        ck_assert_int_eq(zab_sim_queue_pop(&q, &ev), 1);
        ck_assert_uint_eq(ev.a, want[i]);
        ck_assert_uint_eq(ev.seq, ev.a == 1 ? 0 : ev.a - 1);
    }
    zab_sim_queue_free(&q);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The network                                                               */
/* ------------------------------------------------------------------------ */

typedef struct netbed {
    zab_sim_queue q;
    zab_sim_rng rng;
    zab_sim_net net;
} netbed;

static zab_sim_faults quiet_faults(void)
{
    zab_sim_faults f = { .latency_min = 1, .latency_max = 5, .reconnect_min = 10,
                         .reconnect_max = 50 };
    return f;
}

/* Pop events up to time `until`, bringing links up as LINK_UP events say;
 * returns how many links came up. */
static int bed_settle_links(netbed *b, int64_t until)
{
    int ups = 0;
    zab_sim_event ev;
    while (zab_sim_queue_peek(&b->q) && zab_sim_queue_peek(&b->q)->at <= until) {
        zab_sim_queue_pop(&b->q, &ev);
        ck_assert_uint_eq(ev.kind, ZAB_SIM_EV_LINK_UP);
        ups += zab_sim_net_link_up(&b->net, &ev);
    }
    return ups;
}

/* n nodes, all running, every link up, the queue empty. */
static void bed_init(netbed *b, uint32_t n, const zab_sim_faults *f, uint64_t seed)
{
    memset(b, 0, sizeof *b);
    zab_sim_rng_seed(&b->rng, seed);
    ck_assert_int_eq(zab_sim_net_init(&b->net, n, &b->q, &b->rng, f), 0);
    for (uint32_t i = 0; i < n; i++) ck_assert_int_eq(zab_sim_net_start(&b->net, 0, i), 0);
    ck_assert_int_eq(bed_settle_links(b, 0), (int)(n * (n - 1) / 2));
    ck_assert_ptr_null(zab_sim_queue_peek(&b->q));
}

static void bed_free(netbed *b)
{
    zab_sim_net_free(&b->net);
    zab_sim_queue_free(&b->q);
}

static void send_u32(netbed *b, int64_t now, uint32_t from, uint32_t to, uint32_t v)
{
    ck_assert_int_eq(zab_sim_net_send(&b->net, now, from, to, &v, sizeof v), 0);
}

/* What arrived, in delivery order. */
typedef struct arrivals {
    int64_t at[256];
    uint32_t from[256], to[256], val[256];
    int n;
    int stale;      /* DELIVER events of messages lost to a break */
    int peer_down;  /* PEER_DOWN events */
    int link_up;    /* LINK_UP events */
} arrivals;

/* Dispatch every event due by until the way a host would. */
static void bed_run(netbed *b, int64_t until, arrivals *got)
{
    zab_sim_event ev;
    while (zab_sim_queue_peek(&b->q) && zab_sim_queue_peek(&b->q)->at <= until) {
        zab_sim_queue_pop(&b->q, &ev);
        if (ev.kind == ZAB_SIM_EV_DELIVER) {
            zab_sim_msg *m = zab_sim_net_deliver(&b->net, &ev);
            if (!m) {
                got->stale++;
                continue;
            }
            ck_assert_uint_eq(m->len, sizeof(uint32_t));
            ck_assert_int_lt(got->n, 256);
            got->at[got->n] = ev.at;
            got->from[got->n] = ev.a;
            got->to[got->n] = ev.b;
            memcpy(&got->val[got->n], m->bytes, sizeof(uint32_t));
            got->n++;
            zab_sim_msg_free(m);
        } else if (ev.kind == ZAB_SIM_EV_PEER_DOWN) {
            got->peer_down++;
        } else if (ev.kind == ZAB_SIM_EV_LINK_UP) {
            got->link_up += zab_sim_net_link_up(&b->net, &ev);
        }
    }
}

START_TEST(net_channel_is_fifo_within_latency)
{
    netbed b;
    zab_sim_faults f = quiet_faults();
    bed_init(&b, 3, &f, 11);
    /* Bursts at a few instants, interleaved on two channels. */
    for (uint32_t i = 0; i < 100; i++) {
        int64_t now = i / 10;
        send_u32(&b, now, 0, 1, i);
        send_u32(&b, now, 2, 1, 1000 + i);
    }
    arrivals got = { 0 };
    bed_run(&b, 1000, &got);
    ck_assert_int_eq(got.n, 200);
    uint32_t next01 = 0, next21 = 1000;
    int64_t last01 = 0;
    for (int i = 0; i < got.n; i++) {
        ck_assert_uint_eq(got.to[i], 1);
        if (got.from[i] == 0) {
            ck_assert_uint_eq(got.val[i], next01++);
            /* never earlier than the send plus the least latency, nor
             * before the message ahead of it */
            ck_assert_int_ge(got.at[i], (int64_t)(got.val[i] / 10) + 1);
            ck_assert_int_ge(got.at[i], last01);
            last01 = got.at[i];
        } else {
            ck_assert_uint_eq(got.from[i], 2);
            ck_assert_uint_eq(got.val[i], next21++);
        }
    }
    /* The first message of a burst takes at most the largest latency. */
    ck_assert_int_le(got.at[0], 5);
    ck_assert_uint_eq(b.net.count.sent, 200);
    ck_assert_uint_eq(b.net.count.delivered, 200);
    bed_free(&b);
}
END_TEST

START_TEST(net_send_to_self_or_unknown_is_ignored)
{
    netbed b;
    zab_sim_faults f = quiet_faults();
    bed_init(&b, 2, &f, 1);
    uint32_t v = 1;
    ck_assert_int_eq(zab_sim_net_send(&b.net, 0, 0, 0, &v, sizeof v), 0);
    ck_assert_int_eq(zab_sim_net_send(&b.net, 0, 0, 7, &v, sizeof v), 0);
    ck_assert_ptr_null(zab_sim_queue_peek(&b.q));
    bed_free(&b);
}
END_TEST

START_TEST(net_duplicates_are_delivered_twice_in_place)
{
    netbed b;
    zab_sim_faults f = quiet_faults();
    f.dup_ppm = 1000000;
    bed_init(&b, 2, &f, 3);
    for (uint32_t i = 0; i < 5; i++) send_u32(&b, 0, 0, 1, i);
    arrivals got = { 0 };
    bed_run(&b, 100, &got);
    ck_assert_int_eq(got.n, 10);
    for (int i = 0; i < 10; i++) ck_assert_uint_eq(got.val[i], (uint32_t)i / 2);
    for (int i = 0; i < 10; i += 2) ck_assert_int_eq(got.at[i], got.at[i + 1]);
    ck_assert_uint_eq(b.net.count.dups, 5);
    bed_free(&b);
}
END_TEST

START_TEST(net_reorder_overtakes_the_message_ahead)
{
    netbed b;
    zab_sim_faults f = quiet_faults();
    f.reorder_ppm = 1000000;
    bed_init(&b, 2, &f, 5);
    /* Each message overtakes the one ahead of it, which is always the
     * first: it drifts to the back. */
    for (uint32_t i = 0; i < 4; i++) send_u32(&b, 0, 0, 1, i);
    arrivals got = { 0 };
    bed_run(&b, 100, &got);
    ck_assert_int_eq(got.n, 4);
    uint32_t want[] = { 1, 2, 3, 0 };
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(got.val[i], want[i]);
        if (i) ck_assert_int_ge(got.at[i], got.at[i - 1]);
    }
    /* The first message has nothing to overtake. */
    ck_assert_uint_eq(b.net.count.reorders, 3);
    bed_free(&b);
}
END_TEST

START_TEST(net_reorder_only_on_its_own_channel)
{
    netbed b;
    zab_sim_faults f = quiet_faults();
    f.reorder_ppm = 1000000;
    bed_init(&b, 3, &f, 5);
    send_u32(&b, 0, 0, 1, 1);
    send_u32(&b, 0, 0, 2, 2); /* another channel: nothing ahead of it */
    send_u32(&b, 0, 1, 0, 3); /* the reverse direction: likewise */
    ck_assert_uint_eq(b.net.count.reorders, 0);
    bed_free(&b);
}
END_TEST

START_TEST(net_break_loses_both_directions_and_reconnects)
{
    netbed b;
    zab_sim_faults f = quiet_faults();
    bed_init(&b, 3, &f, 9);
    send_u32(&b, 0, 0, 1, 1);
    send_u32(&b, 0, 1, 0, 2);
    send_u32(&b, 0, 0, 2, 3); /* another link: unaffected */
    b.net.f.break_ppm = 1000000;
    send_u32(&b, 0, 0, 1, 4); /* breaks the link */
    b.net.f.break_ppm = 0;
    ck_assert_int_eq(zab_sim_net_is_up(&b.net, 0, 1), 0);
    ck_assert_int_eq(zab_sim_net_is_up(&b.net, 0, 2), 1);
    send_u32(&b, 0, 0, 1, 5); /* link down: dropped */
    ck_assert_uint_eq(b.net.count.breaks, 1);
    ck_assert_uint_eq(b.net.count.dropped, 1);

    arrivals got = { 0 };
    bed_run(&b, 9, &got);
    ck_assert_int_eq(got.n, 1);
    ck_assert_uint_eq(got.val[0], 3);
    ck_assert_int_eq(got.stale, 2);
    ck_assert_int_eq(got.peer_down, 2);
    ck_assert_int_eq(got.link_up, 0);
    bed_run(&b, 50, &got);
    ck_assert_int_eq(got.link_up, 1);
    ck_assert_int_eq(zab_sim_net_is_up(&b.net, 0, 1), 1);
    send_u32(&b, 50, 1, 0, 6);
    bed_run(&b, 100, &got);
    ck_assert_int_eq(got.n, 2);
    ck_assert_uint_eq(got.val[1], 6);
    bed_free(&b);
}
END_TEST

/* A reconnect planned by one break must not bring the link up after a
 * later break: that break's PEER_DOWN events would then reach the nodes
 * after the LINK_UP, and they would believe a live link dead forever. */
START_TEST(net_reconnect_planned_before_a_break_is_stale)
{
    netbed b;
    zab_sim_faults f = quiet_faults();
    f.reconnect_min = f.reconnect_max = 10;
    bed_init(&b, 2, &f, 9);
    ck_assert_int_eq(zab_sim_net_break(&b.net, 100, 0, 1), 0); /* plans a reconnect at 110 */
    ck_assert_int_eq(zab_sim_net_heal(&b.net, 100), 0);        /* and another, now */
    /* What the two ends are told, in order: D (down, each end) or U (up). */
    char told[16] = { 0 };
    size_t k = 0;
    zab_sim_event ev;
    while (zab_sim_queue_peek(&b.q) && k + 2 < sizeof told) {
        /* At 110, just as the first reconnect is due, the link breaks again. */
        if (zab_sim_queue_peek(&b.q)->at >= 110 && zab_sim_net_is_up(&b.net, 0, 1) &&
            strchr(told, 'U') && !strchr(told + (strchr(told, 'U') - told), 'D'))
            ck_assert_int_eq(zab_sim_net_break(&b.net, 110, 0, 1), 0);
        zab_sim_queue_pop(&b.q, &ev);
        if (ev.kind == ZAB_SIM_EV_PEER_DOWN) told[k++] = 'D';
        else if (ev.kind == ZAB_SIM_EV_LINK_UP && zab_sim_net_link_up(&b.net, &ev)) told[k++] = 'U';
    }
    /* Each break's downs reach both ends before the up that follows it. */
    ck_assert_str_eq(told, "DDUDDU");
    ck_assert_int_eq(zab_sim_net_is_up(&b.net, 0, 1), 1);
    bed_free(&b);
}
END_TEST

START_TEST(net_peer_down_events_name_both_ends)
{
    netbed b;
    zab_sim_faults f = quiet_faults();
    bed_init(&b, 3, &f, 9);
    ck_assert_int_eq(zab_sim_net_break(&b.net, 40, 2, 1), 0);
    zab_sim_event ev;
    ck_assert_int_eq(zab_sim_queue_pop(&b.q, &ev), 1);
    ck_assert_uint_eq(ev.kind, ZAB_SIM_EV_PEER_DOWN);
    ck_assert_int_eq(ev.at, 40);
    ck_assert_uint_eq(ev.a, 2);
    ck_assert_uint_eq(ev.b, 1);
    ck_assert_int_eq(zab_sim_queue_pop(&b.q, &ev), 1);
    ck_assert_uint_eq(ev.kind, ZAB_SIM_EV_PEER_DOWN);
    ck_assert_uint_eq(ev.a, 1);
    ck_assert_uint_eq(ev.b, 2);
    ck_assert_int_eq(zab_sim_queue_pop(&b.q, &ev), 1);
    ck_assert_uint_eq(ev.kind, ZAB_SIM_EV_LINK_UP);
    ck_assert_int_ge(ev.at, 50);
    ck_assert_int_le(ev.at, 90);
    /* Breaking a link that is down does nothing. */
    ck_assert_int_eq(zab_sim_net_break(&b.net, 41, 1, 2), 0);
    ck_assert_ptr_null(zab_sim_queue_peek(&b.q));
    bed_free(&b);
}
END_TEST

START_TEST(net_symmetric_cut_holds_until_healed)
{
    netbed b;
    zab_sim_faults f = quiet_faults();
    bed_init(&b, 3, &f, 13);
    ck_assert_int_eq(zab_sim_net_cut(&b.net, 0, 0, 1, 0), 0);
    arrivals got = { 0 };
    bed_run(&b, 1000, &got);
    ck_assert_int_eq(got.peer_down, 2);
    ck_assert_int_eq(got.link_up, 0); /* the reconnect attempt failed */
    ck_assert_int_eq(zab_sim_net_is_up(&b.net, 0, 1), 0);
    ck_assert_int_eq(zab_sim_net_is_up(&b.net, 1, 2), 1);
    /* Cutting again is one more cut, not one more break. */
    ck_assert_int_eq(zab_sim_net_cut(&b.net, 1000, 1, 0, 0), 0);
    ck_assert_uint_eq(b.net.count.breaks, 1);
    ck_assert_int_eq(zab_sim_net_heal(&b.net, 1000), 0);
    bed_run(&b, 1000, &got);
    ck_assert_int_eq(got.link_up, 1);
    ck_assert_int_eq(zab_sim_net_is_up(&b.net, 0, 1), 1);
    bed_free(&b);
}
END_TEST

START_TEST(net_one_way_cut_carries_the_other_direction)
{
    netbed b;
    zab_sim_faults f = quiet_faults();
    bed_init(&b, 2, &f, 17);
    ck_assert_int_eq(zab_sim_net_cut(&b.net, 0, 0, 1, 1), 0);
    arrivals got = { 0 };
    bed_run(&b, 100, &got);
    ck_assert_int_eq(got.peer_down, 2);
    ck_assert_int_eq(got.link_up, 1); /* half a link reconnects */
    send_u32(&b, 100, 1, 0, 7);
    bed_run(&b, 200, &got);
    ck_assert_int_eq(got.n, 1);
    ck_assert_uint_eq(got.val[0], 7);
    /* The cut direction breaks it again, losing what was in flight back. */
    send_u32(&b, 200, 1, 0, 8);
    send_u32(&b, 200, 0, 1, 9);
    ck_assert_int_eq(zab_sim_net_is_up(&b.net, 0, 1), 0);
    bed_run(&b, 205, &got);
    ck_assert_int_eq(got.n, 1);
    ck_assert_int_eq(got.stale, 1);
    ck_assert_int_eq(got.peer_down, 4);
    bed_free(&b);
}
END_TEST

START_TEST(net_crash_and_restart)
{
    netbed b;
    zab_sim_faults f = quiet_faults();
    bed_init(&b, 3, &f, 19);
    uint32_t life = b.net.life[1];
    send_u32(&b, 0, 0, 1, 1);
    ck_assert_int_eq(zab_sim_net_crash(&b.net, 0, 1), 0);
    ck_assert_uint_ne(b.net.life[1], life);
    arrivals got = { 0 };
    bed_run(&b, 1000, &got);
    /* Only the survivors hear of it, and nothing reconnects to the dead. */
    ck_assert_int_eq(got.peer_down, 2);
    ck_assert_int_eq(got.stale, 1);
    ck_assert_int_eq(got.link_up, 0);
    ck_assert_int_eq(zab_sim_net_is_up(&b.net, 0, 2), 1);
    /* A partition that outlived the crash still holds after the restart. */
    ck_assert_int_eq(zab_sim_net_cut(&b.net, 1000, 1, 2, 0), 0);
    ck_assert_int_eq(zab_sim_net_start(&b.net, 1000, 1), 0);
    bed_run(&b, 1000, &got);
    ck_assert_int_eq(got.link_up, 1);
    ck_assert_int_eq(zab_sim_net_is_up(&b.net, 0, 1), 1);
    ck_assert_int_eq(zab_sim_net_is_up(&b.net, 1, 2), 0);
    bed_free(&b);
}
END_TEST

START_TEST(net_same_seed_same_times)
{
    int64_t at[2][64];
    for (int run = 0; run < 2; run++) {
        netbed b;
        zab_sim_faults f = quiet_faults();
        f.latency_max = 100;
        bed_init(&b, 2, &f, 23);
        for (uint32_t i = 0; i < 64; i++) send_u32(&b, i * 50, 0, 1, i);
        arrivals got = { 0 };
        bed_run(&b, 10000, &got);
        ck_assert_int_eq(got.n, 64);
        memcpy(at[run], got.at, sizeof at[run]);
        bed_free(&b);
    }
    ck_assert_mem_eq(at[0], at[1], sizeof at[0]);
    /* and the latency does vary */
    int varied = 0;
    for (int i = 1; i < 64; i++) varied |= at[0][i] - i * 50 != at[0][0];
    ck_assert(varied);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The disk                                                                  */
/* ------------------------------------------------------------------------ */

static void append1(zab_sim_disk *d, int64_t zxid)
{
    char txn[32];
    int len = snprintf(txn, sizeof txn, "txn-%llx", (unsigned long long)zxid);
    zab_entry e = { zxid, txn, (size_t)len };
    ck_assert_int_eq(zab_sim_disk_append(d, &e, 1), 0);
}

START_TEST(disk_sync_covers_what_came_before_its_mark)
{
    zab_sim_disk d = { 0 };
    append1(&d, 1);
    append1(&d, 2);
    uint64_t mark = zab_sim_disk_mark(&d);
    append1(&d, 3);
    ck_assert_uint_eq(d.synced, 0);
    int64_t zxid = 0;
    ck_assert_int_eq(zab_sim_disk_sync(&d, mark, &zxid), 1);
    ck_assert_int_eq(zxid, 2);
    ck_assert_uint_eq(d.synced, 2);
    /* A second completion of the same mark finds nothing to do. */
    ck_assert_int_eq(zab_sim_disk_sync(&d, mark, &zxid), 0);
    ck_assert_int_eq(zab_sim_disk_sync(&d, zab_sim_disk_mark(&d), &zxid), 1);
    ck_assert_int_eq(zxid, 3);
    ck_assert_uint_eq(d.synced, 3);
    zab_sim_disk_free(&d);
}
END_TEST

START_TEST(disk_append_refuses_zxids_out_of_order)
{
    zab_sim_disk d = { 0 };
    append1(&d, 5);
    char b = 'x';
    zab_entry two[2] = { { 6, &b, 1 }, { 6, &b, 1 } };
    ck_assert_int_eq(zab_sim_disk_append(&d, two, 2), ZAB_EINVAL);
    zab_entry back = { 4, &b, 1 };
    ck_assert_int_eq(zab_sim_disk_append(&d, &back, 1), ZAB_EINVAL);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_int_eq(zab_sim_disk_last(&d), 5);
    zab_sim_disk_free(&d);
}
END_TEST

START_TEST(disk_crash_loses_unsynced_records)
{
    zab_sim_disk d = { 0 };
    zab_sim_rng rng;
    zab_sim_rng_seed(&rng, 1);
    for (int64_t z = 1; z <= 3; z++) append1(&d, z);
    int64_t zxid;
    zab_sim_disk_sync(&d, zab_sim_disk_mark(&d), &zxid);
    for (int64_t z = 4; z <= 6; z++) append1(&d, z);
    d.accepted = 2;
    d.current = 1;
    zab_sim_disk_crash(&d, &rng, 0);
    ck_assert_uint_eq(zab_sim_disk_recover(&d), 3);
    ck_assert_int_eq(zab_sim_disk_last(&d), 3);
    /* Epochs are written synchronously: a crash keeps them. */
    ck_assert_int_eq(d.accepted, 2);
    ck_assert_int_eq(d.current, 1);
    zab_sim_disk_free(&d);
}
END_TEST

START_TEST(disk_torn_record_is_found_and_cut)
{
    for (uint64_t seed = 1; seed <= 40; seed++) {
        zab_sim_disk d = { 0 };
        zab_sim_rng rng;
        zab_sim_rng_seed(&rng, seed);
        for (int64_t z = 1; z <= 2; z++) append1(&d, z);
        int64_t zxid;
        zab_sim_disk_sync(&d, zab_sim_disk_mark(&d), &zxid);
        for (int64_t z = 3; z <= 5; z++) append1(&d, z);
        zab_sim_disk_crash(&d, &rng, 1000000);
        /* the write in progress survives, damaged */
        ck_assert_uint_eq(d.n, 3);
        const zab_sim_record *r = &d.log[2];
        ck_assert_int_eq(r->zxid, 3);
        ck_assert(r->have < r->len || zab_crc32c(0, r->bytes, r->have) != r->crc);
        ck_assert_uint_eq(zab_sim_disk_recover(&d), 2);
        ck_assert_int_eq(zab_sim_disk_last(&d), 2);
        /* and the log goes on after the cut */
        append1(&d, 3);
        ck_assert_uint_eq(d.n, 3);
        zab_sim_disk_free(&d);
    }
}
END_TEST

START_TEST(disk_recovery_stops_at_the_first_bad_record)
{
    zab_sim_disk d = { 0 };
    for (int64_t z = 1; z <= 5; z++) append1(&d, z);
    int64_t zxid;
    zab_sim_disk_sync(&d, zab_sim_disk_mark(&d), &zxid);
    d.log[2].bytes[0] ^= 0x20; /* rot in the middle of the log */
    ck_assert_uint_eq(zab_sim_disk_recover(&d), 2);
    ck_assert_int_eq(zab_sim_disk_last(&d), 2);
    zab_sim_disk_free(&d);
}
END_TEST

START_TEST(disk_truncate_drops_synced_and_unsynced)
{
    zab_sim_disk d = { 0 };
    for (int64_t z = 1; z <= 4; z++) append1(&d, z);
    uint64_t mark = zab_sim_disk_mark(&d);
    int64_t zxid;
    zab_sim_disk_sync(&d, mark, &zxid);
    for (int64_t z = 5; z <= 6; z++) append1(&d, z);
    ck_assert_int_eq(zab_sim_disk_truncate(&d, 2), 0);
    ck_assert_uint_eq(d.n, 2);
    ck_assert_uint_eq(d.synced, 2);
    /* A sync requested before the truncation covers nothing new now. */
    ck_assert_int_eq(zab_sim_disk_sync(&d, mark, &zxid), 0);
    /* Records appended after it carry later marks. */
    append1(&d, 3);
    ck_assert_int_eq(zab_sim_disk_sync(&d, mark, &zxid), 0);
    ck_assert_int_eq(zab_sim_disk_sync(&d, zab_sim_disk_mark(&d), &zxid), 1);
    ck_assert_int_eq(zxid, 3);
    zab_sim_disk_free(&d);
}
END_TEST

/* A tree with a few znodes, for snapshots. */
static zab_tree *small_tree(int64_t *last)
{
    zab_tree *t = zab_tree_new(NULL);
    ck_assert_ptr_nonnull(t);
    for (int i = 1; i <= 3; i++) {
        char path[16];
        snprintf(path, sizeof path, "/z%d", i);
        zab_op op = zab_op_create(path, "v", 1, zab_acl_open, 1, ZAB_PERSISTENT);
        zab_request req = { ZAB_OP_CREATE, 0, NULL, 0, &op, 1 };
        zab_buf txn = { 0 };
        ck_assert_int_eq(zab_tree_prepare(t, &req, ZAB_ZXID(1, i), 1000, &txn), 0);
        zab_reply reply;
        ck_assert_int_eq(zab_tree_apply(t, ZAB_ZXID(1, i), txn.data, txn.len, &reply), 0);
        zab_buf_free(&txn);
    }
    *last = ZAB_ZXID(1, 3);
    return t;
}

START_TEST(disk_snapshot_replaces_the_log)
{
    zab_sim_disk d = { 0 };
    int64_t last;
    zab_tree *t = small_tree(&last);
    for (int64_t z = 1; z <= 3; z++) append1(&d, ZAB_ZXID(1, z));
    ck_assert_int_eq(zab_sim_disk_save_snapshot(&d, t), 0);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_int_eq(d.snap_zxid, last);
    ck_assert_int_eq(zab_sim_disk_last(&d), last);
    /* The bytes are the tree. */
    zab_tree *copy = zab_tree_new(NULL);
    ck_assert_int_eq(zab_tree_load_mem(copy, d.snap.data, d.snap.len), 0);
    zab_tree_stats a, b;
    zab_tree_stats_get(t, &a);
    zab_tree_stats_get(copy, &b);
    ck_assert_uint_eq(a.digest, b.digest);
    ck_assert_int_eq(b.last_zxid, last);
    /* The log resumes after the snapshot, and cannot be cut below it. */
    append1(&d, ZAB_ZXID(1, 4));
    ck_assert_int_eq(zab_sim_disk_truncate(&d, ZAB_ZXID(1, 2)), ZAB_EINVAL);
    ck_assert_int_eq(zab_sim_disk_truncate(&d, last), 0);
    ck_assert_uint_eq(d.n, 0);
    zab_tree_free(copy);
    zab_tree_free(t);
    zab_sim_disk_free(&d);
}
END_TEST

/* A model of the log: what is durable is exactly what a sync completed for
 * and no truncation removed. Random appends, syncs (completing in any
 * order), truncations and crashes; after each crash recovery must hand back
 * exactly the durable records with their bytes. */
START_TEST(disk_matches_a_model_of_durability)
{
    for (uint64_t seed = 1; seed <= 30; seed++) {
        zab_sim_disk d = { 0 };
        zab_sim_rng rng;
        zab_sim_rng_seed(&rng, seed);
        int64_t model[512];   /* zxids in the log */
        int durable[512];     /* per position */
        uint64_t marks[64];   /* syncs requested, not completed */
        int nmodel = 0, nmarks = 0;
        int64_t next = 1;
        for (int step = 0; step < 400; step++) {
            int op = (int)zab_sim_rng_range(&rng, 0, 9);
            if (op <= 4 && nmodel < 500) {
                int k = (int)zab_sim_rng_range(&rng, 1, 3);
                for (int i = 0; i < k; i++) {
                    append1(&d, next);
                    durable[nmodel] = 0;
                    model[nmodel++] = next++;
                }
                if (nmarks < 64) marks[nmarks++] = zab_sim_disk_mark(&d);
            } else if (op <= 6 && nmarks) {
                int i = (int)zab_sim_rng_range(&rng, 0, nmarks - 1);
                uint64_t mark = marks[i];
                marks[i] = marks[--nmarks];
                int64_t zxid;
                int newly = zab_sim_disk_sync(&d, mark, &zxid);
                /* the model: records appended before the mark */
                int want = 0;
                for (int p = 0; p < nmodel; p++) {
                    if (d.log[p].mark < mark && !durable[p]) {
                        durable[p] = 1;
                        want = 1;
                    }
                }
                ck_assert_int_eq(newly, want);
            } else if (op == 7 && nmodel) {
                int keep = (int)zab_sim_rng_range(&rng, 0, nmodel);
                int64_t to = keep ? model[keep - 1] : 0;
                ck_assert_int_eq(zab_sim_disk_truncate(&d, to), 0);
                nmodel = keep;
            } else if (op >= 8) {
                uint32_t torn = zab_sim_rng_chance(&rng, 500000) ? 1000000 : 0;
                zab_sim_disk_crash(&d, &rng, torn);
                nmarks = 0;
                int ndurable = 0;
                while (ndurable < nmodel && durable[ndurable]) ndurable++;
                for (int p = ndurable; p < nmodel; p++) ck_assert(!durable[p]);
                nmodel = ndurable;
                ck_assert_uint_eq(zab_sim_disk_recover(&d), (size_t)nmodel);
                for (int p = 0; p < nmodel; p++) {
                    char txn[32];
                    int len = snprintf(txn, sizeof txn, "txn-%llx",
                                       (unsigned long long)model[p]);
                    ck_assert_int_eq(d.log[p].zxid, model[p]);
                    ck_assert_uint_eq(d.log[p].len, (uint32_t)len);
                    ck_assert_mem_eq(d.log[p].bytes, txn, (size_t)len);
                }
                next = nmodel ? model[nmodel - 1] + 1 : 1;
            }
            ck_assert_uint_eq(d.n, (size_t)nmodel);
        }
        zab_sim_disk_free(&d);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The invariant checker                                                     */
/* ------------------------------------------------------------------------ */

#define Z(e, c) ZAB_ZXID(e, c)

START_TEST(check_same_history_passes)
{
    zab_sim_check c = { 0 };
    for (int64_t sid = 1; sid <= 3; sid++) {
        int64_t prev = 0;
        for (uint32_t i = 1; i <= 5; i++) {
            ck_assert_int_eq(zab_sim_check_apply(&c, sid, prev, Z(1, i), 100 + i), 0);
            prev = Z(1, i);
        }
    }
    /* A snapshot jump onto a known point with the same state. */
    ck_assert_int_eq(zab_sim_check_apply(&c, 4, 0, Z(1, 4), 104), 0);
    /* Reloading the state it already holds. */
    ck_assert_int_eq(zab_sim_check_apply(&c, 4, Z(1, 4), Z(1, 4), 104), 0);
    ck_assert_ptr_null(zab_sim_check_violation(&c));
    ck_assert_uint_eq(c.npts, 5);
    zab_sim_check_free(&c);
}
END_TEST

START_TEST(check_digest_mismatch_is_reported)
{
    zab_sim_check c = { 0 };
    ck_assert_int_eq(zab_sim_check_apply(&c, 1, 0, Z(1, 5), 0xaa), 0);
    ck_assert_int_eq(zab_sim_check_apply(&c, 2, 0, Z(1, 5), 0xbb), -1);
    const char *v = zab_sim_check_violation(&c);
    ck_assert_ptr_nonnull(v);
    ck_assert_ptr_nonnull(strstr(v, "node 2"));
    ck_assert_ptr_nonnull(strstr(v, "0x100000005"));
    ck_assert_ptr_nonnull(strstr(v, "node 1"));
    /* Only the first violation is kept. */
    zab_sim_check_apply(&c, 3, 0, Z(1, 5), 0xcc);
    ck_assert_ptr_eq(zab_sim_check_violation(&c), v);
    ck_assert_ptr_nonnull(strstr(v, "node 2"));
    zab_sim_check_free(&c);
}
END_TEST

START_TEST(check_applied_zxids_must_increase)
{
    zab_sim_check c = { 0 };
    ck_assert_int_eq(zab_sim_check_apply(&c, 1, 0, Z(1, 1), 1), 0);
    ck_assert_int_eq(zab_sim_check_apply(&c, 1, Z(1, 1), Z(1, 2), 2), 0);
    ck_assert_int_eq(zab_sim_check_apply(&c, 1, Z(1, 2), Z(1, 1), 1), -1);
    ck_assert_ptr_nonnull(strstr(zab_sim_check_violation(&c), "increase"));
    zab_sim_check_free(&c);
}
END_TEST

START_TEST(check_lost_acknowledged_write)
{
    /* Node 1 applies and acknowledges 1:3; node 2 goes from 1:2 straight
     * to a new epoch without it. */
    zab_sim_check c = { 0 };
    for (uint32_t i = 1; i <= 3; i++) zab_sim_check_apply(&c, 1, i > 1 ? Z(1, i - 1) : 0, Z(1, i), i);
    ck_assert_int_eq(zab_sim_check_ack(&c, 1, Z(1, 3)), 0);
    ck_assert_uint_eq(c.acked, 1);
    ck_assert_int_eq(c.max_acked, Z(1, 3));
    zab_sim_check_apply(&c, 2, 0, Z(1, 1), 1);
    zab_sim_check_apply(&c, 2, Z(1, 1), Z(1, 2), 2);
    ck_assert_int_eq(zab_sim_check_apply(&c, 2, Z(1, 2), Z(2, 1), 9), -1);
    const char *v = zab_sim_check_violation(&c);
    ck_assert_ptr_nonnull(strstr(v, "skipping zxid 0x100000003"));
    ck_assert_ptr_nonnull(strstr(v, "lost"));
    zab_sim_check_free(&c);
}
END_TEST

START_TEST(check_fork_found_from_either_side)
{
    /* Node 1 skips 1:2 going to 1:3; node 2 then applies 1:2. */
    zab_sim_check c = { 0 };
    zab_sim_check_apply(&c, 1, 0, Z(1, 1), 1);
    zab_sim_check_apply(&c, 1, Z(1, 1), Z(1, 3), 3);
    ck_assert_ptr_null(zab_sim_check_violation(&c));
    zab_sim_check_apply(&c, 2, 0, Z(1, 1), 1);
    ck_assert_int_eq(zab_sim_check_apply(&c, 2, Z(1, 1), Z(1, 2), 2), -1);
    ck_assert_ptr_nonnull(strstr(zab_sim_check_violation(&c), "node 1 applied zxid 0x100000003"));
    zab_sim_check_free(&c);
}
END_TEST

START_TEST(check_ack_before_apply_waits_for_it)
{
    zab_sim_check c = { 0 };
    ck_assert_int_eq(zab_sim_check_ack(&c, 1, Z(1, 1)), 0);
    ck_assert_int_eq(zab_sim_check_apply(&c, 1, 0, Z(1, 1), 7), 0);
    const zab_sim_point *p = zab_sim_check_point(&c, Z(1, 1));
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->acked, 1);
    ck_assert_int_eq(p->sid, 1);
    ck_assert_uint_eq(p->digest, 7);
    ck_assert_int_eq(zab_sim_check_apply(&c, 2, 0, Z(1, 1), 8), -1);
    ck_assert_ptr_nonnull(strstr(zab_sim_check_violation(&c), "acknowledged"));
    zab_sim_check_free(&c);
}
END_TEST

START_TEST(check_one_leader_per_epoch)
{
    zab_sim_check c = { 0 };
    ck_assert_int_eq(zab_sim_check_leader(&c, 3, 1), 0);
    ck_assert_int_eq(zab_sim_check_leader(&c, 3, 1), 0); /* re-announced */
    ck_assert_int_eq(zab_sim_check_leader(&c, 1, 2), 0);
    ck_assert_int_eq(zab_sim_check_leader(&c, 3, 3), 0);
    ck_assert_ptr_null(zab_sim_check_violation(&c));
    ck_assert_int_eq(zab_sim_check_leader(&c, 2, 2), -1);
    const char *v = zab_sim_check_violation(&c);
    ck_assert_ptr_nonnull(strstr(v, "node 2 leads epoch 2"));
    ck_assert_ptr_nonnull(strstr(v, "node 1"));
    zab_sim_check_free(&c);
}
END_TEST

START_TEST(check_epochs_on_disk)
{
    zab_sim_check c = { 0 };
    ck_assert_int_eq(zab_sim_check_epochs(&c, 1, 0, 0, 1, 0), 0);
    ck_assert_int_eq(zab_sim_check_epochs(&c, 1, 1, 0, 1, 1), 0);
    ck_assert_int_eq(zab_sim_check_epochs(&c, 1, 1, 1, 3, 1), 0);
    ck_assert_int_eq(zab_sim_check_epochs(&c, 1, 3, 1, 3, 4), -1);
    ck_assert_ptr_nonnull(strstr(zab_sim_check_violation(&c), "below currentEpoch"));
    zab_sim_check_free(&c);

    zab_sim_check d = { 0 };
    ck_assert_int_eq(zab_sim_check_epochs(&d, 2, 5, 4, 4, 4), -1);
    ck_assert_ptr_nonnull(strstr(zab_sim_check_violation(&d), "backwards"));
    zab_sim_check_free(&d);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Ensembles                                                                 */
/* ------------------------------------------------------------------------ */

static zab_sim_config base_config(uint64_t seed)
{
    zab_sim_config c;
    memset(&c, 0, sizeof c);
    c.seed = seed;
    return c;
}

static int has_leader(zab_sim *sim, void *arg)
{
    (void)arg;
    return zab_sim_leader(sim) != 0;
}

static zab_node_stats stats_of(zab_sim *sim, int64_t sid)
{
    zab_node_stats st;
    zab_node *node = zab_sim_node(sim, sid);
    ck_assert_ptr_nonnull(node);
    zab_node_stats_get(node, &st);
    return st;
}

static zab_tree_stats tree_of(zab_sim *sim, int64_t sid)
{
    zab_tree_stats st;
    zab_tree_stats_get(zab_node_tree(zab_sim_node(sim, sid)), &st);
    return st;
}

static int write_at(zab_sim *sim, int64_t sid, const char *path, const char *data, uint64_t *id)
{
    zab_op op = zab_op_create(path, data, (int32_t)strlen(data), zab_acl_open, 1,
                              ZAB_PERSISTENT);
    zab_request req = { ZAB_OP_CREATE, 0, NULL, 0, &op, 1 };
    return zab_sim_submit(sim, sid, &req, id);
}

/* getData of path on sid's replica: ZAB_OK and the data in out. */
static int read_at(zab_sim *sim, int64_t sid, const char *path, char *out, size_t cap)
{
    zab_op op = zab_op_read(ZAB_OP_GET_DATA, path, 0);
    zab_request req = { ZAB_OP_GET_DATA, 0, NULL, 0, &op, 1 };
    zab_reply reply;
    int rc = zab_tree_read(zab_node_tree(zab_sim_node(sim, sid)), &req, &reply);
    if (rc) return rc;
    ck_assert_uint_eq(reply.nresults, 1);
    size_t len = (size_t)reply.results[0].data_len;
    ck_assert_uint_lt(len, cap);
    memcpy(out, reply.results[0].data, len);
    out[len] = '\0';
    return 0;
}

/* Every node running, equal applied zxid and digest. */
static void assert_agree(zab_sim *sim, uint32_t n)
{
    zab_node_stats first = stats_of(sim, 1);
    zab_tree_stats tfirst = tree_of(sim, 1);
    for (uint32_t sid = 2; sid <= n; sid++) {
        zab_node_stats st = stats_of(sim, sid);
        ck_assert_int_eq(st.last_applied, first.last_applied);
        ck_assert_uint_eq(tree_of(sim, sid).digest, tfirst.digest);
    }
}

/* A fresh ensemble with an established leader everyone follows. */
static zab_sim *ensemble(const zab_sim_config *c)
{
    zab_sim *sim = zab_sim_new(c);
    ck_assert_ptr_nonnull(sim);
    ck_assert_int_eq(zab_sim_settle(sim, 10000), 1);
    ck_assert_int_ne(zab_sim_leader(sim), 0);
    return sim;
}

/* Submit at sid until the node takes it (a learner refuses writes while it
 * has no leader); 1 when taken within ms. */
static int write_when_served(zab_sim *sim, int64_t sid, const char *path, const char *data,
                             uint64_t *id, int64_t ms)
{
    for (int64_t waited = 0; waited <= ms; waited += 50) {
        int rc = write_at(sim, sid, path, data, id);
        if (rc == 0) return 1;
        ck_assert_int_eq(rc, ZAB_ECONNECTIONLOSS);
        ck_assert_int_eq(zab_sim_run(sim, 50), 0);
    }
    return 0;
}

static void assert_ok(zab_sim *sim, uint64_t id, int64_t *zxid)
{
    int32_t err = 1;
    ck_assert_int_eq(zab_sim_result(sim, id, &err, zxid), 1);
    ck_assert_int_eq(err, ZAB_OK);
}

START_TEST(sim_defaults_and_bad_arguments)
{
    zab_sim *sim = zab_sim_new(NULL);
    ck_assert_ptr_nonnull(sim);
    ck_assert_int_eq(zab_sim_now(sim), 0);
    ck_assert_ptr_nonnull(zab_sim_node(sim, 1));
    ck_assert_ptr_nonnull(zab_sim_node(sim, 3));
    ck_assert_ptr_null(zab_sim_node(sim, 4)); /* three voters by default */
    ck_assert_ptr_null(zab_sim_node(sim, 0));
    ck_assert_int_eq(zab_sim_crash(sim, 9), ZAB_EINVAL);
    ck_assert_int_eq(zab_sim_restart(sim, -1), ZAB_EINVAL);
    ck_assert_int_eq(zab_sim_partition(sim, 1, 1, 0), ZAB_EINVAL);
    ck_assert_int_eq(zab_sim_partition(sim, 1, 4, 0), ZAB_EINVAL);
    ck_assert_int_eq(zab_sim_isolate(sim, 0), ZAB_EINVAL);
    ck_assert_int_eq(zab_sim_result(sim, 0, NULL, NULL), 0);
    ck_assert_int_eq(zab_sim_result(sim, 77, NULL, NULL), 0);
    ck_assert_uint_eq(zab_sim_acked(sim), 0);
    ck_assert_ptr_null(zab_sim_violation(sim));
    ck_assert_int_eq(zab_sim_run(sim, 250), 0);
    ck_assert_int_eq(zab_sim_now(sim), 250);
    zab_sim_free(sim);

    /* Observers take the sids after the voters. */
    zab_sim_config c = base_config(1);
    c.voters = 3;
    c.observers = 2;
    sim = zab_sim_new(&c);
    ck_assert_ptr_nonnull(sim);
    ck_assert_ptr_nonnull(zab_sim_node(sim, 5));
    ck_assert_ptr_null(zab_sim_node(sim, 6));
    zab_sim_free(sim);
}
END_TEST

START_TEST(sim_three_nodes_elect_one_leader)
{
    for (uint64_t seed = 1; seed <= 5; seed++) {
        zab_sim_config c = base_config(seed);
        zab_sim *sim = zab_sim_new(&c);
        ck_assert_ptr_nonnull(sim);
        ck_assert_int_eq(zab_sim_run_until(sim, 5000, has_leader, NULL), 1);
        ck_assert_int_lt(zab_sim_now(sim), 5000);
        /* Let the followers establish too, then count. */
        ck_assert_int_eq(zab_sim_settle(sim, 5000), 1);
        int64_t leader = zab_sim_leader(sim);
        ck_assert_int_ne(leader, 0);
        int leading = 0;
        for (int64_t sid = 1; sid <= 3; sid++) {
            zab_node_stats st = stats_of(sim, sid);
            if (st.role == ZAB_LEADING) {
                leading++;
                ck_assert_int_eq(sid, leader);
            } else {
                ck_assert_int_eq(st.role, ZAB_FOLLOWING);
                ck_assert_int_eq(st.leader, leader);
            }
        }
        ck_assert_int_eq(leading, 1);
        ck_assert_ptr_null(zab_sim_violation(sim));
        zab_sim_free(sim);
    }
}
END_TEST

START_TEST(sim_writes_from_every_node_apply_everywhere)
{
    zab_sim_config c = base_config(42);
    zab_sim *sim = ensemble(&c);
    uint64_t ids[3];
    for (int64_t sid = 1; sid <= 3; sid++) {
        char path[16], data[16];
        snprintf(path, sizeof path, "/from%lld", (long long)sid);
        snprintf(data, sizeof data, "by %lld", (long long)sid);
        ck_assert_int_eq(write_at(sim, sid, path, data, &ids[sid - 1]), 0);
    }
    ck_assert_int_eq(zab_sim_settle(sim, 5000), 1);
    int64_t zxids[3];
    for (int i = 0; i < 3; i++) assert_ok(sim, ids[i], &zxids[i]);
    ck_assert(zxids[0] != zxids[1] && zxids[1] != zxids[2] && zxids[0] != zxids[2]);
    ck_assert_uint_eq(zab_sim_acked(sim), 3);
    assert_agree(sim, 3);
    for (int64_t reader = 1; reader <= 3; reader++) {
        for (int64_t sid = 1; sid <= 3; sid++) {
            char path[16], want[16], got[16];
            snprintf(path, sizeof path, "/from%lld", (long long)sid);
            snprintf(want, sizeof want, "by %lld", (long long)sid);
            ck_assert_int_eq(read_at(sim, reader, path, got, sizeof got), ZAB_OK);
            ck_assert_str_eq(got, want);
        }
    }
    /* A second create of the same path is a committed error. */
    uint64_t dup;
    ck_assert_int_eq(write_at(sim, 2, "/from1", "again", &dup), 0);
    ck_assert_int_eq(zab_sim_settle(sim, 5000), 1);
    int32_t err;
    ck_assert_int_eq(zab_sim_result(sim, dup, &err, NULL), 1);
    ck_assert_int_eq(err, ZAB_ENODEEXISTS);
    ck_assert_uint_eq(zab_sim_acked(sim), 3);
    ck_assert_ptr_null(zab_sim_violation(sim));
    zab_sim_free(sim);
}
END_TEST

/* One scripted run with every fault on; what it ends with. */
typedef struct outcome {
    uint64_t trace, events;
    int64_t now, leader, applied;
    uint64_t digest, acked;
    int settled;
} outcome;

static outcome scripted_run(uint64_t seed)
{
    zab_sim_config c = base_config(seed);
    c.break_per_million = 2000;
    c.dup_per_million = 2000;
    c.reorder_per_million = 2000;
    c.torn_per_million = 500000;
    zab_sim *sim = zab_sim_new(&c);
    ck_assert_ptr_nonnull(sim);
    for (int round = 0; round < 6; round++) {
        for (int64_t sid = 1; sid <= 3; sid++) {
            char path[32];
            snprintf(path, sizeof path, "/r%d-%lld", round, (long long)sid);
            write_at(sim, sid, path, "x", NULL);
        }
        ck_assert_int_eq(zab_sim_run(sim, 400), 0);
        if (round == 2) zab_sim_crash(sim, 2);
        if (round == 4) zab_sim_restart(sim, 2);
    }
    outcome o;
    memset(&o, 0, sizeof o);
    o.settled = zab_sim_settle(sim, 20000);
    o.trace = zab_sim_trace(sim);
    o.events = sim->events;
    o.now = zab_sim_now(sim);
    o.leader = zab_sim_leader(sim);
    o.acked = zab_sim_acked(sim);
    if (o.settled == 1) {
        o.applied = stats_of(sim, 1).last_applied;
        o.digest = tree_of(sim, 1).digest;
    }
    ck_assert_msg(o.settled == 1, "seed %llu: settle %d, violation %s", (unsigned long long)seed,
                  o.settled, zab_sim_violation(sim) ? zab_sim_violation(sim) : "none");
    zab_sim_free(sim);
    return o;
}

START_TEST(sim_same_seed_same_run)
{
    outcome a = scripted_run(1234);
    outcome b = scripted_run(1234);
    ck_assert_uint_eq(a.trace, b.trace);
    ck_assert_uint_eq(a.events, b.events);
    ck_assert_int_eq(a.now, b.now);
    ck_assert_int_eq(a.leader, b.leader);
    ck_assert_int_eq(a.applied, b.applied);
    ck_assert_uint_eq(a.digest, b.digest);
    ck_assert_uint_eq(a.acked, b.acked);
    ck_assert_uint_gt(a.acked, 0);
    /* and the seed matters */
    outcome other = scripted_run(4321);
    ck_assert_uint_ne(a.trace, other.trace);
}
END_TEST

START_TEST(sim_follower_crash_and_restart)
{
    zab_sim_config c = base_config(7);
    zab_sim *sim = ensemble(&c);
    int64_t leader = zab_sim_leader(sim);
    int64_t follower = leader == 1 ? 2 : 1;
    uint64_t id;
    ck_assert_int_eq(write_at(sim, leader, "/before", "1", &id), 0);
    ck_assert_int_eq(zab_sim_settle(sim, 5000), 1);
    assert_ok(sim, id, NULL);

    ck_assert_int_eq(zab_sim_crash(sim, follower), 0);
    ck_assert_ptr_null(zab_sim_node(sim, follower));
    ck_assert_int_eq(zab_sim_crash(sim, follower), 0); /* already down */
    ck_assert_int_eq(write_at(sim, follower, "/nowhere", "x", &id), ZAB_ECONNECTIONLOSS);
    int32_t err;
    ck_assert_int_eq(zab_sim_result(sim, id, &err, NULL), 1);
    ck_assert_int_eq(err, ZAB_ECONNECTIONLOSS);

    /* Two of three still commit. */
    uint64_t during[5];
    for (int i = 0; i < 5; i++) {
        char path[16];
        snprintf(path, sizeof path, "/during%d", i);
        ck_assert_int_eq(write_at(sim, leader, path, "2", &during[i]), 0);
    }
    ck_assert_int_eq(zab_sim_run(sim, 1000), 0);
    for (int i = 0; i < 5; i++) assert_ok(sim, during[i], NULL);
    ck_assert_int_eq(zab_sim_leader(sim), leader);

    ck_assert_int_eq(zab_sim_restart(sim, follower), 0);
    ck_assert_ptr_nonnull(zab_sim_node(sim, follower));
    ck_assert_int_eq(zab_sim_settle(sim, 10000), 1);
    assert_agree(sim, 3);
    char got[8];
    ck_assert_int_eq(read_at(sim, follower, "/during4", got, sizeof got), ZAB_OK);
    ck_assert_str_eq(got, "2");
    ck_assert_int_eq(read_at(sim, follower, "/nowhere", got, sizeof got), ZAB_ENONODE);
    ck_assert_ptr_null(zab_sim_violation(sim));
    zab_sim_free(sim);
}
END_TEST

START_TEST(sim_leader_crash_elects_a_new_leader)
{
    zab_sim_config c = base_config(99);
    zab_sim *sim = ensemble(&c);
    int64_t old = zab_sim_leader(sim);
    int64_t old_epoch = stats_of(sim, old).current_epoch;
    uint64_t id;
    ck_assert_int_eq(write_at(sim, old, "/a", "1", &id), 0);
    ck_assert_int_eq(zab_sim_settle(sim, 5000), 1);
    int64_t zxid_a;
    assert_ok(sim, id, &zxid_a);

    ck_assert_int_eq(zab_sim_crash(sim, old), 0);
    ck_assert_int_eq(zab_sim_leader(sim), 0);
    ck_assert_int_eq(zab_sim_run_until(sim, 10000, has_leader, NULL), 1);
    int64_t fresh = zab_sim_leader(sim);
    ck_assert_int_ne(fresh, old);
    ck_assert_int_gt(stats_of(sim, fresh).current_epoch, old_epoch);

    /* The new reign keeps the old history and goes on from it. */
    int64_t other = 6 - old - fresh;
    ck_assert(write_when_served(sim, other, "/b", "2", &id, 5000));
    ck_assert_int_eq(zab_sim_run(sim, 1000), 0);
    int64_t zxid_b;
    assert_ok(sim, id, &zxid_b);
    ck_assert_int_gt(ZAB_EPOCH(zxid_b), ZAB_EPOCH(zxid_a));
    char got[8];
    ck_assert_int_eq(read_at(sim, fresh, "/a", got, sizeof got), ZAB_OK);

    ck_assert_int_eq(zab_sim_settle(sim, 10000), 1); /* restarts the old leader */
    ck_assert_int_eq(zab_sim_leader(sim), fresh);
    ck_assert_int_eq(stats_of(sim, old).role, ZAB_FOLLOWING);
    assert_agree(sim, 3);
    ck_assert_int_eq(read_at(sim, old, "/b", got, sizeof got), ZAB_OK);
    ck_assert_str_eq(got, "2");
    ck_assert_ptr_null(zab_sim_violation(sim));
    zab_sim_free(sim);
}
END_TEST

START_TEST(sim_isolated_leader_is_replaced)
{
    zab_sim_config c = base_config(5);
    zab_sim *sim = ensemble(&c);
    int64_t old = zab_sim_leader(sim);
    ck_assert_int_eq(zab_sim_isolate(sim, old), 0);
    /* The majority side elects; the isolated leader steps down. */
    ck_assert_int_eq(zab_sim_run(sim, 5000), 0);
    int64_t fresh = zab_sim_leader(sim);
    ck_assert_int_ne(fresh, 0);
    ck_assert_int_ne(fresh, old);
    ck_assert_int_ne(stats_of(sim, old).role, ZAB_LEADING);
    /* A write at the isolated node is refused; one on the majority side
     * commits. */
    uint64_t id;
    ck_assert_int_eq(write_at(sim, old, "/lost", "x", &id), ZAB_ECONNECTIONLOSS);
    ck_assert(write_when_served(sim, fresh, "/kept", "y", &id, 2000));
    ck_assert_int_eq(zab_sim_run(sim, 500), 0);
    assert_ok(sim, id, NULL);
    zab_sim_heal(sim);
    ck_assert_int_eq(zab_sim_settle(sim, 10000), 1);
    assert_agree(sim, 3);
    char got[8];
    ck_assert_int_eq(read_at(sim, old, "/kept", got, sizeof got), ZAB_OK);
    ck_assert_ptr_null(zab_sim_violation(sim));
    zab_sim_free(sim);
}
END_TEST

static int established_leader(zab_sim *sim, void *arg)
{
    int64_t old = *(int64_t *)arg;
    int64_t now = zab_sim_leader(sim);
    return now && now != old && stats_of(sim, now).serving;
}

/* A crashed leader's connections close at once, and once every voter that
 * can still speak has voted alike nobody waits out finalize_wait (200 ms):
 * a new leader serves within a few round trips. */
START_TEST(sim_failover_decides_without_waiting)
{
    zab_sim_config c = base_config(6);
    zab_sim *sim = ensemble(&c);
    int64_t old = zab_sim_leader(sim);
    ck_assert_int_eq(zab_sim_run(sim, 500), 0);
    int64_t t0 = zab_sim_now(sim);
    ck_assert_int_eq(zab_sim_crash(sim, old), 0);
    ck_assert_int_eq(zab_sim_run_until(sim, 1000, established_leader, &old), 1);
    ck_assert_int_lt(zab_sim_now(sim) - t0, 100);
    zab_sim_free(sim);
}
END_TEST

/* One follower loses the leader before the other: its vote reaches the
 * other while that one still follows, and is answered with the old
 * leader's name. When the leader then dies, the better candidate must not
 * sit on its vote until the periodic resend: it answers the worse vote it
 * gets at once, and the election still takes round trips, not 200 ms. */
START_TEST(sim_staggered_failover_decides_without_waiting)
{
    for (uint64_t seed = 20; seed < 26; seed++) {
        zab_sim_config c = base_config(seed);
        zab_sim *sim = ensemble(&c);
        int64_t old = zab_sim_leader(sim);
        int64_t a = old == 3 ? 2 : 3, b = 6 - old - a; /* a: the better follower */
        ck_assert_int_eq(zab_sim_run(sim, 500), 0);
        ck_assert_int_eq(zab_sim_partition(sim, old, a, 0), 0);
        ck_assert_int_eq(zab_sim_run(sim, 20), 0);
        int64_t t0 = zab_sim_now(sim);
        ck_assert_int_eq(zab_sim_crash(sim, old), 0);
        ck_assert_int_eq(zab_sim_run_until(sim, 1000, established_leader, &old), 1);
        ck_assert_msg(zab_sim_now(sim) - t0 < 100, "seed %llu: %lld ms (b %lld)",
                      (unsigned long long)seed, (long long)(zab_sim_now(sim) - t0), (long long)b);
        zab_sim_free(sim);
    }
}
END_TEST

/* A stalled link (a silent partition) breaks nothing: what was sent waits
 * and arrives in order at the heal, before the peers give up on it. */
START_TEST(sim_stalled_link_delivers_in_order_at_heal)
{
    zab_sim_config c = base_config(7);
    zab_sim *sim = ensemble(&c);
    int64_t leader = zab_sim_leader(sim), f = leader == 1 ? 2 : 1;
    ck_assert_int_eq(zab_sim_run(sim, 300), 0);
    uint64_t elections = stats_of(sim, f).elections;
    ck_assert_int_eq(zab_sim_stall(sim, leader, f, 1), 0);
    uint64_t id;
    ck_assert_int_eq(write_at(sim, leader, "/held", "x", &id), 0);
    ck_assert_int_eq(zab_sim_run(sim, 200), 0);
    assert_ok(sim, id, NULL); /* committed with the other follower */
    char got[8];
    ck_assert_int_eq(read_at(sim, f, "/held", got, sizeof got), ZAB_ENONODE);
    zab_sim_heal(sim);
    ck_assert_int_eq(zab_sim_run(sim, 50), 0);
    ck_assert_int_eq(read_at(sim, f, "/held", got, sizeof got), ZAB_OK);
    ck_assert_uint_eq(stats_of(sim, f).elections, elections);
    ck_assert_ptr_null(zab_sim_violation(sim));
    zab_sim_free(sim);
}
END_TEST

static int unsynced_on(zab_sim *sim, void *arg)
{
    zab_sim_host *h = zab_sim_host_of(sim, *(int64_t *)arg);
    return h->disk.n > h->disk.synced;
}

START_TEST(sim_torn_log_after_crash_recovers)
{
    zab_sim_config c = base_config(31);
    c.fsync_min_ms = 40; /* slow disks keep writes unsynced for a while */
    c.fsync_max_ms = 60;
    c.torn_per_million = 1000000;
    zab_sim *sim = ensemble(&c);
    int64_t leader = zab_sim_leader(sim);
    int64_t follower = leader == 3 ? 2 : 3;
    uint64_t first;
    ck_assert_int_eq(write_at(sim, leader, "/one", "1", &first), 0);
    ck_assert_int_eq(zab_sim_settle(sim, 5000), 1);
    uint64_t second;
    ck_assert_int_eq(write_at(sim, leader, "/two", "2", &second), 0);
    ck_assert_int_eq(zab_sim_run_until(sim, 1000, unsynced_on, &follower), 1);

    zab_sim_host *h = zab_sim_host_of(sim, follower);
    size_t synced = h->disk.synced;
    ck_assert_int_eq(zab_sim_crash(sim, follower), 0);
    /* The write in progress is on disk, torn. */
    ck_assert_uint_eq(h->disk.n, synced + 1);
    const zab_sim_record *r = &h->disk.log[synced];
    ck_assert(r->have < r->len || zab_crc32c(0, r->bytes, r->have) != r->crc);

    ck_assert_int_eq(zab_sim_restart(sim, follower), 0);
    ck_assert_uint_eq(h->disk.n, synced); /* recovery cut it */
    ck_assert_int_eq(zab_sim_settle(sim, 10000), 1);
    assert_ok(sim, second, NULL);
    assert_agree(sim, 3);
    char got[8];
    ck_assert_int_eq(read_at(sim, follower, "/two", got, sizeof got), ZAB_OK);
    ck_assert_ptr_null(zab_sim_violation(sim));
    zab_sim_free(sim);
}
END_TEST

START_TEST(sim_crash_answers_pending_writes_with_connection_loss)
{
    zab_sim_config c = base_config(8);
    zab_sim *sim = ensemble(&c);
    int64_t leader = zab_sim_leader(sim);
    int64_t follower = leader == 1 ? 2 : 1;
    uint64_t id;
    ck_assert_int_eq(write_at(sim, follower, "/pending", "x", &id), 0);
    ck_assert_int_eq(zab_sim_result(sim, id, NULL, NULL), 0);
    ck_assert_int_eq(zab_sim_crash(sim, follower), 0);
    int32_t err;
    ck_assert_int_eq(zab_sim_result(sim, id, &err, NULL), 1);
    ck_assert_int_eq(err, ZAB_ECONNECTIONLOSS);
    ck_assert_int_eq(zab_sim_settle(sim, 10000), 1);
    ck_assert_ptr_null(zab_sim_violation(sim));
    zab_sim_free(sim);
}
END_TEST

START_TEST(sim_observers_follow_without_voting)
{
    zab_sim_config c = base_config(12);
    c.voters = 3;
    c.observers = 2;
    zab_sim *sim = ensemble(&c);
    int64_t leader = zab_sim_leader(sim);
    ck_assert_int_le(leader, 3);
    for (int64_t sid = 4; sid <= 5; sid++) {
        ck_assert_int_eq(stats_of(sim, sid).role, ZAB_OBSERVING);
        ck_assert_int_eq(stats_of(sim, sid).leader, leader);
    }
    uint64_t id;
    ck_assert_int_eq(write_at(sim, 5, "/obs", "o", &id), 0);
    ck_assert_int_eq(zab_sim_settle(sim, 5000), 1);
    assert_ok(sim, id, NULL);
    assert_agree(sim, 5);
    /* Losing both observers costs no quorum. */
    zab_sim_crash(sim, 4);
    zab_sim_crash(sim, 5);
    ck_assert_int_eq(write_at(sim, leader, "/still", "s", &id), 0);
    ck_assert_int_eq(zab_sim_run(sim, 500), 0);
    assert_ok(sim, id, NULL);
    ck_assert_int_eq(zab_sim_settle(sim, 10000), 1);
    assert_agree(sim, 5);
    ck_assert_ptr_null(zab_sim_violation(sim));
    zab_sim_free(sim);
}
END_TEST

/* Random writes, crashes, restarts and partitions with every fault on, over
 * several seeds: each run must end settled with every invariant intact. */
START_TEST(sim_faulty_runs_keep_the_invariants)
{
    uint64_t acked = 0;
    for (uint64_t seed = 100; seed < 120; seed++) {
        zab_sim_config c = base_config(seed);
        c.voters = 5;
        c.observers = (uint32_t)(seed & 1);
        c.break_per_million = 20000;
        c.dup_per_million = 20000;
        c.reorder_per_million = 20000;
        c.torn_per_million = 300000;
        zab_sim *sim = zab_sim_new(&c);
        ck_assert_ptr_nonnull(sim);
        zab_sim_rng rng;
        zab_sim_rng_seed(&rng, seed);
        int64_t n = 5 + c.observers;
        for (int step = 0; step < 200; step++) {
            int64_t sid = zab_sim_rng_range(&rng, 1, n);
            int what = (int)zab_sim_rng_range(&rng, 0, 19);
            char path[32];
            snprintf(path, sizeof path, "/s%d", step);
            if (what < 12) write_at(sim, sid, path, "w", NULL);
            else if (what < 14) zab_sim_crash(sim, sid);
            else if (what < 16) zab_sim_restart(sim, sid);
            else if (what < 17)
                zab_sim_partition(sim, sid, zab_sim_rng_range(&rng, 1, n), (int)(what & 1));
            else if (what < 18) zab_sim_heal(sim);
            int rc = zab_sim_run(sim, zab_sim_rng_range(&rng, 10, 300));
            ck_assert_msg(rc == 0, "seed %llu step %d: %s", (unsigned long long)seed, step,
                          zab_sim_violation(sim));
        }
        int rc = zab_sim_settle(sim, 30000);
        ck_assert_msg(rc == 1, "seed %llu: settle %d, violation %s", (unsigned long long)seed, rc,
                      zab_sim_violation(sim) ? zab_sim_violation(sim) : "none");
        assert_agree(sim, (uint32_t)n);
        ck_assert_int_ge(stats_of(sim, 1).last_applied, sim->check.max_acked);
        acked += zab_sim_acked(sim);
        zab_sim_free(sim);
    }
    ck_assert_uint_gt(acked, 200);
}
END_TEST

static Suite *sim_suite(void)
{
    Suite *s = suite_create("sim");
    TCase *parts = tcase_create("parts");
    tcase_add_test(parts, queue_orders_by_time_then_push_order);
    tcase_add_test(parts, queue_peek_is_the_next_pop);
    tcase_add_test(parts, net_channel_is_fifo_within_latency);
    tcase_add_test(parts, net_send_to_self_or_unknown_is_ignored);
    tcase_add_test(parts, net_duplicates_are_delivered_twice_in_place);
    tcase_add_test(parts, net_reorder_overtakes_the_message_ahead);
    tcase_add_test(parts, net_reorder_only_on_its_own_channel);
    tcase_add_test(parts, net_break_loses_both_directions_and_reconnects);
    tcase_add_test(parts, net_peer_down_events_name_both_ends);
    tcase_add_test(parts, net_reconnect_planned_before_a_break_is_stale);
    tcase_add_test(parts, net_symmetric_cut_holds_until_healed);
    tcase_add_test(parts, net_one_way_cut_carries_the_other_direction);
    tcase_add_test(parts, net_crash_and_restart);
    tcase_add_test(parts, net_same_seed_same_times);
    tcase_add_test(parts, disk_sync_covers_what_came_before_its_mark);
    tcase_add_test(parts, disk_append_refuses_zxids_out_of_order);
    tcase_add_test(parts, disk_crash_loses_unsynced_records);
    tcase_add_test(parts, disk_torn_record_is_found_and_cut);
    tcase_add_test(parts, disk_recovery_stops_at_the_first_bad_record);
    tcase_add_test(parts, disk_truncate_drops_synced_and_unsynced);
    tcase_add_test(parts, disk_snapshot_replaces_the_log);
    tcase_add_test(parts, disk_matches_a_model_of_durability);
    tcase_add_test(parts, check_same_history_passes);
    tcase_add_test(parts, check_digest_mismatch_is_reported);
    tcase_add_test(parts, check_applied_zxids_must_increase);
    tcase_add_test(parts, check_lost_acknowledged_write);
    tcase_add_test(parts, check_fork_found_from_either_side);
    tcase_add_test(parts, check_ack_before_apply_waits_for_it);
    tcase_add_test(parts, check_one_leader_per_epoch);
    tcase_add_test(parts, check_epochs_on_disk);
    suite_add_tcase(s, parts);

    TCase *ens = tcase_create("ensembles");
    tcase_set_timeout(ens, 60);
    tcase_add_test(ens, sim_defaults_and_bad_arguments);
    tcase_add_test(ens, sim_three_nodes_elect_one_leader);
    tcase_add_test(ens, sim_writes_from_every_node_apply_everywhere);
    tcase_add_test(ens, sim_same_seed_same_run);
    tcase_add_test(ens, sim_follower_crash_and_restart);
    tcase_add_test(ens, sim_leader_crash_elects_a_new_leader);
    tcase_add_test(ens, sim_isolated_leader_is_replaced);
    tcase_add_test(ens, sim_failover_decides_without_waiting);
    tcase_add_test(ens, sim_staggered_failover_decides_without_waiting);
    tcase_add_test(ens, sim_stalled_link_delivers_in_order_at_heal);
    tcase_add_test(ens, sim_torn_log_after_crash_recovers);
    tcase_add_test(ens, sim_crash_answers_pending_writes_with_connection_loss);
    tcase_add_test(ens, sim_observers_follow_without_voting);
    tcase_add_test(ens, sim_faulty_runs_keep_the_invariants);
    suite_add_tcase(s, ens);
    return s;
}

ZAB_CHECK_MAIN(sim_suite)
