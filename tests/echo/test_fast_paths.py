"""Speed paths that must not change what is computed: the centre-tap dilated
convolution (DeepLabV3's ASPP on small maps) and batch norms folded for
pseudo-label inference."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from cardiobench.engine import devices
from cardiobench_echo.models.segmentation import CentreTapConv2d, LVSegmenter, centre_tap_dilated_convolutions


@pytest.mark.parametrize("size", [3, 4, 12, 30])  # dilation 12 reaches past 3, 4 and 12 pixels on every side, not past 30
def test_centre_tap_convolution_gives_the_same_outputs_and_gradients(size: int):
    torch.manual_seed(0)
    plain = nn.Conv2d(6, 5, 3, padding=12, dilation=12)
    fast = centre_tap_dilated_convolutions(nn.Sequential(copy.deepcopy(plain)))[0]
    assert isinstance(fast, CentreTapConv2d)
    x1 = torch.randn(2, 6, size, size, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    out1, out2 = plain(x1), fast(x2)
    torch.testing.assert_close(out2, out1)
    weights = torch.randn_like(out1)
    (out1 * weights).sum().backward()
    (out2 * weights).sum().backward()
    torch.testing.assert_close(x2.grad, x1.grad)
    torch.testing.assert_close(fast.weight.grad, plain.weight.grad)
    torch.testing.assert_close(fast.bias.grad, plain.bias.grad)
    off_centre = fast.weight.grad.clone()
    off_centre[:, :, 1, 1] = 0
    assert (off_centre.abs().max() == 0) == (size <= 12)  # padding-only taps learn nothing, in both


def test_deeplab_uses_centre_taps_and_keeps_its_checkpoint_keys():
    torch.manual_seed(0)
    model = LVSegmenter("mobilenet_v3_large")
    assert sum(isinstance(m, CentreTapConv2d) for m in model.modules()) >= 3  # ASPP's three rates
    reference = torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=1, aux_loss=False)
    assert set(model.net.state_dict()) == set(reference.state_dict())  # checkpoints keep their keys


def test_folded_batch_norms_predict_what_the_model_predicts():
    torch.manual_seed(0)
    model = LVSegmenter("mobilenet_v3_large").train()
    with torch.no_grad():  # running statistics away from their initial 0 and 1
        for _ in range(3):
            model(torch.randn(8, 3, 64, 64) * 2 + 0.5)
    model.eval()
    folded = devices.fold_batch_norm(model)
    assert sum(isinstance(m, nn.Identity) for m in folded.modules()) > 40
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())  # the model itself is untouched
    x = torch.randn(4, 3, 64, 64)
    with torch.inference_mode():
        np.testing.assert_allclose(folded(x).numpy(), model(x).numpy(), rtol=1e-4, atol=1e-4)
