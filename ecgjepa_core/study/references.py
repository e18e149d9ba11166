"""What the labelled records give without self-supervision: the references every ECG-JEPA row is read against.

On the same PTB-XL splits and test records as Table 1 (multi-label): a 1-D ResNet trained from scratch
(``evaluation.resnet1d``, in the style of the PTB-XL benchmark's models) over the probe seeds, a logistic
regression on hand-crafted ECG features (``evaluation.feature_baseline``: the label delineator's heart
rate and QRS duration plus per-lead amplitude statistics), and, beside them, the linear probes of the main
ECG-JEPA rows with all their pretraining seeds, so that the paired claims compare like with like.
"""

from __future__ import annotations

import numpy as np

from ecgjepa_core.evaluation.feature_baseline import ecg_feature_matrix, feature_logistic_regression
from ecgjepa_core.evaluation.resnet1d import train_resnet1d
from ecgjepa_core.report.results import ML, TASK, TableResult
from ecgjepa_core.study.study import MB, RB, Study
from ecgjepa_core.study.tables import (ALL_LEADS, CNN, CNN_TEXT, TableBuilder, _row, _seeded, evaluations, pooled_scores,
                                       probe_rows)

NAME = "references"
FEATURES = "Logistic regression (ECG features)"


def table_references(study: Study) -> TableResult:
    """The 1-D ResNet, the ECG-feature logistic regression and the ECG-JEPA linear probes, PTB-XL multi-label."""
    b = TableBuilder(study, NAME, "linear")  # the ECG-JEPA rows stand beside the paper's Table 1 values
    data = study.ptbxl
    n_classes = len(data.classes)
    x = data.x(np.arange(len(data.records)), ALL_LEADS)
    features, names = ecg_feature_matrix(x, study.ecg_feature_labels())
    for ev in evaluations(study, data):
        def cnn(fold, labels, seed):
            res = train_resnet1d(x[fold.train], labels(fold.train), x[fold.val], labels(fold.val), x[fold.test],
                                 labels(fold.test), TASK[ML], seed=seed, n_classes=n_classes, n_boot=0,
                                 split=ev.label)
            return res.y_test, res.test_scores
        rule = "epoch chosen on the validation fold" if len(ev.folds[0].val) else "last epoch"
        b.classification(_row(CNN, f"{CNN_TEXT}, 12 leads", data.name, ML, ev.label, "trained from scratch"), ML,
                         pooled_scores(cnn, data, ev, ML, study.probe_seeds), data.classes,
                         f"AdamW lr 0.01, one-cycle, 5 epochs of random 9 s crops, {rule}; "
                         f"{len(study.probe_seeds)} training seeds; {ev.description}", None, "training seeds")

        def logistic(fold, labels, seed):
            res = feature_logistic_regression(features[fold.train], labels(fold.train), features[fold.val],
                                              labels(fold.val), features[fold.test], labels(fold.test), TASK[ML],
                                              seed=seed, n_classes=n_classes, n_boot=0, split=ev.label,
                                              feature_names=names)
            return res.y_test, res.test_scores
        b.classification(_row(FEATURES, f"{features.shape[1]} features: heart rate, QRS duration, 8 amplitude "
                                        "statistics per lead", data.name, ML, ev.label, "logistic regression"), ML,
                         pooled_scores(logistic, data, ev, ML, (study.seed,)), data.classes,
                         "L2 logistic regression per class; C chosen on the validation fold where there is one, "
                         f"else 1; {ev.description}", None, "")
    for method, _, label, encoders in _seeded(study, [RB, MB], random_init=False):
        probe_rows(b, method, label, [study.features(key, enc, data) for key, enc in encoders], data, ML, paper={})
    return b.result()
