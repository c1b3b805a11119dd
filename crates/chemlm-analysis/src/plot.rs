//! Figures of the attention analysis (PNG and SVG): the layers x heads heat maps of the three
//! statistics, and one molecule's attention among its atoms beside its 3-D distance matrix.

use crate::attention::AttentionReport;
use crate::error::{AnalysisError, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// A matrix panel: title, cells (`None` drawn grey), labels, colour range.
struct Panel {
    title: String,
    cells: Vec<Vec<Option<f64>>>,
    row_labels: Vec<String>,
    col_labels: Vec<String>,
    annotate: bool,
    /// Colour map reversed (small = bright), for distances.
    reversed: bool,
}

/// Writes `heatmap.png`/`.svg` (cosine with the 1-bond class, Spearman correlation with the 3-D
/// distance and the far-bond AUC, layers x heads and head mean) and, when the report has one, `example.png`/`.svg`
/// into `dir`.
pub fn write_figures(report: &AttentionReport, dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let rows: Vec<String> = report
        .per_layer
        .iter()
        .map(|l| format!("L{}", l.layer))
        .collect();
    let mut cols: Vec<String> = (1..=report.heads).map(|h| format!("h{h}")).collect();
    cols.push("mean".into());
    let grid = |f: &dyn Fn(&crate::attention::HeadStats) -> Option<f64>| -> Vec<Vec<Option<f64>>> {
        report
            .per_layer
            .iter()
            .map(|l| {
                l.heads
                    .iter()
                    .chain(std::iter::once(&l.head_mean))
                    .map(f)
                    .collect()
            })
            .collect()
    };
    let show = |v: Option<f64>| v.map_or("n/a".into(), |c| format!("{c:.3}"));
    let chance = report.uniform_baseline.first().and_then(|s| s.mean);
    let string_cos = report.sequence_baseline.cosine[0].mean;
    let string_rho = report.sequence_baseline.spearman_distance.mean;
    let panels = vec![
        Panel {
            title: format!(
                "cosine(attention, 1-bond matrix); uniform {}, string-only {}",
                show(chance),
                show(string_cos)
            ),
            cells: grid(&|s| s.cosine[0].mean),
            row_labels: rows.clone(),
            col_labels: cols.clone(),
            annotate: true,
            reversed: false,
        },
        Panel {
            title: format!(
                "Spearman(attention, 3-D distance); string-only {}",
                show(string_rho)
            ),
            cells: grid(&|s| s.spearman_distance.mean),
            row_labels: rows.clone(),
            col_labels: cols.clone(),
            annotate: true,
            reversed: true,
        },
        Panel {
            title: format!(
                "far-bond AUC (pairs 3+ tokens apart); chance 0.5, string-only {}",
                show(report.sequence_baseline.far_bond_auc.mean)
            ),
            cells: grid(&|s| s.far_bond_auc.mean),
            row_labels: rows,
            col_labels: cols,
            annotate: true,
            reversed: false,
        },
    ];
    let caption = format!(
        "{} ({} attention), {} molecules",
        report.model, report.attention, report.analysed
    );
    let mut written = Vec::new();
    let width = 260 + 70 * (report.heads as u32 + 1);
    let height = 160 + 42 * report.layers as u32;
    written.extend(render(
        dir,
        "heatmap",
        (2 * width, height),
        &caption,
        &panels,
    )?);
    if let Some(ex) = &report.example {
        let some = |m: &Vec<Vec<f64>>| -> Vec<Vec<Option<f64>>> {
            m.iter()
                .map(|r| r.iter().map(|&v| Some(v)).collect())
                .collect()
        };
        let labels: Vec<String> = ex
            .atoms
            .iter()
            .enumerate()
            .map(|(i, a)| format!("{a}{}", i + 1))
            .collect();
        let panels = vec![
            Panel {
                title: format!("attention, layer {} (head mean, symmetrised)", ex.layer),
                cells: some(&ex.attention),
                row_labels: labels.clone(),
                col_labels: labels.clone(),
                annotate: false,
                reversed: false,
            },
            Panel {
                title: "3-D distance (Å)".into(),
                cells: some(&ex.distance_angstrom),
                row_labels: labels.clone(),
                col_labels: labels,
                annotate: false,
                reversed: true,
            },
        ];
        let caption = format!("QM9 gdb {}: {}", ex.id, ex.smiles);
        let side = 300 + 28 * ex.atoms.len() as u32;
        written.extend(render(
            dir,
            "example",
            (2 * side, side + 60),
            &caption,
            &panels,
        )?);
    }
    Ok(written)
}

fn render(
    dir: &Path,
    stem: &str,
    size: (u32, u32),
    caption: &str,
    panels: &[Panel],
) -> Result<Vec<std::path::PathBuf>> {
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));
    // Drawn under a hidden temporary name and renamed, so a figure is either complete or
    // absent (plotters picks the image format from the extension, hence the name keeps it).
    chemlm_fs::write_via_path(&png, true, |tmp| -> Result<()> {
        let root = BitMapBackend::new(tmp, size).into_drawing_area();
        draw(&root, caption, panels).map_err(|e| plot_err(&png, e))?;
        root.present().map_err(|e| plot_err(&png, e))
    })?;
    chemlm_fs::write_via_path(&svg, true, |tmp| -> Result<()> {
        let root = SVGBackend::new(tmp, size).into_drawing_area();
        draw(&root, caption, panels).map_err(|e| plot_err(&svg, e))?;
        root.present().map_err(|e| plot_err(&svg, e))
    })?;
    Ok(vec![png, svg])
}

