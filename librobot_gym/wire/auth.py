"""Who may talk to a server here: the shared token, the bind policy and TLS, for both the robot
bridge (hardware/bridge) and the policy server (serving).

Server side (`ServerAuth.configure(host, token_file, tls_cert, tls_key)`):

- A server that listens beyond loopback (anything but 127.0.0.0/8, ::1, "localhost") needs a
  shared token (`--token-file PATH`); without one it refuses to start (`ConfigError`). On
  loopback a token is optional (openpi's client and local tests connect without one).
- With a token, the websocket handshake must carry `Authorization: Bearer <token>` (openpi's
  client sends `Authorization: Api-Key <token>` for its `api_key`, accepted too); anything else
  is answered HTTP 401 before any frame is read. Tokens are compared in constant time
  (`hmac.compare_digest`).
- A token file holds one line of at least `MIN_TOKEN_LENGTH` characters and may be read by its
  owner only (chmod 600), as ssh insists for keys: `python -c "import secrets;
  print(secrets.token_urlsafe(32))" > token && chmod 600 token`.
- `--tls-cert/--tls-key` (PEM) serve wss:// instead of ws://.

Client side (`ClientAuth.configure(url, token_file, ca_file)`): the token comes from
`token_file=` or the `LIBROBOT_TOKEN_FILE` environment variable; a wss:// url verifies the
server's certificate against the system's CAs, or `ca_file=` / `LIBROBOT_CA_FILE` (a
self-signed certificate, or the CA that signed it). Driver and policy specs take both as options:
`bridge:wss://robot-pc:8765?token_file=/path/token&ca_file=/path/cert.pem`.
"""

from __future__ import annotations

import hmac
import http
import ipaddress
import logging
import os
import ssl
import stat
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from librobot_gym.errors import ConfigError, LibrobotError

logger = logging.getLogger(__name__)

TOKEN_ENV = "LIBROBOT_TOKEN_FILE"
CA_ENV = "LIBROBOT_CA_FILE"
CLIENT_OPTIONS = ("token_file", "ca_file")
MIN_TOKEN_LENGTH = 16
SCHEMES = ("bearer", "api-key")  # ours, openpi's client
MAKE_TOKEN = ('python -c "import secrets; print(secrets.token_urlsafe(32))" > token && '
              'chmod 600 token')


class AuthenticationError(LibrobotError, RuntimeError):
    """A server refused this client's token (HTTP 401): none was sent, or the wrong one."""


def is_loopback(host: str | None) -> bool:
    """True for addresses only this computer reaches: 127.0.0.0/8, ::1 and "localhost"."""
    if not host:
        return False  # "" / None: every interface
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def load_token(path: str | os.PathLike) -> str:
    """The token in `path`: its first line, at least MIN_TOKEN_LENGTH characters, in a file
    nobody but its owner may read or write; ConfigError saying what to fix otherwise."""
    path = Path(path).expanduser()
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"token file {str(path)!r} cannot be read ({exc}); make one with: "
                          f"{MAKE_TOKEN}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"token file {str(path)!r} is open to other users "
                          f"(mode {stat.filemode(mode)}); run: chmod 600 {path}")
    lines = text.strip().splitlines()
    token = lines[0].strip() if lines else ""
    if len(token) < MIN_TOKEN_LENGTH or any(c.isspace() for c in token):
        raise ConfigError(f"token file {str(path)!r} must hold one token of at least "
                          f"{MIN_TOKEN_LENGTH} characters without spaces; make one with: "
                          f"{MAKE_TOKEN}")
    return token


def presented_token(authorization: str | None) -> str | None:
    """The token in an `Authorization: Bearer <token>` (or `Api-Key <token>`) header."""
    if not authorization:
        return None
    scheme, _, credential = authorization.strip().partition(" ")
    if scheme.lower() not in SCHEMES or not credential.strip():
        return None
    return credential.strip()


def token_matches(expected: str, presented: str | None) -> bool:
    """Constant-time comparison (a wrong token takes as long whatever its first bytes)."""
    if presented is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))


