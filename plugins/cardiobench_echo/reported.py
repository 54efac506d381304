"""Numbers the STCA paper reports on the Stanford (EchoNet-Dynamic) test set:
Tables 1, 2 and 3 of ../shared/papers/stca-lvef-echo.txt.

Every row uses the paper's protocol (random 10 test clips averaged) except
EchoNet-Dynamic's own row in Table 1, copied by the paper from Ouyang et al.
(beat-to-beat evaluation): its protocol is marked ``echonet-beat-to-beat``.
"""

from __future__ import annotations

from cardiobench.specs import ReportedResult
from cardiobench_echo.tasks import STCA_CITATION

METRICS = ("mae", "rmse", "r2")

# (table, method as printed, registered model or None, MAE, RMSE, R2, protocol, notes)
ROWS = [
    ("Table 1", "MC3", "mc3", 4.34, 5.76, 0.778, "paper", ""),
    ("Table 1", "R3D", "r3d", 4.16, 5.55, 0.794, "paper", ""),
    ("Table 1", "R(2+1)D", "r2plus1d", 3.95, 5.27, 0.814, "paper", ""),
    ("Table 1", "EchoNet-Dynamic", None, 4.05, 5.32, 0.81, "echonet-beat-to-beat", "copied by the paper from Ouyang et al. 2020; beat-to-beat evaluation"),
    ("Table 1", "Ours (STCA)", "stca", 3.83, 5.06, 0.829, "paper", ""),
    ("Table 2", "M0", "r2plus1d", 3.95, 5.27, 0.814, "paper", "R(2+1)D with a linear regression head"),
    ("Table 2", "M1", "r2plus1d-acr", 3.92, 5.21, 0.819, "paper", "M0 + ACR"),
    ("Table 2", "M2", "tca", 3.89, 5.11, 0.826, "paper", "M1 + TCA"),
    ("Table 2", "M3", "stca", 3.83, 5.06, 0.829, "paper", "M2 + semantic (auxiliary LV segmentation, S-TCA)"),
    ("Table 3", "SE", "se", 3.95, 5.29, 0.813, "paper", "on R(2+1)D with ACR"),
    ("Table 3", "ME", "me", 3.98, 5.32, 0.811, "paper", "on R(2+1)D with ACR"),
    ("Table 3", "TCA", "tca", 3.89, 5.11, 0.826, "paper", "on R(2+1)D with ACR"),
]


def reported_results() -> list[ReportedResult]:
    return [
        ReportedResult(
            task="lvef",
            dataset="echonet-dynamic",
            method=method,
            metric=metric,
            value=value,
            split="test",
            citation=STCA_CITATION,
            table=table,
            protocol=protocol,
            model=model,
            notes=notes,
        )
        for table, method, model, mae, rmse, r2, protocol, notes in ROWS
        for metric, value in zip(METRICS, (mae, rmse, r2))
    ]
