//! Property histograms of generated vs reference molecules (MW, logP, ring count), PNG and SVG.

use super::ReferenceStats;
use crate::error::{Result, TrainError};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Normalised histogram (density per bin) of `v` on `bins` equal bins over `[lo, hi)`.
fn density(v: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<(f64, f64)> {
    let w = (hi - lo) / bins as f64;
    let mut c = vec![0f64; bins];
    for &x in v {
        if x.is_finite() && x >= lo && x < hi {
            c[(((x - lo) / w) as usize).min(bins - 1)] += 1.0;
        }
    }
    let n = v.len().max(1) as f64;
    // A step outline: (left, h), (right, h) per bin.
    let mut out = Vec::with_capacity(2 * bins);
    for (i, h) in c.iter().enumerate() {
        let x0 = lo + i as f64 * w;
        out.push((x0, h / n / w));
        out.push((x0 + w, h / n / w));
    }
    out
}

fn range(a: &[f64], b: &[f64]) -> (f64, f64) {
    let lo = a.iter().chain(b).copied().fold(f64::INFINITY, f64::min);
    let hi = a.iter().chain(b).copied().fold(f64::NEG_INFINITY, f64::max);
    if lo.is_finite() && hi > lo {
        (lo, hi + (hi - lo) * 1e-9 + 1e-9)
    } else {
        (0.0, 1.0)
    }
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    gen: &[f64],
    reference: &[f64],
    bins: usize,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (lo, hi) = range(gen, reference);
    let g = density(gen, lo, hi, bins);
    let r = density(reference, lo, hi, bins);
    let ymax = g.iter().chain(&r).map(|p| p.1).fold(1e-9, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(lo..hi, 0f64..ymax)?;
    chart.configure_mesh().y_desc("density").draw()?;
    chart
        .draw_series(LineSeries::new(r, BLACK.stroke_width(2)))?
        .label("reference")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    chart
        .draw_series(LineSeries::new(g, RED.stroke_width(2)))?
        .label("generated")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    gen: &ReferenceStats,
    reference: &ReferenceStats,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let areas = root.split_evenly((1, 3));
    panel(&areas[0], "molecular weight", &gen.mw, &reference.mw, 40)?;
    panel(&areas[1], "Crippen logP", &gen.logp, &reference.logp, 40)?;
    let (_, hi) = range(&gen.rings, &reference.rings);
    panel(
        &areas[2],
        "ring count",
        &gen.rings,
        &reference.rings,
        (hi.ceil() as usize).clamp(1, 20),
    )?;
    Ok(())
}

/// Writes `stem.png` and `stem.svg`: three density histograms, generated (red) over reference.
pub fn plot_property_histograms(
    gen: &ReferenceStats,
    reference: &ReferenceStats,
    stem: &Path,
) -> Result<()> {
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    let err = |p: &Path, e: Box<dyn std::error::Error>| TrainError::Plot {
        path: p.to_path_buf(),
        reason: e.to_string(),
    };
    {
        let root = BitMapBackend::new(&png, (1500, 450)).into_drawing_area();
        draw(&root, gen, reference).map_err(|e| err(&png, e))?;
        root.present().map_err(|e| err(&png, e.into()))?;
    }
    {
        let root = SVGBackend::new(&svg, (1500, 450)).into_drawing_area();
        draw(&root, gen, reference).map_err(|e| err(&svg, e))?;
        root.present().map_err(|e| err(&svg, e.into()))?;
    }
    Ok(())
}
