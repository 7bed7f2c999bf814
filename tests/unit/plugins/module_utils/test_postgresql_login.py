# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the standard-library PostgreSQL login (the site scenario logs in to a real server)."""

from __future__ import annotations

import hashlib
import socket

import pytest
from plugin_loader import load_plugin

pl = load_plugin("plugins/module_utils/postgresql_login.py")

# RFC 7677, section 3: user "user", password "pencil".
CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO"
SERVER_FIRST = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
CLIENT_FINAL = (
    b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
)
SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_scram_matches_the_rfc_vector():
    scram = pl.Scram("pencil", nonce=CLIENT_NONCE, username="user")
    assert scram.first() == b"n,,n=user,r=" + CLIENT_NONCE.encode()
    assert scram.final(SERVER_FIRST) == CLIENT_FINAL
    scram.verify(SERVER_FINAL)


def test_scram_refuses_a_wrong_server_signature():
    scram = pl.Scram("pencil", nonce=CLIENT_NONCE, username="user")
    scram.final(SERVER_FIRST)
    with pytest.raises(pl.LoginError, match="signature"):
        scram.verify(b"v=" + b"A" * 44)


def test_scram_refuses_a_nonce_that_is_not_ours():
    scram = pl.Scram("pencil", nonce="other", username="user")
    with pytest.raises(pl.LoginError, match="nonce"):
        scram.final(SERVER_FIRST)


def test_postgresql_sends_an_empty_scram_user_name():
    assert pl.Scram("x", nonce="abc").first() == b"n,,n=,r=abc"


def test_md5_password_is_postgresqls_formula():
    # "md5" + md5(md5(password + user) + salt), as libpq computes it
    inner = hashlib.md5(b"secretairflow").hexdigest().encode()
    assert pl.md5_password("airflow", "secret", b"salt") == "md5" + hashlib.md5(inner + b"salt").hexdigest()


def test_error_fields_are_parsed():
    body = b'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "airflow"\0\0'
    fields = pl.error_fields(body)
    assert fields["C"] == "28P01"
    assert fields["M"] == 'password authentication failed for user "airflow"'


def test_an_unreachable_server_raises_oserror():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    with pytest.raises(OSError):
        pl.login("127.0.0.1", port, "airflow", "x", "airflow", timeout=2)
