//! Charts for the HTML report, drawn with plotters' SVG backend (no fonts
//! are read: plotters without its `ttf` feature only estimates text sizes
//! and the browser draws the text): grade shares per plan, grade counts per
//! category, and each indicator's actual values against the straight path
//! to its target (期待値).
//!
//! Every function returns the SVG text (empty when there is nothing to
//! draw); the numbers are also in the tables beside the charts.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{CrossTable, IndicatorRow, ScaleInfo};
use super::text_fmt::width;

const FONT: &str = "sans-serif";

/// Okabe–Ito colours (distinguishable with colour-blindness), best band
/// first, for a scale of `n` bands.
const BANDS: [&[&str]; 6] = [
    &[],
    &["#009E73"],
    &["#009E73", "#D55E00"],
    &["#009E73", "#E69F00", "#D55E00"],
    &["#009E73", "#56B4E9", "#E69F00", "#D55E00"],
    &["#0072B2", "#009E73", "#56B4E9", "#E69F00", "#D55E00"],
];
const STATES: [&str; 3] = ["#999999", "#C8C8C8", "#6E6E6E"];
const OTHER: [&str; 4] = ["#CC79A7", "#F0E442", "#8C564B", "#17BECF"];

/// The colour of each grade label: bands by rank, states in greys, any
/// other label after them.
pub fn grade_colors(labels: &[String], scale: Option<&ScaleInfo>) -> Vec<String> {
    let (bands, states) = scale.map_or((Vec::new(), Vec::new()), |s| {
        (s.bands.clone(), s.states.clone())
    });
    let palette: Vec<&str> = if bands.len() < BANDS.len() {
        BANDS[bands.len()].to_vec()
    } else {
        (0..bands.len())
            .map(|i| BANDS[5][i * 5 / bands.len()])
            .collect()
    };
    let mut other = 0;
    labels
        .iter()
        .map(|l| {
            if let Some(i) = bands.iter().position(|b| b == l) {
                palette[i].to_string()
            } else if let Some(i) = states.iter().position(|s| s == l) {
                STATES[i % STATES.len()].to_string()
            } else {
                other += 1;
                OTHER[(other - 1) % OTHER.len()].to_string()
            }
        })
        .collect()
}

fn rgb(hex: &str) -> RGBColor {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap_or(0x999999);
    RGBColor((v >> 16) as u8, (v >> 8) as u8, v as u8)
}

type Res = Result<(), Box<dyn std::error::Error>>;

