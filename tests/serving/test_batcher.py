"""Dynamic batching: requests of several clients gathered within the wait are predicted in one
forward pass, and every client gets its own rows back."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from librobot_gym.errors import ConfigError
from librobot_gym.policies import PolicyCard
from librobot_gym.serving import PolicyServer, RemotePolicy


class Doubler:
    """Deterministic and batchable: the action is twice the state's first 7 entries, so a row
    that came back to the wrong client shows."""

    card = PolicyCard("doubler")

    def __init__(self):
        self.calls: list[int] = []

    def reset(self, seed=None):
        pass

    def act(self, obs):
        state = np.asarray(obs["state"], dtype=np.float32)
        self.calls.append(1 if state.ndim == 1 else state.shape[0])
        return 2 * state[..., :7]


def observation(value: float, rows: int | None = None, length: int = 22) -> dict:
    state = np.full(length, value, np.float32)
    return {"state": state if rows is None else np.stack([state + i for i in range(rows)])}


def test_clients_share_forward_passes_and_get_their_own_rows():
    policy = Doubler()
    with PolicyServer(policy, batch_wait_s=0.05, max_batch=16) as server:
        results, errors = {}, []

        def client(index: int) -> None:
            try:
                with RemotePolicy(server.url, timeout=30) as remote:
                    for step in range(5):
                        value = 100 * index + step
                        obs = observation(value, rows=2 if index == 0 else None)
                        results[(index, step)] = (value, remote.infer(obs)["actions"])
            except Exception as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        for (index, _), (value, actions) in results.items():
            if index == 0:  # a batch of two rows: [2, 1, 7]
                np.testing.assert_allclose(actions[:, 0], [[2 * value] * 7, [2 * value + 2] * 7])
            else:
                np.testing.assert_allclose(actions, [[2 * value] * 7])
        assert len(results) == 20
        assert max(policy.calls) > 2, policy.calls  # requests did share a forward pass
        assert sum(policy.calls) == 5 * 2 + 15
        assert max(server.batcher.batches) <= 16


def test_other_shapes_wait_for_their_own_batch():
    policy = Doubler()
    with PolicyServer(policy, batch_wait_s=0.05) as server:
        replies = {}

        def client(length: int) -> None:
            with RemotePolicy(server.url, timeout=30) as remote:
                replies[length] = remote.infer(observation(1.0, length=length))["actions"]

        threads = [threading.Thread(target=client, args=(n,)) for n in (22, 10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert set(replies) == {22, 10}
        assert all(np.allclose(a, 2.0) for a in replies.values())
        assert policy.calls == [1, 1]


def test_a_bad_wait_is_refused():
    with pytest.raises(ConfigError, match="batch wait"):
        PolicyServer(Doubler(), batch_wait_s=5)
