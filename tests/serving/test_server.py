"""The policy server end to end on loopback: openpi's own client talks to it, RemotePolicy acts
through it in a real env, and bad frames, server errors, restarts and load are survived."""

import http.client
import threading
import time
from unittest import mock

import gymnasium as gym
import msgpack
import numpy as np
import pytest
import websockets.sync.client
from openpi_client import msgpack_numpy as openpi_msgpack
from openpi_client.websocket_client_policy import WebsocketClientPolicy
from websockets.exceptions import ConnectionClosed

from librobot_gym.errors import LibrobotError, PolicyMismatchError
from librobot_gym.policies import PolicyCard, make_policy
from librobot_gym.policies.vla.config import VLAConfig
from librobot_gym.policies.vla.policy import VLAPolicy
from librobot_gym.serving import (
    PolicyServer,
    RemoteConnectionError,
    RemotePolicy,
    RemotePolicyError,
    RemoteServerError,
    RemoteTimeoutError,
    remote_policy,
)
from librobot_gym.wire import msgpack_numpy

# openpi's client opens its connection the pre-websockets-17 way; that is its business.
pytestmark = pytest.mark.filterwarnings("ignore:connect\\(\\) must be used:DeprecationWarning")

ENV_ID = "librobot/Franka-PickCup-v0"
SIZE = 32
CHUNK = 4


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def rgb_env():
    env = gym.make(ENV_ID, camera_size=SIZE)
    yield env
    env.close()


@pytest.fixture(scope="module")
def state_env():
    env = gym.make(ENV_ID, obs_mode="state")
    yield env
    env.close()


def tiny_vla() -> VLAPolicy:
    return VLAPolicy(VLAConfig.from_dict({
        "framework": "octo", "vlm": {"name": "tiny", "text_encoder": "learned", "embed_dim": 32},
        "action_dim": 7, "proprio_dim": 22, "chunk_size": CHUNK, "hidden_dim": 32,
        "policy": {"control_mode": "ee_delta_pose", "cameras": ["front", "wrist"],
                   "image_size": [SIZE, SIZE], "control_hz": 20}}))


@pytest.fixture(scope="module")
def random_server(rgb_env):
    with PolicyServer(make_policy("random", rgb_env, seed=0)) as server:
        yield server


@pytest.fixture(scope="module")
def vla_server():
    with PolicyServer(tiny_vla(), metadata={"note": "tiny"}) as server:
        yield server


class Slow:
    """A policy that thinks for `seconds` (timeouts) or fails on demand (server errors)."""

    card = PolicyCard("slow")

    def __init__(self, seconds: float):
        self.seconds = seconds

    def reset(self, seed=None):
        pass

    def act(self, obs):
        time.sleep(self.seconds)
        return np.zeros(7, np.float32)


def test_frames_are_byte_identical_to_openpi():
    obs = {"images": {"front": np.arange(12, dtype=np.uint8).reshape(2, 2, 3)},
           "state": np.linspace(0, 1, 5, dtype=np.float32), "step": np.int64(3),
           "instruction": "pick up the cup"}
    ours, theirs = msgpack_numpy.packb(obs), openpi_msgpack.packb(obs)
    assert ours == theirs
    back = msgpack_numpy.unpackb(theirs)
    np.testing.assert_array_equal(back["images"]["front"], obs["images"]["front"])
    assert back["step"] == 3 and back["step"].dtype == np.int64
    with pytest.raises(ValueError, match="Unsupported dtype"):
        msgpack_numpy.packb({"x": np.array([object()])})


