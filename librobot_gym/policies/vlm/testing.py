"""Tiny random checkpoints of every transformers VLM family, built offline on disk.

`build_tiny_checkpoint("paligemma", folder)` writes what a hub repo of that family holds - the
model saved with `save_pretrained`, a tokenizer and the family's (image) processor - but
with 40-90 thousand random weights, so the real loading and forward code paths run in tests and
docs in well under a second, with no download. The tokenizer is a byte-level BPE trained on a
few robot instructions (it encodes any text), plus the special tokens the family's prompt uses;
the config's token ids point at them. Weights are random: outputs are shapes, not meaning.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from librobot_gym.errors import ConfigError
from librobot_gym.policies.vlm.images import CLIP_MEAN, CLIP_STD, HALF, IMAGENET_MEAN, IMAGENET_STD

TINY_FAMILIES = ("siglip", "paligemma", "qwen2-vl", "smolvlm", "florence-2")
TINY_IMAGE_SIZE = 32  # frame side the tiny towers are built for (Qwen2-VL: any multiple of 16)
_SENTENCES = [
    "pick up the red cube and place it on the green plate",
    "open the top drawer", "push the blue block to the left", "stack the cubes",
    "close the gripper", "move the arm up slowly", "put the apple in the bowl",
]
_WIDTH = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
          "num_attention_heads": 2}


def build_tiny_tokenizer(folder: str | Path, special_tokens: tuple[str, ...] = (),
                         image_token: str | None = None) -> Any:
    """Train a ~300-token byte-level BPE, save it to `folder` as a transformers tokenizer.

    `image_token` names the placeholder as the tokenizer's `image_token` attribute, which
    PaliGemma's and Florence-2's processors read.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    base = ["<pad>", "<s>", "</s>", "<unk>"]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=base + list(special_tokens),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tokenizer.train_from_iterator(_SENTENCES, trainer)
    extra = {"extra_special_tokens": {"image_token": image_token}} if image_token else {}
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>",
                                      bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                      **extra)
    wrapped.save_pretrained(str(folder))
    return wrapped


def _siglip(tok: Any) -> tuple[Any, Any]:
    from transformers import SiglipConfig, SiglipImageProcessorPil, SiglipModel

    config = SiglipConfig(
        text_config={**_WIDTH, "vocab_size": len(tok), "max_position_embeddings": 16,
                     "pad_token_id": tok.pad_token_id, "bos_token_id": tok.bos_token_id,
                     "eos_token_id": tok.eos_token_id},
        vision_config={**_WIDTH, "image_size": TINY_IMAGE_SIZE, "patch_size": 8})
    side = {"height": TINY_IMAGE_SIZE, "width": TINY_IMAGE_SIZE}
    return SiglipModel(config), SiglipImageProcessorPil(size=side)


