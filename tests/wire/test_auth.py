"""Who may connect: the shared token (HTTP 401 at the handshake without it), the bind policy
(beyond loopback only with a token) and TLS (wss:// with a self-signed certificate made here),
for both servers: the robot bridge and the policy server. Everything listens on 127.0.0.1."""

from __future__ import annotations

import http.client
import shutil
import subprocess

import gymnasium as gym
import numpy as np
import pytest
import websockets.sync.client
from openpi_client.websocket_client_policy import WebsocketClientPolicy
from websockets.exceptions import InvalidStatus

from librobot_gym.cli import main
from librobot_gym.errors import ConfigError
from librobot_gym.hardware.bridge.client import BridgeDriver
from librobot_gym.hardware.drivers import make_driver
from librobot_gym.policies import make_policy
from librobot_gym.robots.arms.franka_panda import FRANKA_PANDA
from librobot_gym.serving import PolicyServer, RemoteConnectionError, RemotePolicy
from librobot_gym.wire.auth import (
    TOKEN_ENV,
    AuthenticationError,
    ServerAuth,
    is_loopback,
    load_token,
    url_options,
)
from librobot_gym.wire.websocket import CONNECT_OPTIONS
from tests.hardware.bridge.test_bridge import FakeArm, serve

pytestmark = pytest.mark.filterwarnings("ignore:connect\\(\\) must be used:DeprecationWarning")

TOKEN = "s3cret-token-for-tests-0123456789"


def write_token(path, token: str = TOKEN, mode: int = 0o600):
    path.write_text(token + "\n")
    path.chmod(mode)
    return path


@pytest.fixture(scope="module")
def env():
    env = gym.make("librobot/Franka-PickCup-v0", obs_mode="state")
    yield env
    env.close()


