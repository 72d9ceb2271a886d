"""Fifty clients sending their request a byte a second hold nginx connections, never an
app server's workers: a normal page still comes back within a second."""

import socket
import threading
import time

from tests.stack.client import client_address, raw_get

SLOW_CLIENTS = 50
ARTICLE = "/library/ai-systems-architect-vs-ai-engineer"
REQUEST = f"GET {ARTICLE} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n".encode()


def send_slowly(stack, address: str, stop: threading.Event, state: dict) -> None:
    context = stack.tls_context()
    try:
        raw = socket.create_connection(
            ("127.0.0.1", stack.https_port), timeout=20, source_address=(address, 0)
        )
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as connection:
            state["connected"] += 1
            for byte in REQUEST:
                if stop.is_set():
                    break
                connection.sendall(bytes([byte]))
                stop.wait(1)
            state["still_sending"] += 1
    except OSError as error:
        state["errors"].append(repr(error))


def test_fifty_slow_clients_do_not_slow_a_normal_page_past_one_second(stack):
    stop = threading.Event()
    state = {"connected": 0, "still_sending": 0, "errors": []}
    slow = [
        threading.Thread(target=send_slowly, args=(stack, client_address(), stop, state))
        for _ in range(SLOW_CLIENTS)
    ]
    for thread in slow:
        thread.start()
    try:
        deadline = time.monotonic() + 20
        while state["connected"] < SLOW_CLIENTS and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2)  # every slow client is now part-way through its request line
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            status, _, body = raw_get(stack.https_port, ARTICLE, context=stack.tls_context())
            timings.append(time.perf_counter() - started)
            assert status == 200 and b"AI Systems Architect" in body
            time.sleep(0.5)
    finally:
        stop.set()
        for thread in slow:
            thread.join(timeout=30)
    print(f"\nwith {SLOW_CLIENTS} slow clients, the article took {max(timings):.3f} s at most")
    assert state["errors"] == []
    assert state["connected"] == state["still_sending"] == SLOW_CLIENTS  # none was dropped
    assert max(timings) < 1.0, timings
