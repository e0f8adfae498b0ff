/*
 * session.h - what a connection's frames mean (session.c), for conn.c:
 * the handshake, every later request, and the session calls that wait.
 * Net thread, except where a comment says otherwise.
 */
#ifndef ZABD_SESSION_H
#define ZABD_SESSION_H

#include <stddef.h>
#include <stdint.h>

struct zabd_conn;
struct zabd_job;

/* The first frame: a ConnectRequest. Opens or resumes the session on the
 * pool (the connection is busy meanwhile). ZABD_KEEP or ZABD_CLOSE. */
int zabd_session_connect(struct zabd_conn *c, const uint8_t *body, size_t len);
/* A later frame: RequestHeader and request. ZABD_KEEP or ZABD_CLOSE. */
int zabd_session_request(struct zabd_conn *c, const uint8_t *frame, size_t len);
/* A session call has run: act on its outcome and free the job.
 * ZABD_KEEP or ZABD_CLOSE. */
int zabd_session_job_done(struct zabd_job *job);
/* Let the connection's client go (zab_client_abandon) on the pool:
 * ZABD_KEEP (the job's end frees the connection) or ZABD_FREE (done
 * here). */
int zabd_session_abandon(struct zabd_conn *c);

#endif
