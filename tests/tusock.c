/* SPDX-License-Identifier: MIT */
#include "tusock.h"

struct tu_winsock tu_ws;

static void load_winsock(void)
{
    HMODULE ws2;
    WSADATA data;

    if (tu_ws.startup)
        return;
    assert_non_null(ws2 = LoadLibraryW(L"ws2_32.dll"));
    tu_ws.startup = (void *)GetProcAddress(ws2, "WSAStartup");
    tu_ws.socket = (void *)GetProcAddress(ws2, "socket");
    tu_ws.bind = (void *)GetProcAddress(ws2, "bind");
    tu_ws.listen = (void *)GetProcAddress(ws2, "listen");
    tu_ws.getsockname = (void *)GetProcAddress(ws2, "getsockname");
    tu_ws.accept = (void *)GetProcAddress(ws2, "accept");
    tu_ws.recv = (void *)GetProcAddress(ws2, "recv");
    tu_ws.send = (void *)GetProcAddress(ws2, "send");
    tu_ws.shutdown = (void *)GetProcAddress(ws2, "shutdown");
    tu_ws.closesocket = (void *)GetProcAddress(ws2, "closesocket");
    assert_true(tu_ws.startup && tu_ws.socket && tu_ws.bind && tu_ws.listen && tu_ws.getsockname &&
                tu_ws.accept && tu_ws.recv && tu_ws.send && tu_ws.shutdown && tu_ws.closesocket);
    assert_int_equal(0, tu_ws.startup(MAKEWORD(2, 2), &data));
}

SOCKET tu_loopback_socket(int backlog, USHORT *port)
{
    struct sockaddr_in addr = {0};
    int len = sizeof(addr);
    SOCKET s;

    load_winsock();
    s = tu_ws.socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(s != INVALID_SOCKET);
    addr.sin_family = AF_INET;
    /* 127.0.0.1, in network byte order. */
    addr.sin_addr.S_un.S_un_b.s_b1 = 127;
    addr.sin_addr.S_un.S_un_b.s_b4 = 1;
    assert_int_equal(0, tu_ws.bind(s, (struct sockaddr *)&addr, sizeof(addr)));
    assert_int_equal(0, tu_ws.getsockname(s, (struct sockaddr *)&addr, &len));
    if (backlog > 0)
        assert_int_equal(0, tu_ws.listen(s, backlog));
    *port = (USHORT)((addr.sin_port & 0xff) << 8 | addr.sin_port >> 8);
    return s;
}

SOCKET tu_silent_server(WCHAR *url, size_t size)
{
    USHORT port;
    SOCKET server = tu_loopback_socket(4, &port);

    swprintf(url, size, L"http://127.0.0.1:%u/never.bin", port);
    return server;
}