@pytest.mark.parametrize("which, horizon", [("random", 1), ("vla", CHUNK)])
def test_openpi_client_gets_metadata_and_action_chunks(which, horizon, random_server,
                                                       vla_server, rgb_env):
    server = {"random": random_server, "vla": vla_server}[which]
    client = WebsocketClientPolicy(host="127.0.0.1", port=server.port)
    metadata = client.get_server_metadata()
    assert metadata["protocol"] == "librobot-serving/1"
    assert metadata["policy_card"]["chunk_size"] == horizon
    obs, _ = rgb_env.reset(seed=0)
    first, second = client.infer(obs), client.infer(obs)
    assert first["actions"].shape == (horizon, 7) and first["actions"].dtype == np.float32
    assert first["server_timing"]["infer_ms"] > 0 and "prev_total_ms" not in first["server_timing"]
    # the previous request's total time includes that request's inference
    assert second["server_timing"]["prev_total_ms"] >= first["server_timing"]["infer_ms"]
    client._ws.close()


def test_remote_vla_executes_chunks_in_the_env(vla_server, rgb_env):
    with RemotePolicy(vla_server.url, timeout=10) as policy, \
            mock.patch.object(vla_server, "infer", wraps=vla_server.infer) as infer:
        assert policy.card == vla_server.policy.card and policy.metadata["note"] == "tiny"
        policy.card.check(rgb_env)  # the card came over the wire
        obs, _ = rgb_env.reset(seed=1)
        policy.reset(seed=1)
        for _ in range(CHUNK + 2):
            action = policy.act(obs)
            assert action.shape == (7,) and np.all(np.abs(action) <= 1.0)
            obs, *_ = rgb_env.step(action)
        assert infer.call_count == 2  # one round trip per chunk of 4


def test_remote_random_acts_in_a_state_env(state_env):
    with PolicyServer(make_policy("random", state_env, seed=0)) as server, \
            RemotePolicy(server.url) as policy:
        obs, _ = state_env.reset(seed=0)  # a flat vector: travels wrapped in a map
        for _ in range(3):
            obs, *_ = state_env.step(policy.act(obs))


def test_the_advertised_card_is_checked_against_the_env(vla_server, rgb_env, state_env):
    remote_policy(vla_server.url, rgb_env).close()
    with pytest.raises(PolicyMismatchError, match="obs_mode"):
        remote_policy(vla_server.url, state_env)


def test_health_check_answers_200(random_server):
    connection = http.client.HTTPConnection("127.0.0.1", random_server.port, timeout=5)
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    assert response.status == 200 and response.read() == b"OK\n"
    connection.close()


def test_malformed_frames_get_an_error_and_the_connection_keeps_serving(random_server,
                                                                         rgb_env):
    obs, _ = rgb_env.reset(seed=0)
    with websockets.sync.client.connect(random_server.url, compression=None,
                                        max_size=None) as ws:
        msgpack_numpy.unpackb(ws.recv(timeout=5))  # the metadata frame
        garbage = np.random.default_rng(0).bytes(64)
        for frame, reason in [(garbage, "not a msgpack"), (b"\xc1", "not a msgpack"),
                              (msgpack.packb("a string"), "got str"),
                              ("text, not binary", "text frame")]:
            ws.send(frame)
            reply = ws.recv(timeout=5)
            assert isinstance(reply, str) and reason in reply
        ws.send(msgpack_numpy.packb(obs))
        assert msgpack_numpy.unpackb(ws.recv(timeout=5))["actions"].shape == (1, 7)


class Fussy(Slow):
    """A policy that fails on observations whose state is negative (a server-side bug)."""

    card = PolicyCard("fussy")

    def act(self, obs):
        if obs["state"][0] < 0:
            raise KeyError("images")
        return np.zeros(7, np.float32)


def test_server_exceptions_reach_the_client_with_the_traceback():
    with PolicyServer(Fussy(0.0)) as server, RemotePolicy(server.url) as policy:
        with pytest.raises(RemoteServerError) as excinfo:
            policy.act({"state": -np.ones(3)})
        assert isinstance(excinfo.value, LibrobotError)
        assert "Traceback" in str(excinfo.value) and "KeyError: 'images'" in str(excinfo.value)
        assert policy.act({"state": np.ones(3)}).shape == (7,)  # the connection still serves
        client = WebsocketClientPolicy(host="127.0.0.1", port=server.port)
        with pytest.raises(RuntimeError, match="Error in inference server"):
            client.infer({"state": -np.ones(3)})
        client._ws.close()


