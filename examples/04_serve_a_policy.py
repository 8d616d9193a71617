"""Serve a policy over a websocket and act through it: ours, openpi's client, a health check.

Shows `PolicyServer` (what `librobot serve` runs) on 127.0.0.1 with an ephemeral port, in a
background thread of this process; `RemotePolicy` (the `remote:ws://HOST:PORT` policy spec),
which reads the served policy's card, is checked against the env and executes the action chunks
it gets back; openpi's own `WebsocketClientPolicy` against the same server (openpi's wire
format, when `openpi-client` is installed); and `GET /healthz`. The server shuts down at the
end of the `with` block.

By default it serves an untrained VLA built from configs/vla/tiny-octo-franka.yaml (it acts, not
well); `--checkpoint DIR` serves a trained one, e.g. the one examples/03_train_a_vla.py writes.

Run:
    python examples/04_serve_a_policy.py
    python examples/04_serve_a_policy.py --checkpoint outputs/examples/vla/train/last --steps 50
"""

from __future__ import annotations

import argparse
import http.client
from pathlib import Path

import gymnasium as gym
import numpy as np

import librobot_gym  # noqa: F401 - registers every librobot/* env id
from librobot_gym.policies.vla.policy import VLAPolicy
from librobot_gym.serving import PolicyServer, RemotePolicy

ENV_ID = "librobot/Franka-PickCup-v0"
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "vla" / "tiny-octo-franka.yaml"


def ask_openpi(host: str, port: int, obs: dict) -> None:
    """openpi's client, unchanged, against our server (skipped when it is not installed)."""
    try:
        from openpi_client.websocket_client_policy import WebsocketClientPolicy
    except ImportError:
        print("openpi-client is not installed: pip install openpi-client (skipped)")
        return
    client = WebsocketClientPolicy(host=host, port=port)
    reply = client.infer(obs)
    print(f"openpi client: actions {reply['actions'].shape} (one whole chunk), "
          f"server infer {reply['server_timing']['infer_ms']:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="a VLA checkpoint folder (default: untrained VLA "
                                             "from configs/vla/tiny-octo-franka.yaml)")
    parser.add_argument("--steps", type=int, default=20, help="env steps through the server")
    args = parser.parse_args()

    # The policy to serve. Anything with a card and act() works (PolicyServer(make_policy(
    # "random", env)) too); a VLA answers with its whole action chunk per request.
    if args.checkpoint:
        policy = VLAPolicy.from_pretrained(args.checkpoint)
    else:
        policy = VLAPolicy.from_config(CONFIG)
    size = policy.card.image_size  # the env must render what the policy was trained on
    env = gym.make(ENV_ID, camera_size=size)

    # 127.0.0.1 needs no token; port 0 picks a free port (read back as server.port).
    with PolicyServer(policy, host="127.0.0.1", port=0) as server:
        print(f"serving {policy.card.name} on {server.url}")

        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        connection.request("GET", "/healthz")
        print("GET /healthz:", connection.getresponse().status)
        connection.close()

        # Our client: a Policy like any other (spec: remote:ws://127.0.0.1:PORT).
        with RemotePolicy(server.url) as remote:
            print("served card:", remote.card)
            remote.card.check(env)  # the PolicyMismatchError a rollout would raise, if any
            obs, info = env.reset(seed=0)
            remote.reset(seed=0)
            steps, total, done = 0, 0.0, False
            while steps < args.steps and not done:
                action = remote.act(obs)  # one action of the current chunk, or a new chunk
                obs, reward, terminated, truncated, info = env.step(action)
                steps, total, done = steps + 1, total + reward, terminated or truncated
            print(f"RemotePolicy: {steps} steps of '{obs['instruction']}', return "
                  f"{total:.2f}, last action {np.round(action, 2)}")

        ask_openpi("127.0.0.1", server.port, obs)
    print("server stopped")
    env.close()


if __name__ == "__main__":
    main()
