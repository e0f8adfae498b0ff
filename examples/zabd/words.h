/*
 * words.h - the four-letter words: a command sent instead of a handshake,
 * as the first four bytes of a connection, answered with text after
 * which the connection closes.
 */
#ifndef ZABD_WORDS_H
#define ZABD_WORDS_H

#include <stdint.h>

#include <zab.h>

struct zabd_net;

/* Whether the four bytes at p are a four-letter word ZooKeeper knows (or
 * telnet's close sequence) rather than a frame length. */
int zabd_words_known(const uint8_t p[4]);
/* Append the answer to the word at p (the refusal when the whitelist does
 * not allow it). Net thread. */
void zabd_words_answer(struct zabd_net *net, const uint8_t p[4], zab_buf *out);

/* The name the four-letter words give an opcode ("GETD", ...). */
const char *zabd_words_op_name(int32_t opcode);

#endif
