"""Image preprocessing for the VLM backbones, in torch (no torchvision, no PIL round trip).

Camera frames arrive as float tensors [B, V, 3, H, W] in [0, 1]. The transformers backbones
resize every frame to the square size their vision tower expects (bicubic, antialiased) and
normalise with the family's mean/std, on whatever device the frames are on. Qwen2-VL also
needs its frames cut into the flat patch layout its vision tower reads; `qwen2_vl_patchify`
reproduces the layout of transformers' Qwen2-VL image processor (a test checks it against the
PIL one).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from librobot_gym.errors import ConfigError

# Normalisation constants the families were trained with (as in transformers' image_utils).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
HALF = (0.5, 0.5, 0.5)


def check_images(images: torch.Tensor) -> tuple[int, int]:
    """Validate a [B, V, 3, H, W] float batch; return (B, V)."""
    if not isinstance(images, torch.Tensor) or images.dim() != 5 or images.shape[2] != 3:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ConfigError(f"images must be a float tensor [B, V, 3, H, W] in [0, 1]; got {shape}")
    if not images.is_floating_point():
        raise ConfigError(f"images must be float in [0, 1], got dtype {images.dtype}; "
                          "divide uint8 frames by 255 first")
    return images.shape[0], images.shape[1]


def check_text(text: Sequence[str], batch: int | None = None) -> list[str]:
    """Validate a list of B instruction strings (a lone string is a common slip)."""
    if isinstance(text, str) or not all(isinstance(t, str) for t in text):
        raise ConfigError("text must be a list of strings, one per batch element")
    if batch is not None and len(text) != batch:
        raise ConfigError(f"got {len(text)} instructions for a batch of {batch} image sets")
    return list(text)


def resize_normalize(frames: torch.Tensor, size: int, mean: Sequence[float],
                     std: Sequence[float]) -> torch.Tensor:
    """[N, 3, H, W] in [0, 1] -> [N, 3, size, size], resized (bicubic) and normalised."""
    if frames.shape[-2:] != (size, size):
        frames = F.interpolate(frames, size=(size, size), mode="bicubic", align_corners=False,
                               antialias=True).clamp(0.0, 1.0)
    mean_t = torch.as_tensor(mean, dtype=frames.dtype, device=frames.device).view(1, 3, 1, 1)
    std_t = torch.as_tensor(std, dtype=frames.dtype, device=frames.device).view(1, 3, 1, 1)
    return (frames - mean_t) / std_t


def qwen2_vl_patchify(pixels: torch.Tensor, patch_size: int, merge_size: int,
                      temporal_patch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """[N, C, S, S] normalised frames -> (pixel_values [N*gh*gw, C*T*p*p], grid_thw [N, 3]).

    Each frame is one temporal step repeated `temporal_patch_size` times, patches are ordered
    merge-window by merge-window, exactly as transformers' Qwen2-VL image processor lays them out.
    """
    n, c, h, w = pixels.shape
    gh, gw, m, p = h // patch_size, w // patch_size, merge_size, patch_size
    if gh * p != h or gw * p != w or gh % m or gw % m:
        raise ConfigError(f"Qwen2-VL frames must be a multiple of {p * m} pixels, got {h}x{w}")
    patches = pixels.reshape(n, c, gh // m, m, p, gw // m, m, p)
    patches = patches.permute(0, 2, 5, 3, 6, 1, 4, 7)  # (n, gh/m, gw/m, m, m, c, p, p)
    patches = patches.unsqueeze(6).expand(*patches.shape[:6], temporal_patch_size, p, p)
    flat = patches.reshape(n * gh * gw, c * temporal_patch_size * p * p)
    grid = torch.tensor([[1, gh, gw]] * n, dtype=torch.long, device=pixels.device)
    return flat, grid
