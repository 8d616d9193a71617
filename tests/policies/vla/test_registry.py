"""Registries: names, aliases, close-match errors, and a third-party plugin installed with pip."""

import subprocess
import sys
import textwrap

import pytest

from librobot_gym.errors import ConfigError
from librobot_gym.policies.vla.registry import Registry


def test_register_create_aliases_and_close_matches():
    registry = Registry("widget")

    @registry.register("round-widget", aliases=["round"])
    class Round:
        def __init__(self, size=1):
            self.size = size

    assert registry.create("round", size=3).size == 3
    assert registry.get("round-widget") is Round and Round.registry_name == "round-widget"
    with pytest.raises(ConfigError, match="did you mean 'round-widget'"):
        registry.get("round-widgte")
    with pytest.raises(ConfigError, match="already registered"):
        registry.register("round")(type("Other", (), {}))


def test_builtin_components_are_listed():
    from librobot_gym.policies.vla.registry import list_action_heads, list_vlas, list_vlms

    assert {"mlp", "transformer", "diffusion", "flow"} <= set(list_action_heads())
    assert {"groot", "pi0", "octo", "rt2"} <= set(list_vlas())
    assert {"tiny", "siglip", "qwen2-vl", "florence-2", "paligemma"} <= set(list_vlms())


PLUGIN = textwrap.dedent('''
    """A third-party action head: predicts a constant learned chunk."""
    import torch
    from librobot_gym.policies.vla.interfaces import ActionHead
    from librobot_gym.policies.vla.registry import register_action_head


    @register_action_head(name="constant-chunk", aliases=["const"])
    class ConstantChunk(ActionHead):
        def __init__(self, input_dim, action_dim, chunk_size=1, hidden_dim=0):
            super().__init__()
            self.config = dict(input_dim=input_dim, action_dim=action_dim, chunk_size=chunk_size)
            self.chunk = torch.nn.Parameter(torch.zeros(chunk_size, action_dim))

        def forward(self, features, actions):
            return ((actions - self.chunk) ** 2).mean()

        def predict(self, features):
            return self.chunk.expand(features.shape[0], -1, -1)

        def get_action_dim(self):
            return self.chunk.shape[1]
''')


def test_a_pip_installed_plugin_registers_its_component(tmp_path):
    source = tmp_path / "src"
    (source / "lr_constant_head").mkdir(parents=True)
    (source / "lr_constant_head" / "__init__.py").write_text(PLUGIN)
    (source / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "lr-constant-head"
        version = "0.1"
        [project.entry-points."librobot_gym.plugins"]
        constant_head = "lr_constant_head"
    '''))
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(target), str(source)],
                   check=True, capture_output=True)
    code = textwrap.dedent('''
        import torch
        from librobot_gym.policies.vla.registry import create_action_head, list_action_heads
        head = create_action_head("const", input_dim=4, action_dim=3, chunk_size=2)
        print(type(head).__name__, tuple(head.predict(torch.zeros(5, 1, 4)).shape),
              "constant-chunk" in list_action_heads())
    ''')
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "PYTHONPATH": str(target)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ConstantChunk", "(5,", "2,", "3)", "True"]
