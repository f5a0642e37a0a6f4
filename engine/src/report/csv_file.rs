//! The CSV format: one row per indicator of every plan, UTF-8, headers in
//! Japanese (the file is opened in Excel by city staff; `bom` prefixes the
//! byte-order mark Excel needs to read UTF-8). Values are numbers as
//! written in the plan files, or the plan's no-value token (`集計中`).
//! One column per year of actual values up to the evaluation year.

use std::collections::BTreeSet;

use super::data::{IndicatorRow, Observed, ReportData};
use super::text_fmt::direction_ja;

/// The UTF-8 byte-order mark.
pub const BOM: &str = "\u{feff}";

fn obs(o: &Observed) -> String {
    match (&o.value, &o.reason) {
        (Some(v), _) => v.0.clone(),
        (None, Some(r)) => r.clone(),
        (None, None) => String::new(),
    }
}

fn flag(b: bool) -> &'static str {
    if b {
        "○"
    } else {
        ""
    }
}

/// Renders the indicators as CSV.
pub fn render(d: &ReportData, bom: bool) -> Vec<u8> {
    let rows: Vec<&IndicatorRow> = d
        .plans
        .iter()
        .flat_map(|p| {
            p.nodes
                .iter()
                .flat_map(|n| &n.indicators)
                .chain(p.projects.iter().flat_map(|pr| &pr.indicators))
        })
        .collect();
    let years: BTreeSet<i32> = rows
        .iter()
        .flat_map(|r| r.actuals.iter().map(|a| a.year))
        .collect();
    let plan_name = |id: &str| {
        d.plans
            .iter()
            .find(|p| p.id == id)
            .map_or(String::new(), |p| p.name.clone())
    };
    let mut header: Vec<String> = [
        "計画ID",
        "計画名",
        "指標ID",
        "指標名",
        "部分",
        "上位区分",
        "上位ID",
        "上位名",
        "施策ID",
        "事業ID",
        "担当所属",
        "単位",
        "方向",
        "基準年度",
        "基準値",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(years.iter().map(|y| format!("実績{y}年度")));
    header.extend(
        [
            "現況値",
            "現況値の年度",
            "目標年度",
            "目標値",
            "達成率(%)",
            "比率方式(%)",
            "進捗方式(%)",
            "期待値",
            "期待値比(%)",
            "評価",
            "未算出の理由",
            "値がない理由",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    if let Some(c) = d.compare_year {
        header.push(format!("{c}年度の評価"));
        header.push(format!("{c}年度の達成率(%)"));
    }
    header.extend(
        ["モニタリング", "累計", "集計対象", "備考"]
            .iter()
            .map(|s| s.to_string()),
    );

    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let _ = w.write_record(&header);
    let pct = |p: &Option<super::data::Percent>| p.map(|p| p.to_string()).unwrap_or_default();
    for r in rows {
        let mut rec: Vec<String> = vec![
            r.plan.clone(),
            plan_name(&r.plan),
            r.id.clone(),
            r.name.clone(),
            r.part.clone().unwrap_or_default(),
            super::text_fmt::level_ja(&r.owner_kind).to_string(),
            r.owner_id.clone(),
            r.owner_name.clone(),
            r.measure.clone().unwrap_or_default(),
            r.project.clone().unwrap_or_default(),
            r.department.clone().unwrap_or_default(),
            r.unit.clone().unwrap_or_default(),
            r.direction.as_deref().map_or("", direction_ja).to_string(),
            r.baseline
                .as_ref()
                .map_or(String::new(), |b| b.year.to_string()),
            r.baseline.as_ref().map_or(String::new(), obs),
        ];
        let mut notes = Vec::new();
        for y in &years {
            // The last value listed for a year wins, as in evaluation.
            let o = r.actuals.iter().rfind(|a| a.year == *y);
            if let Some(o) = o {
                if let Some(a) = o.as_of.filter(|a| *a != o.year) {
                    notes.push(format!("{y}年度の値は{a}年の値"));
                }
            }
            rec.push(o.map_or(String::new(), obs));
        }
        let t = r.target.as_ref();
        rec.extend([
            r.current.as_ref().map_or(String::new(), |v| v.0.clone()),
            r.current_year.map_or(String::new(), |y| y.to_string()),
            t.map_or(String::new(), |t| t.year.to_string()),
            t.map_or(String::new(), |t| {
                if let Some(v) = &t.value {
                    v.0.clone()
                } else if let Some(x) = &t.text {
                    x.clone()
                } else if let Some(y) = t.set_in {
                    format!("{y}年度に設定")
                } else {
                    t.reason.clone().unwrap_or_default()
                }
            }),
            pct(&r.rate),
            pct(&r.ratio),
            pct(&r.progress),
            r.expected.as_ref().map_or(String::new(), |v| v.0.clone()),
            pct(&r.path_rate),
            r.grade.clone().unwrap_or_default(),
            r.unrated_reason.clone().unwrap_or_default(),
            r.value_reason.clone().unwrap_or_default(),
        ]);
        if d.compare_year.is_some() {
            rec.push(r.previous_grade.clone().unwrap_or_default());
            rec.push(pct(&r.previous_rate));
        }
        rec.extend([
            flag(r.monitoring).to_string(),
            flag(r.cumulative).to_string(),
            if r.relisted {
                "対象外（再掲）".to_string()
            } else if !r.counted {
                "対象外（完了）".to_string()
            } else {
                "○".to_string()
            },
            notes.join("・"),
        ]);
        let _ = w.write_record(&rec);
    }
    let body = w.into_inner().unwrap_or_default();
    let mut out = Vec::with_capacity(body.len() + 3);
    if bom {
        out.extend_from_slice(BOM.as_bytes());
    }
    out.extend(body);
    out
}
