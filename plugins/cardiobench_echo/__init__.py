"""The ``echo`` plugin: EchoNet-Dynamic and CAMUS data, the ``lvef`` and ``lvef-seg``
tasks, and every model of Chen and Li's STCA paper
(../shared/papers/stca-lvef-echo.txt) with its baselines."""

from __future__ import annotations

from cardiobench import hookimpl
from cardiobench.specs import DatasetSpec, ModelSpec, ReportedResult, Synthesizer, TaskSpec
from cardiobench_echo import reported
from cardiobench_echo.camus import dataset as camus
from cardiobench_echo.camus import phantom as camus_phantom
from cardiobench_echo.echonet import dataset, phantom
from cardiobench_echo.models import segmentation, stca, video_resnet
from cardiobench_echo.pseudo_labels import prepare_stca
from cardiobench_echo.tasks import LVEF, LVEF_SEG, STCA_CITATION

__version__ = "0.1.0"

TRAN_2018 = "Tran et al., A closer look at spatiotemporal convolutions for action recognition, CVPR 2018"
VIDEO_BASELINES = {
    "r2plus1d": ("R(2+1)D-18 with a linear EF head and MSE loss (the paper's M0; EchoNet-Dynamic's model)", TRAN_2018),
    "mc3": ("MC3-18 (mixed 3D/2D convolutions) with a linear EF head and MSE loss (Table 1)", TRAN_2018),
    "r3d": ("R3D-18 (3D ResNet) with a linear EF head and MSE loss (Table 1)", "Tran et al., Learning spatiotemporal features with 3D convolutional networks, ICCV 2015"),
}
SEGMENTER_SECTION = {
    "aux": {
        "segmenter": None,  # a finished lvef-seg run; null trains one first as a recorded stage
        "segmenter_model": "deeplabv3",
        "segmenter_preset": None,  # null: the STCA run's own preset
    }
}


@hookimpl
def cardiobench_tasks() -> list[TaskSpec]:
    return [LVEF, LVEF_SEG]


@hookimpl
def cardiobench_datasets() -> list[DatasetSpec]:
    return [
        DatasetSpec(
            name=dataset.NAME,
            version=dataset.VERSION,
            description="EchoNet-Dynamic: apical-4-chamber echo videos (AVI) with EF, volumes and ED/ES LV traces",
            citation=dataset.CITATION,
            tasks=("lvef", "lvef-seg"),
            load=dataset.load,
            check=dataset.check,
            license="Stanford EchoNet-Dynamic research use agreement (real data); synthetic phantom: Apache-2.0",
            synthesizer=Synthesizer("echonet", "apical-4-chamber phantom videos in the EchoNet-Dynamic layout", lambda out, n, seed: phantom.synthesize(out, n or 500, seed)),
        ),
        DatasetSpec(
            name=camus.NAME,
            version=camus.VERSION,
            description="CAMUS: apical two- and four-chamber echo half sequences (NIfTI) with ED/ES LV, myocardium and atrium contours and biplane EF",
            citation=camus.CITATION,
            tasks=("lvef", "lvef-seg"),
            load=camus.load,
            check=camus.check,
            license="CC BY-NC-SA 4.0 (real data); synthetic phantom: Apache-2.0",
            synthesizer=Synthesizer("camus", "two- and four-chamber phantom half sequences in the CAMUS NIfTI layout, domain-shifted from the echonet phantom", lambda out, n, seed: camus_phantom.synthesize(out, n or 500, seed)),
            sections=camus.SECTIONS,
        ),
    ]


@hookimpl
def cardiobench_models() -> list[ModelSpec]:
    baselines = [
        ModelSpec(name, 1, description, citation, ("lvef",), video_resnet.regressor_builder(name), defaults={"weights": None})
        for name, (description, citation) in VIDEO_BASELINES.items()
    ]
    acr = [
        ModelSpec("r2plus1d-acr", 1, "R(2+1)D-18 with anchor-based classification and regression (M1, section 2.3)", STCA_CITATION, ("lvef",), stca.ef_net_builder(None), stca.ACR_DEFAULTS),
        ModelSpec("tca", 1, "R(2+1)D-18 + TCA after each stage + ACR (M2, section 2.1)", STCA_CITATION, ("lvef",), stca.ef_net_builder("tca"), stca.ACR_DEFAULTS),
        ModelSpec(
            "stca", 1, "the paper's method (M3): TCA, semi-supervised LV segmentation branch, S-TCA, ACR (sections 2.1-2.3)", STCA_CITATION, ("lvef",),
            stca.ef_net_builder("tca", semantic=True), stca.STCA_DEFAULTS, sections=SEGMENTER_SECTION, prepare=prepare_stca,
        ),
        ModelSpec("se", 1, "R(2+1)D-18 + squeeze-and-excitation after each stage + ACR (Table 3)", "Hu et al., Squeeze-and-excitation networks, CVPR 2018; " + STCA_CITATION, ("lvef",), stca.ef_net_builder("se"), stca.ACR_DEFAULTS),
        ModelSpec("me", 1, "R(2+1)D-18 + TEA's motion excitation after each stage + ACR (Table 3)", "Li et al., TEA: temporal excitation and aggregation, CVPR 2020; " + STCA_CITATION, ("lvef",), stca.ef_net_builder("me"), stca.ACR_DEFAULTS),
    ]
    segmenter = ModelSpec(
        "deeplabv3", 1, "torchvision DeepLabV3 with a one-channel head, BCE or Jaccard loss (ResNet-50 backbone; MobileNetV3 in CPU presets); also the myo-seg baseline of the cmr plugin",
        "Chen et al., Rethinking atrous convolution for semantic image segmentation, arXiv 1706.05587", ("lvef-seg", "myo-seg"), segmentation.build_segmenter, {"backbone": "resnet50", "seg_loss": "bce"},
    )
    return baselines + acr + [segmenter]


@hookimpl
def cardiobench_reported_results() -> list[ReportedResult]:
    return reported.reported_results()
