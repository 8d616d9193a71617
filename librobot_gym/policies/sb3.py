"""A stable-baselines3 model (trained in `state` mode) acting through `act(obs)`.

`librobot train --algo` trains under SB3's `VecNormalize` and writes its observation statistics
into the model's zip as `librobot_normalization.json` (SB3 itself ignores the entry); the policy
normalises observations with them exactly as training did. Models without the entry act on raw
observations.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.policies.base import PolicyCard, check_state, state_layout

NORMALIZATION_ENTRY = "librobot_normalization.json"


@dataclass
class ObsNormalization:
    """VecNormalize's observation transform: clip((obs - mean) / sqrt(var + epsilon), +-clip)."""

    mean: list[float]
    var: list[float]
    count: float
    epsilon: float
    clip_obs: float

    @classmethod
    def from_vec_normalize(cls, vec) -> ObsNormalization:
        rms = vec.obs_rms
        return cls(np.asarray(rms.mean, np.float64).tolist(),
                   np.asarray(rms.var, np.float64).tolist(), float(rms.count),
                   float(vec.epsilon), float(vec.clip_obs))

    def normalize(self, obs: np.ndarray) -> np.ndarray:
        mean, var = np.asarray(self.mean), np.asarray(self.var)
        out = (np.asarray(obs, np.float64) - mean) / np.sqrt(var + self.epsilon)
        return np.clip(out, -self.clip_obs, self.clip_obs).astype(np.float32)

    def write_into(self, model_zip: str | Path) -> None:
        """Add (or replace) the statistics entry of a saved SB3 model zip."""
        model_zip = Path(model_zip)
        with zipfile.ZipFile(model_zip) as archive:
            entries = {name: archive.read(name) for name in archive.namelist()
                       if name != NORMALIZATION_ENTRY}
        entries[NORMALIZATION_ENTRY] = json.dumps(asdict(self)).encode()
        tmp = model_zip.with_suffix(".zip.tmp")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in entries.items():
                archive.writestr(name, data)
        tmp.replace(model_zip)

    @classmethod
    def read_from(cls, model_zip: str | Path) -> ObsNormalization | None:
        """The statistics a model zip carries, or None."""
        try:
            with zipfile.ZipFile(model_zip) as archive:
                if NORMALIZATION_ENTRY not in archive.namelist():
                    return None
                values = json.loads(archive.read(NORMALIZATION_ENTRY))
        except zipfile.BadZipFile:
            raise ConfigError(f"{model_zip} is not a stable-baselines3 model zip") from None
        try:
            return cls(**values)
        except TypeError as exc:
            raise ConfigError(f"{model_zip}: bad {NORMALIZATION_ENTRY} ({exc})") from None


def model_file(algorithm: str, path: str | Path) -> Path:
    """The model zip a `ppo:PATH`/`sac:PATH` spec names, or a ConfigError saying what to give:
    a missing path, or a folder (named with the zips it holds)."""
    path = Path(path)
    if path.is_dir():
        zips = sorted(p.name for p in path.glob("*.zip"))
        hint = f"; it holds {', '.join(zips[:5])}" if zips else ""
        raise ConfigError(f"policy {algorithm}:{path}: a folder, not a model; give the model "
                          f"zip, e.g. {algorithm}:{path / (zips[0] if zips else 'MODEL.zip')}"
                          f"{hint}")
    if not path.exists() and path.with_suffix(".zip").is_file():
        return path.with_suffix(".zip")  # SB3 saves "model" as "model.zip"
    if not path.exists():
        raise ConfigError(f"no stable-baselines3 model at {path}; train one with "
                          f"`librobot train --algo {algorithm} --env ENV_ID`")
    return path


class SB3Policy:
    def __init__(self, env: gym.Env, algorithm: str, path: str | Path):
        path = model_file(algorithm, path)  # before SB3 (and torch) load: refused at once
        import stable_baselines3

        classes = {"ppo": stable_baselines3.PPO, "sac": stable_baselines3.SAC}
        try:
            self.model = classes[algorithm].load(str(path), device="cpu")
        except ValueError as exc:  # SB3: "the file ... wasn't a zip-file"
            raise ConfigError(f"policy {algorithm}:{path}: not a stable-baselines3 model zip "
                              f"({exc})") from None
        self.normalization = ObsNormalization.read_from(path)
        self.card = PolicyCard(f"{algorithm}:{Path(path).name}", obs_mode="state",
                               action_dim=int(np.prod(self.model.action_space.shape)))
        self.card.check(env)
        size = int(np.prod(self.model.observation_space.shape))
        if self.normalization is not None and len(self.normalization.mean) != size:
            raise ConfigError(f"{path}: normalisation statistics for {len(self.normalization.mean)}"
                              f" observation values, the model takes {size}")
        self.state_fields = state_layout(env)

    def reset(self, seed: int | None = None) -> None:
        pass

    def act(self, obs) -> np.ndarray:
        check_state(obs, self.state_fields)
        if self.normalization is not None:
            obs = self.normalization.normalize(obs)
        action, _ = self.model.predict(obs, deterministic=True)
        return np.asarray(action, dtype=np.float32)
