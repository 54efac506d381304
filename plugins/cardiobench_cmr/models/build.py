"""Model builders of the cmr plugin: ``build(config, info)`` for each name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from torch import nn

from cardiobench_cmr.acdc.dataset import CLS_TASK
from cardiobench_cmr.models import library
from cardiobench_cmr.models.acnet import acnet
from cardiobench_cmr.models.heads import Segmenter
from cardiobench_cmr.models.mtl_attn import MultiTaskAttentionNet
from cardiobench_cmr.models.resattnet import resattnet56
from cardiobench_cmr.models.segnet import SegNet

Builder = Callable[[Mapping[str, Any], Mapping[str, Any]], nn.Module]


def _model(config: Mapping[str, Any]) -> Mapping[str, Any]:
    return config["model"]


def build_mtl_attn(config: Mapping[str, Any], info: Mapping[str, Any]) -> nn.Module:
    m = _model(config)
    return MultiTaskAttentionNet(str(info.get("task", CLS_TASK)), int(m["width"]), int(m["kernel"]), int(m["attention_modules"]), int(m["trunk_depth"]), float(m["seg_weight"]))


def build_acnet(config: Mapping[str, Any], info: Mapping[str, Any]) -> nn.Module:
    m = _model(config)
    return acnet(int(m["width"]), int(m["kernel"]), int(m["trunk_depth"]))


def build_unet(config: Mapping[str, Any], info: Mapping[str, Any]) -> nn.Module:
    return Segmenter(library.unet(_model(config)["features"]), _model(config)["seg_loss"])


def build_segnet(config: Mapping[str, Any], info: Mapping[str, Any]) -> nn.Module:
    return Segmenter(SegNet(int(_model(config)["width"])), _model(config)["seg_loss"])


def build_resattnet56(config: Mapping[str, Any], info: Mapping[str, Any]) -> nn.Module:
    return resattnet56(int(_model(config)["width"]))


def timm_builder(name: str) -> Builder:
    def build(config: Mapping[str, Any], info: Mapping[str, Any]) -> nn.Module:
        return library.resnet(name) if name.startswith("resnet") else library.timm_classifier(name)

    return build


DEFAULTS: dict[str, dict[str, Any]] = {
    "mtl-attn": {"width": 16, "kernel": 1, "attention_modules": 2, "trunk_depth": 4, "seg_weight": 3.0},
    "acnet": {"width": 16, "kernel": 3, "trunk_depth": 4},
    "unet": {"features": [64, 128, 256, 512, 1024, 64], "seg_loss": "jaccard"},
    "segnet": {"width": 64, "seg_loss": "jaccard"},
    "resattnet56": {"width": 64},
}
