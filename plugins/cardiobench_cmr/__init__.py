"""The ``cmr`` plugin: dilated-cardiomyopathy segmentation and classification
from cardiac MRI - the multi-task attention encoder-decoder of
../shared/papers/mtl-dcm-cmr-seg-cls.txt, ACNet of
../shared/papers/acnet-dcm-t1-cls.txt and every baseline their tables
compare against - on ACDC, the public stand-in for the papers' private data.
"""

from __future__ import annotations

from cardiobench import hookimpl
from cardiobench.specs import DatasetSpec, ModelSpec, ReportedResult, Synthesizer, TaskSpec
from cardiobench_cmr import reported
from cardiobench_cmr.acdc import dataset, synthetic
from cardiobench_cmr.acdc.dataset import CLS_TASK, SEG_TASK
from cardiobench_cmr.models import build
from cardiobench_cmr.tasks import ACNET_CITATION, DCM_CLS, MTL_CITATION, MYO_SEG

__version__ = "0.1.0"

BOTH = (SEG_TASK, CLS_TASK)
WANG_2017 = "Wang et al., Residual attention network for image classification, CVPR 2017"
HE_2016 = "He et al., Deep residual learning for image recognition, CVPR 2016 (timm)"


@hookimpl
def cardiobench_tasks() -> list[TaskSpec]:
    return [MYO_SEG, DCM_CLS]


@hookimpl
def cardiobench_datasets() -> list[DatasetSpec]:
    return [
        DatasetSpec(
            name=dataset.NAME,
            version=dataset.VERSION,
            description="ACDC: short-axis cine MRI of 150 patients (30 each DCM, HCM, MINF, NOR, RV) with RV, myocardium and LV traced at ED and ES",
            citation=dataset.CITATION,
            tasks=BOTH,
            load=dataset.load,
            check=dataset.check,
            license=dataset.LICENSE,
            synthesizer=Synthesizer("acdc", "ACDC-layout NIfTI cine phantoms of the five groups", lambda out, n, seed: synthetic.write(out, n or 50, seed)),
        )
    ]


@hookimpl
def cardiobench_models() -> list[ModelSpec]:
    d = build.DEFAULTS
    return [
        ModelSpec("mtl-attn", 1, "multi-task attention encoder-decoder: extraction, attention (classification) and recovery (segmentation) paths, 3 x Jaccard + CE (paper 1, section 3)", MTL_CITATION, BOTH, build.build_mtl_attn, d["mtl-attn"]),
        ModelSpec("acnet", 1, "ACNet: seven convolutions, three residual blocks, two attention modules, cross-entropy (ACNet, section III)", ACNET_CITATION, (CLS_TASK,), build.build_acnet, d["acnet"]),
        ModelSpec("unet", 1, "U-Net (MONAI BasicUNet, 64-1024 channels, no pretrained weights), Jaccard loss", "Ronneberger et al., U-Net, MICCAI 2015 (MONAI)", (SEG_TASK,), build.build_unet, d["unet"]),
        ModelSpec("segnet", 1, "SegNet: VGG16-BN encoder, max-unpooling decoder with the pooling indices, Jaccard loss", "Badrinarayanan et al., SegNet, IEEE TPAMI 39(12), 2017", (SEG_TASK,), build.build_segnet, d["segnet"]),
        ModelSpec("resattnet56", 1, "Residual Attention Network-56 (p=1, t=2, r=1), cross-entropy", WANG_2017, (CLS_TASK,), build.build_resattnet56, d["resattnet56"]),
        ModelSpec("resnet50", 1, "ResNet-50 (timm, one input channel, no pretrained weights), cross-entropy", HE_2016, (CLS_TASK,), build.timm_builder("resnet50")),
        ModelSpec("resnet101", 1, "ResNet-101 (timm, one input channel, no pretrained weights), cross-entropy", HE_2016, (CLS_TASK,), build.timm_builder("resnet101")),
        ModelSpec("vgg16", 1, "VGG16 (timm, one input channel, no pretrained weights, 4096-wide classifier), cross-entropy", "Simonyan and Zisserman, Very deep convolutional networks, ICLR 2015 (timm)", (CLS_TASK,), build.timm_builder("vgg16")),
    ]


@hookimpl
def cardiobench_reported_results() -> list[ReportedResult]:
    return reported.results()