@dataclass(frozen=True)
class ServerAuth:
    """What a server demands: a token (None: anyone who can reach it) and TLS (None: ws://)."""

    token: str | None = None
    ssl_context: ssl.SSLContext | None = None

    @classmethod
    def configure(cls, host: str, token_file: str | os.PathLike | None = None,
                  tls_cert: str | os.PathLike | None = None,
                  tls_key: str | os.PathLike | None = None) -> ServerAuth:
        """The servers' options, checked: a token file beyond loopback, cert and key together."""
        token = load_token(token_file) if token_file else None
        if (tls_cert is None) != (tls_key is None):
            raise ConfigError("TLS needs both --tls-cert and --tls-key (PEM files)")
        auth = cls(token, server_ssl_context(tls_cert, tls_key) if tls_cert else None)
        auth.check_bind(host)
        return auth

    def check_bind(self, host: str) -> None:
        """ConfigError when `host` reaches beyond loopback and no token is required."""
        if self.token is None and not is_loopback(host):
            raise ConfigError(
                f"listening on {host or 'every interface'!r} lets other computers in: give a "
                f"shared token with --token-file PATH (one line, chmod 600; make one with: "
                f"{MAKE_TOKEN}), and TLS with --tls-cert/--tls-key; or listen on 127.0.0.1")
        if self.token is not None and self.ssl_context is None and not is_loopback(host):
            logger.warning("listening on %s without TLS: the token travels in clear text; "
                           "add --tls-cert/--tls-key", host)

    @property
    def scheme(self) -> str:
        return "ws" if self.ssl_context is None else "wss"

    def refusal(self, connection: Any, request: Any) -> Any:
        """For websockets' `process_request`: a 401 response unless the handshake carries the
        token (None lets the handshake go on)."""
        if self.token is None:
            return None
        if token_matches(self.token, presented_token(request.headers.get("Authorization"))):
            return None
        logger.warning("refused %s: missing or wrong token", connection.remote_address)
        response = connection.respond(http.HTTPStatus.UNAUTHORIZED,
                                      "401 Unauthorized: this server needs its shared token in "
                                      "an 'Authorization: Bearer <token>' header\n")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response


def server_ssl_context(cert: str | os.PathLike, key: str | os.PathLike) -> ssl.SSLContext:
    """A TLS 1.2+ server context from PEM files; ConfigError naming the file that is wrong."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the TLS certificate {str(cert)!r} with key "
                          f"{str(key)!r} ({exc}); both must be PEM files") from None
    return context


@dataclass(frozen=True)
class ClientAuth:
    """What a client presents: the token (None: none) and the TLS context of a wss:// url."""

    token: str | None = None
    ssl_context: ssl.SSLContext | None = None

    @classmethod
    def configure(cls, url: str, token_file: str | os.PathLike | None = None,
                  ca_file: str | os.PathLike | None = None) -> ClientAuth:
        """From the options, else the environment (LIBROBOT_TOKEN_FILE, LIBROBOT_CA_FILE)."""
        token_file = token_file or os.environ.get(TOKEN_ENV) or None
        ca_file = ca_file or os.environ.get(CA_ENV) or None
        token = load_token(token_file) if token_file else None
        context = None
        if url.startswith("wss://"):
            try:
                context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"cannot load the CA file {str(ca_file)!r} ({exc}); give the "
                                  f"server's certificate (PEM) or the CA that signed it"
                                  ) from None
        elif token is not None and not is_loopback(_host(url)):
            logger.warning("sending the token to %s over ws://: it travels in clear text; use "
                           "wss:// (the server's --tls-cert)", url)
        return cls(token, context)

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for `websockets.sync.client.connect`."""
        options: dict[str, Any] = {}
        if self.token is not None:
            options["additional_headers"] = {"Authorization": f"Bearer {self.token}"}
        if self.ssl_context is not None:
            options["ssl"] = self.ssl_context
        return options

    def refused(self, url: str, exc: BaseException) -> AuthenticationError | None:
        """The error to raise when `exc` is the server's 401, else None."""
        response = getattr(exc, "response", None)
        if getattr(response, "status_code", None) != http.HTTPStatus.UNAUTHORIZED:
            return None
        sent = "a token it does not accept" if self.token else "no token"
        return AuthenticationError(
            f"{url} refused the connection (HTTP 401): this client sent {sent}. Give the "
            f"server's token file with token_file=PATH (in a spec: ?token_file=PATH) or "
            f"{TOKEN_ENV}=PATH")


def url_options(spec: str, usage: str) -> tuple[str, dict[str, str]]:
    """A server url with the client options of a driver or policy spec after it:
    "wss://pc:8765?token_file=/t&ca_file=/c" -> ("wss://pc:8765", {"token_file": "/t",
    "ca_file": "/c"}); ConfigError showing `usage` for anything else."""
    url, _, query = spec.partition("?")
    if not url.startswith(("ws://", "wss://")):
        raise ConfigError(f"{spec!r}: expected {usage}")
    try:
        options = dict(urllib.parse.parse_qsl(query, strict_parsing=True)) if query else {}
    except ValueError as exc:
        raise ConfigError(f"{spec!r}: bad options {query!r} ({exc}); write {usage}") from None
    unknown = sorted(set(options) - set(CLIENT_OPTIONS))
    if unknown:
        raise ConfigError(f"{spec!r}: unknown options {unknown}; the options are "
                          f"{', '.join(CLIENT_OPTIONS)} ({usage})")
    return url, options


def _host(url: str) -> str:
    rest = url.partition("://")[2]
    authority = rest.split("/", 1)[0]
    if authority.startswith("["):
        return authority[1:].partition("]")[0]
    return authority.rpartition(":")[0] or authority
