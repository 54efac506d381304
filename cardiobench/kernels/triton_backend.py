"""Triton kernels for the TCA pooling difference, the excitation and the
attention gate (imported only when the triton backend is used).

Reductions over positions write one partial sum per block; the few partials
are added by torch afterwards, so results do not depend on the order in which
blocks finish (no atomics). Arithmetic is float32 whatever the input dtype.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from cardiobench.kernels import _attention
from cardiobench.kernels.torch_backend import mask_totals

TCA_BLOCK = 512
EXCITE_BLOCK = 1024
GATE_BLOCK, GATE_BLOCK_C, GATE_BLOCK_K = 64, 32, 32
NORM_CODES = {"sigmoid": 0, "softmax": 1, "range": 2}


def _alloc(shape: tuple[int, ...], like: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Every output buffer comes from here (tests poison it with NaN)."""
    return torch.empty(shape, dtype=dtype or like.dtype, device=like.device)


# ------------------------------------------------------------------- TCA pooling difference
@triton.jit
def _tca_forward(x_ptr, mask_ptr, part_ptr, C, T, HW, n_blocks, mask_b_stride, mask_t_stride, K: tl.constexpr, HAS_MASK: tl.constexpr, BLOCK: tl.constexpr):
    """Per (b, c) row and block of positions: for every t, the (masked) sum over the
    block of window-max minus window-mean."""
    bc = tl.program_id(0)
    blk = tl.program_id(1)
    R: tl.constexpr = K // 2
    hw = blk * BLOCK + tl.arange(0, BLOCK)
    in_hw = hw < HW
    row = x_ptr + bc.to(tl.int64) * T * HW
    for t in range(T):
        win_max = tl.full([BLOCK], float("-inf"), tl.float32)
        win_sum = tl.zeros([BLOCK], tl.float32)
        for o in tl.static_range(K):
            s = t + o - R
            ok = in_hw & (s >= 0) & (s < T)
            v = tl.load(row + s * HW + hw, mask=ok, other=float("-inf")).to(tl.float32)
            win_max = tl.maximum(win_max, v)
            win_sum += tl.where(ok, v, 0.0)
        count = (tl.minimum(t + R, T - 1) - tl.maximum(t - R, 0) + 1).to(tl.float32)
        diff = tl.where(in_hw, win_max - win_sum / count, 0.0)
        if HAS_MASK:
            m = tl.load(mask_ptr + (bc // C) * mask_b_stride + t * mask_t_stride + hw, mask=in_hw, other=0.0).to(tl.float32)
            diff = diff * m
        tl.store(part_ptr + (bc * n_blocks + blk) * T + t, tl.sum(diff, axis=0))


@triton.jit
def _tca_backward(x_ptr, mask_ptr, gscale_ptr, gx_ptr, C, T, HW, mask_b_stride, mask_t_stride, K: tl.constexpr, HAS_MASK: tl.constexpr, BLOCK: tl.constexpr):
    """grad x at frame s: for every window t holding s, its scaled gradient if s
    is the window's first maximum, minus an equal share for its mean."""
    bc = tl.program_id(0)
    blk = tl.program_id(1)
    R: tl.constexpr = K // 2
    hw = blk * BLOCK + tl.arange(0, BLOCK)
    in_hw = hw < HW
    row = x_ptr + bc.to(tl.int64) * T * HW
    for s in range(T):
        acc = tl.zeros([BLOCK], tl.float32)
        for dt in tl.static_range(K):
            t = s + dt - R
            t_ok = (t >= 0) & (t < T)
            t_safe = tl.minimum(tl.maximum(t, 0), T - 1)
            weight = tl.where(t_ok, tl.load(gscale_ptr + bc * T + t_safe).to(tl.float32), 0.0)
            if HAS_MASK:
                m = tl.load(mask_ptr + (bc // C) * mask_b_stride + t_safe * mask_t_stride + hw, mask=in_hw, other=0.0).to(tl.float32)
                w = weight * m
            else:
                w = tl.zeros([BLOCK], tl.float32) + weight
            best = tl.full([BLOCK], float("-inf"), tl.float32)
            best_at = tl.full([BLOCK], -1, tl.int32)
            for o in tl.static_range(K):
                u = t + o - R
                ok = in_hw & (u >= 0) & (u < T) & t_ok
                v = tl.load(row + u * HW + hw, mask=ok, other=float("-inf")).to(tl.float32)
                better = v > best  # strict: ties go to the first maximum
                best = tl.where(better, v, best)
                best_at = tl.where(better, u, best_at)
            count = tl.maximum(tl.minimum(t + R, T - 1) - tl.maximum(t - R, 0) + 1, 1).to(tl.float32)
            acc += tl.where(best_at == s, w, 0.0) - w / count
        tl.store(gx_ptr + bc.to(tl.int64) * T * HW + s * HW + hw, acc.to(gx_ptr.dtype.element_ty), mask=in_hw)


def _mask_layout(x: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, int, int]:
    """(mask pointer, batch stride, time stride); without a mask, x stands in (never read)."""
    if mask is None:
        return x, 0, 0
    T, HW = x.shape[2], x.shape[3] * x.shape[4]
    return mask, mask.shape[2] * HW, HW if mask.shape[2] == T else 0


def _tca_denominator(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """(B, 1, T or 1) sums the spatial mean divides by."""
    if mask is None:
        return torch.full((1, 1, 1), float(x.shape[3] * x.shape[4]), device=x.device)
    return mask_totals(mask, torch.float32)[:, None, :]


def tca_pool_diff_forward(x: torch.Tensor, kernel_size: int, mask: torch.Tensor | None) -> torch.Tensor:
    B, C, T, H, W = x.shape
    HW = H * W
    n_blocks = triton.cdiv(HW, TCA_BLOCK)
    part = _alloc((B * C, n_blocks, T), x, torch.float32)
    mask_arg, mask_b, mask_t = _mask_layout(x, mask)
    _tca_forward[(B * C, n_blocks)](x, mask_arg, part, C, T, HW, n_blocks, mask_b, mask_t, K=kernel_size, HAS_MASK=mask is not None, BLOCK=TCA_BLOCK)
    return (part.sum(dim=1).view(B, C, T) / _tca_denominator(x, mask)).to(x.dtype)


def tca_pool_diff_backward(x: torch.Tensor, kernel_size: int, mask: torch.Tensor | None, grad: torch.Tensor) -> torch.Tensor:
    B, C, T, H, W = x.shape
    HW = H * W
    gscale = (grad.float() / _tca_denominator(x, mask)).contiguous()
    grad_x = _alloc(tuple(x.shape), x)
    mask_arg, mask_b, mask_t = _mask_layout(x, mask)
    _tca_backward[(B * C, triton.cdiv(HW, TCA_BLOCK))](x, mask_arg, gscale, grad_x, C, T, HW, mask_b, mask_t, K=kernel_size, HAS_MASK=mask is not None, BLOCK=TCA_BLOCK)
    return grad_x


# ------------------------------------------------------------------------------- excite
@triton.jit
def _excite_forward(x_ptr, e_ptr, y_ptr, HW, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    hw = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    ok = hw < HW
    scale = 1.0 + tl.load(e_ptr + row).to(tl.float32)
    base = row.to(tl.int64) * HW
    x = tl.load(x_ptr + base + hw, mask=ok, other=0.0).to(tl.float32)
    tl.store(y_ptr + base + hw, (x * scale).to(y_ptr.dtype.element_ty), mask=ok)


@triton.jit
def _excite_backward(x_ptr, e_ptr, g_ptr, gx_ptr, ge_ptr, HW, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    scale = 1.0 + tl.load(e_ptr + row).to(tl.float32)
    base = row.to(tl.int64) * HW
    acc = tl.zeros([BLOCK], tl.float32)
    for start in range(0, HW, BLOCK):
        hw = start + tl.arange(0, BLOCK)
        ok = hw < HW
        g = tl.load(g_ptr + base + hw, mask=ok, other=0.0).to(tl.float32)
        x = tl.load(x_ptr + base + hw, mask=ok, other=0.0).to(tl.float32)
        tl.store(gx_ptr + base + hw, (g * scale).to(gx_ptr.dtype.element_ty), mask=ok)
        acc += g * x
    tl.store(ge_ptr + row, tl.sum(acc, axis=0).to(ge_ptr.dtype.element_ty))


def excite_forward(x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    B, C, T, H, W = x.shape
    y = _alloc(tuple(x.shape), x)
    _excite_forward[(B * C * T, triton.cdiv(H * W, EXCITE_BLOCK))](x, e, y, H * W, BLOCK=EXCITE_BLOCK)
    return y


def excite_backward(x: torch.Tensor, e: torch.Tensor, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    B, C, T, H, W = x.shape
    grad_x, grad_e = _alloc(tuple(x.shape), x), _alloc(tuple(e.shape), e)
    _excite_backward[(B * C * T,)](x, e, grad, grad_x, grad_e, H * W, BLOCK=EXCITE_BLOCK)
    return grad_x, grad_e


# ----------------------------------------------------------------------- attention gate
@triton.jit
def _gate_u(f_ptr, q_ptr, wf_ptr, bg_ptr, b, ks, k_ok, p, p_ok, C, CINT, HW, h, w, sy, sx, BLOCK_C: tl.constexpr, BLOCK: tl.constexpr, BLOCK_K: tl.constexpr):
    """u = w_f f + bilinear(q) + b_g for a block of channels ks and positions p."""
    theta = tl.zeros([BLOCK_K, BLOCK], tl.float32)
    f_row = f_ptr + b.to(tl.int64) * C * HW
    for c0 in range(0, C, BLOCK_C):
        cs = c0 + tl.arange(0, BLOCK_C)
        c_ok = cs < C
        wf = tl.load(wf_ptr + ks[:, None] * C + cs[None, :], mask=k_ok[:, None] & c_ok[None, :], other=0.0).to(tl.float32)
        fb = tl.load(f_row + cs[:, None] * HW + p[None, :], mask=c_ok[:, None] & p_ok[None, :], other=0.0).to(tl.float32)
        theta += tl.dot(wf, fb, input_precision="ieee")
    y0 = tl.floor(sy).to(tl.int32)
    x0 = tl.floor(sx).to(tl.int32)
    y1 = tl.minimum(y0 + 1, h - 1)
    x1 = tl.minimum(x0 + 1, w - 1)
    ly = sy - y0.to(tl.float32)
    lx = sx - x0.to(tl.float32)
    q_row = q_ptr + b.to(tl.int64) * CINT * h * w + ks[:, None] * (h * w)
    both = k_ok[:, None] & p_ok[None, :]
    q00 = tl.load(q_row + (y0 * w + x0)[None, :], mask=both, other=0.0).to(tl.float32)
    q01 = tl.load(q_row + (y0 * w + x1)[None, :], mask=both, other=0.0).to(tl.float32)
    q10 = tl.load(q_row + (y1 * w + x0)[None, :], mask=both, other=0.0).to(tl.float32)
    q11 = tl.load(q_row + (y1 * w + x1)[None, :], mask=both, other=0.0).to(tl.float32)
    phi = (1 - ly)[None, :] * ((1 - lx)[None, :] * q00 + lx[None, :] * q01) + ly[None, :] * ((1 - lx)[None, :] * q10 + lx[None, :] * q11)
    bg = tl.load(bg_ptr + ks, mask=k_ok, other=0.0).to(tl.float32)
    return theta + phi + bg[:, None]


@triton.jit
def _gate_positions(pb, H, W, h, w, scale_h, scale_w, BLOCK: tl.constexpr):
    """Flat positions of a block and their bilinear source coordinates
    (align_corners=False: src = (dst + 0.5) * in / out - 0.5, floored at 0)."""
    p = pb * BLOCK + tl.arange(0, BLOCK)
    p_ok = p < H * W
    sy = tl.maximum(((p // W).to(tl.float32) + 0.5) * scale_h - 0.5, 0.0)
    sx = tl.maximum(((p % W).to(tl.float32) + 0.5) * scale_w - 0.5, 0.0)
    return p, p_ok, sy, sx


@triton.jit
def _gate_forward(
    f_ptr, q_ptr, wf_ptr, bg_ptr, psi_ptr, c_ptr, pool_ptr, aux_ptr, stat_ptr,
    C, CINT, H, W, h, w, scale_h, scale_w, b_psi, n_blocks,
    NORM: tl.constexpr, BLOCK: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_K: tl.constexpr,
):
    """Scores c of a block of positions, then that block's partial pooling sums:
    sigmoid: sum sigmoid(c) f; softmax: block max m, sum exp(c - m) f and
    sum exp(c - m); range: sum c f, sum f, sum c and min c."""
    b = tl.program_id(0)
    pb = tl.program_id(1)
    HW = H * W
    p, p_ok, sy, sx = _gate_positions(pb, H, W, h, w, scale_h, scale_w, BLOCK)
    c = tl.zeros([BLOCK], tl.float32)
    for k0 in range(0, CINT, BLOCK_K):
        ks = k0 + tl.arange(0, BLOCK_K)
        k_ok = ks < CINT
        u = _gate_u(f_ptr, q_ptr, wf_ptr, bg_ptr, b, ks, k_ok, p, p_ok, C, CINT, HW, h, w, sy, sx, BLOCK_C, BLOCK, BLOCK_K)
        psi = tl.load(psi_ptr + ks, mask=k_ok, other=0.0).to(tl.float32)
        c += tl.sum(psi[:, None] * tl.maximum(u, 0.0), axis=0)
    c += b_psi
    tl.store(c_ptr + b.to(tl.int64) * HW + p, c, mask=p_ok)

    if NORM == 0:
        a = tl.where(p_ok, 1.0 / (1.0 + tl.exp(-c)), 0.0)
    elif NORM == 1:
        m = tl.max(tl.where(p_ok, c, float("-inf")), axis=0)
        a = tl.where(p_ok, tl.exp(c - m), 0.0)
        tl.store(stat_ptr + (b * n_blocks + pb) * 2, m)
        tl.store(stat_ptr + (b * n_blocks + pb) * 2 + 1, tl.sum(a, axis=0))
    else:
        a = tl.where(p_ok, c, 0.0)
        tl.store(stat_ptr + (b * n_blocks + pb) * 2, tl.sum(a, axis=0))
        tl.store(stat_ptr + (b * n_blocks + pb) * 2 + 1, tl.min(tl.where(p_ok, c, float("inf")), axis=0))
    f_row = f_ptr + b.to(tl.int64) * C * HW
    out = (b * n_blocks + pb) * C
    for c0 in range(0, C, BLOCK_C):
        cs = c0 + tl.arange(0, BLOCK_C)
        c_ok = cs < C
        fb = tl.load(f_row + cs[:, None] * HW + p[None, :], mask=c_ok[:, None] & p_ok[None, :], other=0.0).to(tl.float32)
        tl.store(pool_ptr + out + cs, tl.sum(fb * a[None, :], axis=1), mask=c_ok)
        if NORM == 2:
            tl.store(aux_ptr + out + cs, tl.sum(fb, axis=1), mask=c_ok)


@triton.jit
def _gate_backward(
    f_ptr, q_ptr, wf_ptr, bg_ptr, psi_ptr, dc_ptr, du_ptr, dpsi_ptr, dbg_ptr,
    C, CINT, H, W, h, w, scale_h, scale_w, n_blocks,
    BLOCK: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_K: tl.constexpr,
):
    """du = psi dc [u > 0] for a block of positions, with the block's partial
    sums of relu(u) dc (for psi) and du (for b_g)."""
    b = tl.program_id(0)
    pb = tl.program_id(1)
    HW = H * W
    p, p_ok, sy, sx = _gate_positions(pb, H, W, h, w, scale_h, scale_w, BLOCK)
    dc = tl.load(dc_ptr + b.to(tl.int64) * HW + p, mask=p_ok, other=0.0).to(tl.float32)
    for k0 in range(0, CINT, BLOCK_K):
        ks = k0 + tl.arange(0, BLOCK_K)
        k_ok = ks < CINT
        u = _gate_u(f_ptr, q_ptr, wf_ptr, bg_ptr, b, ks, k_ok, p, p_ok, C, CINT, HW, h, w, sy, sx, BLOCK_C, BLOCK, BLOCK_K)
        psi = tl.load(psi_ptr + ks, mask=k_ok, other=0.0).to(tl.float32)
        tl.store(dpsi_ptr + (b * n_blocks + pb) * CINT + ks, tl.sum(tl.maximum(u, 0.0) * dc[None, :], axis=1), mask=k_ok)
        du = tl.where((u > 0) & p_ok[None, :], psi[:, None] * dc[None, :], 0.0)
        tl.store(dbg_ptr + (b * n_blocks + pb) * CINT + ks, tl.sum(du, axis=1), mask=k_ok)
        tl.store(du_ptr + b.to(tl.int64) * CINT * HW + ks[:, None] * HW + p[None, :], du.to(du_ptr.dtype.element_ty), mask=k_ok[:, None] & p_ok[None, :])


def _gate_geometry(f: torch.Tensor, g: torch.Tensor) -> tuple[int, int, int, int, float, float, int]:
    H, W, h, w = f.shape[2], f.shape[3], g.shape[2], g.shape[3]
    return H, W, h, w, h / H, w / W, triton.cdiv(H * W, GATE_BLOCK)


def attention_gate_forward(f, g, w_f, w_g, b_g, psi, b_psi, norm: str):  # noqa: ANN001, ANN201
    B, C = f.shape[:2]
    c_int = w_f.shape[0]
    H, W, h, w, scale_h, scale_w, n_blocks = _gate_geometry(f, g)
    q = _attention.pointwise(g, w_g).contiguous()  # the gating signal's 1x1 projection, on the coarse grid
    c = _alloc((B, 1, H, W), f, torch.float32)
    pool = _alloc((B, n_blocks, C), f, torch.float32)
    aux = _alloc((B, n_blocks, C), f, torch.float32) if norm == "range" else pool
    stat = _alloc((B, n_blocks, 2), f, torch.float32)
    _gate_forward[(B, n_blocks)](
        f, q, w_f, b_g, psi, c, pool, aux, stat, C, c_int, H, W, h, w, scale_h, scale_w, float(b_psi.reshape(())), n_blocks,
        NORM=NORM_CODES[norm], BLOCK=GATE_BLOCK, BLOCK_C=GATE_BLOCK_C, BLOCK_K=GATE_BLOCK_K,
    )
    if norm == "sigmoid":
        pooled = pool.sum(dim=1)
    elif norm == "softmax":
        top = stat[..., 0].max(dim=1, keepdim=True).values
        rescale = torch.exp(stat[..., 0] - top)
        pooled = (pool * rescale[..., None]).sum(dim=1) / (stat[..., 1] * rescale).sum(dim=1, keepdim=True)
    else:
        low = stat[..., 1].min(dim=1).values
        total = (stat[..., 0].sum(dim=1) - H * W * low).clamp_min(_attention.EPS)
        pooled = (pool.sum(dim=1) - low[:, None] * aux.sum(dim=1)) / total[:, None]
    alpha = _attention.normalise(c, norm)
    return pooled.to(f.dtype), alpha.to(f.dtype), c


def attention_gate_backward(f, g, w_f, w_g, b_g, psi, b_psi, norm: str, c, alpha, grad_pooled, grad_alpha):  # noqa: ANN001, ANN201
    B, C = f.shape[:2]
    c_int = w_f.shape[0]
    H, W, h, w, scale_h, scale_w, n_blocks = _gate_geometry(f, g)
    q = _attention.pointwise(g, w_g).contiguous()
    dc = _attention.score_grad(c, alpha.float(), f.float(), grad_pooled.float(), None if grad_alpha is None else grad_alpha.float(), norm).contiguous()
    du = _alloc((B, c_int, H, W), f, torch.float32)
    dpsi = _alloc((B, n_blocks, c_int), f, torch.float32)
    dbg = _alloc((B, n_blocks, c_int), f, torch.float32)
    _gate_backward[(B, n_blocks)](
        f, q, w_f, b_g, psi, dc, du, dpsi, dbg, C, c_int, H, W, h, w, scale_h, scale_w, n_blocks,
        BLOCK=GATE_BLOCK, BLOCK_C=GATE_BLOCK_C, BLOCK_K=GATE_BLOCK_K,
    )
    grad_f, grad_g, grad_w_f, grad_w_g = _attention.grads_from_du(f.float(), g.float(), w_f.float(), w_g.float(), alpha.float(), grad_pooled.float(), du)
    grads = (grad_f, grad_g, grad_w_f, grad_w_g, dbg.sum(dim=(0, 1)), dpsi.sum(dim=(0, 1)), dc.sum().reshape(b_psi.shape))
    return tuple(gr.to(ref.dtype) for gr, ref in zip(grads, (f, g, w_f, w_g, b_g, psi, b_psi)))
