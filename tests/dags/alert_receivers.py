"""A local SMTP sink and a local webhook receiver, real servers on 127.0.0.1 for the alert tests.

The SMTP sink speaks the part of SMTP (RFC 5321) that smtplib uses to deliver: EHLO/HELO,
AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT; it keeps every message it accepted. The
webhook receiver is http.server answering "ok" to each POST and keeping the request.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import socketserver
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Mail:
    mail_from: str
    recipients: list[str]
    message: email.message.EmailMessage
    login: tuple[str, str] | None

    @property
    def text(self) -> str:
        """Every text part of the message, decoded."""
        parts = self.message.walk() if self.message.is_multipart() else [self.message]
        return "\n".join(part.get_content() for part in parts if part.get_content_maintype() == "text")


@dataclass
class Received:
    mails: list[Mail] = field(default_factory=list)
    posts: list[dict] = field(default_factory=list)


class _SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 localhost sink ready")
        mail_from, recipients, login = "", [], None
        while line := self.rfile.readline():
            command = line.decode().rstrip("\r\n")
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-localhost")
                self.reply("250 AUTH PLAIN")
            elif verb == "HELO":
                self.reply("250 localhost")
            elif verb == "AUTH":
                # AUTH PLAIN <base64 of "\0user\0password">: the login the relay would check.
                _authzid, user, password = base64.b64decode(command.split()[2]).decode().split("\0")
                login = (user, password)
                self.reply("235 2.7.0 Authentication successful")
            elif verb == "MAIL":
                mail_from, recipients = command.split(":", 1)[1].strip().split()[0].strip("<>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                message = email.message_from_bytes(data, policy=email.policy.default)
                self.server.received.mails.append(Mail(mail_from, recipients, message, login))
                self.reply("250 OK: queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class _WebhookHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.posts.append(
            {"path": self.path, "content_type": self.headers.get("Content-Type"), "json": json.loads(body or b"null")}
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:  # quiet: the test asserts what arrived
        pass


class _ThreadingSmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(received: Received):
    """Start the SMTP sink and the webhook receiver; return both servers (ports in server_address)."""
    smtp = _ThreadingSmtpServer(("127.0.0.1", 0), _SmtpHandler)
    web = ThreadingHTTPServer(("127.0.0.1", 0), _WebhookHandler)
    for server in (smtp, web):
        server.received = received
        threading.Thread(target=server.serve_forever, daemon=True).start()
    return smtp, web
