"""One exchange with the deployment, bounded whatever it does: no redirect is followed (a 3xx is
its answer, so a token never goes to another host), the whole exchange ends within `deadline`
seconds however slowly the deployment drips its bytes, at most `limit` bytes of answer are
read, and anything that is not HTTP is an `Unanswered` with a one-line reason."""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_ANSWER = 16 << 20
"""The largest answer read from the deployment by default (a list of 100 jobs is ~100 KB)."""
CHUNK = 64 << 10


@dataclass(frozen=True)
class Answered:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Unanswered(Exception):
    """No usable answer: `reason` says why in one line; `timed_out` when the deadline passed."""

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.timed_out = reason, timed_out


def exchange(
    url: str,
    method: str,
    headers: dict[str, str],
    body: bytes | None = None,
    *,
    deadline: float,
    limit: int = MAX_ANSWER,
) -> Answered:
    """Send one request to `url` (http or https) and read its whole answer.

    Raises:
        Unanswered: the deployment could not be reached, did not answer within `deadline`
            seconds, answered more than `limit` bytes, or answered something that is not HTTP.
    """
    parts = urlsplit(url)
    connection = _connection(parts.scheme, parts.hostname or "", parts.port, deadline)
    expired = threading.Event()
    timer = threading.Timer(deadline, _cut, (connection, expired))
    timer.daemon = True
    timer.start()
    try:
        connection.request(method, _target(url, parts.netloc), body=body, headers=headers)
        response = connection.getresponse()
        answer = Answered(response.status, response.getheaders(), _read(response, limit))
    except Unanswered:
        raise
    except (http.client.HTTPException, OSError, ValueError) as failure:
        if expired.is_set() or isinstance(failure, TimeoutError):
            raise Unanswered(f"no whole answer within {deadline:g}s", timed_out=True) from None
        raise Unanswered(_reason(failure)) from None
    else:
        if expired.is_set():  # cut short at the deadline, which can read as an answer's end
            raise Unanswered(f"no whole answer within {deadline:g}s", timed_out=True)
        return answer
    finally:
        timer.cancel()
        connection.close()


def _connection(scheme: str, host: str, port: int | None, deadline: float) -> http.client.HTTPConnection:
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=deadline, context=ssl.create_default_context())
    return http.client.HTTPConnection(host, port, timeout=deadline)


def _target(url: str, netloc: str) -> str:
    """The request target: `url` after its scheme and host."""
    rest = url.split(netloc, 1)[1] if netloc else ""
    return rest if rest.startswith("/") else "/" + rest


def _cut(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    """End a blocked exchange at its deadline: shutting the socket down wakes the reader."""
    expired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _read(response: http.client.HTTPResponse, limit: int) -> bytes:
    """The answer's body, in chunks, refused past `limit` bytes or when it ends short."""
    if response.length is not None and response.length > limit:
        raise Unanswered(f"the answer is larger than {limit} bytes (--max-answer)")
    chunks, size = [], 0
    while chunk := response.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise Unanswered(f"the answer is larger than {limit} bytes (--max-answer)")
        chunks.append(chunk)
    if response.length:  # fewer bytes than its Content-Length said, and the connection closed
        raise Unanswered(f"the answer ended {response.length} bytes short of its Content-Length")
    return b"".join(chunks)


def _reason(failure: BaseException) -> str:
    """`failure` in one line a person can act on."""
    if isinstance(failure, http.client.BadStatusLine):
        return "it answered something that is not HTTP"
    if isinstance(failure, http.client.IncompleteRead):
        return "the answer ended before its body did"
    if isinstance(failure, ssl.SSLError):
        return f"TLS failed: {failure.reason or failure}"
    if isinstance(failure, ConnectionRefusedError):
        return "connection refused"
    text = " ".join(str(failure).split()) or type(failure).__name__
    return "".join(c if c.isprintable() else "?" for c in text)[:200]
