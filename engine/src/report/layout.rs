//! The document layout shared by the Markdown and HTML formats: headings,
//! paragraphs, lists, tables (with caption, header cells and totals) and
//! charts, in reading order. Both formats render the same blocks, so they
//! cannot drift apart; Markdown leaves the charts out (their data is in the
//! tables next to them).
//!
//! The report's text is Japanese: it is written for the plan committee, the
//! council and the public of a Japanese municipality.

use super::chart;
use super::data::*;
use super::text_fmt::{change_ja, direction_ja, level_ja, plan_kind_ja, severity_ja, status_ja};

/// One block of the document.
#[derive(Clone, Debug)]
pub enum Block {
    /// A heading (`level` 1–5) with an anchor id for the HTML table of
    /// contents.
    Heading {
        level: u8,
        text: String,
        id: Option<String>,
    },
    Para(String),
    /// A remark set apart (Markdown quote, HTML aside).
    Note(String),
    List(Vec<Item>),
    Table(Table),
    /// A chart (HTML only): inline SVG and its caption.
    Chart {
        svg: String,
        caption: String,
    },
    /// A line of code (the command that makes the report again).
    Code(String),
    /// Anchors to the plans' sections.
    Contents(Vec<(String, String)>),
    /// Blocks to compare, side by side where the page is wide enough
    /// (one after the other in Markdown).
    Columns(Vec<Vec<Block>>),
}

/// A list item with optional sub-items.
#[derive(Clone, Debug)]
pub struct Item {
    pub text: String,
    pub children: Vec<String>,
}

impl Item {
    fn new(text: impl Into<String>) -> Item {
        Item {
            text: text.into(),
            children: Vec::new(),
        }
    }
}