def _paligemma(tok: Any) -> tuple[Any, Any]:
    from transformers import (
        PaliGemmaConfig,
        PaliGemmaForConditionalGeneration,
        PaliGemmaProcessor,
        SiglipImageProcessorPil,
    )

    config = PaliGemmaConfig(
        vision_config={**_WIDTH, "model_type": "siglip_vision_model",
                       "image_size": TINY_IMAGE_SIZE, "patch_size": 8},
        text_config={**_WIDTH, "model_type": "gemma", "vocab_size": len(tok),
                     "num_key_value_heads": 1, "head_dim": 16, "pad_token_id": tok.pad_token_id,
                     "bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id},
        image_token_index=tok.convert_tokens_to_ids("<image>"), vocab_size=len(tok),
        projection_dim=32, hidden_size=32)
    side = {"height": TINY_IMAGE_SIZE, "width": TINY_IMAGE_SIZE}
    images = SiglipImageProcessorPil(size=side, image_seq_length=(TINY_IMAGE_SIZE // 8) ** 2)
    return PaliGemmaForConditionalGeneration(config), PaliGemmaProcessor(images, tok)


def _qwen2_vl(tok: Any) -> tuple[Any, Any]:
    from transformers import (
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessorPil,
    )

    ids = tok.convert_tokens_to_ids
    config = Qwen2VLConfig(
        text_config={**_WIDTH, "vocab_size": len(tok), "num_key_value_heads": 1,
                     "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                         "mrope_section": [2, 3, 3]},
                     "pad_token_id": tok.pad_token_id, "bos_token_id": None,
                     "eos_token_id": tok.eos_token_id},
        vision_config={"depth": 1, "embed_dim": 32, "hidden_size": 32, "num_heads": 2,
                       "mlp_ratio": 2, "patch_size": 8, "spatial_merge_size": 2,
                       "temporal_patch_size": 2},
        image_token_id=ids("<|image_pad|>"), video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"), vision_end_token_id=ids("<|vision_end|>"))
    processor = Qwen2VLImageProcessorPil(patch_size=8, merge_size=2, temporal_patch_size=2,
                                         size={"shortest_edge": 16 * 16,
                                               "longest_edge": 256 * 256},
                                         image_mean=list(CLIP_MEAN), image_std=list(CLIP_STD))
    return Qwen2VLForConditionalGeneration(config), processor


def _smolvlm(tok: Any) -> tuple[Any, Any]:
    from transformers import (
        SmolVLMConfig,
        SmolVLMForConditionalGeneration,
        SmolVLMImageProcessorPil,
    )

    config = SmolVLMConfig(
        vision_config={**_WIDTH, "image_size": TINY_IMAGE_SIZE, "patch_size": 8},
        text_config={**_WIDTH, "model_type": "llama", "vocab_size": len(tok),
                     "num_key_value_heads": 1, "pad_token_id": tok.pad_token_id,
                     "bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id},
        image_token_id=tok.convert_tokens_to_ids("<image>"), scale_factor=2)
    processor = SmolVLMImageProcessorPil(
        do_image_splitting=False, size={"longest_edge": TINY_IMAGE_SIZE},
        max_image_size={"longest_edge": TINY_IMAGE_SIZE}, image_mean=list(HALF),
        image_std=list(HALF))
    return SmolVLMForConditionalGeneration(config), processor


def _florence2(tok: Any) -> tuple[Any, Any]:
    from transformers import (
        CLIPImageProcessorPil,
        Florence2Config,
        Florence2ForConditionalGeneration,
        Florence2Processor,
    )

    config = Florence2Config(
        vision_config={"depths": [1, 1], "patch_size": [7, 3], "patch_stride": [4, 2],
                       "patch_padding": [3, 1], "patch_prenorm": [False, True],
                       "embed_dim": [16, 32], "num_heads": [1, 2], "num_groups": [1, 2],
                       "window_size": 2, "projection_dim": 32, "drop_path_rate": 0.0,
                       "max_position_embeddings": 16},
        text_config={"model_type": "bart", "vocab_size": len(tok), "d_model": 32,
                     "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 2,
                     "decoder_attention_heads": 2, "encoder_ffn_dim": 64, "decoder_ffn_dim": 64,
                     "max_position_embeddings": 256, "pad_token_id": tok.pad_token_id,
                     "bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id,
                     "decoder_start_token_id": tok.eos_token_id},
        image_token_id=tok.convert_tokens_to_ids("<image>"))
    side = {"height": TINY_IMAGE_SIZE, "width": TINY_IMAGE_SIZE}
    images = CLIPImageProcessorPil(size=side, crop_size=side, do_center_crop=False,
                                   image_mean=list(IMAGENET_MEAN), image_std=list(IMAGENET_STD),
                                   image_seq_length=(TINY_IMAGE_SIZE // 8) ** 2 + 1)
    return Florence2ForConditionalGeneration(config), Florence2Processor(images, tok)


_FAMILIES: dict[str, tuple[tuple[str, ...], Callable[[Any], tuple[Any, Any]]]] = {
    "siglip": ((), _siglip),
    "paligemma": (("<image>",), _paligemma),
    "qwen2-vl": (("<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"),
                 _qwen2_vl),
    "smolvlm": (("<image>", "<fake_token_around_image>", "<global-img>"), _smolvlm),
    "florence-2": (("<image>",), _florence2),
}
# Families saved with their full transformers processor (image processor + tokenizer); the
# others' processors also need a video processor, which needs torchvision, so they get their
# image processor alone.
_WITH_PROCESSOR = ("paligemma", "florence-2")


def build_tiny_checkpoint(family: str, folder: str | Path, seed: int = 0) -> Path:
    """Write a tiny random `family` checkpoint (model + tokenizer + image processor) to `folder`.

    `family` is one of `TINY_FAMILIES` (the registry names of the transformers backbones); the
    folder then loads with `create_vlm(family, pretrained=folder)`. Same seed, same weights.
    """
    if family not in _FAMILIES:
        raise ConfigError(f"no tiny checkpoint recipe for {family!r}; "
                          f"known: {', '.join(TINY_FAMILIES)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    special, build = _FAMILIES[family]
    image_token = "<image>" if family in _WITH_PROCESSOR else None
    tokenizer = build_tiny_tokenizer(folder, special, image_token)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model, processor = build(tokenizer)
    model.save_pretrained(str(folder))
    processor.save_pretrained(str(folder))
    return folder
