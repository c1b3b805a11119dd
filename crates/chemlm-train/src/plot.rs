//! Loss-curve figures (PNG and SVG) from `metrics.jsonl`.

use crate::error::{Result, TrainError};
use crate::metrics::MetricLine;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Draws training loss (raw and smoothed) and validation loss against steps into `png` and `svg`.
pub fn plot_loss_curves(lines: &[MetricLine], png: &Path, svg: &Path) -> Result<()> {
    let train: Vec<(f64, f64)> = lines
        .iter()
        .filter_map(|l| match l {
            MetricLine::Train(r) if r.loss.is_finite() => Some((r.step as f64, r.loss)),
            _ => None,
        })
        .collect();
    let valid: Vec<(f64, f64)> = lines
        .iter()
        .filter_map(|l| match l {
            MetricLine::Valid(r) if r.loss.is_finite() => Some((r.step as f64, r.loss)),
            _ => None,
        })
        .collect();
    if train.is_empty() && valid.is_empty() {
        return Err(TrainError::Plot {
            path: png.to_path_buf(),
            reason: "no finite losses to plot".into(),
        });
    }
    let smooth = smoothed(&train, 0.9);
    {
        let root = BitMapBackend::new(png, (1000, 600)).into_drawing_area();
        draw(&root, &train, &smooth, &valid).map_err(|e| plot_err(png, e))?;
        root.present().map_err(|e| plot_err(png, e))?;
    }
    {
        let root = SVGBackend::new(svg, (1000, 600)).into_drawing_area();
        draw(&root, &train, &smooth, &valid).map_err(|e| plot_err(svg, e))?;
        root.present().map_err(|e| plot_err(svg, e))?;
    }
    Ok(())
}

fn plot_err(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Plot {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Bias-corrected exponential smoothing (as TensorBoard's smoothing slider).
fn smoothed(points: &[(f64, f64)], alpha: f64) -> Vec<(f64, f64)> {
    let mut acc = 0.0;
    let mut weight = 0.0;
    points
        .iter()
        .map(|&(x, y)| {
            acc = alpha * acc + (1.0 - alpha) * y;
            weight = alpha * weight + (1.0 - alpha);
            (x, acc / weight)
        })
        .collect()
}

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    train: &[(f64, f64)],
    smooth: &[(f64, f64)],
    valid: &[(f64, f64)],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let all = || train.iter().chain(valid.iter());
    let x_max = all().map(|p| p.0).fold(1.0, f64::max);
    let y_min = all().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let y_max = all().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let pad = ((y_max - y_min) * 0.05).max(1e-3);
    let mut chart = ChartBuilder::on(root)
        .caption("Loss", ("sans-serif", 24))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x_max, (y_min - pad)..(y_max + pad))?;
    chart
        .configure_mesh()
        .x_desc("optimizer step")
        .y_desc("loss (nats / predicted token)")
        .draw()?;
    if !train.is_empty() {
        let light = RGBColor(160, 190, 230);
        chart.draw_series(LineSeries::new(train.iter().copied(), light))?;
        chart
            .draw_series(LineSeries::new(
                smooth.iter().copied(),
                BLUE.stroke_width(2),
            ))?
            .label("train (smoothed)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    }
    if !valid.is_empty() {
        chart
            .draw_series(LineSeries::new(valid.iter().copied(), RED.stroke_width(2)))?
            .label("validation")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
        chart.draw_series(valid.iter().map(|&p| Circle::new(p, 3, RED.filled())))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
