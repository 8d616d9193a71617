"""A VLA model described in YAML: which backbone, framework and head, their settings, and what
the resulting policy needs from an env and how it executes chunks.

    framework: octo                  # a registered VLA framework (`list_vlas()`)
    vlm: {name: tiny, text_encoder: learned, embed_dim: 64}
    head: {name: diffusion, num_inference_steps: 10}   # or null for the framework's default
    action_dim: 7
    proprio_dim: 22
    chunk_size: 8
    hidden_dim: 128
    framework_kwargs: {}
    policy: {control_mode: ee_delta_pose, cameras: [front, wrist], image_size: [128, 128],
             control_hz: 20}
    chunking: {mode: receding, execute_steps: 4, decay: 0.01}
    normalization: quantile
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from librobot_gym.errors import ConfigError


@dataclass
class VLAConfig:
    framework: str
    vlm: dict
    action_dim: int
    proprio_dim: int
    head: dict | None = None
    chunk_size: int = 8
    hidden_dim: int = 128
    framework_kwargs: dict = field(default_factory=dict)
    policy: dict = field(default_factory=dict)
    chunking: dict = field(default_factory=lambda: {"mode": "receding"})
    normalization: str = "quantile"

    @classmethod
    def from_dict(cls, data: dict, source: str = "config") -> VLAConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {sorted(unknown)}; expected some of "
                              f"{sorted(known)}")
        missing = {"framework", "vlm", "action_dim", "proprio_dim"} - set(data)
        if missing:
            raise ConfigError(f"{source}: missing key(s) {sorted(missing)}")
        vlm = data["vlm"]
        if isinstance(vlm, str):
            vlm = {"name": vlm}
        head = data.get("head")
        if isinstance(head, str):
            head = {"name": head}
        if not isinstance(vlm, dict) or "name" not in vlm:
            raise ConfigError(f"{source}: 'vlm' must be a name or a mapping with 'name'")
        return cls(**{**data, "vlm": vlm, "head": head})

    @classmethod
    def from_yaml(cls, path: str | Path) -> VLAConfig:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such VLA config") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a VLA config is a mapping (see policies/vla/config.py)")
        return cls.from_dict(data, str(path))

    def framework_arguments(self) -> dict:
        """Keyword arguments for `create_vla(self.framework, **...)`."""
        return {"vlm": dict(self.vlm), "action_dim": self.action_dim,
                "proprio_dim": self.proprio_dim, "chunk_size": self.chunk_size,
                "hidden_dim": self.hidden_dim, "head": self.head, **self.framework_kwargs}

    def to_dict(self) -> dict:
        return asdict(self)
