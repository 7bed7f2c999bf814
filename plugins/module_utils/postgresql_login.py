# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Log in to PostgreSQL with the standard library only: the wire protocol's startup,
TLS (SSLRequest) and the password methods (SCRAM-SHA-256, md5, cleartext).

Why not psycopg or community.postgresql.postgresql_ping: the check runs in a preflight,
before anything is installed on the host, so it may use nothing the host lacks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import ssl
import struct

PROTOCOL_3 = 196608
SSL_REQUEST = 80877103
AUTH_OK, AUTH_CLEARTEXT, AUTH_MD5, AUTH_SASL, AUTH_SASL_CONTINUE, AUTH_SASL_FINAL = 0, 3, 5, 10, 11, 12


class LoginError(Exception):
    """The server answered, and refused (sqlstate, message)."""

    def __init__(self, sqlstate, message):
        super().__init__(message)
        self.sqlstate = sqlstate
        self.message = message


def _message(kind, body):
    return kind + struct.pack("!I", len(body) + 4) + body


def _read_exact(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    return data


def _read_message(sock):
    kind = _read_exact(sock, 1)
    (length,) = struct.unpack("!I", _read_exact(sock, 4))
    return kind, _read_exact(sock, length - 4)


def error_fields(body):
    """Fields of an ErrorResponse: {'C': sqlstate, 'M': message, ...}."""
    fields = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode("utf-8", "replace")
    return fields


def md5_password(user, password, salt):
    inner = hashlib.md5(password.encode() + user.encode()).hexdigest()  # PostgreSQL's md5 method
    return "md5" + hashlib.md5(inner.encode() + salt).hexdigest()


class Scram:
    """SCRAM-SHA-256 (RFC 5802/7677) as PostgreSQL speaks it: no channel binding."""

    def __init__(self, password, nonce=None, username=""):
        # PostgreSQL ignores the SCRAM user name (the startup message has it) and expects it empty.
        self.password = password.encode()
        self.client_nonce = nonce or base64.b64encode(os.urandom(18)).decode()
        self.client_first_bare = f"n={username},r={self.client_nonce}"
        self.server_signature = b""

    def first(self):
        return ("n,," + self.client_first_bare).encode()

    def final(self, server_first):
        attrs = dict(item.split("=", 1) for item in server_first.decode().split(","))
        if not attrs["r"].startswith(self.client_nonce):
            raise LoginError("08P01", "the server's SCRAM nonce does not extend ours")
        salted = hashlib.pbkdf2_hmac("sha256", self.password, base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        without_proof = f"c=biws,r={attrs['r']}"
        auth_message = f"{self.client_first_bare},{server_first.decode()},{without_proof}".encode()
        signature = hmac.digest(hashlib.sha256(client_key).digest(), auth_message, "sha256")
        proof = (int.from_bytes(client_key, "big") ^ int.from_bytes(signature, "big")).to_bytes(len(client_key), "big")
        server_key = hmac.digest(salted, b"Server Key", "sha256")
        self.server_signature = hmac.digest(server_key, auth_message, "sha256")
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify(self, server_final):
        attrs = dict(item.split("=", 1) for item in server_final.decode().split(","))
        if base64.b64decode(attrs.get("v", "")) != self.server_signature:
            raise LoginError("08P01", "the server's SCRAM signature is wrong (not the server we asked)")


def _tls(sock, host, sslmode, sslrootcert):
    sock.sendall(struct.pack("!II", 8, SSL_REQUEST))
    answer = _read_exact(sock, 1)
    if answer != b"S":
        if sslmode in ("require", "verify-ca", "verify-full"):
            raise LoginError("08P01", f"the server does not offer TLS, and sslmode is {sslmode}")
        return sock
    context = ssl.create_default_context(cafile=sslrootcert or None)
    if sslmode in ("prefer", "require"):  # libpq's meaning: encrypted, not verified
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif sslmode == "verify-ca":
        context.check_hostname = False
    return context.wrap_socket(sock, server_hostname=host)


def _authenticate(sock, user, password):
    scram = None
    while True:
        kind, body = _read_message(sock)
        if kind == b"E":
            fields = error_fields(body)
            raise LoginError(fields.get("C", ""), fields.get("M", "refused"))
        if kind != b"R":
            continue
        (code,) = struct.unpack("!I", body[:4])
        if code == AUTH_OK:
            return
        if code == AUTH_CLEARTEXT:
            sock.sendall(_message(b"p", password.encode() + b"\0"))
        elif code == AUTH_MD5:
            sock.sendall(_message(b"p", md5_password(user, password, body[4:8]).encode() + b"\0"))
        elif code == AUTH_SASL:
            if b"SCRAM-SHA-256\0" not in body[4:]:
                raise LoginError("08P01", "the server offers no SASL mechanism this check speaks")
            scram = Scram(password)
            first = scram.first()
            sock.sendall(_message(b"p", b"SCRAM-SHA-256\0" + struct.pack("!I", len(first)) + first))
        elif code == AUTH_SASL_CONTINUE and scram:
            sock.sendall(_message(b"p", scram.final(body[4:])))
        elif code == AUTH_SASL_FINAL and scram:
            scram.verify(body[4:])
        else:
            raise LoginError("08P01", f"authentication method {code} is not supported by this check")


def login(host, port, user, password, database, sslmode="prefer", sslrootcert="", timeout=5.0):
    """Log in and out. Raises OSError (not reachable) or LoginError (refused)."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        if sslmode != "disable":
            sock = _tls(sock, host, sslmode, sslrootcert)
        params = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in (("user", user), ("database", database)))
        sock.sendall(struct.pack("!II", len(params) + 9, PROTOCOL_3) + params + b"\0")
        _authenticate(sock, user, password)
        sock.sendall(_message(b"X", b""))
    finally:
        sock.close()
