//! The terminal summary (`--format text`): per plan the grade distribution
//! with bars, the category table and the city's published table, then the
//! review outcomes, finding counts and year-over-year changes. Columns are
//! aligned by display width, so Japanese (full-width) text lines up.

use super::chart::grade_colors;
use super::data::{CrossTable, GradeCount, ReportData};
use super::text_fmt::{change_ja, level_ja, pad_left, pad_right, truncate, width};

/// ANSI styles, or none.
struct Style {
    color: bool,
    /// The ANSI colour code of each grade label.
    grades: Vec<(String, &'static str)>,
}

impl Style {
    fn bold(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    /// `s` (already padded) in the colour of grade `g`.
    fn grade(&self, g: &str, s: String) -> String {
        match self.grades.iter().find(|(l, _)| l == g) {
            Some((_, code)) if self.color => format!("\x1b[{code}m{s}\x1b[0m"),
            _ => s,
        }
    }
}

/// The terminal colour of a chart colour.
fn ansi(hex: &str) -> &'static str {
    match hex {
        "#009E73" => "32",
        "#0072B2" | "#56B4E9" => "36",
        "#E69F00" => "33",
        "#D55E00" => "31",
        "#999999" | "#C8C8C8" | "#6E6E6E" => "90",
        _ => "35",
    }
}

fn distribution(out: &mut String, st: &Style, what: &str, d: &[GradeCount]) {
    let total: usize = d.iter().map(|c| c.count).sum();
    if total == 0 {
        return;
    }
    let w = d
        .iter()
        .map(|c| width(&c.grade))
        .max()
        .unwrap_or(0)
        .max(width("評価"));
    out.push_str(&format!(
        "  {}  {}  {}\n",
        pad_right("評価", w),
        pad_left(what, 6),
        pad_left("割合", 7)
    ));
    for c in d {
        let bar = "█".repeat((c.count * 30).div_ceil(total.max(1)).min(30));
        let bar = if c.count == 0 { String::new() } else { bar };
        let mut line = format!(
            "  {}  {}  {}",
            st.grade(&c.grade, pad_right(&c.grade, w)),
            pad_left(&c.count.to_string(), 6),
            pad_left(&format!("{}%", c.percent), 7),
        );
        if !bar.is_empty() {
            line.push_str("  ");
            line.push_str(&st.grade(&c.grade, bar));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&format!(
        "  {}  {}\n",
        pad_right("計", w),
        pad_left(&total.to_string(), 6)
    ));
}

fn cross(out: &mut String, st: &Style, t: &CrossTable) {
    let first = t
        .rows
        .iter()
        .map(|r| width(&r.category))
        .chain([width("取組内容"), width("計")])
        .max()
        .unwrap_or(0);
    let widths: Vec<usize> = t.grades.iter().map(|g| width(g).max(4)).collect();
    let mut line = format!("  {}", pad_right("取組内容", first));
    for (g, w) in t.grades.iter().zip(&widths) {
        line.push_str("  ");
        line.push_str(&st.grade(g, pad_left(g, *w)));
    }
    line.push_str(&format!("  {}\n", pad_left("計", 4)));
    out.push_str(&line);
    let mut rows: Vec<(String, Vec<usize>, usize)> = t
        .rows
        .iter()
        .map(|r| (r.category.clone(), r.counts.clone(), r.total))
        .collect();
    rows.push(("計".into(), t.column_totals.clone(), t.total));
    for (cat, counts, total) in rows {
        let mut line = format!("  {}", pad_right(&cat, first));
        for (c, w) in counts.iter().zip(&widths) {
            line.push_str("  ");
            line.push_str(&pad_left(&c.to_string(), *w));
        }
        line.push_str(&format!("  {}\n", pad_left(&total.to_string(), 4)));
        out.push_str(&line);
    }
}

/// Renders the terminal summary; `color` adds ANSI colours.
pub fn render(d: &ReportData, color: bool) -> String {
    let labels = d.scale.as_ref().map(|s| s.labels()).unwrap_or_default();
    let st = Style {
        color,
        grades: labels
            .iter()
            .cloned()
            .zip(
                grade_colors(&labels, d.scale.as_ref())
                    .iter()
                    .map(|c| ansi(c)),
            )
            .collect(),
    };
    let mut out = String::new();
    let mut title = format!("年次評価報告書 {}年度", d.year);
    if let Some(c) = d.compare_year {
        title.push_str(&format!("（比較年度 {c}年度）"));
    }
    out.push_str(&st.bold(&title));
    out.push('\n');
    if let Some(s) = &d.scale {
        let bands: Vec<String> = s
            .bands
            .iter()
            .zip(&s.band_ranges)
            .map(|(b, r)| format!("{b} {r}"))
            .collect();
        out.push_str(&format!(
            "評価（{}）: {} / {}\n",
            s.name,
            bands.join(" / "),
            s.states.join(" / ")
        ));
    }
    for p in &d.plans {
        out.push('\n');
        out.push_str(&st.bold(&format!("■ {}（{}）", p.name, p.id)));
        out.push('\n');
        let c = &p.projects_counted;
        let mut facts = format!(
            "  {}・{}〜{}年度・指標 {}",
            p.municipality, p.period_from, p.period_to, p.indicators_counted
        );
        if c.listed > 0 {
            facts.push_str(&format!("・事業 {}を集計", c.phrase()));
        }
        out.push_str(&facts);
        out.push('\n');
        if p.indicators_counted > 0 {
            out.push_str("  指標の評価\n");
            distribution(&mut out, &st, "指標数", &p.indicator_grades);
        }
        if p.measure_grades.iter().any(|g| g.count > 0) {
            out.push_str("  施策の評価\n");
            distribution(&mut out, &st, "施策数", &p.measure_grades);
        }
        if c.counted > 0 {
            out.push_str("  事業の評価\n");
            distribution(&mut out, &st, "事業数", &p.project_grades);
        }
        if let Some(t) = &p.category_table {
            out.push_str("  hyokaの集計: 取組内容 × 評価（事業）\n");
            cross(&mut out, &st, t);
        }
        for r in &p.recorded {
            out.push_str(&format!("  市の公表値（原資料の転記）: {}\n", r.title));
            cross(&mut out, &st, &r.table);
        }
        for r in &p.remarks {
            out.push_str(&format!("  ※ {r}\n"));
        }
    }
    out.push('\n');
    if !d.review.outcomes.is_empty() {
        let parts: Vec<String> = d
            .review
            .outcomes
            .iter()
            .map(|o| format!("{} {}", o.outcome, o.count))
            .collect();
        out.push_str(&format!(
            "{} {}（{}事業）\n",
            st.bold("見直しの提案:"),
            parts.join("、"),
            d.review.projects.len()
        ));
    }
    let n = |g: &[super::data::RuleFindings]| g.iter().map(|r| r.items.len()).sum::<usize>();
    out.push_str(&format!(
        "{} エラー {}、警告 {}、情報 {}\n",
        st.bold("整合性・データ品質の指摘:"),
        n(&d.findings.error),
        n(&d.findings.warning),
        n(&d.findings.info)
    ));
    if let Some(ch) = &d.changes {
        out.push_str(&format!(
            "{} 評価の変化 {}件、目標から遠ざかった指標 {}件\n",
            st.bold(&format!(
                "前年度からの変化（{}年度 → {}年度）:",
                ch.compare_year, d.year
            )),
            ch.grades.len(),
            ch.moved_away.len()
        ));
        const SHOWN: usize = 20;
        let name_w = ch
            .grades
            .iter()
            .take(SHOWN)
            .map(|g| width(&truncate(&format!("{} {}", g.id, g.name), 40)))
            .max()
            .unwrap_or(0);
        for g in ch.grades.iter().take(SHOWN) {
            out.push_str(&format!(
                "  {}  {}  {} → {}  {}\n",
                pad_right(level_ja(&g.kind), 4),
                pad_right(&truncate(&format!("{} {}", g.id, g.name), 40), name_w),
                st.grade(&g.from, pad_left(&g.from, 6)),
                st.grade(&g.to, pad_right(&g.to, 6)),
                change_ja(&g.direction)
            ));
        }
        if ch.grades.len() > SHOWN {
            out.push_str(&format!("  …ほか{}件\n", ch.grades.len() - SHOWN));
        }
    }
    out
}
