"""VLA frameworks: each (framework, head) pair learns a fixed batch, predicts finite chunks of the
right shape, keeps a frozen VLM frozen and rebuilds from its config; rt2's action tokenizer."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from librobot_gym.errors import ConfigError
from librobot_gym.policies.frameworks import discretize, undiscretize
from librobot_gym.policies.frameworks.octo import readout_attention_mask
from librobot_gym.policies.vla.interfaces import VLAFramework, VLMBackbone, VLMOutput
from librobot_gym.policies.vla.registry import create_vla, register_vlm

B, V, SIDE, P, A, C = 8, 2, 32, 5, 3, 4
HIDDEN = 32
STEPS = 60
HEADS = ("mlp", "transformer", "diffusion", "flow")
TEXT = ["pick up the cube", "open drawer", "push the block left", "stack",
        "pick up the cube", "close the gripper now", "open drawer", "push"]


@register_vlm(name="frameworks-test-vlm")
class PatchByteVLM(VLMBackbone):
    """A minimal real backbone for these tests: 8x8 conv patches per camera + byte embeddings."""

    def __init__(self, embed_dim: int = 32, max_text_tokens: int = 12, frozen: bool = True):
        super().__init__()
        self.config = {"embed_dim": embed_dim, "max_text_tokens": max_text_tokens,
                       "frozen": frozen}
        self.embed_dim = embed_dim
        self.max_text_tokens = max_text_tokens
        self.patches = nn.Conv2d(3, embed_dim, kernel_size=8, stride=8)
        self.cameras = nn.Parameter(0.02 * torch.randn(4, embed_dim))
        self.bytes = nn.Embedding(257, embed_dim, padding_idx=256)
        self.freeze(frozen)

    def get_embedding_dim(self) -> int:
        return self.embed_dim

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        batch, views = images.shape[:2]
        patches = self.patches(images.flatten(0, 1)).flatten(2).transpose(1, 2)
        patches = patches.reshape(batch, views, -1, self.embed_dim) + self.cameras[:views, None]
        return patches.flatten(1, 2)

    def _text(self, text: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        rows = [list(s.encode("utf-8"))[: self.max_text_tokens] for s in text]
        length = max(len(r) for r in rows)
        ids = torch.tensor([r + [256] * (length - len(r)) for r in rows])
        return self.bytes(ids), ids != 256

    def encode_text(self, text: list[str]) -> torch.Tensor:
        return self._text(text)[0]

    def forward(self, images: torch.Tensor, text: list[str]) -> VLMOutput:
        image_tokens = self.encode_image(images)
        text_tokens, text_mask = self._text(text)
        tokens = torch.cat([image_tokens, text_tokens], dim=1)
        mask = torch.cat([torch.ones(image_tokens.shape[:2], dtype=torch.bool), text_mask], 1)
        weights = mask.float().unsqueeze(-1)
        return VLMOutput(tokens, mask, (tokens * weights).sum(1) / weights.sum(1))


def batch() -> tuple[torch.Tensor, list[str], torch.Tensor, torch.Tensor]:
    """One fixed synthetic batch whose actions (in [-1, 1]) are a function of the proprio."""
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(B, V, 3, SIDE, SIDE, generator=generator)
    proprio = torch.randn(B, P, generator=generator)
    weights = torch.randn(P, C * A, generator=generator) / P ** 0.5
    actions = 0.9 * torch.tanh(proprio @ weights).view(B, C, A)
    return images, TEXT, proprio, actions


def build(name: str, head: str | None = None, **settings) -> VLAFramework:
    return create_vla(name, vlm={"name": "frameworks-test-vlm"}, action_dim=A, proprio_dim=P,
                      chunk_size=C, hidden_dim=HIDDEN, head=head, **settings)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These models are tiny: one thread is faster than several fighting over shared cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def train(framework: VLAFramework, lr: float = 3e-3) -> list[float]:
    """Adam steps on the fixed batch; the losses. Each step draws its noise and times (flow,
    diffusion) from its own seed, except that the last three steps reuse the first three's
    seeds: the losses compared then differ by training alone, not by the draws."""
    images, text, proprio, actions = batch()
    optimizer = torch.optim.Adam([p for p in framework.parameters() if p.requires_grad], lr=lr)
    losses = []
    for step in range(STEPS):
        torch.manual_seed(step - (STEPS - 3) if step >= STEPS - 3 else step)
        loss = framework(images, text, proprio, actions)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


CASES = ([("groot", None), ("pi0", None), ("rt2", None)]
         + [(name, head) for name in ("groot", "pi0", "octo") for head in HEADS])


@pytest.mark.parametrize(("name", "head"), CASES, ids=[f"{n}-{h}" for n, h in CASES])
def test_framework_learns_predicts_and_rebuilds(name: str, head: str | None):
    torch.manual_seed(0)
    framework = build(name, head)
    assert 0 < framework.get_num_parameters(trainable_only=True) < framework.get_num_parameters()

    losses = train(framework)
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < 0.7 * first, f"{name}+{head}: loss {first:.3f} -> {last:.3f}"

    images, text, proprio, _ = batch()
    with torch.no_grad():
        chunk = framework.predict_action(images, text, proprio)
    assert chunk.shape == (B, C, A) and torch.isfinite(chunk).all()

    config = json.loads(json.dumps(framework.config))
    rebuilt = create_vla(name, **config)
    rebuilt.load_state_dict(framework.state_dict(), strict=True)
    assert rebuilt.config == framework.config


def test_octo_defaults_to_a_diffusion_head_and_pi0_to_its_action_expert():
    assert build("octo").config["head"] == {"name": "diffusion"}
    assert build("octo", head={"name": "mlp", "num_layers": 1}).head.config["num_layers"] == 1
    pi0 = build("pi0")
    assert pi0.head is None and len(pi0.expert_layers) == 2


def test_sampling_is_reproducible_with_a_generator():
    torch.manual_seed(0)
    framework = build("groot").eval()
    images, text, proprio, _ = batch()
    with torch.no_grad():
        one = framework.predict_action(images, text, proprio, torch.Generator().manual_seed(3))
        two = framework.predict_action(images, text, proprio, torch.Generator().manual_seed(3))
    torch.testing.assert_close(one, two)


def test_octo_readouts_see_the_observations_but_never_change_them():
    blocked = readout_attention_mask(3, 2)
    assert blocked.tolist() == [[False, False, False, True, True]] * 3 + [
        [False, False, False, False, True], [False, False, False, True, False]]
    torch.manual_seed(0)
    framework = build("octo").eval()
    images, text, proprio, _ = batch()
    with torch.no_grad():
        before = framework._readout(images, text, proprio)
        framework.state_encoder.net[-1].bias.add_(1.0)  # a different proprio token ...
        after = framework._readout(images, text, proprio)
    assert not torch.allclose(before, after)  # ... reaches the readouts


def test_pi0_action_tokens_attend_to_each_other_and_to_the_prefix():
    torch.manual_seed(0)
    framework = build("pi0").eval()
    images, text, proprio, _ = batch()
    with torch.no_grad():
        states, padding = framework._prefix_states(images, text, proprio)
        x_t, t = torch.randn(B, C, A), torch.rand(B)
        velocity = framework._velocity(x_t, t, states, padding)
        nudged = x_t.clone()
        nudged[:, -1] += 1.0  # change only the last chunk step ...
        changed = framework._velocity(nudged, t, states, padding)
        other_states, _ = framework._prefix_states(images, text, proprio.flip(0))
        other = framework._velocity(x_t, t, other_states, padding)
    assert not torch.allclose(velocity[:, 0], changed[:, 0])  # ... and the first step moves
    assert not torch.allclose(velocity, other)  # the prefix (here the state) matters


def test_freeze_vlm_setting_and_unfrozen_backbone_trains():
    frozen = build("rt2", freeze_vlm=True)
    assert not any(p.requires_grad for p in frozen.vlm.parameters())
    unfrozen = build("rt2", freeze_vlm=False)
    assert unfrozen.get_num_parameters(trainable_only=True) == unfrozen.get_num_parameters()


def test_a_backbone_instance_is_accepted():
    framework = create_vla("groot", vlm=PatchByteVLM(embed_dim=16), action_dim=A, proprio_dim=P,
                           chunk_size=C, hidden_dim=HIDDEN)
    assert framework.config["vlm"] == {"name": "frameworks-test-vlm", "embed_dim": 16,
                                       "max_text_tokens": 12, "frozen": True}


def test_rt2_tokenizer_round_trip_within_half_a_bin():
    values = torch.linspace(-1, 1, 10_001)
    bins = discretize(values)
    assert bins.min() == 0 and bins.max() == 255 and bins.dtype == torch.int64
    assert (undiscretize(bins) - values).abs().max() <= 1 / 256 + 1e-6
    # Out-of-range values clip to the end bins.
    assert discretize(torch.tensor([-5.0, 5.0])).tolist() == [0, 255]


def test_rt2_rejects_a_head():
    with pytest.raises(ConfigError, match="rt2.*no action head"):
        build("rt2", head="mlp")


def test_unknown_framework_suggests_a_close_match():
    with pytest.raises(ConfigError, match="did you mean 'octo'"):
        create_vla("octopus")


@pytest.mark.parametrize("settings", [{"hidden_dim": 30}, {"action_dim": 0},
                                      {"vlm": 3}, {"head": 5}])
def test_bad_settings_raise_config_errors(settings: dict):
    base = dict(vlm={"name": "frameworks-test-vlm"}, action_dim=A, proprio_dim=P, chunk_size=C,
                hidden_dim=HIDDEN)
    with pytest.raises(ConfigError):
        create_vla("pi0", **{**base, **settings})


def test_wrong_shapes_raise_config_errors():
    framework = build("octo")
    images, text, proprio, actions = batch()
    with pytest.raises(ConfigError, match="proprio"):
        framework(images, text, proprio[:, :2], actions)
    with pytest.raises(ConfigError, match="actions"):
        framework(images, text, proprio, actions[:, :2])
