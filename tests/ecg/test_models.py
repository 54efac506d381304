"""Window attention (section 3.3), localisation of abnormal beats, and the
four models' forward passes and training steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cardiobench import config
from cardiobench_ecg.analysis import localisation
from cardiobench_ecg.models import window_attention


def _reference(l: np.ndarray, pooling: str, k: int) -> np.ndarray:
    left = (k - 1) // 2
    padded = np.concatenate([np.zeros(left), l, np.zeros(k - 1 - left)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, k)
    return np.sqrt((windows**2).sum(axis=1)) if pooling == "l2" else np.maximum(windows, 0).max(axis=1)


@pytest.mark.parametrize("pooling", ["l2", "max"])
@pytest.mark.parametrize("kernel", [100, 200, 300])
def test_window_attention_matches_a_plain_loop(pooling, kernel):
    l = torch.randn(2, 1, 2000, dtype=torch.float64)
    a = window_attention(l, pooling, kernel)
    assert a.shape == l.shape
    for row in range(2):
        assert np.allclose(a[row, 0].numpy(), _reference(l[row, 0].numpy(), pooling, kernel), atol=1e-5)


def test_zero_padding_and_sign_handling():
    ones = torch.ones(1, 1, 1000)
    l2 = window_attention(ones, "l2", 200)
    assert l2[0, 0, 500].item() == pytest.approx(np.sqrt(200), rel=1e-5)  # a full window
    assert l2[0, 0, 0].item() == pytest.approx(np.sqrt(101), rel=1e-5)  # 99 padded zeros on the left
    negative = -ones
    assert window_attention(negative, "max", 200).abs().max().item() == 0  # ReLU first: all weights >= 0
    assert window_attention(negative, "l2", 200)[0, 0, 500].item() == pytest.approx(np.sqrt(200), rel=1e-5)  # L2 keeps negative energy
    grad = torch.zeros(1, 1, 400, requires_grad=True)
    window_attention(grad, "l2", 200).sum().backward()
    assert torch.isfinite(grad.grad).all()


def test_localisation_on_a_constructed_example():
    beats = [np.array([[0, 300, 0], [300, 600, 1], [600, 900, 0], [900, 1200, 0]])]
    focused = np.zeros((1, 2000))
    focused[0, 350:550] = 1.0
    result = localisation(focused, beats)
    assert result["attention_mass_abnormal"] == pytest.approx(1.0)
    assert result["attention_mass_chance"] == pytest.approx(0.25)
    assert result["attention_lift"] == pytest.approx(4.0)
    assert result["peak_in_abnormal"] == 1.0 and result["abnormal_beats_above_normal"] == 1.0
    wrong = np.zeros((1, 2000))
    wrong[0, 650:700] = 1.0
    flat = np.ones((1, 2000))
    assert localisation(wrong, beats)["peak_in_abnormal"] == 0.0 and localisation(wrong, beats)["attention_mass_abnormal"] == 0.0
    assert localisation(flat, beats)["attention_lift"] == pytest.approx(1.0)
    assert localisation(focused, [np.array([[0, 300, 0]])]) == {}  # no abnormal beat: nothing to measure


@pytest.mark.parametrize("name", ["ecg-joint-l2", "ecg-joint-max", "ecg-classifier", "ecg-cascaded"])
def test_model_forward_and_training_step(registry, name):
    resolved = config.resolve(registry.task("ecg-pvc-apb"), registry.model(name), "quick")
    torch.manual_seed(0)
    model = registry.model(name).build(resolved.values, {"leads": 2, "class_weights": [3.0, 0.6]})
    x = torch.randn(4, 2, 2000)
    batch = {"input": x, "target": torch.tensor([0, 1, 1, 0])}
    outputs = model(x)
    probs = model.predict(outputs)
    assert probs.shape == (4, 2) and torch.allclose(probs.sum(dim=1), torch.ones(4))
    if name.startswith("ecg-joint"):
        a = outputs["attention"]
        assert a.shape == x.shape and torch.equal(a[:, 0], a[:, 1]) and (a >= 0).all()
    else:
        assert "attention" not in outputs
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = [p.detach().clone() for p in model.parameters()]
    loss = model.loss(outputs, batch)
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))
