//! Log-log scaling plots: measured losses and the fitted power law, PNG and SVG.

use super::fit::FitWithCi;
use crate::error::{Result, TrainError};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// One labelled group of points (e.g. one model size) in a scaling plot.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// (R, loss) points.
    pub points: Vec<(f64, f64)>,
}

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    series: &[Series],
    fit: Option<&FitWithCi>,
    x_desc: &str,
    y_desc: &str,
    title: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let all = || series.iter().flat_map(|s| s.points.iter());
    let xmin = all().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let xmax = all().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let ymin = all().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let ymax = all().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    if !(xmin.is_finite() && xmax.is_finite() && ymin > 0.0 && xmin > 0.0) {
        return Err("no positive points to plot".into());
    }
    let (x0, x1) = (xmin / 1.5, xmax * 1.5);
    let (y0, y1) = (ymin / 1.1, ymax * 1.1);
    // Losses usually span less than a decade, where plotters' log axis finds no key points and
    // draws no tick labels: give it eight geometrically spaced ones.
    let y_ticks: Vec<f64> = (0..8)
        .map(|i| y0 * (y1 / y0).powf(i as f64 / 7.0))
        .collect();
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(65)
        .build_cartesian_2d(
            (x0..x1).log_scale(),
            (y0..y1).log_scale().with_key_points(y_ticks),
        )?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|x| format!("{x:.0e}"))
        .y_label_formatter(&|y| format!("{y:.3}"))
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        chart
            .draw_series(s.points.iter().map(|&p| Circle::new(p, 5, c.filled())))?
            .label(s.label.clone())
            .legend(move |(x, y)| Circle::new((x + 10, y), 5, c.filled()));
    }
    if let Some(f) = fit {
        let n = 100;
        let line: Vec<(f64, f64)> = (0..=n)
            .map(|i| {
                let x = (x0.ln() + (x1.ln() - x0.ln()) * i as f64 / n as f64).exp();
                (x, f.law.eval(x))
            })
            .filter(|p| p.1 > y0 && p.1 < y1)
            .collect();
        let label = if f.law.c > 0.0 {
            format!(
                "L = {:.3}·R^-{:.3} + {:.3}  (b 95% CI {:.3}–{:.3})",
                f.law.a, f.law.b, f.law.c, f.b_ci.0, f.b_ci.1
            )
        } else {
            format!(
                "L = {:.3}·R^-{:.3}  (b 95% CI {:.3}–{:.3})",
                f.law.a, f.law.b, f.b_ci.0, f.b_ci.1
            )
        };
        chart
            .draw_series(LineSeries::new(line, BLACK.stroke_width(2)))?
            .label(label)
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// Writes `stem.png` and `stem.svg`: the points of every series and the fit, log-log; `y_desc`
/// names the loss (nats/token for language models, the force-weighted MSE for force fields).
pub fn plot_scaling(
    series: &[Series],
    fit: Option<&FitWithCi>,
    x_desc: &str,
    y_desc: &str,
    title: &str,
    stem: &Path,
) -> Result<()> {
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    let err = |p: &Path, e: String| TrainError::Plot {
        path: p.to_path_buf(),
        reason: e,
    };
    {
        let root = BitMapBackend::new(&png, (900, 600)).into_drawing_area();
        draw(&root, series, fit, x_desc, y_desc, title).map_err(|e| err(&png, e.to_string()))?;
        root.present().map_err(|e| err(&png, e.to_string()))?;
    }
    {
        let root = SVGBackend::new(&svg, (900, 600)).into_drawing_area();
        draw(&root, series, fit, x_desc, y_desc, title).map_err(|e| err(&svg, e.to_string()))?;
        root.present().map_err(|e| err(&svg, e.to_string()))?;
    }
    Ok(())
}