/// Writes `report.json` into `dir` atomically (a hidden temporary file renamed into place).
pub fn write_report(report: &AttentionReport, dir: &Path) -> Result<std::path::PathBuf> {
    let path = dir.join("report.json");
    let text = serde_json::to_string_pretty(report).map_err(|e| plot_err(&path, e))?;
    chemlm_fs::write_bytes(&path, (text + "\n").as_bytes()).map_err(|e| plot_err(&path, e))?;
    Ok(path)
}

fn plot_err(path: &Path, e: impl std::fmt::Display) -> AnalysisError {
    AnalysisError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    caption: &str,
    panels: &[Panel],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled(caption, ("sans-serif", 20))?;
    let areas = root.split_evenly((1, panels.len()));
    for (area, panel) in areas.iter().zip(panels) {
        draw_panel(area, panel)?;
    }
    Ok(())
}

/// Five-stop approximation of matplotlib's viridis at `t` in [0, 1].
fn viridis(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = t.clamp(0.0, 1.0) * 4.0;
    let i = (t.floor() as usize).min(3);
    let f = t - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Panel) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let (left, right, top, bottom) = (60, 90, 40, 50);
    let rows = p.cells.len().max(1) as i32;
    let cols = p.cells.iter().map(|r| r.len()).max().unwrap_or(1).max(1) as i32;
    let cw = ((w - left - right) / cols).max(4);
    let ch = ((h - top - bottom) / rows).max(4);
    let values: Vec<f64> = p
        .cells
        .iter()
        .flatten()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let span = if hi > lo { hi - lo } else { 1.0 };
    let colour = |v: f64| {
        let t = (v - lo) / span;
        viridis(if p.reversed { 1.0 - t } else { t })
    };
    let centred = |size: u32| {
        ("sans-serif", size)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center))
    };
    area.draw_text(&p.title, &centred(15), (w / 2, top / 2))?;
    for (r, row) in p.cells.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let x0 = left + c as i32 * cw;
            let y0 = top + r as i32 * ch;
            let fill = match v {
                Some(v) if v.is_finite() => colour(*v),
                _ => RGBColor(200, 200, 200),
            };
            area.draw(&Rectangle::new(
                [(x0, y0), (x0 + cw, y0 + ch)],
                fill.filled(),
            ))?;
            if let (true, Some(v)) = (p.annotate, v) {
                let t = (v - lo) / span;
                let t = if p.reversed { 1.0 - t } else { t };
                let ink = if t > 0.6 { BLACK } else { WHITE };
                let style = ("sans-serif", 12)
                    .into_font()
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                area.draw_text(&format!("{v:.2}"), &style, (x0 + cw / 2, y0 + ch / 2))?;
            }
        }
    }
    let label_size = if cw < 24 { 10 } else { 13 };
    for (r, l) in p.row_labels.iter().enumerate() {
        let style = ("sans-serif", label_size)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        area.draw_text(l, &style, (left - 6, top + r as i32 * ch + ch / 2))?;
    }
    for (c, l) in p.col_labels.iter().enumerate() {
        area.draw_text(
            l,
            &centred(label_size),
            (left + c as i32 * cw + cw / 2, top + rows * ch + 14),
        )?;
    }
    // Colour bar.
    let bx = left + cols * cw + 20;
    let steps = 40;
    let bar_h = rows * ch;
    for s in 0..steps {
        let v = hi - span * (s as f64 + 0.5) / steps as f64;
        let y0 = top + bar_h * s / steps;
        let y1 = top + bar_h * (s + 1) / steps;
        area.draw(&Rectangle::new(
            [(bx, y0), (bx + 16, y1)],
            colour(v).filled(),
        ))?;
    }
    let side = |size: u32| {
        ("sans-serif", size)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center))
    };
    area.draw_text(&format!("{hi:.2}"), &side(12), (bx + 20, top))?;
    area.draw_text(&format!("{lo:.2}"), &side(12), (bx + 20, top + bar_h))?;
    Ok(())
}
