"""The STCA paper's components: ACR, TCA, S-TCA, the semi-supervised branch,
pseudo-labels and every registered lvef model."""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cardiobench import config
from cardiobench_echo.echonet.clips import ClipSpec, VideoClips
from cardiobench_echo.models import attention as attention_module
from cardiobench_echo.models.acr import Anchors
from cardiobench_echo.models.attention import MotionExcitation, SqueezeExcitation, TemporalChannelAttention, lv_attention_mask
from cardiobench_echo.models.stca import EFNet
from cardiobench_echo.pseudo_labels import WithPseudoLabels

LVEF_MODELS = ["r2plus1d", "mc3", "r3d", "r2plus1d-acr", "tca", "stca", "se", "me"]


# ------------------------------------------------------------------------- ACR (Eq. 5, 10-12)
def test_acr_encoding_by_hand():
    anchors = Anchors(20)
    assert anchors.length == 5.0 and anchors.centres[0] == 2.5 and anchors.centres[19] == 97.5
    u, v = anchors.encode(torch.tensor([57.3, 0.0, 100.0, 4.99]))
    assert u.tolist() == [11, 0, 19, 0]  # floor(y / l), 100 clamped to M - 1
    assert math.isclose(v[0, 11].item(), (57.3 - 57.5) / 5, abs_tol=1e-6)
    assert math.isclose(v[0, 0].item(), (57.3 - 2.5) / 5, abs_tol=1e-6)
    assert math.isclose(v[2, 19].item(), (100 - 97.5) / 5, abs_tol=1e-6)


def test_decode_of_encode_is_identity():
    anchors = Anchors(20)
    y = torch.cat([torch.rand(500) * 100, torch.tensor([0.0, 5.0, 50.0, 99.99, 100.0])])
    u, v = anchors.encode(y)
    logits = F.one_hot(u, 20).float() * 30
    torch.testing.assert_close(anchors.decode(logits, v), y, rtol=0, atol=1e-4)
    torch.testing.assert_close(anchors.decode(logits, v, "expectation"), y, rtol=0, atol=1e-3)


def test_acr_loss_by_hand():
    anchors = Anchors(4)  # l = 25, centres 12.5, 37.5, 62.5, 87.5
    logits = torch.tensor([[0.5, 2.0, -1.0, 0.0]])
    offsets = torch.tensor([[0.3, -0.2, 1.7, 0.0]])
    y = 40.0
    z = [math.exp(a) for a in logits[0].tolist()]
    p = [a / sum(z) for a in z]
    v = [(y - c) / 25 for c in (12.5, 37.5, 62.5, 87.5)]
    smooth = [0.5 * d * d if abs(d) < 1 else abs(d) - 0.5 for d in (o - t for o, t in zip(offsets[0].tolist(), v))]
    expected = -math.log(p[1]) + sum(pm * s for pm, s in zip(p, smooth))
    assert math.isclose(anchors.loss(logits, offsets, torch.tensor([y])).item(), expected, rel_tol=1e-5)
    decoded = anchors.decode(logits, offsets).item()
    assert math.isclose(decoded, 37.5 + 25 * -0.2, rel_tol=1e-6)  # k = argmax p = 1
    expectation = sum(pm * (c + 25 * o) for pm, c, o in zip(p, (12.5, 37.5, 62.5, 87.5), offsets[0].tolist()))
    assert math.isclose(anchors.decode(logits, offsets, "expectation").item(), expectation, rel_tol=1e-5)


def test_acr_regression_weights_carry_gradient_only_when_asked():
    anchors = Anchors(4)
    logits = torch.randn(3, 4, requires_grad=True)
    offsets = torch.randn(3, 4)
    y = torch.tensor([10.0, 50.0, 90.0])
    (detached,) = torch.autograd.grad(anchors.loss(logits, offsets, y, weight_grad=False), logits)
    (ce_only,) = torch.autograd.grad(F.cross_entropy(logits, anchors.encode(y)[0]), logits)
    torch.testing.assert_close(detached, ce_only)
    (weighted,) = torch.autograd.grad(anchors.loss(logits, offsets, y), logits)
    assert not torch.allclose(weighted, ce_only)


