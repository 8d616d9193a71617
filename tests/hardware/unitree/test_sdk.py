"""Unitree's SDK as `sdk.py` loads it: the wheel's missing pieces worked around, the CRC the
driver and the emulator stamp equal to the SDK's own (its `_crc_py`, the C library's
algorithm) on LowCmd and LowState."""

from __future__ import annotations

import numpy as np

from librobot_gym.hardware.unitree import sdk as unitree_sdk


def test_the_sdks_channels_and_messages_load():
    parts = unitree_sdk.sdk()
    cmd, state = parts.default_lowcmd(), parts.default_lowstate()
    assert len(cmd.motor_cmd) == 20 and len(state.motor_state) == 20
    assert callable(parts.factory.ChannelFactoryInitialize)


def test_table_crc_equals_the_sdks_bit_loop():
    parts = unitree_sdk.sdk()
    engine = unitree_sdk._crc_engine()
    rng = np.random.default_rng(0)
    for _ in range(5):
        cmd = parts.default_lowcmd()
        cmd.level_flag = 0xFF
        for motor in cmd.motor_cmd:
            motor.mode, motor.q, motor.kp, motor.kd = 10, *rng.normal(size=3).tolist()
        words = engine._CRC__PackLowCmd(cmd)
        assert unitree_sdk.crc(cmd) == parts.CRC._crc_py(engine, words)
        state = parts.default_lowstate()
        state.tick = int(rng.integers(1 << 31))
        state.imu_state.quaternion = rng.normal(size=4).tolist()
        for motor in state.motor_state:
            motor.q, motor.temperature = float(rng.normal()), int(rng.integers(20, 90))
        words = engine._CRC__PackLowState(state)
        assert unitree_sdk.crc(state) == parts.CRC._crc_py(engine, words)


def test_a_changed_field_changes_the_crc():
    cmd = unitree_sdk.sdk().default_lowcmd()
    before = unitree_sdk.crc(cmd)
    cmd.motor_cmd[3].q = 0.5
    assert unitree_sdk.crc(cmd) != before


def test_domain_id_comes_from_the_environment(monkeypatch):
    import pytest

    from librobot_gym.errors import ConfigError

    monkeypatch.setenv("LIBROBOT_DDS_DOMAIN", "42")
    assert unitree_sdk.default_domain() == 42
    monkeypatch.setenv("LIBROBOT_DDS_DOMAIN", "999")
    with pytest.raises(ConfigError, match="0..232"):
        unitree_sdk.default_domain()
