"""Shared fixtures: headless rendering and the list of every registered env id."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import pytest  # noqa: E402

import librobot_gym  # noqa: E402, F401


def registered_env_ids() -> list[str]:
    """Every env id librobot-gym registers: new envs join the conformance suite by themselves."""
    from librobot_gym.envs.registration import env_ids

    return env_ids()


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch on one thread for a module: model tests on this loaded 2-core machine run several
    times faster than with torch's default threads fighting the other pytest worker."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# fourier-grx-client connects to port 7447, fixed: every test that opens it (the GR1's -Real-
# ids in the shared env suites too) runs on one xdist worker (`make test` uses loadgroup).
ZENOH_7447 = "zenoh-7447"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "GR1-Real-" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group(ZENOH_7447))
