"""`VLAPolicy`: a VLA model acting in an env through `act(obs)`, with its normalisation,
chunk execution and checkpoint format.

`act()` runs the inference fast paths (`policies/vla/fastpath.py`: the same function with less
per-call overhead) under `torch.inference_mode`; `VLAPolicy(fast=False)` takes the plain path.
The model runs on `device` (`cpu`, `cuda`, `cuda:N`, `mps`; default $LIBROBOT_DEVICE or the
CPU): observations are moved there as uint8 and converted on the device.

A checkpoint is a folder with `config.json` (the VLAConfig, the normalisation statistics and a
format version) and `model.safetensors` (the framework's weights, frozen backbone included), so
`VLAPolicy.from_pretrained(folder)` rebuilds exactly what `save_pretrained(folder)` wrote.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import torch

from librobot_gym.errors import ConfigError
from librobot_gym.policies.base import PolicyCard, batch_size, check_state
from librobot_gym.policies.vla.chunking import ActionChunker
from librobot_gym.policies.vla.config import VLAConfig
from librobot_gym.policies.vla.device import resolve_device
from librobot_gym.policies.vla.fastpath import fast_paths
from librobot_gym.policies.vla.normalization import Normalizer
from librobot_gym.policies.vla.registry import create_vla

FORMAT = "librobot-vla/1"


class VLAPolicy:
    def __init__(self, config: VLAConfig, model: torch.nn.Module | None = None,
                 action_norm: Normalizer | None = None, proprio_norm: Normalizer | None = None,
                 device: str | torch.device | None = None, fast: bool = True):
        self.config = config
        self.device = resolve_device(device)
        self.fast = fast
        self.model = model if model is not None else create_vla(
            config.framework, **config.framework_arguments())
        self.model.eval().to(self.device)
        self.action_norm = action_norm or Normalizer.identity(config.action_dim)
        self.proprio_norm = proprio_norm or Normalizer.identity(config.proprio_dim)
        spec = config.policy
        image_size = spec.get("image_size")
        self.card = PolicyCard(
            name=spec.get("name", f"vla-{config.framework}-{config.vlm['name']}"),
            control_mode=spec.get("control_mode"), action_dim=config.action_dim,
            obs_mode="rgb", cameras=tuple(spec.get("cameras", ())),
            image_size=tuple(image_size) if image_size else None,
            state_dim=config.proprio_dim, instruction=True, control_hz=spec.get("control_hz"),
            chunk_size=config.chunk_size)
        chunking = dict(config.chunking)
        self.chunker = ActionChunker(config.chunk_size, **chunking)
        # (name, slice) of the proprioception, to name a bad field; the `vla:` scheme sets it
        # from the env, else indices stand in.
        self.state_fields: list[tuple[str, slice]] = []
        # The policy's own randomness (sampling heads' noise): never torch's global RNG, so two
        # policies in one process do not disturb each other. On the CPU, where the inputs are
        # built; unseeded until reset(seed). On the model's device, where the noise is drawn
        # (so a seed gives other noise on a GPU than on the CPU).
        self.generator = torch.Generator(device=self.device)
        self.generator.seed()
        self._takes_generator = "generator" in inspect.signature(
            self.model.predict_action).parameters

    @classmethod
    def from_config(cls, config: VLAConfig | dict | str | Path) -> VLAPolicy:
        if isinstance(config, str | Path):
            config = VLAConfig.from_yaml(config)
        elif isinstance(config, dict):
            config = VLAConfig.from_dict(config)
        return cls(config)

    # --- checkpoints ---------------------------------------------------------------------------
    def save_pretrained(self, path: str | Path) -> Path:
        from safetensors.torch import save_model

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        meta = {"format": FORMAT, "config": self.config.to_dict(),
                "normalization": {"action": self.action_norm.to_dict(),
                                  "proprio": self.proprio_norm.to_dict()}}
        (path / "config.json").write_text(json.dumps(meta, indent=2))
        save_model(self.model, str(path / "model.safetensors"))
        return path

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | torch.device | None = None,
                        fast: bool = True) -> VLAPolicy:
        from safetensors.torch import load_model

        path = Path(path)
        if not (path / "config.json").exists():
            raise ConfigError(f"{path}: no VLA checkpoint here (config.json + model.safetensors)")
        meta = json.loads((path / "config.json").read_text())
        if meta.get("format") != FORMAT:
            raise ConfigError(f"{path}: checkpoint format {meta.get('format')!r}, "
                              f"expected {FORMAT}")
        norms = meta["normalization"]
        policy = cls(VLAConfig.from_dict(meta["config"]),
                     action_norm=Normalizer.from_dict(norms["action"]),
                     proprio_norm=Normalizer.from_dict(norms["proprio"]), device=device,
                     fast=fast)
        load_model(policy.model, str(path / "model.safetensors"), device=str(policy.device))
        policy.model.eval()
        return policy

    # --- acting --------------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> None:
        self.chunker.reset()
        if seed is not None:
            self.generator.manual_seed(seed)  # sampling heads start from seeded noise

    def _inputs(self, obs: dict, batch: int | None):
        cameras = self.card.cameras or tuple(obs["images"])
        images = np.stack([np.asarray(obs["images"][c]) for c in cameras], axis=-4)
        if batch is None:
            images = images[None]
        if self.fast:
            # uint8 to the device (a quarter of the bytes), then [B, V, 3, H, W] as a strided
            # view of the HWC frames: the convolutions read channels-last without a copy.
            images = torch.from_numpy(images).to(self.device, non_blocking=True)
            images = images.permute(0, 1, 4, 2, 3).float().div_(255.0)
        else:
            images = torch.from_numpy(images).float().div_(255.0).permute(0, 1, 4, 2, 3)
            images = images.contiguous().to(self.device)
        check_state(obs["state"], self.state_fields)
        state = np.asarray(obs["state"], dtype=np.float32).reshape(batch or 1, -1)
        proprio = torch.from_numpy(self.proprio_norm.normalize(state)).float().to(self.device)
        text = obs["instruction"]
        text = [text] if isinstance(text, str) else [str(t) for t in text]
        return images, text, proprio

    def predict_chunk(self, obs: dict, generator=None) -> np.ndarray:
        """The model's action chunk [B, C, A] in env units (batched even for one obs); its
        noise from this policy's generator, or `generator` (one, or one per row)."""
        images, text, proprio = self._inputs(obs, batch_size(obs))
        grad_off = torch.inference_mode() if self.fast else torch.no_grad()
        with grad_off, fast_paths(self.fast):
            chunk = self._predict(images, text, proprio,
                                  self.generator if generator is None else generator)
        return np.clip(self.action_norm.unnormalize(chunk.float().cpu().numpy()), -1.0, 1.0)

    def _predict(self, images: torch.Tensor, text: list[str], proprio: torch.Tensor,
                 generator) -> torch.Tensor:
        """The framework's chunk, its noise drawn from `generator` (or one generator per row).
        A framework whose `predict_action` takes no generator runs on a forked global RNG
        seeded from it (one generator only)."""
        if self._takes_generator:
            return self.model.predict_action(images, text, proprio, generator=generator)
        if isinstance(generator, list):
            return torch.cat([self._predict(images[i:i + 1], text[i:i + 1], proprio[i:i + 1], g)
                              for i, g in enumerate(generator)])
        seed = int(torch.randint(0, 2**62, (), generator=generator, device=self.device))
        forked = (torch.random.fork_rng(devices=[]) if self.device.type == "cpu" else
                  torch.random.fork_rng(devices=[self.device], device_type=self.device.type))
        with forked:
            torch.manual_seed(seed)
            return self.model.predict_action(images, text, proprio)

    def slots(self, count: int):
        """`count` episodes served at once by this model (batched evaluation)."""
        from librobot_gym.policies.vla.slots import VLASlots

        return VLASlots(self, count)

    def act(self, obs: dict) -> np.ndarray:
        """One action [A] for one observation, or [N, A] for a batch (vector envs)."""
        if self.chunker.needs_prediction():
            self.chunker.add(self.predict_chunk(obs))
        action = self.chunker.next_action().astype(np.float32)
        return action if batch_size(obs) is not None else action[0]
