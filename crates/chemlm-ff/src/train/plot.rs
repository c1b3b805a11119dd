//! Loss curves of a force-field run (`loss.png`): training and validation loss per epoch on a
//! log scale, and the validation force MAE on a second panel.

use super::metrics::EpochRecord;
use crate::error::{FfError, FfResult};
use plotters::prelude::*;
use std::path::Path;

/// Draws the curves of `records` into `png`.
pub fn plot_training(records: &[EpochRecord], png: &Path) -> FfResult<()> {
    draw(records, png).map_err(|e| FfError::Invalid(format!("plot {}: {e}", png.display())))
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw(records: &[EpochRecord], png: &Path) -> DrawResult {
    let finite = |v: f64| v.is_finite() && v > 0.0;
    let train: Vec<(f64, f64)> = records
        .iter()
        .filter(|r| finite(r.train_loss))
        .map(|r| (r.epoch as f64, r.train_loss))
        .collect();
    let valid: Vec<(f64, f64)> = records
        .iter()
        .filter(|r| finite(r.valid_loss))
        .map(|r| (r.epoch as f64, r.valid_loss))
        .collect();
    let fmae: Vec<(f64, f64)> = records
        .iter()
        .filter(|r| finite(r.valid_force_mae_mev_a))
        .map(|r| (r.epoch as f64, r.valid_force_mae_mev_a))
        .collect();
    if train.is_empty() && valid.is_empty() {
        return Err("no finite losses to plot".into());
    }
    let root = BitMapBackend::new(png, (1000, 800)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(440);
    let x_max = records.iter().map(|r| r.epoch).max().unwrap_or(1).max(2) as f64;
    let ys = || train.iter().chain(&valid).map(|p| p.1);
    let (lo, hi) = bounds(ys());
    let mut chart = ChartBuilder::on(&top)
        .caption("Loss", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(1f64..x_max, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("w_E·MSE(E) + w_F·MSE(F)")
        .draw()?;
    chart
        .draw_series(LineSeries::new(train.iter().copied(), BLUE.stroke_width(2)))?
        .label("train")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    chart
        .draw_series(LineSeries::new(valid.iter().copied(), RED.stroke_width(2)))?
        .label("validation")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    if !fmae.is_empty() {
        let (lo, hi) = bounds(fmae.iter().map(|p| p.1));
        let mut chart = ChartBuilder::on(&bottom)
            .caption("Validation force MAE", ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(35)
            .y_label_area_size(70)
            .build_cartesian_2d(1f64..x_max, (lo..hi).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("meV/Å")
            .draw()?;
        chart.draw_series(LineSeries::new(fmae.iter().copied(), GREEN.stroke_width(2)))?;
    }
    root.present()?;
    Ok(())
}

/// Log-axis bounds with a little room (a flat curve still gets a visible range).
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return (1e-3, 1.0);
    }
    (lo / 1.2, hi * 1.2)
}
