"""The ``echo`` plugin: EchoNet-Dynamic data, the LVEF task and the models of
Chen and Li's STCA paper (../shared/papers/stca-lvef-echo.txt) with its video
baselines."""

from __future__ import annotations

from cardiobench import hookimpl
from cardiobench.specs import DatasetSpec, ModelSpec, Synthesizer, TaskSpec
from cardiobench_echo.echonet import dataset, phantom
from cardiobench_echo.models import video_resnet
from cardiobench_echo.tasks import LVEF, STCA_CITATION

__version__ = "0.1.0"

TRAN_2018 = "Tran et al., A closer look at spatiotemporal convolutions for action recognition, CVPR 2018"
VIDEO_BASELINES = {
    "r2plus1d": ("R(2+1)D-18 with a linear EF head and MSE loss (the paper's M0; EchoNet-Dynamic's model)", TRAN_2018),
    "mc3": ("MC3-18 (mixed 3D/2D convolutions) with a linear EF head and MSE loss (Table 1)", TRAN_2018),
    "r3d": ("R3D-18 (3D ResNet) with a linear EF head and MSE loss (Table 1)", "Tran et al., Learning spatiotemporal features with 3D convolutional networks, ICCV 2015"),
}


@hookimpl
def cardiobench_tasks() -> list[TaskSpec]:
    return [LVEF]


@hookimpl
def cardiobench_datasets() -> list[DatasetSpec]:
    return [
        DatasetSpec(
            name=dataset.NAME,
            version=dataset.VERSION,
            description="EchoNet-Dynamic: apical-4-chamber echo videos (AVI) with EF, volumes and ED/ES LV traces",
            citation=dataset.CITATION,
            tasks=("lvef",),
            load=dataset.load,
            check=dataset.check,
            license="Stanford EchoNet-Dynamic research use agreement (real data); synthetic phantom: Apache-2.0",
            synthesizer=Synthesizer("echonet", "apical-4-chamber phantom videos in the EchoNet-Dynamic layout", lambda out, n, seed: phantom.synthesize(out, n or 400, seed)),
        )
    ]


@hookimpl
def cardiobench_models() -> list[ModelSpec]:
    return [
        ModelSpec(name, 1, description, citation, ("lvef",), video_resnet.regressor_builder(name), defaults={"weights": None})
        for name, (description, citation) in VIDEO_BASELINES.items()
    ]
