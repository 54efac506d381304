"""The ``fetal`` plugin: fetal ultrasound standard-plane detection with Sononet
and attention-gated Sononet (AG-Sononet) of
../shared/papers/ag-sononet-fetal-planes.txt, on FETAL_PLANES_DB (the paper's
own data are private). Every attention gate runs on
:func:`cardiobench.kernels.attention_gate`.
"""

from __future__ import annotations

from cardiobench import hookimpl
from cardiobench.specs import DatasetSpec, ModelSpec, ReportedResult, Synthesizer, TaskSpec
from cardiobench_fetal import reported
from cardiobench_fetal.models.build import DEFAULTS, builder
from cardiobench_fetal.planes import dataset, synthetic
from cardiobench_fetal.tasks import CITATION, FETAL_PLANES

__version__ = "0.1.0"

TASKS = ("fetal-planes",)
WIDTHS = (8, 16, 32)
VARIANTS = {  # name suffix: (aggregation, description)
    "": ("mean", "AG-Sononet: two attention gates, mean of the three heads' softmax outputs (section 2)"),
    "-ds": ("deep-supervision", "AG-Sononet-DS: deep supervision, a fourth head on the concatenated vectors predicts (section 2)"),
    "-ft": ("fine-tune", "AG-Sononet-FT: a linear layer fine-tunes the combination of the three heads (section 2)"),
}


@hookimpl
def cardiobench_tasks() -> list[TaskSpec]:
    return [FETAL_PLANES]


@hookimpl
def cardiobench_datasets() -> list[DatasetSpec]:
    return [
        DatasetSpec(
            name=dataset.NAME,
            version=dataset.VERSION,
            description="FETAL_PLANES_DB: 12,400 maternal-fetal ultrasound images of 1,792 patients, 6 planes, official patient-disjoint train/test split",
            citation=dataset.CITATION,
            tasks=TASKS,
            load=dataset.load,
            check=dataset.check,
            license=dataset.LICENSE,
            synthesizer=Synthesizer("fetal-planes-db", "FETAL_PLANES_DB-layout PNGs of plane phantoms with anatomy boxes", lambda out, n, seed: synthetic.write(out, n or 900, seed)),
        )
    ]


@hookimpl
def cardiobench_models() -> list[ModelSpec]:
    models = []
    for n in WIDTHS:
        models.append(ModelSpec(f"sononet-{n}", 1, f"Sononet-{n}: VGG-style features with [3,3,3,2,2] convolutions and the adaptation module (the paper's baseline)", CITATION, TASKS, builder(n, None), DEFAULTS))
        for suffix, (aggregation, description) in VARIANTS.items():
            models.append(ModelSpec(f"ag-sononet-{n}{suffix}", 1, description.replace("AG-Sononet", f"AG-Sononet-{n}", 1), CITATION, TASKS, builder(n, aggregation), DEFAULTS))
    return models


@hookimpl
def cardiobench_reported_results() -> list[ReportedResult]:
    return reported.results()
