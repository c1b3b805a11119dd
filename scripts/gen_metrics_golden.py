#!/usr/bin/env python3
"""Golden values for chemlm-train's eval metrics from the references users compare against:
scikit-learn 1.9 (ROC-AUC, PRC-AUC as chemprop computes it, RMSE, MAE, R2) and RDKit's
rdkit.ML.Scoring (BEDROC, enrichment factors).

    pip install scikit-learn rdkit && python3 scripts/gen_metrics_golden.py
"""
import json
import os
import random

from rdkit.ML.Scoring import Scoring
from sklearn.metrics import (auc, mean_absolute_error, mean_squared_error, precision_recall_curve,
                             r2_score, roc_auc_score)

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "chemlm-train", "tests", "golden", "metrics.json")


def case(rng, n, pos_frac, ties):
    labels = [rng.random() < pos_frac for _ in range(n)]
    if not any(labels):
        labels[0] = True
    if all(labels):
        labels[-1] = False
    # Scores correlated with labels; rounding creates ties when asked.
    scores = [rng.gauss(1.0 if l else 0.0, 1.0) for l in labels]
    if ties:
        scores = [round(s, 1) for s in scores]
    y = [rng.gauss(0, 2) for _ in range(n)]
    pred = [v + rng.gauss(0, 1) for v in y]
    order = sorted(range(n), key=lambda i: -scores[i])  # stable: ties keep input order
    ranked = [[scores[i], labels[i]] for i in order]
    precision, recall, _ = precision_recall_curve(labels, scores)
    return {
        "labels": labels,
        "scores": scores,
        "y": y,
        "pred": pred,
        "roc_auc": roc_auc_score(labels, scores),
        "prc_auc": auc(recall, precision),
        "rmse": mean_squared_error(y, pred) ** 0.5,
        "mae": mean_absolute_error(y, pred),
        "r2": r2_score(y, pred),
        "bedroc20": Scoring.CalcBEDROC(ranked, 1, 20.0),
        "ef": dict(zip(["0.01", "0.05", "0.1"], Scoring.CalcEnrichment(ranked, 1, [0.01, 0.05, 0.1]))),
    }


def main():
    rng = random.Random(7)
    cases = [case(rng, n, f, t) for n, f, t in [(10, 0.5, False), (57, 0.2, True), (300, 0.05, True),
                                                 (1000, 0.02, False), (250, 0.5, True)]]
    with open(OUT, "w") as f:
        json.dump(cases, f)
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