# ------------------------------------------------------------------------------ TCA (Eq. 1-2)
def test_tca_equals_its_formula_written_out():
    torch.manual_seed(0)
    tca = TemporalChannelAttention(32)
    x = torch.randn(2, 32, 7, 5, 6)
    local_max = F.max_pool3d(x, (3, 1, 1), stride=1, padding=(1, 0, 0))
    local_mean = F.avg_pool3d(x, (3, 1, 1), stride=1, padding=(1, 0, 0), count_include_pad=False)
    difference = local_max.mean(dim=(3, 4)) - local_mean.mean(dim=(3, 4))
    e = torch.sigmoid(F.conv1d(F.relu(F.conv1d(difference, tca.reduce.weight, tca.reduce.bias)), tca.expand.weight, tca.expand.bias))
    assert tca.reduce.out_channels == 2  # reduction r = 16
    torch.testing.assert_close(tca(x), x * e[..., None, None] + x, rtol=1e-5, atol=1e-6)


def test_tca_uses_the_shared_kernels():
    tca = TemporalChannelAttention(16)
    with mock.patch.object(attention_module, "tca_pool_diff", wraps=attention_module.tca_pool_diff) as pool, mock.patch.object(attention_module, "excite", wraps=attention_module.excite) as excite:
        tca(torch.randn(1, 16, 4, 3, 3))
    assert pool.call_count == 1 and excite.call_count == 1


def test_stca_weights_ignore_features_outside_the_dilated_mask():
    torch.manual_seed(1)
    stca = TemporalChannelAttention(32)
    ed_logits = torch.full((2, 32, 32), -5.0)
    ed_logits[:, 12:20, 14:18] = 5.0  # the predicted LV
    mask = lv_attention_mask(ed_logits, (8, 8), dilation=3, hard=True)
    assert mask.shape == (2, 1, 1, 8, 8)
    core = lv_attention_mask(ed_logits, (8, 8), dilation=1, hard=True)
    assert mask.sum() > core.sum() and bool((mask >= core).all())  # dilation by max-pooling grows the region

    x = torch.randn(2, 32, 6, 8, 8)
    changed = torch.where(mask.bool().expand_as(x), x, torch.randn_like(x) * 10)
    assert not torch.equal(changed, x)
    torch.testing.assert_close(stca.weights(changed, mask), stca.weights(x, mask))
    assert not torch.allclose(stca.weights(changed), stca.weights(x))  # without the mask it would change


# ----------------------------------------------------------------------- pseudo-labels, alpha
def test_pseudo_labels_are_the_largest_and_smallest_masks_of_the_clip():
    frames, period, length = 4, 2, 12
    areas = [5, 9, 2, 30, 1, 7, 25, 3, 8, 4, 6, 20]  # per frame
    masks = np.zeros((length, 8, 8), np.uint8)
    for t, a in enumerate(areas):
        masks.reshape(length, -1)[t, :a] = 1
    video = np.zeros((length, 8, 8, 3), np.uint8)
    clips = VideoClips(["v"], [lambda: video], [50.0], ClipSpec(frames, period, np.zeros(3, np.float32), np.ones(3, np.float32)), "train", seed=3)
    data = WithPseudoLabels(clips, [lambda: masks], np.array([0.8], np.float32))
    for epoch in range(5):
        data.set_epoch(epoch)
        item = data[0]
        chosen = [areas[t] for t in item["start"] + period * np.arange(frames)]
        assert item["pseudo_ed"].sum().item() == max(chosen) and item["pseudo_es"].sum().item() == min(chosen)
        assert math.isclose(item["alpha"].item(), 0.8, rel_tol=1e-6)