/// A legend strip: a swatch and a label per entry.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[(String, RGBColor)],
) -> Res
where
    DB::ErrorType: 'static,
{
    let mut x = 10;
    for (label, color) in entries {
        area.draw(&Rectangle::new([(x, 8), (x + 14, 22)], color.filled()))?;
        area.draw(&Text::new(
            label.clone(),
            (x + 20, 15),
            (FONT, 17)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += 34 + (width(label) as i32) * 7;
    }
    Ok(())
}

/// Width of the label area for `labels`, in pixels.
fn label_area(labels: &[String]) -> u32 {
    let w = labels.iter().map(|l| width(l)).max().unwrap_or(0) as u32;
    (w * 7 + 16).clamp(48, 240)
}

fn finish(svg: String, ok: Res) -> String {
    match ok {
        Ok(()) => svg,
        Err(_) => String::new(),
    }
}

/// Horizontal 100 % bars, one per row, split by grade; counts written in
/// the segments.
pub fn share_bars(
    rows: &[(String, Vec<usize>)],
    grades: &[String],
    scale: Option<&ScaleInfo>,
) -> String {
    let colors: Vec<RGBColor> = grade_colors(grades, scale).iter().map(|c| rgb(c)).collect();
    let names: Vec<String> = rows.iter().map(|(n, _)| n.clone()).collect();
    let height = 70 + 44 * rows.len() as u32;
    let mut svg = String::new();
    let ok = (|| -> Res {
        let root = SVGBackend::with_string(&mut svg, (640, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, body) = root.split_vertically(32);
        legend(
            &top,
            &grades
                .iter()
                .cloned()
                .zip(colors.iter().copied())
                .collect::<Vec<_>>(),
        )?;
        let n = rows.len() as i32;
        let mut chart = ChartBuilder::on(&body)
            .margin_right(20)
            .margin_bottom(4)
            .x_label_area_size(28)
            .y_label_area_size(label_area(&names))
            .build_cartesian_2d(0f64..100f64, (0..n).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_labels(6)
            .x_label_formatter(&|v| format!("{v:.0}%"))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => names
                    .get((n - 1 - *i) as usize)
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .label_style((FONT, 17))
            .light_line_style(TRANSPARENT)
            .draw()?;
        for (ri, (_, counts)) in rows.iter().enumerate() {
            let y = n - 1 - ri as i32;
            let total: usize = counts.iter().sum();
            if total == 0 {
                continue;
            }
            let mut x0 = 0f64;
            for (k, &c) in counts.iter().enumerate() {
                if c == 0 {
                    continue;
                }
                let x1 = x0 + c as f64 * 100.0 / total as f64;
                let mut r = Rectangle::new(
                    [
                        (x0, SegmentValue::Exact(y)),
                        (x1, SegmentValue::Exact(y + 1)),
                    ],
                    colors[k % colors.len()].filled(),
                );
                r.set_margin(6, 6, 0, 0);
                chart.draw_series(std::iter::once(r))?;
                if x1 - x0 >= 4.0 {
                    chart.draw_series(std::iter::once(Text::new(
                        c.to_string(),
                        ((x0 + x1) / 2.0, SegmentValue::CenterOf(y)),
                        (FONT, 17)
                            .into_font()
                            .color(&BLACK)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    )))?;
                }
                x0 = x1;
            }
        }
        root.present()?;
        Ok(())
    })();
    finish(svg, ok)
}

/// Horizontal stacked bars of counts: one per category, split by grade.
pub fn count_bars(t: &CrossTable, scale: Option<&ScaleInfo>) -> String {
    let colors: Vec<RGBColor> = grade_colors(&t.grades, scale)
        .iter()
        .map(|c| rgb(c))
        .collect();
    let names: Vec<String> = t.rows.iter().map(|r| r.category.clone()).collect();
    let max = t.rows.iter().map(|r| r.total).max().unwrap_or(0).max(1);
    let height = 70 + 34 * t.rows.len().max(1) as u32;
    let mut svg = String::new();
    let ok = (|| -> Res {
        let root = SVGBackend::with_string(&mut svg, (640, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, body) = root.split_vertically(32);
        legend(
            &top,
            &t.grades
                .iter()
                .cloned()
                .zip(colors.iter().copied())
                .collect::<Vec<_>>(),
        )?;
        let n = t.rows.len() as i32;
        let mut chart = ChartBuilder::on(&body)
            .margin_right(20)
            .margin_bottom(4)
            .x_label_area_size(28)
            .y_label_area_size(label_area(&names))
            .build_cartesian_2d(0f64..(max as f64 * 1.05), (0..n.max(1)).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_labels(8)
            .x_label_formatter(&|v| {
                if v.fract() == 0.0 {
                    format!("{v:.0}")
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => names
                    .get((n - 1 - *i) as usize)
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .label_style((FONT, 17))
            .light_line_style(TRANSPARENT)
            .draw()?;
        for (ri, r) in t.rows.iter().enumerate() {
            let y = n - 1 - ri as i32;
            let mut x0 = 0f64;
            for (k, &c) in r.counts.iter().enumerate() {
                if c == 0 {
                    continue;
                }
                let x1 = x0 + c as f64;
                let mut rect = Rectangle::new(
                    [
                        (x0, SegmentValue::Exact(y)),
                        (x1, SegmentValue::Exact(y + 1)),
                    ],
                    colors[k % colors.len()].filled(),
                );
                rect.set_margin(5, 5, 0, 0);
                chart.draw_series(std::iter::once(rect))?;
                if (x1 - x0) / max as f64 >= 0.04 {
                    chart.draw_series(std::iter::once(Text::new(
                        c.to_string(),
                        ((x0 + x1) / 2.0, SegmentValue::CenterOf(y)),
                        (FONT, 16)
                            .into_font()
                            .color(&BLACK)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    )))?;
                }
                x0 = x1;
            }
        }
        root.present()?;
        Ok(())
    })();
    finish(svg, ok)
}

/// A number for an axis label: grouped integers, at most two decimals.
fn axis_number(v: f64) -> String {
    if v.abs() >= 1000.0 || v.fract() == 0.0 {
        let s = format!("{:.0}", v);
        super::data::Dec(s).grouped()
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// An indicator's baseline and actual values (up to the evaluation year)
/// against the straight path from its starting point to its target; `None`
/// without a numeric target or any numeric value.
pub fn trajectory(i: &IndicatorRow, year: i32) -> Option<String> {
    let t = i.target.as_ref()?;
    let tv = t.value.as_ref()?.to_f64();
    let mut points: Vec<(f64, f64)> = Vec::new();
    if let Some(b) = &i.baseline {
        if let Some(v) = &b.value {
            points.push((b.year as f64, v.to_f64()));
        }
    }
    for a in &i.actuals {
        if let Some(v) = &a.value {
            points.push((a.year as f64, v.to_f64()));
        }
    }
    if points.is_empty() {
        return None;
    }
    // The path starts at the baseline, or at 0 the year before a running
    // total starts (as `indicator.expected` does).
    let start = match (&i.baseline, i.cumulative) {
        (Some(b), _) if b.value.is_some() => b.value.as_ref().map(|v| (b.year as f64, v.to_f64())),
        (_, true) => points.first().map(|p| (p.0 - 1.0, 0.0)),
        _ => None,
    };
    let x_min = points
        .iter()
        .map(|p| p.0)
        .chain(start.map(|s| s.0))
        .fold(f64::INFINITY, f64::min);
    let x_max = (t.year.max(year)) as f64;
    let ys: Vec<f64> = points
        .iter()
        .map(|p| p.1)
        .chain(std::iter::once(tv))
        .chain(start.map(|s| s.1))
        .collect();
    let (mut lo, mut hi) = ys
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| {
            (a.min(y), b.max(y))
        });
    if lo == hi {
        lo -= 1.0_f64.max(lo.abs() * 0.1);
        hi += 1.0_f64.max(hi.abs() * 0.1);
    }
    let pad = (hi - lo) * 0.12;
    let (mut lo, hi) = (lo - pad, hi + pad);
    if lo < 0.0 && ys.iter().all(|&y| y >= 0.0) {
        lo = 0.0;
    }

    let actual_color = rgb("#0072B2");
    let path_color = rgb("#555555");
    let target_color = rgb("#D55E00");
    let mut svg = String::new();
    let unit = i.unit.clone().unwrap_or_default();
    let ok = (|| -> Res {
        let root = SVGBackend::with_string(&mut svg, (640, 320)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, body) = root.split_vertically(32);
        legend(
            &top,
            &[
                ("実績値（基準値を含む）".to_string(), actual_color),
                ("目標までの経路".to_string(), path_color),
                ("目標値".to_string(), target_color),
            ],
        )?;
        let mut chart = ChartBuilder::on(&body)
            .margin_right(24)
            .margin_bottom(4)
            .margin_top(8)
            .x_label_area_size(30)
            .y_label_area_size(72)
            .build_cartesian_2d((x_min - 0.5)..(x_max + 0.5), lo..hi)?;
        chart
            .configure_mesh()
            .x_labels(((x_max - x_min) as usize + 2).min(12))
            .x_label_formatter(&|v| {
                if v.fract() == 0.0 {
                    format!("{v:.0}")
                } else {
                    String::new()
                }
            })
            .y_labels(6)
            .y_label_formatter(&|v| axis_number(*v))
            .y_desc(unit.as_str())
            .label_style((FONT, 16))
            .light_line_style(TRANSPARENT)
            .draw()?;
        // The evaluation year.
        chart.draw_series(LineSeries::new(
            [(year as f64, lo), (year as f64, hi)],
            rgb("#BBBBBB").stroke_width(1),
        ))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("評価年度 {year}"),
            (year as f64, hi),
            (FONT, 15)
                .into_font()
                .color(&rgb("#666666"))
                .pos(Pos::new(HPos::Center, VPos::Top)),
        )))?;
        if let Some(s) = start {
            chart.draw_series(DashedLineSeries::new(
                [s, (t.year as f64, tv)],
                8,
                5,
                path_color.stroke_width(2),
            ))?;
        }
        chart.draw_series(LineSeries::new(
            points.iter().copied(),
            actual_color.stroke_width(3),
        ))?;
        chart.draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, 5, actual_color.filled())),
        )?;
        chart.draw_series(std::iter::once(TriangleMarker::new(
            (t.year as f64, tv),
            8,
            target_color.filled(),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            format!(
                "目標 {}",
                t.value.as_ref().map_or(String::new(), |v| v.grouped())
            ),
            (t.year as f64, tv),
            (FONT, 16)
                .into_font()
                .color(&target_color)
                .pos(Pos::new(HPos::Right, VPos::Bottom)),
        )))?;
        root.present()?;
        Ok(())
    })();
    let svg = finish(svg, ok);
    (!svg.is_empty()).then_some(svg)
}
