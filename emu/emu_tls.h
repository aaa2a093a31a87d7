/*
 * The module's TLS client (mbedTLS 2.28) over an origin socket, for
 * emu_origin.c: one session per connection, on a non-blocking socket the
 * caller owns and waits on.
 */
#ifndef ATHTTP_EMU_TLS_H
#define ATHTTP_EMU_TLS_H

#include "emu.h"

#include <sys/types.h>

struct emu_tls;

/* A session for an https URL on the connected socket fd, set up exactly as
 * u->tls_opts asks.  NULL with *st set when it cannot even be set up. */
struct emu_tls *emu_tls_new(int fd, const struct emu_url *u,
			    enum emu_fetch_status *st);

/* One step of the handshake: 0 when it is done and the server passed every
 * check asked for; POLLIN or POLLOUT when it must wait for the socket;
 * -1 with *st (EMU_FETCH_TLS, EMU_FETCH_TLS_VERIFY) when it failed. */
int emu_tls_handshake(struct emu_tls *t, enum emu_fetch_status *st);

/* send()/recv() on the session, with their conventions: bytes moved; 0
 * from recv when the server closed (close_notify or the TCP close); -1 with
 * errno EAGAIN while the socket must be waited for (emu_tls_wants() says
 * which way), or another errno when the session is dead. */
ssize_t emu_tls_send(struct emu_tls *t, const void *p, size_t n);
ssize_t emu_tls_recv(struct emu_tls *t, void *p, size_t n);
/* After EAGAIN: POLLIN or POLLOUT, what the session waits for; 0 when the
 * last call did not end in EAGAIN (nothing to wait for but the caller's
 * own direction). */
short emu_tls_wants(const struct emu_tls *t);
/* Decrypted (or received, unprocessed) bytes that poll() cannot see. */
bool emu_tls_pending(const struct emu_tls *t);

/* Tries to send close_notify (never waits), frees; the fd stays open. */
void emu_tls_free(struct emu_tls *t);

#endif
