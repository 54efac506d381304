"""A task's model contract: what a model receives and what it must return.

A task declares one :class:`ModelContract`; the core uses it to wrap a bare
``nn.Module`` into a full model (:mod:`cardiobench.task_models`), to tell a
model source how many input channels and outputs to build, and to check one
batch through ``forward``, ``loss`` and ``predict`` before training
(:func:`check_model`), so that a wrong shape is one message naming the model
and its plugin instead of a failure deep in a metric or a plot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import torch

OUTPUT_KINDS = ("classes", "scalar", "mask")
LAYOUTS = {"CL": "signal", "CHW": "image", "CTHW": "video"}


@dataclass(frozen=True)
class ModelContract:
    """What a task's models receive and return.

    ``layout`` names the axes of one item's ``input`` after the batch axis
    (``CL`` a signal, ``CHW`` an image, ``CTHW`` a video) and ``channels`` its
    size along ``C``. ``output`` is the kind ``predict`` returns:

    - ``classes``: (B, n) class probabilities (rows sum to 1), ``n = classes``
      (or the length of the data's ``info["classes"]`` when it names them);
    - ``scalar``: (B,) values in the target's unit;
    - ``mask``: (B, H, W) foreground probabilities at the input's size.

    ``target`` and ``unit`` describe the batch's ``target`` for people.
    """

    layout: str
    channels: int
    output: str
    target: str
    classes: int = 0
    unit: str = ""

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        if self.output not in OUTPUT_KINDS:
            raise ValueError(f"output must be one of {', '.join(OUTPUT_KINDS)}, got {self.output!r}")

    @property
    def spatial_dims(self) -> int:
        """1 for signals, 2 for images, 3 for videos."""
        return len(self.layout) - 1

    @property
    def kind(self) -> str:
        return LAYOUTS[self.layout]

    @property
    def outputs(self) -> int:
        """Output channels a bare network gives: n class logits, one value, one mask logit."""
        return self.classes if self.output == "classes" else 1

    def resolved(self, info: Mapping[str, Any]) -> ModelContract:
        """This contract with ``classes`` taken from the data's class names, where it gives them."""
        names = info.get("classes")
        if self.output == "classes" and isinstance(names, (list, tuple)) and names:
            return replace(self, classes=len(names))
        return self

    def input_text(self) -> str:
        return f"(B, {', '.join(str(self.channels) if a == 'C' else a for a in self.layout)}) float32 {self.kind}"

    def target_text(self) -> str:
        if self.output == "classes":
            return f"(B,) int64 class index in 0..{self.classes - 1}: {self.target}"
        if self.output == "scalar":
            return f"(B,) float32 {self.target}" + (f" ({self.unit})" if self.unit else "")
        return f"(B, H, W) float32 binary mask: {self.target}"

    def predict_text(self) -> str:
        return {
            "classes": f"(B, {self.classes}) class probabilities (rows sum to 1)",
            "scalar": f"(B,) {self.unit or 'values'}",
            "mask": "(B, H, W) foreground probabilities in [0, 1], at the input's H x W",
        }[self.output]

    def rows(self) -> list[dict[str, str]]:
        """The contract as table rows (docs, ``cardiobench list tasks --contract``)."""
        return [
            {"what": "input", "shape and meaning": self.input_text()},
            {"what": "target", "shape and meaning": self.target_text()},
            {"what": "forward (a bare module)", "shape and meaning": self.bare_text()},
            {"what": "predict", "shape and meaning": self.predict_text()},
        ]

    def bare_text(self) -> str:
        return {
            "classes": f"(B, {self.classes}) logits",
            "scalar": "(B,) or (B, 1) value",
            "mask": "(B, 1, H, W) logits (or (B, H, W); a dict's 'out')",
        }[self.output]


def expected_predict_shape(contract: ModelContract, batch_input: torch.Tensor) -> tuple[int, ...]:
    batch = batch_input.shape[0]
    if contract.output == "classes":
        return (batch, contract.classes)
    if contract.output == "scalar":
        return (batch,)
    return (batch, *batch_input.shape[-2:])


def predict_problems(contract: ModelContract, batch_input: torch.Tensor, predictions: Any) -> list[str]:
    """What is wrong with ``predict``'s output for a batch of ``batch_input``, if anything."""
    expected = expected_predict_shape(contract, batch_input)
    want = f"predict must return {contract.predict_text().replace('(B', f'({expected[0]}', 1)}"
    if not isinstance(predictions, torch.Tensor):
        return [f"{want}; it returned a {type(predictions).__name__}"]
    if tuple(predictions.shape) != expected:
        return [f"{want}; it returned {tuple(predictions.shape)}"]
    values = predictions.detach().float()
    if not torch.isfinite(values).all():
        return [f"{want}; it returned non-finite values"]
    if contract.output in ("classes", "mask") and (values.min() < -1e-6 or values.max() > 1 + 1e-6):
        return [f"{want}; its values span [{float(values.min()):.3g}, {float(values.max()):.3g}], not probabilities (apply softmax/sigmoid in predict)"]
    if contract.output == "classes" and not torch.allclose(values.sum(1), torch.ones(expected[0]), atol=1e-3):
        return [f"{want}; its rows sum to {values.sum(1)[:4].tolist()} (apply softmax in predict)"]
    return []


def forward_problems(contract: ModelContract, batch_input: torch.Tensor, outputs: Any) -> list[str]:
    """What is wrong with a completed bare network's output (after the core's
    reshaping: (B,) values, (B, n) logits, (B, H, W) mask logits), if anything."""
    expected = expected_predict_shape(contract, batch_input)
    shape = tuple(outputs.shape) if isinstance(outputs, torch.Tensor) else type(outputs).__name__
    if shape != expected:
        return [f"a bare network must return {contract.bare_text().replace('(B', f'({expected[0]}')} for this task; it returned {shape}"]
    return []


def loss_problems(loss: Any) -> list[str]:
    """What is wrong with ``loss``'s output, if anything: it must be a finite scalar tensor."""
    if not isinstance(loss, torch.Tensor):
        return [f"loss must return a scalar tensor; it returned a {type(loss).__name__}"]
    if loss.dim() != 0:
        return [f"loss must return a scalar tensor (reduce over the batch); it returned shape {tuple(loss.shape)}"]
    if not torch.isfinite(loss.detach()).all():
        return [f"loss returned {float(loss)} on the first batch"]
    return []
