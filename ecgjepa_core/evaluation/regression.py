"""ECG feature regression (docs/protocols.md §7): Linear(D → 1) on frozen features, MAE ± sd on test.

Not specified by the paper, decided here: records whose target is NaN are dropped (and
counted); the target is standardised with the training mean and sd, and predictions are mapped
back to the target's units. Two fits of the same linear model:

* ``lstsq`` (default): closed-form least squares on centred features with a tiny ridge
  λ = ``ridge`` · trace(XᵀX)/D for numerical stability — deterministic, the exact MSE optimum;
* ``adamw``: the linear-probe optimiser (recipe ``code`` by default) with an MSE loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from ecgjepa_core.evaluation.metrics import MAE, BootstrapCI, bootstrap_ci, mae_sd
from ecgjepa_core.evaluation.linear_probe import default_init_linear, predict_logits, train_linear_head
from ecgjepa_core.evaluation.recipes import ProbeRecipe, probe_recipe
from ecgjepa_core.evaluation.scoring import protocol_text


@dataclass
class RegressionResult:
    """Test MAE ± sd (target units) with its bootstrap CI; ``y_test``/``pred_test`` exclude dropped records."""

    mae: MAE
    ci: BootstrapCI | None
    y_test: np.ndarray
    pred_test: np.ndarray
    target_stats: dict[str, float]
    dropped: dict[str, int]
    protocol: dict

    def protocol_text(self) -> str:
        return protocol_text(self.protocol)


def fit_least_squares(x: np.ndarray, z: np.ndarray, ridge: float) -> tuple[np.ndarray, float]:
    """(N, D) features, (N,) centred target -> (w (D,), bias) minimising ‖Xw + b − z‖² + λ‖w‖²."""
    mean = x.mean(axis=0)
    xc = x - mean
    gram = xc.T @ xc
    lam = ridge * np.trace(gram) / x.shape[1]
    if not gram.any():  # no feature varies (e.g. the constant predictor's zeros): the fit is the mean
        return np.zeros(x.shape[1]), float(z.mean())
    w = np.linalg.solve(gram + lam * np.eye(x.shape[1]), xc.T @ z)
    return w, float(z.mean() - mean @ w)


def fit_adamw(x: np.ndarray, z: np.ndarray, recipe: ProbeRecipe, seed: int) -> torch.nn.Linear:
    gen = torch.Generator().manual_seed(seed)
    head = default_init_linear(x.shape[1], 1, gen)
    mse = lambda pred, y: torch.nn.functional.mse_loss(pred.squeeze(1), y)  # noqa: E731
    train_linear_head(head, torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(z, dtype=torch.float32),
                      mse, recipe, gen, lambda epoch, loss: None)
    return head


def feature_regression(train_x: np.ndarray, train_t: np.ndarray, test_x: np.ndarray, test_t: np.ndarray,
                       method: Literal["lstsq", "adamw"] = "lstsq", ridge: float = 1e-8,
                       recipe: str | ProbeRecipe = "code", seed: int = 0, n_boot: int = 1000,
                       target: str = "", units: str = "", split: str = "", encoder_desc: str = "") -> RegressionResult:
    """Regress a scalar target (e.g. heart rate, bpm) on (N, D) features; MAE ± population sd on test."""
    train_t, test_t = np.asarray(train_t, dtype=np.float64), np.asarray(test_t, dtype=np.float64)
    keep_train, keep_test = np.isfinite(train_t), np.isfinite(test_t)
    x_train = np.asarray(train_x, dtype=np.float64)[keep_train]
    x_test = np.asarray(test_x, dtype=np.float64)[keep_test]
    t_train, t_test = train_t[keep_train], test_t[keep_test]
    mu, sd = float(t_train.mean()), float(t_train.std())
    z = (t_train - mu) / sd
    if method == "lstsq":
        w, b = fit_least_squares(x_train, z, ridge)
        z_pred = x_test @ w + b
        fit = f"closed-form least squares, ridge λ = {ridge:g}·trace(XᵀX)/D on centred features"
    elif method == "adamw":
        recipe = probe_recipe(recipe)
        head = fit_adamw(x_train, z, recipe, seed)
        z_pred = predict_logits(head, torch.as_tensor(x_test, dtype=torch.float32))[:, 0]
        fit = (f"AdamW (recipe {recipe.name}: lr {recipe.lr}, wd {recipe.weight_decay}, batch {recipe.batch_size}, "
               f"{recipe.epochs} epochs), MSE, seed {seed}")
    else:
        raise ValueError(f"method must be 'lstsq' or 'adamw', got {method!r}")
    pred = mu + sd * z_pred
    mae = mae_sd(t_test, pred)
    ci = bootstrap_ci(lambda y, p: mae_sd(y, p).mae, t_test, pred, n_boot=n_boot, seed=seed) if n_boot > 0 else None
    protocol = {
        "protocol": "feature regression, Linear(D→1) on frozen features", "encoder": encoder_desc,
        "target": target, "units": units, "fit": fit,
        "target_scaling": f"standardised with the training mean {mu:.4g} and sd {sd:.4g}; predictions mapped back",
        "nan_targets": f"dropped: {int((~keep_train).sum())} train, {int((~keep_test).sum())} test",
        "n_train": len(t_train), "n_test": len(t_test), "split": split,
        "bootstrap": f"{n_boot} resamples of test records, seed {seed}",
    }
    return RegressionResult(
        mae=mae, ci=ci, y_test=t_test, pred_test=pred,
        target_stats={"train_mean": mu, "train_sd": sd, "test_mean": float(t_test.mean()),
                      "test_sd": float(t_test.std())},
        dropped={"train": int((~keep_train).sum()), "test": int((~keep_test).sum())}, protocol=protocol)
