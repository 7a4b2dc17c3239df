/* SPDX-License-Identifier: MIT */
/* Winsock for the tests: loaded at run time, because the test executables do not link ws2_32,
 * and a listening loopback socket that answers nothing unless the test does. */
#ifndef OPENDO_TUSOCK_H
#define OPENDO_TUSOCK_H

#include <winsock2.h>
#include "testutil.h"

struct tu_winsock
{
    int(WINAPI *startup)(WORD, WSADATA *);
    SOCKET(WINAPI *socket)(int, int, int);
    int(WINAPI *bind)(SOCKET, const struct sockaddr *, int);
    int(WINAPI *listen)(SOCKET, int);
    int(WINAPI *getsockname)(SOCKET, struct sockaddr *, int *);
    SOCKET(WINAPI *accept)(SOCKET, struct sockaddr *, int *);
    int(WINAPI *recv)(SOCKET, char *, int, int);
    int(WINAPI *send)(SOCKET, const char *, int, int);
    int(WINAPI *shutdown)(SOCKET, int);
    int(WINAPI *closesocket)(SOCKET);
};

/* Filled in by the first tu_loopback_socket. */
extern struct tu_winsock tu_ws;

/* A TCP socket bound to a free loopback port, listening if `backlog` > 0 (the kernel then
 * accepts connections into the backlog, whether or not the test calls accept); *port gets the
 * port. */
SOCKET tu_loopback_socket(int backlog, USHORT *port);

/* A server that takes connections (the kernel accepts them into the backlog) and never
 * answers a request: its socket, for tu_ws.closesocket, and in url the address of never.bin on
 * it. */
SOCKET tu_silent_server(WCHAR *url, size_t size);

#endif
