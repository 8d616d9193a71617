"""`librobot serve`: build a policy from a spec and serve it until Ctrl-C."""

from __future__ import annotations

import logging
from collections.abc import Callable

from librobot_gym.errors import ConfigError
from librobot_gym.serving.server import MAX_BATCH, MAX_FRAME_BYTES, PolicyServer
from librobot_gym.wire.auth import ServerAuth

logger = logging.getLogger(__name__)


def serve_main(policy_spec: str, port: int, host: str = "127.0.0.1", env_id: str | None = None,
               env_kwargs: dict | None = None,
               on_ready: Callable[[str], None] | None = None,
               auth: ServerAuth | None = None, max_batch: int = MAX_BATCH,
               max_frame_bytes: int = MAX_FRAME_BYTES, batch_wait_s: float = 0.0) -> int:
    """Serve `policy_spec` (any `make_policy` spec) on ws://host:port until Ctrl-C; returns 0.
    `auth` (token, TLS), `max_batch`, `max_frame_bytes` and `batch_wait_s` (dynamic batching)
    go to the `PolicyServer`; the bind
    policy is checked before the policy is built.

    The env (`gym.make(env_id, **env_kwargs)`) is what the policy is built for: "expert" and
    "random" need it, and a "vla:DIR" checkpoint's card is checked against it (without an env
    the checkpoint is served unchecked); `env_kwargs` are the settings a card may need
    (`camera_size`, `obs_mode`, `control_mode`: `librobot serve --camera-size ...`), and a
    mismatch names the one to pass. `on_ready(url)` runs once the port is bound, so a CLI
    can say where it listens even for port 0.
    """
    import gymnasium as gym

    from librobot_gym.policies import make_policy
    from librobot_gym.policies.registry import required_obs_mode

    auth = auth or ServerAuth()
    auth.check_bind(host)  # refuse at once, before a model loads
    algorithm, _, path = policy_spec.partition(":")
    env = None
    if env_id is not None:
        from librobot_gym.envs.registration import check_env_id

        check_env_id(env_id)
        kwargs = dict(env_kwargs or {})
        obs_mode = required_obs_mode(policy_spec)
        if obs_mode is not None:
            kwargs.setdefault("obs_mode", obs_mode)
        env = gym.make(env_id, **kwargs)
    try:
        if env is not None:
            policy = make_policy(policy_spec, env)
        elif algorithm == "vla" and path:
            from librobot_gym.policies.vla.policy import VLAPolicy

            policy = VLAPolicy.from_pretrained(path)
        else:
            raise ConfigError(f"policy {policy_spec!r} is built for an env: pass env_id "
                              f"(only vla:DIR checkpoints can be served without one)")
        server = PolicyServer(policy, host, port,
                              metadata={"policy_spec": policy_spec, "env_id": env_id},
                              auth=auth, max_batch=max_batch, max_frame_bytes=max_frame_bytes,
                              batch_wait_s=batch_wait_s)
        try:
            server.serve_forever(on_ready)
        except KeyboardInterrupt:
            logger.info("stopped serving %s", policy_spec)
    finally:
        if env is not None:
            env.close()
    return 0
