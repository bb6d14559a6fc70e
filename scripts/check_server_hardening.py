#!/usr/bin/env python3
"""Connection-layer checks of issue 22 against a running `sparrow serve`, with the standard library only.

  check_server_hardening.py BASE_URL --idle-timeout SECONDS --connections N

1. Python's urllib sending a 20 MB body gets the 413 (with Connection: close) within 2 s.
2. N idle TCP connections (run the server with `ulimit -n 1024` and N = 1100): /health still answers
   within 1 s (503 while the connection cap is full), and answers 200 within 1 s once the idle
   timeout has closed the idle connections, which this script keeps open.
"""
import argparse
import json
import resource
import socket
import sys
import time
import urllib.error
import urllib.request


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def health(base):
    """(status, seconds) of GET /health; any HTTP answer counts."""
    start = time.monotonic()
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        fail(f"/health did not answer: {error}")
    return status, time.monotonic() - start


def check_413(base):
    body = b" " * (20 << 20)
    request = urllib.request.Request(f"{base}/v1/generate", data=body, headers={"Content-Type": "application/json"})
    start = time.monotonic()
    try:
        urllib.request.urlopen(request, timeout=10)
        fail("a 20 MB body was accepted")
    except urllib.error.HTTPError as error:
        elapsed = time.monotonic() - start
        payload = json.loads(error.read())
        if error.code != 413 or payload["error"]["code"] != "body_too_large":
            fail(f"expected 413 body_too_large, got {error.code} {payload}")
        if error.headers.get("Connection", "").lower() != "close":
            fail(f"the 413 has no Connection: close ({dict(error.headers)})")
        if elapsed > 2:
            fail(f"the 413 took {elapsed:.2f} s")
        print(f"urllib, 20 MB body: 413 in {elapsed:.3f} s")
    except OSError as error:
        fail(f"urllib got no answer for a 20 MB body: {error}")


def check_idle(base, host, port, count, idle_timeout):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 256), hard))
    sockets = []
    for _ in range(count):
        connection = socket.create_connection((host, port), timeout=5)
        sockets.append(connection)
    print(f"{len(sockets)} idle connections open")
    time.sleep(0.5)
    status, seconds = health(base)
    print(f"/health with {count} idle connections: {status} in {seconds:.3f} s")
    if seconds > 1:
        fail(f"/health took {seconds:.2f} s")
    time.sleep(idle_timeout + 1)
    status, seconds = health(base)
    print(f"/health after the idle timeout: {status} in {seconds:.3f} s")
    if status != 200 or seconds > 1:
        fail(f"/health after the idle timeout: {status} in {seconds:.2f} s")
    closed = 0
    for connection in sockets:
        connection.settimeout(0.01)
        try:
            data = connection.recv(4096)
            closed += 1 if data == b"" or data.startswith(b"HTTP/1.1 503") else 0
        except (socket.timeout, BlockingIOError):
            pass
        except OSError:
            closed += 1
        connection.close()
    print(f"{closed} of {count} idle connections were closed by the server")
    if closed != count:
        fail(f"{count - closed} idle connections are still open after the idle timeout")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("--idle-timeout", type=float, required=True)
    parser.add_argument("--connections", type=int, default=1100)
    args = parser.parse_args()
    host, port = args.base.removeprefix("http://").split(":")
    check_413(args.base)
    check_idle(args.base, host, int(port), args.connections, args.idle_timeout)
    print("connection checks: OK")


if __name__ == "__main__":
    main()