def test_an_observation_that_does_not_fit_the_card_is_refused_before_any_work(vla_server,
                                                                               rgb_env):
    obs, _ = rgb_env.reset(seed=0)
    front, state = obs["images"]["front"], obs["state"]
    misfits = [
        ({"state": state, "instruction": obs["instruction"]}, "'images' must be a map"),
        ({**obs, "images": {"front": front}}, "camera 'wrist' is missing"),
        ({**obs, "images": {**obs["images"], "front": front[:16]}},
         f"must have shape [{SIZE}x{SIZE}x3]"),
        ({**obs, "images": {**obs["images"], "front": front.astype(np.float32)}}, "uint8"),
        ({**obs, "state": state[:5]}, "state must have shape [22]"),
        ({**obs, "instruction": 7}, "'instruction' must be a string"),
        ({**obs, "extra": np.zeros((0, 3))}, "is empty"),
    ]
    with RemotePolicy(vla_server.url) as policy, \
            mock.patch.object(vla_server.policy, "predict_chunk") as predict:
        for misfit, says in misfits:
            with pytest.raises(RemoteServerError, match="ObservationError") as excinfo:
                policy.infer(misfit)
            assert says in str(excinfo.value), (says, str(excinfo.value))
        predict.assert_not_called()
    with RemotePolicy(vla_server.url) as policy:
        assert policy.infer(obs)["actions"].shape == (CHUNK, 7)  # and the fitting one is served


def test_a_huge_batch_is_refused_at_once_and_other_clients_are_not_held_up(random_server,
                                                                           rgb_env):
    """The 55-byte request that made the server build 10 million actions (280 MB, 10 s)."""
    obs, _ = rgb_env.reset(seed=0)
    request = msgpack_numpy.packb({"state": np.zeros((10_000_000, 0), np.float32)})
    assert len(request) == 55
    with websockets.sync.client.connect(random_server.url, compression=None,
                                        max_size=None) as ws, \
            mock.patch.object(random_server.policy, "act", wraps=random_server.policy.act) as act:
        msgpack_numpy.unpackb(ws.recv(timeout=5))  # the metadata frame
        started = time.monotonic()
        ws.send(request)
        reply = ws.recv(timeout=5)
        took = time.monotonic() - started
        assert isinstance(reply, str) and "a batch of 10000000 observations; at most 64" in reply
        act.assert_not_called()
        batch = {"images": {name: np.stack([image] * 64) for name, image in obs["images"].items()},
                 "state": np.stack([obs["state"]] * 64), "instruction": [obs["instruction"]] * 64}
        ws.send(msgpack_numpy.packb(batch))  # the most it takes
        assert msgpack_numpy.unpackb(ws.recv(timeout=10))["actions"].shape == (64, 1, 7)
        ws.send(msgpack_numpy.packb({**batch, "state": np.stack([obs["state"]] * 65)}))
        assert "batch" in ws.recv(timeout=5)
        ws.send(msgpack_numpy.packb({"state": [[]] * 1_000_000}))  # a batch as nested lists
        assert "a list of 1000000 entries; at most 64" in ws.recv(timeout=5)
    print(f"\n55-byte request for a batch of 10 million: refused in {took * 1e3:.1f} ms")
    assert took < 1.0


def test_a_frame_over_the_limit_closes_the_connection_and_says_why(rgb_env):
    obs, _ = rgb_env.reset(seed=0)
    with PolicyServer(make_policy("random", rgb_env, seed=0),
                      max_frame_bytes=2**20) as server:
        assert server.metadata["limits"] == {"max_batch": 64, "max_frame_bytes": 2**20}
        with RemotePolicy(server.url, retries=0) as policy:
            with pytest.raises(RemotePolicyError, match="larger than it accepts.*1048576"):
                policy.infer({**obs, "padding": np.zeros(2**20, np.uint8)})
            assert policy.infer(obs)["actions"].shape == (1, 7)  # a new connection serves
        with websockets.sync.client.connect(server.url, max_size=None) as ws:
            ws.recv(timeout=5)
            ws.send(b"\x00" * (2**20 + 1))
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=5)
            assert closed.value.rcvd.code == 1009  # message too big, before any decoding


