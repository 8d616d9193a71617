"""Normalisation, chunk execution and the policy card: one place each, tested here."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from librobot_gym.errors import ConfigError
from librobot_gym.policies.vla.chunking import ActionChunker
from librobot_gym.policies.vla.normalization import Normalizer

data = hnp.arrays(np.float64, st.tuples(st.integers(5, 40), st.integers(1, 4)),
                  elements=st.floats(-100, 100))


@settings(max_examples=50, deadline=None)
@given(data, st.sampled_from(["mean_std", "quantile", "identity"]))
def test_normalisation_round_trips_numpy_and_torch(values, mode):
    norm = Normalizer.from_data(values, mode) if mode != "identity" else \
        Normalizer.identity(values.shape[1])
    back = norm.unnormalize(norm.normalize(values))
    np.testing.assert_allclose(back, values, atol=1e-3)
    tensor = torch.tensor(values, dtype=torch.float32)
    assert torch.allclose(norm.unnormalize(norm.normalize(tensor)), tensor, atol=1e-2)
    again = Normalizer.from_dict(norm.to_dict())
    np.testing.assert_allclose(again.normalize(values), norm.normalize(values), atol=1e-6)


def test_quantile_mode_maps_q01_q99_to_unit_range():
    values = np.linspace(0, 10, 1001)[:, None]
    norm = Normalizer.from_data(values, "quantile")
    np.testing.assert_allclose(norm.normalize(np.array([[0.1], [9.9]])), [[-1.0], [1.0]],
                               atol=1e-6)


def test_receding_horizon_executes_then_replans():
    chunker = ActionChunker(4, "receding", execute_steps=2)
    predictions, actions = 0, []
    for step in range(6):
        if chunker.needs_prediction():
            predictions += 1
            chunker.add(np.arange(4, dtype=float)[None, :, None] + 10 * step)
        actions.append(float(chunker.next_action()[0, 0]))
    assert predictions == 3 and actions == [0, 1, 20, 21, 40, 41]


def test_temporal_ensembling_averages_overlapping_chunks():
    chunker = ActionChunker(3, "ensemble", decay=0.0)
    chunker.add(np.array([[[1.0], [2.0], [3.0]]]))
    assert chunker.next_action()[0, 0] == 1.0
    chunker.add(np.array([[[10.0], [20.0], [30.0]]]))
    assert chunker.next_action()[0, 0] == pytest.approx((2.0 + 10.0) / 2)
    chunker.add(np.array([[[100.0], [0.0], [0.0]]]))
    assert chunker.next_action()[0, 0] == pytest.approx((3.0 + 20.0 + 100.0) / 3)
    chunker.add(np.array([[[7.0], [0.0], [0.0]]]))  # the first chunk no longer covers this step
    assert chunker.next_action()[0, 0] == pytest.approx((30.0 + 0.0 + 7.0) / 3)


def test_bad_chunking_settings_are_config_errors():
    with pytest.raises(ConfigError, match="chunking mode"):
        ActionChunker(4, "sometimes")
    with pytest.raises(ConfigError, match="chunk_size"):
        ActionChunker(0)