@pytest.fixture
def token_file(tmp_path):
    return write_token(tmp_path / "token")


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """(cert, key): a self-signed certificate for 127.0.0.1, made with the openssl CLI."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def status_of_handshake(url: str, headers: dict | None = None, **options) -> int:
    """The HTTP status a websocket handshake gets (101: upgraded)."""
    try:
        with websockets.sync.client.connect(url, additional_headers=headers, open_timeout=5,
                                            **CONNECT_OPTIONS, **options):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


# --- the token file and the bind policy ---------------------------------------------------------
def test_token_files_must_be_private_and_long_enough(tmp_path):
    assert load_token(write_token(tmp_path / "ok")) == TOKEN
    for path, says in [(tmp_path / "missing", "cannot be read"),
                       (write_token(tmp_path / "open", mode=0o644), "chmod 600"),
                       (write_token(tmp_path / "short", "abc"), "at least 16"),
                       (write_token(tmp_path / "empty", ""), "at least 16"),
                       (write_token(tmp_path / "spaces", "two words " * 3), "without spaces")]:
        with pytest.raises(ConfigError, match=says):
            load_token(path)


def test_only_loopback_may_be_served_without_a_token(env, token_file):
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not any(map(is_loopback, ["0.0.0.0", "", "::", "192.168.1.20", "robot-pc"]))
    policy = make_policy("random", env, seed=0)
    for host in ("0.0.0.0", "192.168.1.20", "robot-pc"):  # refused before anything binds
        with pytest.raises(ConfigError, match="--token-file"):
            PolicyServer(policy, host=host)
        with pytest.raises(ConfigError, match="--token-file"):
            serve(FakeArm(), host=host)
        with pytest.raises(ConfigError, match="--token-file"):
            ServerAuth.configure(host)
    assert ServerAuth.configure("0.0.0.0", token_file).token == TOKEN  # with one: allowed
    with pytest.raises(ConfigError, match="both --tls-cert and --tls-key"):
        ServerAuth.configure("127.0.0.1", tls_cert="cert.pem")


@pytest.mark.parametrize("argv", [
    ["serve", "--policy", "random", "--env", "librobot/Franka-PickCup-v0", "--host", "0.0.0.0"],
    ["bridge", "serve", "--driver", "twin:lockstep", "--host", "0.0.0.0"],
])
def test_the_commands_refuse_a_public_address_without_a_token_in_one_line(argv, capsys):
    assert main(argv) == 2
    out = capsys.readouterr().out
    assert out.startswith("error:") and "--token-file" in out and "Traceback" not in out
    assert len(out.strip().splitlines()) <= 2  # one sentence (the console may wrap it once)


def test_client_options_in_specs():
    assert url_options("wss://pc:8765?token_file=/t&ca_file=/c", "X") == (
        "wss://pc:8765", {"token_file": "/t", "ca_file": "/c"})
    assert url_options("ws://pc:8765", "X") == ("ws://pc:8765", {})
    with pytest.raises(ConfigError, match="unknown options"):
        url_options("ws://pc:8765?password=x", "X")
    with pytest.raises(ConfigError, match="expected"):
        url_options("http://pc:8765", "X")


# --- the token at the handshake -----------------------------------------------------------------
def test_the_policy_server_wants_its_token(env, token_file, tmp_path, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    obs, _ = env.reset(seed=0)
    auth = ServerAuth.configure("127.0.0.1", token_file)
    with PolicyServer(make_policy("random", env, seed=0), auth=auth) as server:
        url = server.url
        assert status_of_handshake(url) == 401
        assert status_of_handshake(url, {"Authorization": "Bearer wrong-token-0123456789"}) == 401
        assert status_of_handshake(url, {"Authorization": f"Basic {TOKEN}"}) == 401
        assert status_of_handshake(url, {"Authorization": f"Bearer {TOKEN}"}) == 101
        with pytest.raises(AuthenticationError, match="HTTP 401.*no token"):
            RemotePolicy(url, retries=3)
        wrong = write_token(tmp_path / "wrong", "another-token-0123456789")
        with pytest.raises(AuthenticationError, match="does not accept"):
            RemotePolicy(url, token_file=str(wrong))
        with RemotePolicy(url, token_file=str(token_file)) as policy:
            assert policy.act(obs).shape == (7,)
        monkeypatch.setenv(TOKEN_ENV, str(token_file))  # or from the environment
        policy = make_policy(f"remote:{url}", env)
        assert policy.act(obs).shape == (7,)
        policy.close()
        client = WebsocketClientPolicy(host="127.0.0.1", port=server.port, api_key=TOKEN)
        assert client.infer({"__obs__": obs})["actions"].shape == (1, 7)  # openpi's api_key
        client._ws.close()
        with pytest.raises(InvalidStatus):
            WebsocketClientPolicy(host="127.0.0.1", port=server.port)
        health = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        health.request("GET", "/healthz")  # open to all, as openpi's: it says only "OK"
        assert health.getresponse().status == 200
        health.close()


def test_the_bridge_wants_its_token(token_file, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    arm = FakeArm()
    with serve(arm, auth=ServerAuth.configure("127.0.0.1", token_file)) as server:
        assert status_of_handshake(server.url) == 401
        with pytest.raises(AuthenticationError, match="HTTP 401"):
            BridgeDriver(server.url).connect()
        assert not arm.connected  # nothing reached the driver
        bridge = make_driver(f"bridge:{server.url}?token_file={token_file}", FRANKA_PANDA)
        bridge.connect()
        bridge.command(np.full(7, 0.1), 0.0)
        np.testing.assert_allclose(arm.target, 0.1)
        bridge.close()


def test_openpi_clients_still_connect_to_a_loopback_server_without_a_token(env):
    with PolicyServer(make_policy("random", env, seed=0)) as server:
        client = WebsocketClientPolicy(host="127.0.0.1", port=server.port)
        assert "policy_card" in client.get_server_metadata()
        client._ws.close()


# --- TLS ----------------------------------------------------------------------------------------
def test_wss_with_a_self_signed_certificate_and_the_token(env, tls, token_file, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    cert, key = tls
    obs, _ = env.reset(seed=0)
    auth = ServerAuth.configure("127.0.0.1", token_file, cert, key)
    with PolicyServer(make_policy("random", env, seed=0), auth=auth) as server:
        assert server.url.startswith("wss://127.0.0.1:")
        policy = make_policy(f"remote:{server.url}?token_file={token_file}&ca_file={cert}", env)
        assert policy.act(obs).shape == (7,)
        policy.close()
        with pytest.raises(RemoteConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
            RemotePolicy(server.url, token_file=str(token_file), retries=0)  # not trusted
        with pytest.raises(RemoteConnectionError):  # plain ws:// to a TLS port: no websocket
            RemotePolicy(server.url.replace("wss://", "ws://"), token_file=str(token_file),
                         retries=0, timeout=2)
    arm = FakeArm()
    with serve(arm, auth=auth) as server:
        assert server.url.startswith("wss://")
        monkeypatch.setenv(TOKEN_ENV, str(token_file))
        monkeypatch.setenv("LIBROBOT_CA_FILE", str(cert))
        bridge = make_driver(f"bridge:{server.url}", FRANKA_PANDA)
        bridge.connect()
        assert bridge.read_state().joint_pos.shape == (7,) and arm.connected
        bridge.close()