/// A table with a caption; the first column heads its row.
#[derive(Clone, Debug)]
pub struct Table {
    pub caption: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

#[derive(Clone, Debug)]
pub struct Column {
    pub title: String,
    /// Right-aligned (counts, rates, values).
    pub numeric: bool,
}

#[derive(Clone, Debug)]
pub struct Row {
    pub cells: Vec<Cell>,
    /// A totals row (計).
    pub total: bool,
}

#[derive(Clone, Debug)]
pub struct Cell {
    pub text: String,
    /// The grade shown, for colouring: its index in the scale's labels.
    pub grade: Option<usize>,
}

fn col(title: &str, numeric: bool) -> Column {
    Column {
        title: title.to_string(),
        numeric,
    }
}

fn cell(text: impl Into<String>) -> Cell {
    Cell {
        text: text.into(),
        grade: None,
    }
}

fn row(cells: Vec<Cell>) -> Row {
    Row {
        cells,
        total: false,
    }
}

/// The grade labels of the report, for colouring cells.
struct Grades(Vec<String>);

impl Grades {
    fn cell(&self, g: &Option<String>) -> Cell {
        match g {
            Some(g) => Cell {
                text: g.clone(),
                grade: self.0.iter().position(|x| x == g),
            },
            None => cell(""),
        }
    }
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn pct(p: &Option<Percent>) -> String {
    p.map(|p| format!("{p}%")).unwrap_or_default()
}

fn unit_of(u: &Option<String>) -> &str {
    u.as_deref().unwrap_or("")
}

/// `238 (2020)`, `集計中 (2021)`, `18 (2020, 2021年の値)`.
fn observed(o: &Observed) -> String {
    let v = match (&o.value, &o.reason) {
        (Some(v), _) => v.grouped(),
        (None, Some(r)) => r.clone(),
        (None, None) => "—".into(),
    };
    match o.as_of {
        Some(a) if a != o.year => format!("{v} ({}, {a}年の値)", o.year),
        _ => format!("{v} ({})", o.year),
    }
}

fn target(t: &Option<TargetCell>) -> String {
    let Some(t) = t else {
        return "—".into();
    };
    let v = if let Some(v) = &t.value {
        v.grouped()
    } else if let Some(x) = &t.text {
        x.clone()
    } else if let Some(y) = t.set_in {
        format!("{y}年度に設定")
    } else {
        t.reason.clone().unwrap_or_else(|| "—".into())
    };
    format!("{v} ({})", t.year)
}

/// Remarks on an indicator: why it has no rate, the plan's reason for a
/// missing value, monitoring, running totals.
fn remarks(i: &IndicatorRow) -> String {
    let mut r = Vec::new();
    if let Some(u) = &i.unrated_reason {
        r.push(u.clone());
    }
    if let Some(v) = &i.value_reason {
        r.push(format!("値: {}", if v == "—" { "未記載" } else { v }));
    }
    if i.cumulative {
        r.push("累計".into());
    }
    for v in &i.revisions {
        let year = v.year.map(|y| format!("{y}年度")).unwrap_or_default();
        r.push(match v.kind.as_str() {
            "added" => format!("【追加】{year}"),
            "replaced" => match &v.by {
                Some(by) => format!("【変更】{year}（{by}へ）"),
                None => format!("【変更】{year}"),
            },
            _ => match (&v.from, &v.to) {
                (Some(a), Some(b)) => {
                    format!("【修正】{year} 目標値 {}→{}", a.grouped(), b.grouped())
                }
                _ => format!("【修正】{year}"),
            },
        });
    }
    if i.monitoring && i.unrated_reason.is_none() {
        r.push("モニタリング指標".into());
    }
    if i.relisted {
        r.push("再掲事業の指標（集計対象外）".into());
    } else if !i.counted {
        r.push("完了事業の指標（集計対象外）".into());
    }
    r.join("・")
}

fn indicator_name(i: &IndicatorRow) -> String {
    match &i.part {
        Some(p) => format!("{} {}（{}）", i.id, i.name, p),
        None => format!("{} {}", i.id, i.name),
    }
}

fn indicator_table(caption: String, rows: &[IndicatorRow], g: &Grades, project: bool) -> Table {
    let mut columns = vec![col("指標", false)];
    if project {
        columns.push(col("事業", false));
    }
    columns.extend([
        col("単位", false),
        col("方向", false),
        col("基準値", true),
        col("実績値", true),
        col("目標値", true),
        col("達成率", true),
        col("評価", false),
        col("備考（未算出の理由など）", false),
    ]);
    Table {
        caption,
        columns,
        rows: rows
            .iter()
            .map(|i| {
                let mut cells = vec![cell(indicator_name(i))];
                if project {
                    cells.push(cell(format!("{} {}", i.owner_id, i.owner_name)));
                }
                cells.extend([
                    cell(unit_of(&i.unit)),
                    cell(i.direction.as_deref().map_or("", direction_ja)),
                    cell(i.baseline.as_ref().map_or("—".into(), observed)),
                    cell(if i.actuals.is_empty() {
                        "—".into()
                    } else {
                        i.actuals
                            .iter()
                            .map(observed)
                            .collect::<Vec<_>>()
                            .join("、")
                    }),
                    cell(target(&i.target)),
                    cell(pct(&i.rate)),
                    g.cell(&i.grade),
                    cell(remarks(i)),
                ]);
                row(cells)
            })
            .collect(),
    }
}

fn distribution_table(caption: String, what: &str, d: &[GradeCount], g: &Grades) -> Table {
    let total: usize = d.iter().map(|c| c.count).sum();
    let mut rows: Vec<Row> = d
        .iter()
        .map(|c| {
            row(vec![
                g.cell(&Some(c.grade.clone())),
                cell(c.count.to_string()),
                cell(format!("{}%", c.percent)),
            ])
        })
        .collect();
    rows.push(Row {
        cells: vec![
            cell("計"),
            cell(total.to_string()),
            cell(if total > 0 { "100%" } else { "—" }),
        ],
        total: true,
    });
    Table {
        caption,
        columns: vec![col("評価", false), col(what, true), col("割合", true)],
        rows,
    }
}

fn cross_table(caption: String, first: &str, t: &CrossTable) -> Table {
    let mut columns = vec![col(first, false)];
    columns.extend(t.grades.iter().map(|x| col(x, true)));
    columns.push(col("計", true));
    let mut rows: Vec<Row> = t
        .rows
        .iter()
        .map(|r| {
            let mut cells = vec![cell(r.category.clone())];
            cells.extend(r.counts.iter().map(|c| cell(c.to_string())));
            cells.push(cell(r.total.to_string()));
            row(cells)
        })
        .collect();
    let mut cells = vec![cell("計")];
    cells.extend(t.column_totals.iter().map(|c| cell(c.to_string())));
    cells.push(cell(t.total.to_string()));
    rows.push(Row { cells, total: true });
    let mut cells = vec![cell("割合")];
    cells.extend(t.column_percents.iter().map(|p| cell(format!("{p}%"))));
    cells.push(cell(if t.total > 0 { "100%" } else { "—" }));
    rows.push(Row { cells, total: true });
    Table {
        caption,
        columns,
        rows,
    }
}

fn plan_anchor(id: &str) -> String {
    format!("plan-{id}")
}

/// The document, block by block. With `charts`, chart blocks are included
/// (HTML).
pub fn layout(d: &ReportData, charts: bool) -> Vec<Block> {
    let labels = d.scale.as_ref().map(ScaleInfo::labels).unwrap_or_default();
    let g = Grades(labels.clone());
    let mut out = Vec::new();
    let h = |level: u8, text: String| Block::Heading {
        level,
        text,
        id: None,
    };
    out.push(h(1, format!("年次評価報告書 {}年度", d.year)));
    let mut intro = format!("評価年度: {}年度", d.year);
    if let Some(c) = d.compare_year {
        intro.push_str(&format!("（比較年度: {c}年度）"));
    }
    if let Some(date) = &d.date {
        intro.push_str(&format!("。作成日: {date}"));
    }
    intro.push('。');
    if let Some(s) = &d.scale {
        let bands: Vec<String> = s
            .bands
            .iter()
            .zip(&s.band_ranges)
            .map(|(b, r)| format!("{b} {r}"))
            .collect();
        intro.push_str(&format!(
            "評価の区分（{}）: {}、{}（算出できないもの）。",
            s.name,
            bands.join("、"),
            s.states.join("・")
        ));
    }
    out.push(Block::Para(intro));
    out.push(Block::Para(
        "達成率は小数第1位に四捨五入して表示しています（評価は丸める前の値で判定）。表中の値の（）内は年度です。"
            .into(),
    ));
    out.push(Block::Contents(
        d.plans
            .iter()
            .map(|p| (plan_anchor(&p.id), p.name.clone()))
            .collect(),
    ));

    // ----- plans
    out.push(Block::Heading {
        level: 2,
        text: "計画別の評価".into(),
        id: Some("plans".into()),
    });
    for p in &d.plans {
        plan_blocks(&mut out, p, d, &g, charts);
    }

    // ----- departments
    out.push(Block::Heading {
        level: 2,
        text: "担当所属別の評価".into(),
        id: Some("departments".into()),
    });
    if d.departments.is_empty() {
        out.push(Block::Para("指標がありません。".into()));
    }
    let mut summary = Table {
        caption: "担当所属別の指標の評価（再掲事業の指標を除く）".into(),
        columns: {
            let mut c = vec![col("担当所属", false), col("自治体", false)];
            c.extend(labels.iter().map(|l| col(l, true)));
            c.push(col("計", true));
            c
        },
        rows: Vec::new(),
    };
    for dep in &d.departments {
        let mut cells = vec![
            cell(
                dep.department
                    .clone()
                    .unwrap_or_else(|| "（記載なし）".into()),
            ),
            cell(dep.municipality.clone()),
        ];
        cells.extend(
            labels
                .iter()
                .map(|l| cell(count_of(&dep.grades, l).to_string())),
        );
        cells.push(cell(dep.indicators.len().to_string()));
        summary.rows.push(row(cells));
    }
    if !d.departments.is_empty() {
        out.push(Block::Table(summary));
    }
    for dep in &d.departments {
        let title = match &dep.department {
            Some(name) => format!("{name}（{}）", dep.municipality),
            None => format!("担当所属の記載がない指標（{}）", dep.municipality),
        };
        out.push(h(3, title.clone()));
        out.push(Block::Table(Table {
            caption: match &dep.department {
                Some(_) => format!("{title}の指標"),
                None => title,
            },
            columns: vec![
                col("指標", false),
                col("計画", false),
                col("達成率", true),
                col("評価", false),
                col("未算出の理由", false),
            ],
            rows: dep
                .indicators
                .iter()
                .map(|i| {
                    row(vec![
                        cell(format!("{} {}", i.id, i.name)),
                        cell(i.plan.clone()),
                        cell(pct(&i.rate)),
                        g.cell(&i.grade),
                        cell(opt(&i.unrated_reason)),
                    ])
                })
                .collect(),
        }));
    }

    review_blocks(&mut out, d, &g);
    findings_blocks(&mut out, d);
    changes_blocks(&mut out, d, &g);
    provenance_blocks(&mut out, d);
    out
}

fn count_of(d: &[GradeCount], label: &str) -> usize {
    d.iter().find(|c| c.grade == label).map_or(0, |c| c.count)
}

fn plan_blocks(out: &mut Vec<Block>, p: &PlanReport, d: &ReportData, g: &Grades, charts: bool) {
    let h = |level: u8, text: String| Block::Heading {
        level,
        text,
        id: None,
    };
    out.push(Block::Heading {
        level: 3,
        text: format!("{}（{}）", p.name, p.id),
        id: Some(plan_anchor(&p.id)),
    });
    let c = &p.projects_counted;
    let mut facts = vec![
        Item::new(format!(
            "{}・{}・計画期間 {}〜{}年度（{}）",
            p.municipality,
            plan_kind_ja(&p.kind),
            p.period_from,
            p.period_to,
            p.file
        )),
        Item::new(format!(
            "指標 {}（うち集計対象 {}）",
            p.indicators, p.indicators_counted
        )),
    ];
    if c.listed > 0 {
        let mut s = format!("事業: {}を集計", c.phrase());
        if c.new > 0 {
            s.push_str(&format!("（うち新規{}事業）", c.new));
        }
        facts.push(Item::new(s));
    }
    out.push(Block::List(facts));
    for r in &p.remarks {
        out.push(Block::Note(r.clone()));
    }

    if p.indicators_counted > 0 || p.measure_grades.iter().any(|c| c.count > 0) || c.counted > 0 {
        out.push(h(4, "評価の分布".into()));
    }
    let mut dist_rows: Vec<(String, Vec<usize>)> = Vec::new();
    if p.indicators_counted > 0 {
        out.push(Block::Table(distribution_table(
            format!("{}: 指標の評価（{}年度）", p.name, d.year),
            "指標数",
            &p.indicator_grades,
            g,
        )));
        dist_rows.push((
            "指標".into(),
            p.indicator_grades.iter().map(|c| c.count).collect(),
        ));
    }
    if p.measure_grades.iter().any(|c| c.count > 0) {
        out.push(Block::Table(distribution_table(
            format!(
                "{}: 施策の評価（{}年度、指標の達成率の平均）",
                p.name, d.year
            ),
            "施策数",
            &p.measure_grades,
            g,
        )));
        dist_rows.push((
            "施策".into(),
            p.measure_grades.iter().map(|c| c.count).collect(),
        ));
    }
    if c.counted > 0 {
        out.push(Block::Table(distribution_table(
            format!("{}: 事業の評価（{}年度、{}）", p.name, d.year, c.phrase()),
            "事業数",
            &p.project_grades,
            g,
        )));
        dist_rows.push((
            "事業".into(),
            p.project_grades.iter().map(|c| c.count).collect(),
        ));
    }
    if charts && !dist_rows.is_empty() {
        let grades: Vec<String> = p.indicator_grades.iter().map(|c| c.grade.clone()).collect();
        out.push(Block::Chart {
            svg: chart::share_bars(&dist_rows, &grades, d.scale.as_ref()),
            caption: format!("{}: 評価の分布（割合、数字は件数）", p.name),
        });
    }

    // hyoka's table and the city's published ones, side by side.
    let mut columns: Vec<Vec<Block>> = Vec::new();
    if let Some(t) = &p.category_table {
        let mut col = vec![
            h(5, "hyokaの集計".into()),
            Block::Table(cross_table(
                format!(
                    "hyokaの集計: 取組内容 × 評価（{}年度、{}）",
                    d.year,
                    c.phrase()
                ),
                "取組内容",
                t,
            )),
        ];
        if charts {
            col.push(Block::Chart {
                svg: chart::count_bars(t, d.scale.as_ref()),
                caption: format!("hyokaの集計（{}）: 取組内容別の評価（事業数）", p.name),
            });
        }
        columns.push(col);
    }
    for r in &p.recorded {
        let year = r
            .year
            .map_or("年度の記載なし".into(), |y| format!("{y}年度"));
        let mut col = vec![
            h(5, format!("市の公表値: {}", r.title)),
            Block::Table(cross_table(
                format!(
                    "市の公表値（原資料の転記、hyokaの算出ではない）: {}（{}）",
                    r.title, year
                ),
                "取組内容",
                &r.table,
            )),
        ];
        if let Some(n) = &r.note {
            col.push(Block::Note(format!("原資料の注記: {n}")));
        }
        if charts {
            col.push(Block::Chart {
                svg: chart::count_bars(&r.table, d.scale.as_ref()),
                caption: format!("市の公表値: {}（事業数）", r.title),
            });
        }
        columns.push(col);
    }
    if !columns.is_empty() {
        out.push(h(
            4,
            if p.recorded.is_empty() {
                "取組内容別の評価".into()
            } else {
                "取組内容別の評価（hyokaの集計と市の公表値）".into()
            },
        ));
        if p.recorded.is_empty() {
            // hyoka's table alone: no comparison, no sub-heading.
            out.extend(columns.into_iter().flatten().skip(1));
        } else {
            out.push(Block::Columns(columns));
        }
    }

    // Indicators by node.
    let with_indicators: Vec<&NodeReport> = p
        .nodes
        .iter()
        .filter(|n| !n.indicators.is_empty())
        .collect();
    let empty_measures: Vec<&NodeReport> = p
        .nodes
        .iter()
        .filter(|n| n.indicators.is_empty() && n.level == "measure")
        .collect();
    if !with_indicators.is_empty() || !empty_measures.is_empty() {
        out.push(h(4, "施策別の指標".into()));
    }
    for n in with_indicators {
        let mut title = if n.level == "plan" {
            n.name.clone()
        } else {
            format!("{} {} {}", level_ja(&n.level), n.id, n.name)
        };
        if n.grade.is_some() {
            title.push_str(&format!(
                " — 達成率 {}、評価 {}",
                n.rate.map_or("—".into(), |r| format!("{r}%")),
                opt(&n.grade)
            ));
        }
        out.push(h(5, title));
        if !n.path.is_empty() {
            out.push(Block::Para(format!("体系: {}", n.path.join(" ＞ "))));
        }
        let caption = if n.level == "plan" {
            format!("{}: 全体指標", p.name)
        } else {
            format!("{} {} {} の指標", level_ja(&n.level), n.id, n.name)
        };
        out.push(Block::Table(indicator_table(
            caption,
            &n.indicators,
            g,
            false,
        )));
        if charts {
            trajectory_charts(out, &n.indicators, d.year);
        }
    }
    if !empty_measures.is_empty() {
        out.push(h(5, format!("指標のない施策（{}）", empty_measures.len())));
        out.push(Block::List(
            empty_measures
                .iter()
                .map(|n| {
                    let mut s = format!("{} {}", n.id, n.name);
                    if !n.path.is_empty() {
                        s.push_str(&format!("（{}）", n.path.join(" ＞ ")));
                    }
                    Item::new(s)
                })
                .collect(),
        ));
    }

    if !p.projects.is_empty() {
        out.push(h(4, "事業別の評価".into()));
        out.push(Block::Table(Table {
            caption: format!("{}: 事業一覧（{}事業）", p.name, p.projects.len()),
            columns: vec![
                col("事業", false),
                col("体系", false),
                col("取組内容", false),
                col("担当所属", false),
                col("状況", false),
                col("指標数", true),
                col("達成率", true),
                col("評価", false),
                col("見直しの提案", false),
            ],
            rows: p
                .projects
                .iter()
                .map(|pr| {
                    let status = match &pr.relisted_from {
                        Some(o) => format!("再掲（{o}）"),
                        None => status_ja(&pr.status).to_string(),
                    };
                    row(vec![
                        cell(format!("{} {}", pr.id, pr.name)),
                        cell(opt(&pr.under)),
                        cell(opt(&pr.category)),
                        cell(opt(&pr.department)),
                        cell(status),
                        cell(pr.indicators.len().to_string()),
                        cell(pct(&pr.rate)),
                        g.cell(&pr.grade),
                        cell(opt(&pr.suggested)),
                    ])
                })
                .collect(),
        }));
        let rows: Vec<IndicatorRow> = p
            .projects
            .iter()
            .flat_map(|pr| pr.indicators.iter().cloned())
            .collect();
        if !rows.is_empty() {
            out.push(h(5, "事業の指標".into()));
            out.push(Block::Table(indicator_table(
                format!("{}: 事業の指標（{}）", p.name, rows.len()),
                &rows,
                g,
                true,
            )));
            if charts {
                trajectory_charts(out, &rows, d.year);
            }
        }
    }
}

fn trajectory_charts(out: &mut Vec<Block>, rows: &[IndicatorRow], year: i32) {
    for i in rows {
        if let Some(svg) = chart::trajectory(i, year) {
            out.push(Block::Chart {
                svg,
                caption: format!("{} の推移と目標までの経路", indicator_name(i)),
            });
        }
    }
}

fn finding_line(f: &FindingItem) -> String {
    let place = f.location.as_deref().unwrap_or(&f.entity);
    format!("{place} — {}", f.message)
}

fn review_blocks(out: &mut Vec<Block>, d: &ReportData, g: &Grades) {
    let r = &d.review;
    out.push(Block::Heading {
        level: 2,
        text: "スクラップ＆ビルド: 見直しの提案".into(),
        id: Some("review".into()),
    });
    out.push(Block::Para(
        "各事業について、ルールパックの見直し基準に該当した指摘（理由）と、それらから選ばれた一つの提案（拡充・継続・改善・統合・縮小・休止・廃止・完了）を示します。提案は判断材料であり、決定ではありません。"
            .into(),
    ));
    if r.projects.is_empty() && r.other.is_empty() {
        out.push(Block::Para("見直しの対象となる事業がありません。".into()));
        return;
    }
    if !r.outcomes.is_empty() {
        out.push(Block::Table(Table {
            caption: format!(
                "提案別の事業数（{}事業、再掲{}事業は元の事業と同じ提案のため除く）",
                r.projects.len(),
                r.relisted_left_out
            ),
            columns: vec![col("提案", false), col("事業数", true)],
            rows: r
                .outcomes
                .iter()
                .map(|o| row(vec![cell(o.outcome.clone()), cell(o.count.to_string())]))
                .collect(),
        }));
    }
    let mut plans: Vec<&str> = r.projects.iter().map(|p| p.plan.as_str()).collect();
    plans.dedup();
    for plan in plans {
        let name = d
            .plans
            .iter()
            .find(|x| x.id == plan)
            .map_or(plan.to_string(), |x| x.name.clone());
        let items: Vec<&ReviewItem> = r.projects.iter().filter(|p| p.plan == plan).collect();
        out.push(Block::Heading {
            level: 3,
            text: format!("{name}（{plan}）"),
            id: None,
        });
        out.push(Block::Table(Table {
            caption: format!(
                "{name}: 事業ごとの見直しの提案と理由（{}事業）",
                items.len()
            ),
            columns: vec![
                col("事業", false),
                col("取組内容", false),
                col("担当所属", false),
                col("評価", false),
                col("提案", false),
                col("理由（該当した見直し基準）", false),
            ],
            rows: items
                .iter()
                .map(|p| {
                    let reasons = if p.reasons.is_empty() {
                        "該当なし".to_string()
                    } else {
                        p.reasons
                            .iter()
                            .map(|f| {
                                format!(
                                    "{}（{}）: {}",
                                    f.title.clone().unwrap_or_else(|| f.rule.clone()),
                                    opt(&f.suggest),
                                    f.message
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("／")
                    };
                    row(vec![
                        cell(format!("{} {}", p.id, p.name)),
                        cell(opt(&p.category)),
                        cell(opt(&p.department)),
                        g.cell(&p.grade),
                        cell(opt(&p.suggested)),
                        cell(reasons),
                    ])
                })
                .collect(),
        }));
    }
    if !r.other.is_empty() {
        out.push(Block::Heading {
            level: 3,
            text: "事業に属さない指標への指摘".into(),
            id: None,
        });
        out.push(Block::Para(
            "施策・計画全体の指標について、見直しの提案を伴う指摘です。".into(),
        ));
        out.push(Block::List(
            r.other
                .iter()
                .map(|f| {
                    Item::new(format!(
                        "{} {}（{}、提案 {}）: {}",
                        f.entity,
                        f.title.clone().unwrap_or_else(|| f.rule.clone()),
                        f.rule,
                        opt(&f.suggest),
                        f.message
                    ))
                })
                .collect(),
        ));
    }
}

fn findings_blocks(out: &mut Vec<Block>, d: &ReportData) {
    let f = &d.findings;
    out.push(Block::Heading {
        level: 2,
        text: "整合性・データ品質の指摘".into(),
        id: Some("findings".into()),
    });
    let count = |groups: &[RuleFindings]| groups.iter().map(|g| g.items.len()).sum::<usize>();
    out.push(Block::Para(format!(
        "エラー {}件、警告 {}件、情報 {}件（見直しの提案を伴う指摘は前章に掲載）。",
        count(&f.error),
        count(&f.warning),
        count(&f.info)
    )));
    for (severity, groups) in [
        ("error", &f.error),
        ("warning", &f.warning),
        ("info", &f.info),
    ] {
        if groups.is_empty() {
            continue;
        }
        out.push(Block::Heading {
            level: 3,
            text: format!("{}（{}件）", severity_ja(severity), count(groups)),
            id: None,
        });
        for rf in groups {
            out.push(Block::Heading {
                level: 4,
                text: format!(
                    "{}（{}、{}件）",
                    rf.title.clone().unwrap_or_else(|| rf.rule.clone()),
                    rf.rule,
                    rf.items.len()
                ),
                id: None,
            });
            out.push(Block::List(
                rf.items
                    .iter()
                    .map(|i| Item::new(finding_line(i)))
                    .collect(),
            ));
        }
    }
    if !f.failures.is_empty() {
        out.push(Block::Heading {
            level: 3,
            text: format!("評価できなかったルール（{}件）", f.failures.len()),
            id: None,
        });
        out.push(Block::List(f.failures.iter().map(Item::new).collect()));
    }
}

fn changes_blocks(out: &mut Vec<Block>, d: &ReportData, g: &Grades) {
    let Some(c) = &d.changes else {
        return;
    };
    out.push(Block::Heading {
        level: 2,
        text: format!(
            "前年度からの変化（{}年度 → {}年度）",
            c.compare_year, d.year
        ),
        id: Some("changes".into()),
    });
    out.push(Block::Heading {
        level: 3,
        text: format!("評価が変わったもの（{}件）", c.grades.len()),
        id: None,
    });
    if c.grades.is_empty() {
        out.push(Block::Para(
            "評価が変わった指標・施策・事業はありません。".into(),
        ));
    } else {
        out.push(Block::Table(Table {
            caption: format!("評価の変化（{}年度 → {}年度）", c.compare_year, d.year),
            columns: vec![
                col("名称", false),
                col("計画", false),
                col("種別", false),
                col(&format!("{}年度", c.compare_year), false),
                col(&format!("{}年度", d.year), false),
                col("変化", false),
            ],
            rows: c
                .grades
                .iter()
                .map(|x| {
                    let with_rate = |grade: &str, rate: &Option<Percent>| match rate {
                        Some(r) => format!("{grade}（{r}%）"),
                        None => grade.to_string(),
                    };
                    let mut from = g.cell(&Some(x.from.clone()));
                    from.text = with_rate(&x.from, &x.from_rate);
                    let mut to = g.cell(&Some(x.to.clone()));
                    to.text = with_rate(&x.to, &x.to_rate);
                    row(vec![
                        cell(format!("{} {}", x.id, x.name)),
                        cell(x.plan.clone()),
                        cell(level_ja(&x.kind)),
                        from,
                        to,
                        cell(change_ja(&x.direction)),
                    ])
                })
                .collect(),
        }));
    }
    out.push(Block::Heading {
        level: 3,
        text: format!("目標から遠ざかった指標（{}件）", c.moved_away.len()),
        id: None,
    });
    out.push(Block::Para(
        "最新の実績値が前年度の評価時より目標から離れた指標（増加目標で減少、減少目標で増加、維持目標で乖離拡大）。"
            .into(),
    ));
    if !c.moved_away.is_empty() {
        out.push(Block::Table(Table {
            caption: "目標から遠ざかった指標".into(),
            columns: vec![
                col("指標", false),
                col("計画", false),
                col("方向", false),
                col("前回の値", true),
                col("今回の値", true),
                col("目標値", true),
            ],
            rows: c
                .moved_away
                .iter()
                .map(|m| {
                    let u = unit_of(&m.unit);
                    row(vec![
                        cell(format!("{} {}", m.id, m.name)),
                        cell(m.plan.clone()),
                        cell(direction_ja(&m.direction)),
                        cell(format!("{}{u} ({})", m.from.grouped(), m.from_year)),
                        cell(format!("{}{u} ({})", m.to.grouped(), m.to_year)),
                        cell(format!("{}{u}", m.target.grouped())),
                    ])
                })
                .collect(),
        }));
    }
}

fn provenance_blocks(out: &mut Vec<Block>, d: &ReportData) {
    let p = &d.provenance;
    out.push(Block::Heading {
        level: 2,
        text: "再現のための情報".into(),
        id: Some("provenance".into()),
    });
    out.push(Block::Para(format!(
        "{} {} が、以下の計画ファイル・ルールパック（{}ルール）・パラメータから作成しました。同じファイルと同じコマンドで同じ報告書が得られます。ハッシュは各ファイルの内容の {} です。",
        p.tool, p.tool_version, p.rule_count, p.hash.to_uppercase()
    )));
    if let Some(c) = &p.command {
        out.push(Block::Code(c.clone()));
    }
    let file_rows = |files: &[FileHash]| -> Vec<Row> {
        files
            .iter()
            .map(|f| {
                row(vec![
                    cell(f.path.clone()),
                    cell(f.bytes.to_string()),
                    cell(f.sha256.clone()),
                ])
            })
            .collect()
    };
    let file_cols = || {
        vec![
            col("ファイル", false),
            col("バイト数", true),
            col("SHA-256", false),
        ]
    };
    out.push(Block::Table(Table {
        caption: "計画ファイル".into(),
        columns: file_cols(),
        rows: file_rows(&p.plan_files),
    }));
    if let Some(c) = &p.config {
        out.push(Block::Table(Table {
            caption: "プロジェクト設定".into(),
            columns: file_cols(),
            rows: file_rows(std::slice::from_ref(c)),
        }));
    }
    out.push(Block::Table(Table {
        caption: "ルールパック".into(),
        columns: vec![
            col("パック", false),
            col("バージョン", false),
            col("読み込み元", false),
            col("SHA-256", false),
        ],
        rows: p
            .rule_packs
            .iter()
            .map(|k| {
                row(vec![
                    cell(k.name.clone()),
                    cell(k.version.clone()),
                    cell(k.source.clone()),
                    cell(k.sha256.clone()),
                ])
            })
            .collect(),
    }));
    let files: Vec<FileHash> = p.rule_packs.iter().flat_map(|k| k.files.clone()).collect();
    out.push(Block::Table(Table {
        caption: "ルールファイル".into(),
        columns: file_cols(),
        rows: file_rows(&files),
    }));
    out.push(Block::Table(Table {
        caption: "パラメータ".into(),
        columns: vec![
            col("パラメータ", false),
            col("値", false),
            col("設定元", false),
        ],
        rows: p
            .parameters
            .iter()
            .map(|x| {
                row(vec![
                    cell(x.name.clone()),
                    cell(x.value.clone()),
                    cell(x.set_by.clone()),
                ])
            })
            .collect(),
    }));
}
