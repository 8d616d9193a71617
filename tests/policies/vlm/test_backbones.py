"""VLM backbones: `tiny` (both text encoders) and every transformers family, on tiny random
checkpoints built offline (`librobot_gym.policies.vlm.testing`)."""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from librobot_gym.errors import ConfigError  # noqa: E402
from librobot_gym.policies.vla.interfaces import VLMBackbone, VLMOutput  # noqa: E402
from librobot_gym.policies.vla.registry import VLMS, create_vlm, list_vlms  # noqa: E402
from librobot_gym.policies.vlm.hf import HFBackbone  # noqa: E402
from librobot_gym.policies.vlm.images import qwen2_vl_patchify, resize_normalize  # noqa: E402
from librobot_gym.policies.vlm.testing import (  # noqa: E402
    TINY_FAMILIES,
    TINY_IMAGE_SIZE,
    build_tiny_checkpoint,
)
from librobot_gym.policies.vlm.tiny import TinyVLM, load_minilm  # noqa: E402

TEXT = ["pick up the red cube and put it on the plate", "open"]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """These models are tiny: extra intra-op threads only spin, and on a busy machine they
    made this file 2-3x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _images(batch: int = 2, views: int = 2, height: int = 64, width: int = 64,
            seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, views, 3, height, width, generator=generator)


def _check_output(out: VLMOutput, batch: int, dim: int) -> None:
    assert isinstance(out, VLMOutput)
    assert out.tokens.dim() == 3 and out.tokens.shape[0] == batch and out.tokens.shape[2] == dim
    assert out.mask.shape == out.tokens.shape[:2] and out.mask.dtype == torch.bool
    assert out.pooled.shape == (batch, dim)
    assert torch.isfinite(out.tokens).all() and torch.isfinite(out.pooled).all()
    assert out.mask.any(1).all()
    assert (out.tokens[~out.mask] == 0).all()  # padding carries nothing


# -- registry -----------------------------------------------------------------------------------

def test_every_backbone_is_registered_with_its_aliases():
    assert {"tiny", *TINY_FAMILIES} <= set(list_vlms())
    assert VLMS.resolve("tiny-cnn") == "tiny"
    assert VLMS.resolve("qwen2vl") == "qwen2-vl"
    assert VLMS.resolve("florence2") == "florence-2"
    assert VLMS.resolve("smolvlm2") == "smolvlm"


@pytest.mark.parametrize(("typo", "suggestion"), [("tiny-cn", "tiny-cnn"),
                                                   ("qwen2-vll", "qwen2-vl"),
                                                   ("palligemma", "paligemma")])
def test_unknown_name_suggests_the_close_match(typo, suggestion):
    with pytest.raises(ConfigError, match=f"did you mean .*'{suggestion}'"):
        create_vlm(typo)


# -- tiny ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=["learned", "minilm"])
def tiny(request) -> TinyVLM:
    torch.manual_seed(0)
    return create_vlm("tiny", text_encoder=request.param, embed_dim=64)


def test_tiny_forward_shapes_and_mask(tiny):
    out = tiny(_images(), TEXT)
    _check_output(out, 2, 64)
    image_tokens = tiny.encode_image(_images())
    assert image_tokens.shape == (2, 2 * 16, 64)  # 4x4 grid per camera
    assert out.mask[:, : image_tokens.shape[1]].all()
    text_len = out.mask[:, image_tokens.shape[1]:].sum(1)
    assert text_len[0] > text_len[1] > 0  # the longer instruction has more real tokens
    assert tiny.encode_text(TEXT).shape[::2] == (2, 64)
    assert tiny.get_embedding_dim() == 64


def test_spatial_softmax_finds_a_hot_spot():
    from librobot_gym.policies.vlm.tiny import SpatialSoftmax

    layer = SpatialSoftmax(1, 1)
    with torch.no_grad():
        layer.maps.weight.fill_(1.0)
        layer.maps.bias.zero_()
        layer.temperature.fill_(3.0)  # sharp: the expectation sits on the peak
    features = torch.zeros(1, 1, 16, 16)
    features[0, 0, 4, 12] = 10.0  # row 4 (y), column 12 (x)
    x, y = layer(features)[0, 0].tolist()
    assert x == pytest.approx(-1 + 2 * 12 / 15, abs=1e-3)
    assert y == pytest.approx(-1 + 2 * 4 / 15, abs=1e-3)


def test_tiny_keypoint_tokens_follow_the_image_tokens():
    vlm = create_vlm("tiny", text_encoder="learned", embed_dim=32, channels=[8, 16],
                     keypoints=5, keypoint_block=1)
    assert vlm.encode_image(_images()).shape == (2, 2 * (16 + 5), 32)
    rebuilt = create_vlm("tiny", **vlm.config)
    rebuilt.load_state_dict(vlm.state_dict())  # the config rebuilds the same modules
    with pytest.raises(ConfigError, match="keypoint_block"):
        create_vlm("tiny", text_encoder="learned", channels=[8, 16], keypoints=2,
                   keypoint_block=3)


def test_tiny_accepts_any_frame_size_and_camera_count(tiny):
    out = tiny(_images(views=3, height=128, width=96), TEXT)
    assert out.mask.sum(1).min() >= 3 * 16
    with pytest.raises(ConfigError, match="max_cameras"):
        tiny(_images(views=5, height=32, width=32), TEXT)


def test_tiny_trains_its_image_encoder_and_rebuilds_from_config(tiny):
    tiny.zero_grad()
    out = tiny(_images(), TEXT)
    (out.pooled.square().mean() + out.tokens.square().mean()).backward()
    grads = [p.grad for p in tiny.image_encoder.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)
    assert tiny.cameras.grad is not None and tiny.cameras.grad.abs().sum() > 0

    config = json.loads(json.dumps(tiny.config))  # what a VLA checkpoint stores
    rebuilt = create_vlm("tiny", **config)
    rebuilt.load_state_dict(tiny.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(_images(), TEXT).tokens, tiny(_images(), TEXT).tokens)


def test_tiny_minilm_is_frozen_shared_and_outside_the_state_dict():
    a = TinyVLM(embed_dim=32, text_encoder="minilm")
    b = TinyVLM(embed_dim=32, text_encoder="minilm")
    tokenizer, minilm = load_minilm()
    assert load_minilm()[1] is minilm  # loaded once per process
    assert not any(p.requires_grad for p in minilm.parameters())
    assert not any(k.startswith("text_encoder.model") for k in a.state_dict())
    assert sum(p.numel() for p in a.parameters()) == sum(p.numel() for p in b.parameters())
    assert sum(p.numel() for p in a.parameters()) < 1_000_000  # MiniLM (22M) is not in it
    # Pretrained states: two phrasings of one instruction are closer than an unrelated one.
    states = a.text_encoder._states(["pick up the cube", "grab the block", "the weather is"])
    pooled = torch.stack([s.mean(0) for s in states])
    similarity = torch.nn.functional.cosine_similarity(pooled[0:1], pooled[1:])
    assert similarity[0] > similarity[1]


def test_film_starts_as_the_plain_encoder_and_lets_the_instruction_shape_image_tokens():
    """FiLM (film=True) is the identity at initialisation (same tokens as film=False with the
    same weights), then the instruction changes the image tokens, and it trains."""
    torch.manual_seed(0)
    plain = TinyVLM(embed_dim=32, text_encoder="learned", channels=(8, 16), keypoints=4,
                    keypoint_block=2)
    filmed = TinyVLM(**{**plain.config, "film": True})
    assert filmed.config["film"] is True and plain.config["film"] is False
    missing = filmed.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert sorted(missing) == ["film.bias", "film.weight"]
    images, said = torch.rand(2, 2, 3, 32, 32), ["pick the red cup", "press the blue button"]
    assert torch.allclose(plain(images, said).tokens, filmed(images, said).tokens, atol=1e-6)
    image_tokens = 2 * (16 + 4)  # two views of 4x4 grid cells and 4 keypoints
    torch.nn.init.normal_(filmed.film.weight, std=0.5)
    swapped = filmed(images, said[::-1]).tokens[:, :image_tokens]
    assert (filmed(images, said).tokens[:, :image_tokens] - swapped).abs().max() > 1e-2
    filmed(images, said).pooled.sum().backward()
    assert filmed.film.weight.grad is not None and filmed.film.weight.grad.abs().sum() > 0


def test_preloaded_text_states_stand_in_for_minilm_where_it_is_absent(tmp_path, monkeypatch):
    """A machine without the MiniLM package trains from exported states: same token states,
    and only an instruction missing from the file asks for the package."""
    from librobot_gym.policies.vlm import tiny as tiny_module

    said = ["pick up the red mug", "press the blue button"]
    path = str(tmp_path / "states.pt")
    assert tiny_module.export_text_states(said * 2, path) == 2
    reference = TinyVLM(embed_dim=32, text_encoder="minilm")
    expected = reference.text_encoder._states(said)

    monkeypatch.setattr(tiny_module, "_PRELOADED", {})

    def absent():
        raise ConfigError("text_encoder='minilm' needs the `vla` extra")

    monkeypatch.setattr(tiny_module, "load_minilm", absent)
    assert tiny_module.preload_text_states(path) == 2
    encoder = tiny_module.MiniLMTextEncoder(32, 64)  # builds without the package
    for got, want in zip(encoder._states(said), expected, strict=True):
        assert torch.allclose(got, want, atol=1e-5)
    with pytest.raises(ConfigError, match="vla"):
        encoder._states(["an instruction nobody exported"])
    torch.save({"a": torch.zeros(3)}, tmp_path / "bad.pt")
    with pytest.raises(ConfigError, match="not a file of MiniLM text states"):
        tiny_module.preload_text_states(str(tmp_path / "bad.pt"))


def test_tiny_freeze_and_input_checks():
    vlm = TinyVLM(embed_dim=32, text_encoder="learned", frozen=True)
    assert not any(p.requires_grad for p in vlm.parameters())
    vlm.freeze(False)
    assert all(p.requires_grad for p in vlm.parameters())
    with pytest.raises(ConfigError, match="text_encoder"):
        TinyVLM(text_encoder="bert")
    with pytest.raises(ConfigError, match=r"\[B, V, 3, H, W\]"):
        vlm(torch.rand(2, 3, 64, 64), TEXT)
    with pytest.raises(ConfigError, match="uint8"):
        vlm((_images() * 255).to(torch.uint8), TEXT)
    with pytest.raises(ConfigError, match="list of strings"):
        vlm(_images(), "open")
    with pytest.raises(ConfigError, match="batch of 2"):
        vlm(_images(), ["open"])


# -- transformers families ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("vlm")
    return {family: str(build_tiny_checkpoint(family, root / family)) for family in TINY_FAMILIES}


@pytest.fixture(scope="module")
def backbones(checkpoints) -> dict[str, HFBackbone]:
    # Qwen2-VL has no native frame size (224 by default: 64 tokens per camera at patch 14, 196
    # at the tiny patch 8); the tiny towers' size keeps these tests quick.
    sizes = {"qwen2-vl": {"image_size": TINY_IMAGE_SIZE}}
    return {family: VLMS.get(family).from_pretrained(folder, **sizes.get(family, {}))
            for family, folder in checkpoints.items()}


@pytest.mark.parametrize("family", TINY_FAMILIES)
def test_hf_backbone_forward(backbones, family):
    vlm = backbones[family]
    assert isinstance(vlm, VLMBackbone) and vlm.registry_name == family
    dim = vlm.get_embedding_dim()
    assert dim == 32
    vlm.train()  # a frozen backbone ignores this: no dropout, no gradients
    assert not vlm.model.training
    assert not any(p.requires_grad for p in vlm.parameters())

    out = vlm(_images(), TEXT)
    _check_output(out, 2, dim)
    assert not out.tokens.requires_grad
    image = vlm.encode_image(_images())
    assert image.shape[0] == 2 and image.shape[2] == dim and torch.isfinite(image).all()
    # Every image feature has a real slot, and the longer instruction has more real tokens.
    assert out.mask.sum(1)[1] >= image.shape[1]
    assert out.mask.sum(1)[0] > out.mask.sum(1)[1]
    text = vlm.encode_text(TEXT)
    assert text.shape[0] == 2 and text.shape[2] == dim and torch.isfinite(text).all()


@pytest.mark.parametrize("family", TINY_FAMILIES)
def test_hf_batching_does_not_leak_between_samples(backbones, family):
    """Padding is masked: each sample's real tokens are what it gets alone."""
    vlm = backbones[family]
    images = _images(seed=1)
    batched = vlm(images, TEXT)
    for i in range(2):
        alone = vlm(images[i: i + 1], TEXT[i: i + 1])
        length = int(alone.mask.sum())
        assert int(batched.mask[i].sum()) == length
        torch.testing.assert_close(batched.tokens[i][batched.mask[i]],
                                   alone.tokens[0][alone.mask[0]], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("family", TINY_FAMILIES)
def test_create_vlm_by_name_and_rebuild_from_config(backbones, checkpoints, family):
    vlm = create_vlm(family, pretrained=checkpoints[family])
    assert type(vlm) is type(backbones[family])
    config = json.loads(json.dumps(vlm.config))
    assert config["pretrained"] == checkpoints[family] and config["frozen"] is True
    rebuilt = create_vlm(family, **config)
    images = _images(seed=2)
    torch.testing.assert_close(rebuilt(images, TEXT).tokens, vlm(images, TEXT).tokens)


def test_hf_backbone_can_be_fine_tuned(checkpoints):
    vlm = create_vlm("paligemma", pretrained=checkpoints["paligemma"], frozen=False)
    assert all(p.requires_grad for p in vlm.parameters())
    out = vlm(_images(), TEXT)
    out.pooled.square().sum().backward()
    vision = [p.grad for p in vlm.model.model.vision_tower.parameters()]
    assert any(g is not None and g.abs().sum() > 0 for g in vision)


def test_hf_image_size_comes_from_the_folder_and_can_be_overridden(backbones, checkpoints):
    assert backbones["siglip"].image_size == TINY_IMAGE_SIZE  # preprocessor_config.json
    assert backbones["florence-2"].image_size == TINY_IMAGE_SIZE
    assert backbones["smolvlm"].image_size == TINY_IMAGE_SIZE  # vision config
    default = create_vlm("qwen2-vl", pretrained=checkpoints["qwen2-vl"])
    assert default.image_size == 224  # dynamic-resolution family: our default
    qwen = create_vlm("qwen2-vl", pretrained=checkpoints["qwen2-vl"], image_size=44)
    assert qwen.image_size == 48  # rounded to a multiple of patch (8) x merge (2)
    assert qwen.encode_image(_images()).shape[1] == 2 * (48 // 16) ** 2


@pytest.mark.parametrize(("family", "views"), [("paligemma", 2), ("florence-2", 1)])
def test_same_states_as_the_transformers_processor_and_model(checkpoints, backbones, family,
                                                             views):
    """Our torch preprocessing + prompt == the family's own processor feeding its own model.

    (Frames are multiples of 1/255: the PIL processor quantises to 8 bits. Florence-2's
    processor takes one image per prompt. Qwen2-VL's and SmolVLM's processors need torchvision.)
    """
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(checkpoints[family])
    vlm = backbones[family]
    images = torch.randint(0, 256, (2, views, 3, 32, 32),
                           generator=torch.Generator().manual_seed(5)) / 255.0
    frames = [[f.numpy() for f in sample] for sample in images]
    inputs = processor(images=frames if views > 1 else [s[0] for s in frames], text=TEXT,
                       padding=True, do_rescale=False, input_data_format="channels_first",
                       return_tensors="np")
    inputs = {k: torch.from_numpy(v) for k, v in inputs.items() if k != "labels"}
    with torch.no_grad():
        reference = vlm.model.model(**inputs)
    states = getattr(reference, "encoder_last_hidden_state", None)
    states = reference.last_hidden_state if states is None else states
    real = inputs["attention_mask"].bool()
    ours = vlm(images, TEXT)
    assert torch.equal(ours.mask, real)
    torch.testing.assert_close(ours.tokens[ours.mask], states[real], atol=1e-5, rtol=1e-5)


def test_qwen2_vl_patch_layout_matches_the_transformers_image_processor(checkpoints):
    """Our torch patchify == Qwen2VLImageProcessorPil on frames already at the model size."""
    from transformers import Qwen2VLImageProcessorPil

    processor = Qwen2VLImageProcessorPil.from_pretrained(checkpoints["qwen2-vl"])
    frames = _images(batch=3, views=1, height=32, width=48, seed=3)[:, 0]
    expected = processor([f.numpy() for f in frames], do_resize=False, do_rescale=False,
                         input_data_format="channels_first", return_tensors="pt")
    mean = torch.tensor(processor.image_mean).view(3, 1, 1)
    std = torch.tensor(processor.image_std).view(3, 1, 1)
    pixels = (frames - mean) / std  # non-square on purpose: rows and columns must not swap
    flat, grid = qwen2_vl_patchify(pixels, 8, 2, 2)
    assert grid.tolist() == expected["image_grid_thw"].tolist()
    np.testing.assert_allclose(flat.numpy(), expected["pixel_values"].numpy(), atol=1e-5)


def test_normalisation_matches_the_transformers_image_processor(checkpoints):
    from transformers import SiglipImageProcessorPil

    processor = SiglipImageProcessorPil.from_pretrained(checkpoints["siglip"])
    frames = _images(batch=2, views=1, height=32, width=32, seed=4)[:, 0]
    expected = processor([f.numpy() for f in frames], do_resize=False, do_rescale=False,
                         input_data_format="channels_first", return_tensors="pt")
    ours = resize_normalize(frames, 32, processor.image_mean, processor.image_std)
    np.testing.assert_allclose(ours.numpy(), expected["pixel_values"].numpy(), atol=1e-5)


def test_unknown_tiny_checkpoint_family(tmp_path):
    with pytest.raises(ConfigError, match="no tiny checkpoint recipe"):
        build_tiny_checkpoint("llava", tmp_path)