def small_batch(model_size: int = 32, frames: int = 8, alpha: float = 1.0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(2)
    return {
        "input": torch.randn(2, 3, frames, model_size, model_size, generator=g),
        "target": torch.tensor([35.0, 62.0]),
        "pseudo_ed": (torch.rand(2, model_size, model_size, generator=g) > 0.6).float(),
        "pseudo_es": (torch.rand(2, model_size, model_size, generator=g) > 0.7).float(),
        "alpha": torch.full((2,), alpha),
    }


def test_alpha_scales_the_auxiliary_loss():
    torch.manual_seed(3)
    model = EFNet("tca", semantic=True, beta=0.01).eval()
    batch = small_batch()
    with torch.no_grad():
        out = model(batch["input"])
        ef_only = model.head.anchors.loss(out["logits"], out["offsets"], batch["target"]).item()
        losses = {a: model.loss(out, {**batch, "alpha": torch.full((2,), a)}).item() for a in (0.0, 1.0, 2.0)}
        seg = sum(0.5 * F.binary_cross_entropy_with_logits(out[p], batch[f"pseudo_{p}"], reduction="none").sum(dim=(1, 2)) for p in ("ed", "es")).mean().item()
    assert math.isclose(losses[0.0], ef_only, rel_tol=1e-6)
    assert math.isclose(losses[1.0] - ef_only, 0.01 * seg, rel_tol=1e-4)  # L = L_ef + beta alpha L_seg, BCE summed over pixels
    assert math.isclose(losses[2.0] - ef_only, 2 * (losses[1.0] - ef_only), rel_tol=1e-4)
    validation = {k: v for k, v in batch.items() if not k.startswith(("pseudo", "alpha"))}
    assert math.isclose(model.loss(out, validation).item(), ef_only, rel_tol=1e-6)  # no pseudo-labels, no auxiliary loss


def test_gradients_reach_every_branch():
    torch.manual_seed(4)
    model = EFNet("tca", semantic=True)
    batch = small_batch(frames=16)  # two time steps after stage 4, so its temporal statistics are not constant
    model.loss(model(batch["input"]), batch).backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None or not torch.any(p.grad != 0)]
    assert missing == []
    for branch in ("stem", "stages", "attention", "segmentation.relevance.ed", "segmentation.relevance.es", "segmentation.aspp", "segmentation.decoder", "head"):
        assert any(name.startswith(branch) for name, _ in model.named_parameters())


def test_se_and_me_modules():
    x = torch.randn(2, 32, 5, 4, 4)
    se = SqueezeExcitation(32)
    scale = torch.sigmoid(se.expand(torch.relu(se.reduce(x.mean(dim=(2, 3, 4))))))
    torch.testing.assert_close(se(x), x * scale[:, :, None, None, None])
    me = MotionExcitation(32).eval()
    out = me(x)
    assert out.shape == x.shape and not torch.allclose(out, x)
    still = x[:, :, :1].expand_as(x).contiguous()  # no motion: A = 2 sigmoid(BN(conv(0))) - 1 is the same for every frame
    a = me(still) / still - 1
    torch.testing.assert_close(a[:, :, 0], a[:, :, 1])
    assert me(torch.randn(1, 32, 1, 4, 4)).shape == (1, 32, 1, 4, 4)  # a single frame has no motion


# ------------------------------------------------------------------------- registered models
@pytest.mark.parametrize("name", LVEF_MODELS)
def test_each_lvef_model_forward_on_a_small_clip(registry, name: str):
    spec = registry.model(name)
    values = config.resolve(registry.task("lvef"), spec, "paper").values
    torch.manual_seed(5)
    model = spec.build(values, {"train_target_mean": 55.0}).eval()
    batch = small_batch(frames=8)
    with torch.no_grad():
        out = model(batch["input"])
        prediction = model.predict(out)
        loss = model.loss(out, batch)
    assert prediction.shape == (2,) and torch.isfinite(prediction).all() and torch.isfinite(loss)


def test_reported_results_cover_tables_1_to_3(registry):
    rows = registry.reported_for("lvef")
    assert {r.table for r in rows} == {"Table 1", "Table 2", "Table 3"} and len(rows) == 36
    stca_mae = [r.value for r in rows if r.model == "stca" and r.metric == "mae"]
    assert stca_mae == [3.83, 3.83]
    assert next(r for r in rows if r.method == "EchoNet-Dynamic").protocol != "paper"
    assert {r.model for r in rows if r.model} == {"mc3", "r3d", "r2plus1d", "r2plus1d-acr", "tca", "stca", "se", "me"}
