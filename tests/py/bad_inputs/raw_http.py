"""A minimal HTTP/1.1 client over a plain socket, so that malformed requests (CRLF in headers,
lying Content-Length, odd bytes in paths) reach the server exactly as written."""
import socket
import time


class Reply:
    """What came back: status (None when the connection closed or reset without a status line),
    headers (lower-case names), body bytes, and `error` ("reset", "closed", "timeout") when the
    exchange ended abnormally."""

    def __init__(self, status=None, headers=None, body=b"", error=None, seconds=0.0):
        self.status = status
        self.headers = headers or {}
        self.body = body
        self.error = error
        self.seconds = seconds

    def __repr__(self):
        return f"Reply({self.status}, {self.error}, {self.body[:200]!r})"


def _read_exact(sock, buf, n):
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


def _parse(data, sock):
    """Parses one response from `data` (reading more from `sock` as needed); interim 1xx
    responses (100 Continue) are skipped."""
    while True:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 1") or head.startswith(b"HTTP/1.1 101"):
            break
        data = rest
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                chunk = sock.recv(65536)
                if not chunk:
                    return status, headers, body
                rest += chunk
            size_line, rest = rest.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            rest = _read_exact(sock, rest, size + 2)
            body += rest[:size]
            rest = rest[size + 2:]
            if size == 0:
                return status, headers, body
    n = int(headers.get("content-length", "0") or 0)
    rest = _read_exact(sock, rest, n)
    return status, headers, rest[:n]


def send_raw(port, data, timeout=30.0, pause_after=None):
    """Sends `data` (bytes; or a list of byte strings sent with `pause_after` seconds between
    them) on a fresh connection and reads one response."""
    start = time.time()
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError as e:
        return Reply(error=f"connect: {e}")
    try:
        pieces = data if isinstance(data, list) else [data]
        for i, piece in enumerate(pieces):
            if i and pause_after:
                time.sleep(pause_after)
            sock.sendall(piece)
        status, headers, body = _parse(b"", sock)
        return Reply(status, headers, body, seconds=time.time() - start)
    except ConnectionResetError:
        return Reply(error="reset", seconds=time.time() - start)
    except BrokenPipeError:
        # The server answered and closed before taking the whole request: read what it said.
        try:
            status, headers, body = _parse(b"", sock)
            return Reply(status, headers, body, seconds=time.time() - start)
        except (OSError, ValueError, IndexError):
            return Reply(error="reset", seconds=time.time() - start)
    except ConnectionError:
        return Reply(error="closed", seconds=time.time() - start)
    except socket.timeout:
        return Reply(error="timeout", seconds=time.time() - start)
    except (ValueError, IndexError) as e:
        return Reply(error=f"unparsable response: {e}", seconds=time.time() - start)
    finally:
        sock.close()


def request_bytes(method, path, body=b"", headers=None, version="HTTP/1.1",
                  content_length=True):
    """Builds a request; `headers` is a list of (name, value) pairs written as given (bytes or
    str), so duplicates and odd bytes survive."""
    if isinstance(path, str):
        path = path.encode("latin-1")
    out = method.encode() + b" " + path + b" " + version.encode() + b"\r\n"
    out += b"Host: 127.0.0.1\r\nConnection: close\r\n"
    names = set()
    for name, value in headers or []:
        name = name.encode("latin-1") if isinstance(name, str) else name
        value = value.encode("utf-8") if isinstance(value, str) else value
        names.add(name.lower())
        out += name + b": " + value + b"\r\n"
    if content_length and b"content-length" not in names and (body or method == "POST"):
        out += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    return out + b"\r\n" + body
