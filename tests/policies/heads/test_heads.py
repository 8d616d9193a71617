"""Action heads: each learns a toy feature -> chunk map, samples reproducibly, rebuilds from its
config, respects the token mask; the DDIM and flow samplers are exact given a perfect network."""

import json

import pytest
import torch
from torch import nn

from librobot_gym.errors import ConfigError
from librobot_gym.policies.vla.interfaces import ActionHead
from librobot_gym.policies.vla.registry import HEADS, create_action_head, list_action_heads

B, T, D, C, A = 64, 3, 16, 4, 3
# case -> (registered head, settings, Adam steps, learning rate): a clear fit in about a second.
CASES = {
    "mlp": ("mlp", {}, 60, 3e-3),
    "transformer": ("transformer", {}, 120, 1e-3),
    "diffusion": ("diffusion", {}, 250, 3e-3),
    "diffusion-sample": ("diffusion", {"prediction_type": "sample"}, 150, 3e-3),
    "flow": ("flow", {}, 150, 3e-3),
}
DETERMINISTIC = ("mlp", "transformer")
SAMPLING = ("diffusion", "diffusion-sample", "flow")


def toy_data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Features [B, T, D] and actions [B, C, A] = tanh(2 * mean_T(features) @ W): unit-ish scale."""
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(B, T, D, generator=generator)
    weights = torch.randn(D, C * A, generator=generator) / D**0.5
    actions = torch.tanh(2 * features.mean(dim=1) @ weights).view(B, C, A)
    return features, actions


def build(case: str, **overrides) -> ActionHead:
    name, settings, _, _ = CASES[case]
    return create_action_head(name, input_dim=D, action_dim=A, chunk_size=C, hidden_dim=64,
                              **{**settings, **overrides})


@pytest.fixture(scope="module")
def trained() -> dict[str, tuple[ActionHead, list[float]]]:
    """Every case trained once on the toy data (full batch, Adam), with its loss history."""
    features, actions = toy_data()
    results = {}
    for case, (_, _, steps, lr) in CASES.items():
        torch.manual_seed(0)
        head = build(case)
        optimizer = torch.optim.Adam(head.parameters(), lr=lr)
        losses = []
        for _ in range(steps):
            loss = head(features, actions)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        results[case] = (head.eval(), losses)
    return results


def mse(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).pow(2).mean().item()


def test_every_builtin_head_is_covered_here():
    builtin = {name for name in list_action_heads()
               if HEADS.get(name).__module__.startswith("librobot_gym.policies.heads")}
    assert builtin == {name for name, *_ in CASES.values()}


@pytest.mark.parametrize("case", CASES)
def test_loss_is_a_scalar_and_falls_with_training(case, trained):
    head, losses = trained[case]
    features, actions = toy_data()
    loss = head.train()(features, actions)
    head.eval()
    assert loss.dim() == 0 and torch.isfinite(loss)
    initial, final = sum(losses[:3]) / 3, sum(losses[-5:]) / 5
    assert final < 0.5 * initial, (initial, final)


@pytest.mark.parametrize("case", CASES)
def test_predict_gives_finite_chunks_under_no_grad_even_for_one_token(case, trained):
    head = trained[case][0]
    assert head.get_action_dim() == A
    features, _ = toy_data()
    with torch.no_grad():
        for tokens in (features, features[:, :1]):
            chunk = head.predict(tokens[:5])
            assert chunk.shape == (5, C, A) and torch.isfinite(chunk).all()
            assert not chunk.requires_grad


@pytest.mark.parametrize("case", DETERMINISTIC)
def test_regression_heads_fit_the_training_data(case, trained):
    features, actions = toy_data()
    with torch.no_grad():
        assert mse(trained[case][0].predict(features), actions) < 0.05


@pytest.mark.parametrize("case", SAMPLING)
def test_sampling_heads_draw_chunks_much_closer_than_noise(case, trained):
    head = trained[case][0]
    features, actions = toy_data()
    noise_error = mse(torch.randn(actions.shape, generator=torch.Generator().manual_seed(1)),
                      actions)
    samplers = [{"sampler": "euler"}, {"sampler": "midpoint"}] if case == "flow" else [{}]
    for sampler in samplers:
        with torch.no_grad():
            sample = head.predict(features, generator=torch.Generator().manual_seed(1), **sampler)
        assert mse(sample, actions) < 0.2 * noise_error, sampler


@pytest.mark.parametrize("case", SAMPLING)
def test_seeded_generators_reproduce_samples(case, trained):
    head = trained[case][0]
    features = toy_data()[0][:8]
    with torch.no_grad():
        first = head.predict(features, generator=torch.Generator().manual_seed(7))
        again = head.predict(features, generator=torch.Generator().manual_seed(7))
        other = head.predict(features, generator=torch.Generator().manual_seed(8))
        torch.manual_seed(3)
        global_rng = head.predict(features)
        torch.manual_seed(3)
        assert torch.equal(head.predict(features), global_rng)
    assert torch.equal(first, again) and not torch.equal(first, other)


@pytest.mark.parametrize("case", CASES)
def test_config_is_json_and_rebuilds_the_same_head(case, trained):
    head = trained[case][0]
    config = json.loads(json.dumps(head.config))
    assert {"input_dim", "action_dim", "chunk_size", "hidden_dim"} <= set(config)
    rebuilt = create_action_head(head.registry_name, **config)
    rebuilt.load_state_dict(head.state_dict())
    features = toy_data()[0][:4]
    with torch.no_grad():
        expected = head.predict(features, generator=torch.Generator().manual_seed(0))
        got = rebuilt.eval().predict(features, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("case", CASES)
def test_masked_padding_tokens_are_ignored(case, trained):
    head = trained[case][0]
    features = toy_data()[0][:4]
    padded = torch.cat([features, 100 * torch.randn(4, 2, D)], dim=1)
    mask = torch.ones(4, T + 2, dtype=torch.bool)
    mask[:, T:] = False
    with torch.no_grad():
        plain = head.predict(features, generator=torch.Generator().manual_seed(0))
        masked = head.predict(padded, mask=mask, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(masked, plain, atol=1e-4, rtol=1e-4)


def test_names_and_aliases_build_the_same_classes():
    pairs = [("mlp", "regression"), ("transformer", "act"), ("diffusion", "ddpm"),
             ("flow", "flow_matching")]
    for name, alias in pairs:
        head = create_action_head(alias, input_dim=D, action_dim=A, chunk_size=C, hidden_dim=32)
        assert type(head) is HEADS.get(name) and head.registry_name == name
        assert isinstance(head, ActionHead) and head.config["chunk_size"] == C


def test_unknown_head_suggests_a_close_match():
    with pytest.raises(ConfigError, match="did you mean 'diffusion'"):
        create_action_head("difusion", input_dim=D, action_dim=A)


@pytest.mark.parametrize("bad", [
    ("flow", {"sampler": "rk4"}),
    ("diffusion", {"num_inference_steps": 200}),
    ("diffusion", {"prediction_type": "velocity"}),
    ("mlp", {"loss": "huber"}),
    ("transformer", {"num_heads": 3}),
    ("mlp", {"chunk_size": 0}),
])
def test_bad_settings_raise_config_error(bad):
    name, settings = bad
    with pytest.raises(ConfigError):
        create_action_head(name, **{"input_dim": D, "action_dim": A, "hidden_dim": 64, **settings})


def test_wrong_shapes_raise_config_error():
    head = build("mlp")
    features, actions = toy_data()
    with pytest.raises(ConfigError, match="actions"):
        head(features, actions[:, :2])
    with pytest.raises(ConfigError, match="features"):
        head.predict(features[..., :8])


class Oracle(nn.Module):
    """A perfect network for one known chunk: the noise, clean chunk or velocity leading to it."""

    def __init__(self, target: torch.Tensor, kind: str, alphas_cumprod: torch.Tensor | None = None):
        super().__init__()
        self.target, self.kind, self.alphas_cumprod = target, kind, alphas_cumprod

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        if self.kind == "velocity":
            return (self.target - x) / (1 - t).view(-1, 1, 1)
        if self.kind == "sample":
            return self.target.expand_as(x)
        alpha_bar = self.alphas_cumprod[t].view(-1, 1, 1)
        return (x - alpha_bar.sqrt() * self.target) / (1 - alpha_bar).sqrt()


@pytest.mark.parametrize("settings", [
    {"prediction_type": "epsilon"}, {"prediction_type": "sample"},
    {"prediction_type": "epsilon", "eta": 1.0}, {"num_inference_steps": 3},
])
def test_ddim_with_a_perfect_denoiser_lands_on_the_target(settings):
    torch.manual_seed(0)
    head = build("diffusion", **settings)
    target = torch.rand(1, C, A) * 2 - 1
    head.denoiser = Oracle(target, settings.get("prediction_type", "epsilon"),
                           head.alphas_cumprod)
    with torch.no_grad():
        sample = head.predict(torch.randn(5, T, D))
    torch.testing.assert_close(sample, target.expand(5, -1, -1), atol=1e-4, rtol=0)


@pytest.mark.parametrize("sampler", ["euler", "midpoint"])
@pytest.mark.parametrize("num_steps", [1, 4])
def test_flow_integration_of_the_exact_velocity_lands_on_the_target(sampler, num_steps):
    torch.manual_seed(0)
    head = build("flow", sampler=sampler, num_steps=num_steps)
    target = torch.rand(1, C, A) * 2 - 1
    head.velocity = Oracle(target, "velocity")
    with torch.no_grad():
        sample = head.predict(torch.randn(5, T, D))
    torch.testing.assert_close(sample, target.expand(5, -1, -1), atol=1e-5, rtol=0)


def test_beta_time_distribution_trains_too():
    torch.manual_seed(0)
    head = build("flow", time_distribution="beta")
    features, actions = toy_data()
    loss = head(features, actions)
    loss.backward()
    assert torch.isfinite(loss) and head.config["time_distribution"] == "beta"
