//! Evaluation metrics with the exact conventions of the references users compare against:
//! scikit-learn for ROC-AUC / PRC-AUC / RMSE / MAE / R², RDKit's `Scoring` module for BEDROC and
//! enrichment factors. Pinned conventions matter: e.g. chemprop's "prc-auc" is the trapezoidal area
//! under sklearn's precision–recall curve, not average precision.

use std::cmp::Ordering;

/// Why a metric is undefined for the given labels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricError {
    #[error("{0}: needs both positive and negative labels")]
    OneClass(&'static str),
    #[error("{what}: {a} predictions but {b} labels")]
    Length {
        what: &'static str,
        a: usize,
        b: usize,
    },
    #[error("{0}: empty input")]
    Empty(&'static str),
}

fn check(what: &'static str, a: usize, b: usize) -> Result<(), MetricError> {
    if a != b {
        return Err(MetricError::Length { what, a, b });
    }
    if a == 0 {
        return Err(MetricError::Empty(what));
    }
    Ok(())
}

/// Distinct-threshold points of the binary curve, scores sorted descending: (fps, tps) cumulated at
/// each threshold where the score changes, as sklearn's `_binary_clf_curve`.
fn clf_curve(labels: &[bool], scores: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].partial_cmp(&scores[a]).unwrap_or(Ordering::Equal));
    let (mut fps, mut tps) = (Vec::new(), Vec::new());
    let (mut fp, mut tp) = (0.0, 0.0);
    for (k, &i) in idx.iter().enumerate() {
        if labels[i] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last = k + 1 == idx.len() || scores[idx[k + 1]] != scores[i];
        if last {
            fps.push(fp);
            tps.push(tp);
        }
    }
    (fps, tps)
}

fn trapezoid(x: &[f64], y: &[f64]) -> f64 {
    x.windows(2)
        .zip(y.windows(2))
        .map(|(xw, yw)| (xw[1] - xw[0]) * (yw[1] + yw[0]) / 2.0)
        .sum()
}

/// Area under the ROC curve (`sklearn.metrics.roc_auc_score`, ties handled by threshold grouping).
pub fn roc_auc(labels: &[bool], scores: &[f64]) -> Result<f64, MetricError> {
    check("ROC-AUC", scores.len(), labels.len())?;
    let (fps, tps) = clf_curve(labels, scores);
    let (p, n) = (*tps.last().unwrap_or(&0.0), *fps.last().unwrap_or(&0.0));
    if p == 0.0 || n == 0.0 {
        return Err(MetricError::OneClass("ROC-AUC"));
    }
    let mut x = vec![0.0];
    let mut y = vec![0.0];
    x.extend(fps.iter().map(|f| f / n));
    y.extend(tps.iter().map(|t| t / p));
    Ok(trapezoid(&x, &y))
}

/// Area under the precision–recall curve by the trapezoidal rule, as chemprop's `prc-auc`
/// (`auc(recall, precision)` over `precision_recall_curve`).
pub fn prc_auc(labels: &[bool], scores: &[f64]) -> Result<f64, MetricError> {
    check("PRC-AUC", scores.len(), labels.len())?;
    let (fps, tps) = clf_curve(labels, scores);
    let p = *tps.last().unwrap_or(&0.0);
    if p == 0.0 {
        return Err(MetricError::OneClass("PRC-AUC"));
    }
    // sklearn: precision = tps / (tps + fps), recall = tps / p, reversed, with (recall 0, precision 1) appended.
    let mut recall: Vec<f64> = tps.iter().rev().map(|t| t / p).collect();
    let mut precision: Vec<f64> = tps
        .iter()
        .zip(&fps)
        .rev()
        .map(|(t, f)| if t + f == 0.0 { 1.0 } else { t / (t + f) })
        .collect();
    recall.push(0.0);
    precision.push(1.0);
    // Decreasing recall: integrate and flip the sign as sklearn's `auc` does for monotone x.
    Ok(-trapezoid(&recall, &precision))
}

/// Root-mean-square error.
pub fn rmse(y: &[f64], pred: &[f64]) -> Result<f64, MetricError> {
    check("RMSE", pred.len(), y.len())?;
    Ok((y
        .iter()
        .zip(pred)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        / y.len() as f64)
        .sqrt())
}

/// Mean absolute error.
pub fn mae(y: &[f64], pred: &[f64]) -> Result<f64, MetricError> {
    check("MAE", pred.len(), y.len())?;
    Ok(y.iter().zip(pred).map(|(a, b)| (a - b).abs()).sum::<f64>() / y.len() as f64)
}

/// Coefficient of determination (`sklearn.metrics.r2_score`; 0 when y is constant and fit exact is
/// not perfect, 1 when perfect).
pub fn r2(y: &[f64], pred: &[f64]) -> Result<f64, MetricError> {
    check("R2", pred.len(), y.len())?;
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let ss_res: f64 = y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)).sum();
    let ss_tot: f64 = y.iter().map(|a| (a - mean).powi(2)).sum();
    Ok(if ss_tot == 0.0 {
        if ss_res == 0.0 {
            1.0
        } else {
            0.0
        }
    } else {
        1.0 - ss_res / ss_tot
    })
}

/// Ranks (1-based) of the actives when all molecules are sorted by score, best first.
fn active_ranks(labels: &[bool], scores: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].partial_cmp(&scores[a]).unwrap_or(Ordering::Equal));
    idx.iter()
        .enumerate()
        .filter(|(_, &i)| labels[i])
        .map(|(r, _)| (r + 1) as f64)
        .collect()
}

/// BEDROC (Truchon & Bayly 2007) exactly as RDKit's `Scoring.CalcBEDROC` (alpha = 20 is customary):
/// the RIE of the actives' ranks, rescaled between its minimum and maximum.
pub fn bedroc(labels: &[bool], scores: &[f64], alpha: f64) -> Result<f64, MetricError> {
    check("BEDROC", scores.len(), labels.len())?;
    let n = scores.len() as f64;
    let ranks = active_ranks(labels, scores);
    let na = ranks.len() as f64;
    if na == 0.0 {
        return Err(MetricError::OneClass("BEDROC"));
    }
    let denom = (1.0 / n) * ((1.0 - (-alpha).exp()) / ((alpha / n).exp() - 1.0));
    let sum_exp: f64 = ranks.iter().map(|r| (-alpha * r / n).exp()).sum();
    let rie = sum_exp / (na * denom);
    let ratio = na / n;
    let rie_max = (1.0 - (-alpha * ratio).exp()) / (ratio * (1.0 - (-alpha).exp()));
    let rie_min = (1.0 - (alpha * ratio).exp()) / (ratio * (1.0 - alpha.exp()));
    Ok(if rie_max != rie_min {
        (rie - rie_min) / (rie_max - rie_min)
    } else {
        1.0
    })
}

/// Enrichment factor at `fraction` (e.g. 0.01) as RDKit's `Scoring.CalcEnrichment`: actives found in
/// the top `ceil(n * fraction)` divided by what a random ranking finds there.
pub fn enrichment_factor(
    labels: &[bool],
    scores: &[f64],
    fraction: f64,
) -> Result<f64, MetricError> {
    check("EF", scores.len(), labels.len())?;
    let n = scores.len();
    let ranks = active_ranks(labels, scores);
    if ranks.is_empty() {
        return Err(MetricError::OneClass("EF"));
    }
    let top = ((n as f64) * fraction).ceil().max(1.0);
    let found = ranks.iter().filter(|&&r| r <= top).count() as f64;
    Ok((found / top) / (ranks.len() as f64 / n as f64))
}
