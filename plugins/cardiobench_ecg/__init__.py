"""The ``ecg`` plugin: MIT-BIH segments for PVC vs APB and the joint
unsupervised-segmentation / classification models of
../shared/papers/ecg-attention-joint-seg-cls.txt with their baselines.

Data: MIT-BIH Arrhythmia Database (Moody and Mark 2001; PhysioNet,
Goldberger et al. 2000), ODC-By 1.0.
"""

from __future__ import annotations

from cardiobench import hookimpl
from cardiobench.specs import DatasetSpec, ModelSpec, Synthesizer, TaskSpec
from cardiobench_ecg import dataset, synthetic
from cardiobench_ecg.models import CASCADED_DEFAULTS, CLASSIFIER_DEFAULTS, JOINT_DEFAULTS, builder
from cardiobench_ecg.tasks import CITATION, ECG_PVC_APB

__version__ = "0.1.0"

TASKS = ("ecg-pvc-apb",)


@hookimpl
def cardiobench_tasks() -> list[TaskSpec]:
    return [ECG_PVC_APB]


@hookimpl
def cardiobench_datasets() -> list[DatasetSpec]:
    return [
        DatasetSpec(
            name=dataset.NAME,
            version=dataset.VERSION,
            description="MIT-BIH Arrhythmia Database: 48 two-lead 30-minute ECG records (WFDB) with beat annotations",
            citation=dataset.CITATION,
            tasks=TASKS,
            load=dataset.load,
            check=dataset.check,
            license=dataset.LICENSE,
            synthesizer=Synthesizer("ecg", "two-lead WFDB records with normal, PVC and APB beats", lambda out, n, seed: synthetic.write(out, n or 16, seed)),
        )
    ]


@hookimpl
def cardiobench_models() -> list[ModelSpec]:
    return [
        ModelSpec("ecg-joint-l2", 1, "the paper's method: U-Net segmenter, L2-norm pooled window attention on the input, CNN classifier (sections 3.2-3.4)", CITATION, TASKS, builder("joint", "l2"), JOINT_DEFAULTS),
        ModelSpec("ecg-joint-max", 1, "the paper's method with ReLU + max pooling for the attention (section 3.3)", CITATION, TASKS, builder("joint", "max"), {**JOINT_DEFAULTS, "pooling": "max"}),
        ModelSpec("ecg-classifier", 1, "baseline: the classifier alone on the raw segment (section 5.1)", CITATION, TASKS, builder("classifier"), CLASSIFIER_DEFAULTS),
        ModelSpec("ecg-cascaded", 1, "baseline: segmenter and classifier stacked without the attention product, same depth (section 5.1)", CITATION, TASKS, builder("cascaded"), CASCADED_DEFAULTS),
    ]
