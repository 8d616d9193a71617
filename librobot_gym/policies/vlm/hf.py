"""Pretrained transformers VLMs as backbones: SigLIP, Qwen2-VL, Florence-2, PaliGemma, SmolVLM.

Each is built from `pretrained` (a hub id or a local folder holding a model saved with
`save_pretrained` plus its tokenizer) with the family's own `from_pretrained`, and is frozen by
default (no gradients, kept in eval mode even when the policy trains).

Preprocessing is the same for every family and needs neither torchvision nor PIL:

- images: each camera frame is resized in torch to the square size the vision tower expects
  (bicubic, antialiased) and normalised with the family's mean/std (see `images.py`). Size,
  mean and std come from the folder's image processor config when there is one, else from the
  model config / the family's published values; `image_size=` overrides the size. Frames are
  never tiled (SmolVLM's processor splits large images): one camera frame = one image.
- text: the folder's tokenizer, truncated to `max_text_tokens`. The prompt is assembled here
  from ids: the family's image placeholder token (its id read from the model config), repeated
  once per image feature and wrapped in the family's image delimiters, one block per camera,
  then the instruction - what the family's processor produces for a bare prompt (tests check
  PaliGemma's and Florence-2's token for token), without chat templates.

Outputs: `tokens` are the model's last hidden states over that whole image + text sequence
(SigLIP, a dual encoder, concatenates its image and text towers' states instead), `mask` marks
the real (non-padding) positions, `pooled` is their masked mean. `encode_image` gives the image
features the language model consumes (after the family's projector); `encode_text` the hidden
states of the instruction alone. Outputs are float32 whatever `dtype` the model runs in.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
from typing import Any, ClassVar

import torch

from librobot_gym.errors import ConfigError
from librobot_gym.policies.vla.interfaces import VLMBackbone, VLMOutput
from librobot_gym.policies.vla.registry import register_vlm
from librobot_gym.policies.vlm.images import (
    CLIP_MEAN,
    CLIP_STD,
    HALF,
    IMAGENET_MEAN,
    IMAGENET_STD,
    check_images,
    check_text,
    qwen2_vl_patchify,
    resize_normalize,
)
from librobot_gym.policies.vlm.tiny import masked_mean


def dtype_kwargs(dtype: str) -> dict[str, torch.dtype]:
    """`from_pretrained` dtype argument: `dtype=` (transformers >= 4.56) or `torch_dtype=`."""
    import transformers

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    key = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
    return {key: getattr(torch, dtype)}


def read_preprocessor_config(pretrained: str) -> dict[str, Any]:
    """The folder's (or hub repo's) image processor settings, or {} when it has none.

    They sit in `preprocessor_config.json`, or (processors saved by transformers 5) under
    "image_processor" in `processor_config.json`.
    """
    from transformers.utils import cached_file

    for name, key in (("preprocessor_config.json", None), ("processor_config.json",
                                                          "image_processor")):
        path = cached_file(pretrained, name, _raise_exceptions_for_missing_entries=False,
                           _raise_exceptions_for_connection_errors=False)
        if path is not None:
            with open(path, encoding="utf-8") as handle:
                settings = json.load(handle)
            settings = settings.get(key, {}) if key else settings
            if settings:
                return settings
    return {}


def _size_from(preprocessor: dict[str, Any]) -> int | None:
    """The square side an image processor config resizes (or centre-crops) to, if it names one."""
    size = preprocessor.get("crop_size") if preprocessor.get("do_center_crop") else None
    size = size or preprocessor.get("size")
    if isinstance(size, int):
        return size
    if isinstance(size, dict):
        for side in ("height", "shortest_edge"):
            if side in size:
                return int(size[side])
    return None


class HFBackbone(VLMBackbone):
    """What every transformers backbone shares: loading, freezing, preprocessing, outputs."""

    model_class: ClassVar[str]  # the transformers class whose from_pretrained loads the folder
    mean: ClassVar[tuple[float, ...]] = HALF
    std: ClassVar[tuple[float, ...]] = HALF
    default_image_size: ClassVar[int] = 224
    add_special_tokens: ClassVar[bool] = False  # prompts add BOS/EOS themselves, per family

    def __init__(self, pretrained: str, frozen: bool = True, image_size: int | None = None,
                 max_text_tokens: int = 64, dtype: str = "float32"):
        super().__init__()
        import transformers

        self.model = getattr(transformers, self.model_class).from_pretrained(
            str(pretrained), **dtype_kwargs(dtype))
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(pretrained))
        preprocessor = read_preprocessor_config(str(pretrained))
        self.image_mean = tuple(preprocessor.get("image_mean", self.mean))
        self.image_std = tuple(preprocessor.get("image_std", self.std))
        self.image_size = int(image_size or self._preprocessor_size(preprocessor)
                              or self._config_image_size())
        self.max_text_tokens = max_text_tokens
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else 0
        self.config = {"pretrained": str(pretrained), "frozen": frozen,
                       "image_size": image_size, "max_text_tokens": max_text_tokens,
                       "dtype": dtype}
        self.freeze(frozen)

    @classmethod
    def from_pretrained(cls, pretrained: str, **kwargs: Any) -> HFBackbone:
        """Same as the constructor; reads like the transformers classes it wraps."""
        return cls(pretrained=pretrained, **kwargs)

    # -- family hooks ------------------------------------------------------------------------
    def _preprocessor_size(self, preprocessor: dict[str, Any]) -> int | None:
        """Frame side named by the folder's image processor config, if it fits this family."""
        return _size_from(preprocessor)

    def _config_image_size(self) -> int:
        """Frame side when the folder has no image processor config."""
        vision = getattr(self.model.config, "vision_config", None)
        return int(getattr(vision, "image_size", self.default_image_size))

    def _encode(self, pixels: torch.Tensor, batch: int, views: int,
                text_ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised frames [B*V, 3, S, S] + token ids -> (hidden [B, T, D], mask [B, T])."""
        raise NotImplementedError

    def _image_features(self, pixels: torch.Tensor, batch: int, views: int) -> torch.Tensor:
        """Normalised frames [B*V, 3, S, S] -> [B, V*T_img, D]."""
        raise NotImplementedError

    def _text_states(self, text_ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids -> (hidden [B, T, D], mask [B, T]) of the text alone."""
        raise NotImplementedError

    # -- shared machinery --------------------------------------------------------------------
    def get_embedding_dim(self) -> int:
        return int(self.model.config.get_text_config().hidden_size)

    def freeze(self, frozen: bool = True) -> HFBackbone:
        self.frozen = frozen
        super().freeze(frozen)
        return self.train(self.training)

    def train(self, mode: bool = True) -> HFBackbone:
        """A frozen backbone stays in eval mode (no dropout) while the policy around it trains."""
        super().train(mode)
        if getattr(self, "frozen", False):
            self.model.eval()
        return self

    def _context(self) -> contextlib.AbstractContextManager:
        return torch.no_grad() if self.frozen else contextlib.nullcontext()

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def model_dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    def _pixels(self, images: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        batch, views = check_images(images)
        frames = images.flatten(0, 1).to(self.device, torch.float32)
        pixels = resize_normalize(frames, self.image_size, self.image_mean, self.image_std)
        return pixels.to(self.model_dtype), batch, views

    def _tokenize(self, text: list[str]) -> list[list[int]]:
        encoded = self.tokenizer(check_text(text),
                                 add_special_tokens=self.add_special_tokens)["input_ids"]
        return [list(ids)[: self.max_text_tokens] for ids in encoded]

    def _pad(self, rows: list[list[int]], length: int | None = None
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-pad id rows -> (ids [B, T] long, mask [B, T] bool) on the model's device."""
        length = length or max(len(r) for r in rows)
        ids = torch.full((len(rows), length), self.pad_id, dtype=torch.long)
        mask = torch.zeros(len(rows), length, dtype=torch.bool)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
            mask[i, : len(row)] = True
        return ids.to(self.device), mask.to(self.device)

    @staticmethod
    def _finish(hidden: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask = mask.to(hidden.device, torch.bool)
        return hidden.float() * mask.unsqueeze(-1), mask

    def forward(self, images: torch.Tensor, text: list[str]) -> VLMOutput:
        with self._context():
            pixels, batch, views = self._pixels(images)
            ids = self._tokenize(check_text(text, batch))
            hidden, mask = self._finish(*self._encode(pixels, batch, views, ids))
        return VLMOutput(hidden, mask, masked_mean(hidden, mask))

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        with self._context():
            pixels, batch, views = self._pixels(images)
            return self._image_features(pixels, batch, views).float()

    def encode_text(self, text: list[str]) -> torch.Tensor:
        """B strings -> [B, T_txt, D]; padding positions are zero."""
        with self._context():
            return self._finish(*self._text_states(self._tokenize(text)))[0]


@register_vlm(name="siglip", aliases=["siglip-vit"])
class SiglipBackbone(HFBackbone):
    """SigLIP dual encoder: image-tower patch tokens of every camera, then text-tower tokens.

    Text is padded to `max_text_tokens` (capped at the text tower's positions) and the tower
    attends to the padding, as SigLIP was trained; the mask marks the real tokens only. The two
    towers must have the same width (true of every published SigLIP checkpoint).
    """

    model_class = "SiglipModel"
    add_special_tokens = True  # SigLIP's tokenizer appends its EOS, as in training

    def __init__(self, pretrained: str, frozen: bool = True, image_size: int | None = None,
                 max_text_tokens: int = 64, dtype: str = "float32"):
        super().__init__(pretrained, frozen, image_size, max_text_tokens, dtype)
        text_width = self.model.config.text_config.hidden_size
        vision_width = self.model.config.vision_config.hidden_size
        if text_width != vision_width:
            raise ConfigError(f"SigLIP towers differ in width ({vision_width} vs {text_width}); "
                              "this backbone needs one token width")
        self.max_text_tokens = min(max_text_tokens,
                                   self.model.config.text_config.max_position_embeddings)

    def get_embedding_dim(self) -> int:
        return int(self.model.config.vision_config.hidden_size)

    def _image_features(self, pixels: torch.Tensor, batch: int, views: int) -> torch.Tensor:
        states = self.model.vision_model(pixel_values=pixels).last_hidden_state
        return states.reshape(batch, -1, states.shape[-1])

    def _text_states(self, text_ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        ids, mask = self._pad(text_ids, self.max_text_tokens)
        return self.model.text_model(input_ids=ids).last_hidden_state, mask

    def _encode(self, pixels: torch.Tensor, batch: int, views: int,
                text_ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        image = self._image_features(pixels, batch, views)
        text, text_mask = self._text_states(text_ids)
        image_mask = torch.ones(image.shape[:2], dtype=torch.bool, device=image.device)
        return torch.cat([image, text], 1), torch.cat([image_mask, text_mask], 1)


class PromptedBackbone(HFBackbone):
    """Image placeholders + instruction through the whole VLM (`model.model`, no LM head)."""

    def _image_tokens(self) -> int:
        """How many placeholder tokens one camera frame becomes."""
        raise NotImplementedError

    def _image_block(self) -> list[int]:
        """One camera's ids: the placeholders, wrapped in the family's delimiters."""
        return [self.model.config.image_token_id] * self._image_tokens()

    def _prompt(self, text_ids: list[int], views: int) -> list[int]:
        """The whole sequence for one sample: image blocks, then the instruction."""
        return self._image_block() * views + text_ids

    def _image_inputs(self, pixels: torch.Tensor, batch: int, views: int) -> dict[str, Any]:
        return {"pixel_values": pixels}

    def _token(self, name: str) -> list[int]:
        """[id] of a special token the tokenizer knows, else [] (delimiters are optional)."""
        token_id = self.tokenizer.convert_tokens_to_ids(name)
        unknown = self.tokenizer.unk_token_id
        return [] if token_id is None or token_id == unknown else [int(token_id)]

    def _bos(self) -> list[int]:
        bos = self.tokenizer.bos_token_id
        return [] if bos is None else [int(bos)]

    def _encode(self, pixels: torch.Tensor, batch: int, views: int,
                text_ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        ids, mask = self._pad([self._prompt(row, views) for row in text_ids])
        outputs = self.model.model(input_ids=ids, attention_mask=mask.long(),
                                   **self._extra_inputs(ids),
                                   **self._image_inputs(pixels, batch, views))
        return outputs.last_hidden_state, mask

    def _extra_inputs(self, ids: torch.Tensor) -> dict[str, Any]:
        return {}

    def _text_states(self, text_ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        ids, mask = self._pad([self._prompt(row, 0) for row in text_ids])
        outputs = self.model.model(input_ids=ids, attention_mask=mask.long(),
                                   **self._extra_inputs(ids))
        return outputs.last_hidden_state, mask


@register_vlm(name="paligemma", aliases=["paligemma2", "pali-gemma"])
class PaliGemmaBackbone(PromptedBackbone):
    """PaliGemma: `<image>` x 256 per camera, BOS, instruction, newline - one prefix attended
    bidirectionally (token_type_ids 0), as PaliGemma reads its prompt."""

    model_class = "PaliGemmaForConditionalGeneration"

    def _image_tokens(self) -> int:
        vision = self.model.config.vision_config
        return (self.image_size // vision.patch_size) ** 2

    def _config_image_size(self) -> int:
        return int(self.model.config.vision_config.image_size)

    @functools.cached_property
    def _newline(self) -> list[int]:
        return list(self.tokenizer("\n", add_special_tokens=False)["input_ids"])

    def _prompt(self, text_ids: list[int], views: int) -> list[int]:
        return self._image_block() * views + self._bos() + text_ids + self._newline

    def _extra_inputs(self, ids: torch.Tensor) -> dict[str, Any]:
        return {"token_type_ids": torch.zeros_like(ids)}

    def _image_features(self, pixels: torch.Tensor, batch: int, views: int) -> torch.Tensor:
        features = self.model.model.get_image_features(pixel_values=pixels)
        features = getattr(features, "pooler_output", features)
        return features.reshape(batch, -1, features.shape[-1])


@register_vlm(name="qwen2-vl", aliases=["qwen2vl", "qwen2_vl"])
class Qwen2VLBackbone(PromptedBackbone):
    """Qwen2-VL: `<|vision_start|>` + `<|image_pad|>` x (S/28)^2 + `<|vision_end|>` per camera,
    then the instruction; frames go in as the flat patch layout with their (1, h, w) grid, so the
    model applies its multimodal (3D) rotary positions. `image_size` defaults to 224 (rounded
    to a multiple of 28): Qwen2-VL has no fixed size, and this keeps 64 tokens per camera."""

    model_class = "Qwen2VLForConditionalGeneration"
    mean, std = CLIP_MEAN, CLIP_STD

    def __init__(self, pretrained: str, frozen: bool = True, image_size: int | None = 224,
                 max_text_tokens: int = 64, dtype: str = "float32"):
        super().__init__(pretrained, frozen, image_size, max_text_tokens, dtype)
        vision = self.model.config.vision_config
        self.unit = vision.patch_size * vision.spatial_merge_size
        self.image_size = max(self.unit, round(self.image_size / self.unit) * self.unit)
        parameters = inspect.signature(self.model.model.forward).parameters
        self.wants_types = "mm_token_type_ids" in parameters  # transformers >= 5

    def _preprocessor_size(self, preprocessor: dict[str, Any]) -> int | None:
        return None  # its processor's sizes are pixel-count bounds for dynamic resolution

    def _image_tokens(self) -> int:
        return (self.image_size // self.unit) ** 2

    def _image_block(self) -> list[int]:
        config = self.model.config
        return [config.vision_start_token_id, *super()._image_block(), config.vision_end_token_id]

    def _patches(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        vision = self.model.config.vision_config
        return qwen2_vl_patchify(pixels, vision.patch_size, vision.spatial_merge_size,
                                 vision.temporal_patch_size)

    def _image_inputs(self, pixels: torch.Tensor, batch: int, views: int) -> dict[str, Any]:
        flat, grid = self._patches(pixels)
        return {"pixel_values": flat, "image_grid_thw": grid}

    def _extra_inputs(self, ids: torch.Tensor) -> dict[str, Any]:
        if not self.wants_types:
            return {}
        return {"mm_token_type_ids": (ids == self.model.config.image_token_id).int()}

    def _image_features(self, pixels: torch.Tensor, batch: int, views: int) -> torch.Tensor:
        flat, grid = self._patches(pixels)
        features = self.model.model.get_image_features(pixel_values=flat, image_grid_thw=grid)
        features = getattr(features, "pooler_output", features)
        if isinstance(features, (list, tuple)):
            features = torch.cat(list(features), 0)
        return features.reshape(batch, -1, features.shape[-1])


@register_vlm(name="smolvlm", aliases=["smolvlm2"])
class SmolVLMBackbone(PromptedBackbone):
    """SmolVLM: BOS, then per camera `<fake_token_around_image><global-img>` + `<image>` x
    (S/patch)^2/scale^2 + `<fake_token_around_image>` (the processor's layout for an unsplit
    image), then the instruction."""

    model_class = "SmolVLMForConditionalGeneration"

    def _preprocessor_size(self, preprocessor: dict[str, Any]) -> int | None:
        return None  # its processor's sizes bound the tiling; one tile is the tower's size

    def _image_tokens(self) -> int:
        config = self.model.config
        patches = (self.image_size // config.vision_config.patch_size) ** 2
        return patches // config.scale_factor ** 2

    def _image_block(self) -> list[int]:
        around = self._token("<fake_token_around_image>")
        return around + self._token("<global-img>") + super()._image_block() + around

    def _prompt(self, text_ids: list[int], views: int) -> list[int]:
        return self._bos() + self._image_block() * views + text_ids

    def _image_inputs(self, pixels: torch.Tensor, batch: int, views: int) -> dict[str, Any]:
        # SmolVLM drops all-zero frames as padding; a uniform mid-grey frame normalises to zero.
        blank = (pixels == 0).flatten(1).all(1)
        pixels = pixels.clone()
        pixels[blank, 0, 0, 0] = 1e-3
        return {"pixel_values": pixels.reshape(batch, views, *pixels.shape[1:])}

    def _image_features(self, pixels: torch.Tensor, batch: int, views: int) -> torch.Tensor:
        inputs = self._image_inputs(pixels, batch, views)
        features = self.model.model.get_image_features(**inputs)
        features = getattr(features, "pooler_output", features)
        if isinstance(features, (list, tuple)):
            features = torch.stack(list(features))
        return features.reshape(batch, -1, features.shape[-1])


@register_vlm(name="florence-2", aliases=["florence2", "florence"])
class Florence2Backbone(PromptedBackbone):
    """Florence-2 (encoder-decoder): `<image>` placeholders per camera (1 + the DaViT grid),
    BOS, instruction, EOS, through the language encoder; `tokens` are the encoder states.
    Frames default to the processor's 768 px with ImageNet mean/std. Needs a checkpoint in
    transformers' native Florence-2 format, not the original `trust_remote_code` repos."""

    model_class = "Florence2ForConditionalGeneration"
    mean, std = IMAGENET_MEAN, IMAGENET_STD
    default_image_size = 768

    def get_embedding_dim(self) -> int:
        return int(self.model.config.text_config.d_model)

    def _config_image_size(self) -> int:
        return self.default_image_size

    def _image_tokens(self) -> int:
        vision, side = self.model.config.vision_config, self.image_size
        for kernel, stride, padding in zip(vision.patch_size, vision.patch_stride,
                                           vision.patch_padding, strict=True):
            side = (side + 2 * padding - kernel) // stride + 1
        return side * side + 1  # the grid, plus one pooled (temporal) token

    def _prompt(self, text_ids: list[int], views: int) -> list[int]:
        eos = self.tokenizer.eos_token_id
        end = [] if eos is None else [int(eos)]
        return self._image_block() * views + self._bos() + text_ids + end

    def _encode(self, pixels: torch.Tensor, batch: int, views: int,
                text_ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Image features into the placeholder slots, then the language encoder (no decoder)."""
        ids, mask = self._pad([self._prompt(row, views) for row in text_ids])
        embeds = self.model.model.get_input_embeddings()(ids)
        features = self._image_features(pixels, batch, views).to(embeds.dtype)
        slots = ids == self.model.config.image_token_id
        if int(slots.sum()) * embeds.shape[-1] != features.numel():
            raise ConfigError(f"Florence-2 made {features.shape[1] // views} image features per "
                              f"frame but the prompt has {self._image_tokens()} slots; check "
                              f"image_size ({self.image_size}) against the vision config")
        embeds = embeds.masked_scatter(slots.unsqueeze(-1), features)
        return self._encoder(embeds, mask), mask

    def _text_states(self, text_ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        ids, mask = self._pad([self._prompt(row, 0) for row in text_ids])
        return self._encoder(self.model.model.get_input_embeddings()(ids), mask), mask

    def _encoder(self, embeds: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        encoder = self.model.model.get_encoder()
        return encoder(inputs_embeds=embeds, attention_mask=mask.long()).last_hidden_state

    def _image_features(self, pixels: torch.Tensor, batch: int, views: int) -> torch.Tensor:
        features = self.model.model.get_image_features(pixel_values=pixels)
        features = getattr(features, "pooler_output", features)
        return features.reshape(batch, -1, features.shape[-1])
