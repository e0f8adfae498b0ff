/*
 * lincheck.h - a linearizability checker for recorded histories of clients
 * reading and writing independent registers.
 *
 * A history records operations on registers named by int64 keys, each
 * holding an int64 value (0 until written, unless lc_set_initial says
 * otherwise). Every operation has an invocation and a return time on one
 * clock; operation A precedes B in real time only if A returned strictly
 * before B was invoked, so intervals that merely touch are concurrent.
 *
 * Outcomes:
 *  - a write that returned OK took effect once, inside its interval;
 *  - a write that returned FAILED never took effect and is ignored;
 *  - a write that never returned (the client lost its connection) is
 *    UNKNOWN: it took effect at most once, at any time after its invocation;
 *  - a read counts only if it returned OK with the value it saw; a read that
 *    failed or never returned constrains nothing.
 *
 * lc_check decides whether some total order of the operations, consistent
 * with real time, explains every read (Wing & Gong's search with Lowe's
 * memoization of visited states), one key at a time: registers are
 * independent, so a history is linearizable exactly when each key's part is.
 *
 * Recording never fails a test on its own: an allocation failure or a
 * misuse (unknown op id, a second return, a return before the invocation)
 * is remembered and reported by lc_check as -1.
 *
 * Not thread-safe; one history per thread.
 */
#ifndef ZAB_TESTS_LINCHECK_H
#define ZAB_TESTS_LINCHECK_H

#include <stddef.h>
#include <stdint.h>

typedef struct lc_history lc_history;

/* Memory lc_check may use for its memo of visited states, unless
 * lc_set_memory_limit says otherwise. */
#define LC_DEFAULT_MEMORY_LIMIT ((size_t)64 << 20)

/* An empty history, or NULL when out of memory. */
lc_history *lc_new(void);
void lc_free(lc_history *h);

/* The value key holds before its first write (default 0). */
void lc_set_initial(lc_history *h, int64_t key, int64_t value);
/* Bound on the bytes of lc_check's memo (per key checked). */
void lc_set_memory_limit(lc_history *h, size_t bytes);

/* Record an invocation; returns the op's id (>= 0), or -1 if it could not
 * be recorded (then lc_check reports -1). */
int lc_invoke_write(lc_history *h, int64_t key, int64_t value, int64_t t_invoke);
int lc_invoke_read(lc_history *h, int64_t key, int64_t t_invoke);

/* The op returned successfully at t_return; a read saw read_value (ignored
 * for writes). */
void lc_return_ok(lc_history *h, int op, int64_t t_return, int64_t read_value);
/* The op is known not to have taken effect. */
void lc_return_failed(lc_history *h, int op, int64_t t_return);

/* Number of ops recorded. */
size_t lc_size(const lc_history *h);

/* 1 if the history is linearizable; 0 if not, with the offending key and
 * the ops that show it written to buf; -1 if it could not tell: the search
 * needed more than max_steps steps over all keys (a step looks at one op,
 * so the time spent is about proportional), more memo than the memory
 * limit, or the recording failed. buf always receives a NUL-terminated
 * summary, cut to cap bytes (buf may be NULL when cap is 0). */
int lc_check(const lc_history *h, char *buf, size_t cap, uint64_t max_steps);

#endif