def test_a_restarted_server_is_reconnected_to(state_env):
    policy = make_policy("random", state_env, seed=0)
    first = PolicyServer(policy).start()
    remote = RemotePolicy(first.url, retries=5, backoff=0.05)
    obs, _ = state_env.reset(seed=0)
    remote.act(obs)
    first.stop()
    with PolicyServer(policy, port=first.port):  # same port, new server
        assert remote.act(obs).shape == (7,)
    remote.retries = 1
    with pytest.raises(RemoteConnectionError, match="cannot reach"):
        remote.act(obs)
    remote.close()


def test_a_slow_reply_raises_a_timeout_and_the_next_call_recovers():
    with PolicyServer(Slow(0.5)) as server, RemotePolicy(server.url, timeout=0.1) as remote:
        with pytest.raises(RemoteTimeoutError, match="no reply"):
            remote.act({"state": np.zeros(3)})
        remote.timeout = 5
        assert remote.act({"state": np.zeros(3)}).shape == (7,)


def test_four_concurrent_clients_for_two_seconds(random_server, rgb_env):
    obs, _ = rgb_env.reset(seed=0)
    counts, errors = [0] * 4, []

    def client(index: int) -> None:
        try:
            with RemotePolicy(random_server.url, timeout=5) as remote:
                deadline = time.monotonic() + 2.0
                while time.monotonic() < deadline:
                    assert remote.infer(obs)["actions"].shape == (1, 7)
                    counts[index] += 1
        except Exception as exc:  # collected: a thread's exception would not fail the test
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors and all(counts)
    print(f"\nload: 4 clients x 2 s, {sum(counts)} requests, {sum(counts) / 2.0:.0f} requests/s, "
          f"0 errors (per client {counts})")


def test_serve_main_builds_the_policy_and_stops_on_ctrl_c(tmp_path, monkeypatch):
    from librobot_gym.errors import ConfigError
    from librobot_gym.serving.cli import serve_main

    served = []

    def interrupted(server, on_ready=None):
        served.append(server)
        raise KeyboardInterrupt

    monkeypatch.setattr(PolicyServer, "serve_forever", interrupted)
    assert serve_main("random", 0, env_id=ENV_ID) == 0
    tiny_vla().save_pretrained(tmp_path / "ckpt")
    assert serve_main(f"vla:{tmp_path / 'ckpt'}", 0, env_id=ENV_ID,
                      env_kwargs={"camera_size": SIZE}) == 0
    assert serve_main(f"vla:{tmp_path / 'ckpt'}", 0) == 0  # no env: served unchecked
    assert [s.policy.card.name for s in served] == ["random"] + 2 * [tiny_vla().card.name]
    assert served[1].metadata["policy_spec"].startswith("vla:") and served[0].host == "127.0.0.1"
    assert served[0].max_batch == 64 and served[0].max_frame_bytes == 64 * 2**20
    with pytest.raises(PolicyMismatchError, match="image_size"):  # 128 px env, 32 px policy
        serve_main(f"vla:{tmp_path / 'ckpt'}", 0, env_id=ENV_ID)
    with pytest.raises(ConfigError, match="env_id"):
        serve_main("random", 0)


def test_make_policy_builds_a_remote_policy_from_its_spec(random_server, rgb_env):
    policy = make_policy(f"remote:{random_server.url}", rgb_env)
    obs, _ = rgb_env.reset(seed=0)
    assert rgb_env.action_space.contains(policy.act(obs))
    policy.close()
