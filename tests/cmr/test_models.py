"""Every cmr model: forward shapes and one training step at the ci sizes;
the multi-task model's two heads and loss; class activation maps."""

from __future__ import annotations

import pytest
import torch

from cardiobench.config import resolve
from cardiobench.engine.losses import jaccard_distance
from cardiobench.specs import parameter_count

SEGMENTERS = ("unet", "segnet", "deeplabv3", "mtl-attn")
CLASSIFIERS = ("mtl-attn", "acnet", "resattnet56", "resnet50", "resnet101", "vgg16")


def _batch(size: int = 32, n: int = 4) -> dict:
    torch.manual_seed(0)
    mask = torch.zeros(n, size, size)
    mask[:, size // 4 : size // 2, size // 4 : size // 2] = 1
    label = torch.tensor([0, 1] * (n // 2))
    return {"input": torch.randn(n, 1, size, size), "targets": {"myo-seg": mask, "dcm-cls": label}, "id": [str(i) for i in range(n)]}


def _build(registry, task: str, name: str) -> torch.nn.Module:
    config = resolve(registry.task(task), registry.model(name), "ci").values
    return registry.model(name).build(config, {"task": task, "in_channels": 1})


@pytest.mark.parametrize(("task", "name"), [("myo-seg", m) for m in SEGMENTERS] + [("dcm-cls", m) for m in CLASSIFIERS])
def test_forward_and_a_training_step(registry, task: str, name: str):
    model = _build(registry, task, name)
    batch = _batch()
    batch["target"] = batch["targets"][task]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    model.train()
    loss = model.loss(model(batch["input"]), batch)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad and p.ndim > 1), "every weight takes part"
    model.eval()
    with torch.no_grad():
        pred = model.predict(model(batch["input"]))
    assert pred.shape == ((4, 32, 32) if task == "myo-seg" else (4, 2))
    assert float(pred.min()) >= 0 and float(pred.max()) <= 1


def test_multi_task_model_predicts_both_tasks_and_weights_its_losses(registry):
    model = _build(registry, "dcm-cls", "mtl-attn").eval()
    batch = _batch()
    with torch.no_grad():
        outputs = model(batch["input"])
        joint = model.joint_predict(outputs)
        loss = model.loss(outputs, batch)
    assert joint["myo-seg"].shape == (4, 32, 32) and joint["dcm-cls"].shape == (4, 2)
    assert torch.equal(model.predict(outputs), joint["dcm-cls"])
    seg = jaccard_distance(outputs["mask"], batch["targets"]["myo-seg"])
    ce = torch.nn.functional.cross_entropy(outputs["logits"], batch["targets"]["dcm-cls"])
    assert torch.allclose(loss, 3.0 * seg + ce), "paper 1, Eq. 5 with the segmentation weight 3"


def test_jaccard_distance_matches_its_definition():
    logits = torch.tensor([[[10.0, -10.0], [10.0, -10.0]]])
    target = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])
    # prob ~ [[1, 0], [1, 0]]: overlap 1, union 2 -> distance (1 - (1 + 1) / (2 + 1)) with eps 1
    assert jaccard_distance(logits, target).item() == pytest.approx(1 - 2 / 3, abs=1e-4)
    assert jaccard_distance(logits, target, eps=0.0).item() == pytest.approx(0.5, abs=1e-4)


@pytest.mark.parametrize("name", ["acnet", "resattnet56", "resnet50", "mtl-attn"])
def test_class_activation_maps(registry, name: str):
    model = _build(registry, "dcm-cls", name).eval()
    with torch.no_grad():
        maps = model.cam(torch.randn(2, 1, 64, 64))
    assert maps.ndim == 3 and maps.shape[0] == 2 and torch.isfinite(maps).all()


def test_paper_widths_give_the_published_sizes(registry):
    """SegNet with VGG16's widths has SegNet's 29.5M parameters (Badrinarayanan
    et al., Table 6). Residual Attention Network-56 for one channel and two
    classes has exactly the parameters of pytorchcv's ``resattnet56`` with
    ``in_channels=1, num_classes=2`` (29,759,554, counted with pytorchcv
    0.0.74, whose model does not run at 128 x 128: its final 7 x 7 pooling)."""
    from cardiobench_cmr.models.resattnet import resattnet56

    assert parameter_count(registry.model("segnet").build({"model": {"width": 64, "seg_loss": "jaccard"}}, {})) == pytest.approx(29.5e6, rel=0.01)
    assert parameter_count(resattnet56(64, classes=2)) == 29_759_554
