//! From an [`Evaluation`] to [`ReportData`]: reads the derived values the
//! standard packs declare (`indicator.rate`, `grade`, `unrated_reason`,
//! `project.suggested` …), counts, groups and sorts. Pure: no files, no
//! clock, the same evaluation gives the same data.
//!
//! Every derived value is looked up by name; a rule pack set without one
//! (no grade pack, say) gives a report with those cells empty, not an
//! error.

use std::collections::BTreeMap;

use hyoka_dsl::{Base, Number, Obj, OwnedValue, Program};
use sha2::{Digest, Sha256};

use crate::config::PackFiles;
use crate::diagnostic::{line_col, PlanDiagnostic};
use crate::eval::Evaluation;
use crate::finding::{EntityKind, Finding};
use crate::model::{
    Amount, Corpus, Direction, Indicator, IndicatorIdx, Level, NodeIdx, Observation, Owner,
    PlanKind, ProjectIdx, ProjectStatus, RevisionKind, SourceFile,
};
use crate::schema::OUTCOMES;

use super::data::*;
use super::text_fmt::{dec, decimal, percent, percent_short};

/// What the report is made from besides the evaluation.
#[derive(Default)]
pub struct Sources<'a> {
    /// The rule packs, as read.
    pub packs: &'a [PackFiles],
    /// The project configuration's source, when one was used.
    pub config: Option<&'a SourceFile>,
    /// Problems found while loading the plans.
    pub load_diagnostics: &'a [PlanDiagnostic],
    /// The command line that makes the report again.
    pub command: Option<String>,
    /// A date to print (reports carry no timestamp of their own).
    pub date: Option<String>,
}

/// Builds the report of `ev` (and the year-over-year changes against
/// `previous`, an evaluation of the same corpus and program for an earlier
/// year).
pub fn build(
    program: &Program,
    ev: &Evaluation<'_>,
    previous: Option<&Evaluation<'_>>,
    sources: &Sources<'_>,
) -> ReportData {
    let r = Reader {
        program,
        ev,
        previous,
        corpus: ev.data.corpus,
    };
    let scale = r.scale_info();
    let labels = scale.as_ref().map(ScaleInfo::labels).unwrap_or_default();
    let mut plan_order: Vec<usize> = (0..r.corpus.plans.len()).collect();
    plan_order.sort_by(|&a, &b| r.corpus.plans[a].id.value.cmp(&r.corpus.plans[b].id.value));

    let plans: Vec<PlanReport> = plan_order.iter().map(|&p| r.plan(p, &labels)).collect();
    let departments = departments(&r, &plans, &labels);
    let review = r.review(&plan_order);
    let findings = r.findings(sources.load_diagnostics);
    let changes = previous.map(|prev| r.changes(prev, &plan_order));

    ReportData {
        schema_version: SCHEMA_VERSION.to_string(),
        year: ev.year,
        compare_year: previous.map(|p| p.year),
        date: sources.date.clone(),
        provenance: provenance(program, r.corpus, sources),
        scale,
        plans,
        departments,
        review,
        findings,
        changes,
    }
}

/// Reads derived values of one evaluation (and the previous one).
struct Reader<'a, 'c> {
    program: &'a Program,
    ev: &'a Evaluation<'c>,
    previous: Option<&'a Evaluation<'c>>,
    corpus: &'c Corpus,
}

impl Reader<'_, '_> {
    fn kinds(&self) -> &crate::schema::Kinds {
        &self.ev.data.schema.kinds
    }

    fn ind(&self, i: IndicatorIdx) -> Obj {
        Obj::new(self.kinds().indicator, i)
    }

    fn project(&self, p: ProjectIdx) -> Obj {
        Obj::new(self.kinds().project, p)
    }

    fn node(&self, n: NodeIdx) -> Obj {
        let k = self.kinds();
        let kind = match self.corpus.nodes[n as usize].level {
            Level::Goal => k.goal,
            Level::Policy => k.policy,
            Level::Measure => k.measure,
        };
        Obj::new(kind, n)
    }

    fn value<'e>(&self, ev: &'e Evaluation<'_>, obj: Obj, name: &str) -> Option<&'e OwnedValue> {
        ev.derived(self.program, obj, name)
    }

    fn number_in(&self, ev: &Evaluation<'_>, obj: Obj, name: &str) -> Option<Number> {
        match self.value(ev, obj, name)? {
            OwnedValue::Num(n) => Some(*n),
            _ => None,
        }
    }

    fn number(&self, obj: Obj, name: &str) -> Option<Number> {
        self.number_in(self.ev, obj, name)
    }

    fn rate_in(&self, ev: &Evaluation<'_>, obj: Obj, name: &str) -> Option<Percent> {
        self.number_in(ev, obj, name).and_then(percent)
    }

    fn rate(&self, obj: Obj, name: &str) -> Option<Percent> {
        self.rate_in(self.ev, obj, name)
    }

    /// The grade as (scale, index), for ordering.
    fn grade_raw(&self, ev: &Evaluation<'_>, obj: Obj) -> Option<(u16, u16)> {
        match self.value(ev, obj, "grade")? {
            OwnedValue::Grade(s, i) => Some((s.0, *i)),
            _ => None,
        }
    }

    fn grade_in(&self, ev: &Evaluation<'_>, obj: Obj) -> Option<String> {
        let (s, i) = self.grade_raw(ev, obj)?;
        self.program
            .scales()
            .get(s as usize)
            .map(|sc| sc.label(i).to_string())
    }

    fn grade(&self, obj: Obj) -> Option<String> {
        self.grade_in(self.ev, obj)
    }

    fn text(&self, obj: Obj, name: &str) -> Option<String> {
        match self.value(self.ev, obj, name)? {
            OwnedValue::Str(s) => Some(s.to_string()),
            _ => None,
        }
    }

    fn missing_reason(&self, obj: Obj, name: &str) -> Option<String> {
        match self.value(self.ev, obj, name)? {
            OwnedValue::Missing(Some(r)) => Some(r.to_string()),
            _ => None,
        }
    }

    fn suggested(&self, p: ProjectIdx) -> Option<String> {
        match self.value(self.ev, self.project(p), "suggested")? {
            OwnedValue::Enum(_, i) => OUTCOMES.get(*i as usize).map(|s| s.to_string()),
            _ => None,
        }
    }

    /// The scale of `indicator.grade`.
    fn scale_info(&self) -> Option<ScaleInfo> {
        let d = self.program.derive_named(self.kinds().indicator, "grade")?;
        let Base::Grade(sid) = self.program.derives()[d.0 as usize].ty.base else {
            return None;
        };
        let s = self.program.scales().get(sid.0 as usize)?;
        let bound = |n: Number| percent(n).map_or_else(|| n.to_string(), percent_short);
        let band_ranges = s
            .bands
            .iter()
            .map(|b| match (b.lo, b.hi) {
                (Some(lo), Some((hi, inc))) => format!(
                    "{}以上{}{}",
                    bound(lo),
                    bound(hi),
                    if inc { "以下" } else { "未満" }
                ),
                (Some(lo), None) => format!("{}以上", bound(lo)),
                (None, Some((hi, inc))) => {
                    format!("{}{}", bound(hi), if inc { "以下" } else { "未満" })
                }
                (None, None) => "すべて".to_string(),
            })
            .collect();
        Some(ScaleInfo {
            name: s.name.clone(),
            pack: s.pack.clone(),
            bands: s.bands.iter().map(|b| b.name.clone()).collect(),
            states: s.states.clone(),
            band_ranges,
        })
    }

    fn is_relisted_indicator(&self, i: &Indicator) -> bool {
        match i.under {
            Owner::Project(p) => self.corpus.projects[p as usize].relisted_from.is_some(),
            _ => false,
        }
    }

    /// Whether project `p` is counted in the tables: not re-listed (再掲,
    /// counted under its original) and not completed (完了, nothing left to
    /// evaluate).
    fn is_counted_project(&self, p: ProjectIdx) -> bool {
        let pr = &self.corpus.projects[p as usize];
        pr.relisted_from.is_none() && pr.status.value != ProjectStatus::Completed
    }

    /// Whether indicator `i` is counted: its project, if any, is.
    fn is_counted_indicator(&self, i: &Indicator) -> bool {
        match i.under {
            Owner::Project(p) => self.is_counted_project(p),
            _ => true,
        }
    }

    fn node_label(&self, n: NodeIdx) -> String {
        let node = &self.corpus.nodes[n as usize];
        format!("{} {}", node.id.value, node.name.value)
    }

    fn indicator_row(&self, idx: IndicatorIdx) -> IndicatorRow {
        let c = self.corpus;
        let i = &c.indicators[idx as usize];
        let obj = self.ind(idx);
        let year = self.ev.year;
        let (owner_kind, owner_id, owner_name) = match i.under {
            Owner::Plan => ("plan".to_string(), String::new(), String::new()),
            Owner::Node(n) => {
                let node = &c.nodes[n as usize];
                (
                    level_name(node.level).to_string(),
                    node.id.value.clone(),
                    node.name.value.clone(),
                )
            }
            Owner::Project(p) => {
                let pr = &c.projects[p as usize];
                ("project".into(), pr.id.value.clone(), pr.name.value.clone())
            }
        };
        let project = match i.under {
            Owner::Project(p) => Some(&c.projects[p as usize]),
            _ => None,
        };
        let department = i
            .department
            .as_ref()
            .or(project.and_then(|p| p.department.as_ref()))
            .map(|d| d.value.clone());
        let current_year = i
            .actuals
            .iter()
            .filter(|a| a.year.value <= year && matches!(a.value.value, Amount::Number(_)))
            .map(|a| a.year.value)
            .max();
        let previous = self.previous;
        IndicatorRow {
            plan: c.plans[i.plan as usize].id.value.clone(),
            id: i.id.value.clone(),
            name: i.name.value.clone(),
            part: i.part.as_ref().map(|p| p.label.clone()),
            unit: i.unit.as_ref().map(|u| u.value.clone()),
            direction: i.direction.map(|d| direction_name(d.value).to_string()),
            department,
            owner_kind,
            owner_id,
            owner_name,
            measure: c
                .measure_of(i)
                .map(|m| c.nodes[m as usize].id.value.clone()),
            project: project.map(|p| p.id.value.clone()),
            relisted: self.is_relisted_indicator(i),
            counted: self.is_counted_indicator(i),
            monitoring: i.monitoring,
            cumulative: i.cumulative,
            baseline: i.baseline.as_ref().map(observed),
            actuals: i
                .actuals
                .iter()
                .filter(|a| a.year.value <= year)
                .map(observed)
                .collect(),
            target: i.target.as_ref().map(|t| TargetCell {
                year: t.year.value,
                value: t.value.and_then(|v| v.value.number()).map(decimal),
                reason: match t.value.map(|v| v.value) {
                    Some(Amount::Missing(r)) => Some(r.token().to_string()),
                    _ => None,
                },
                text: t.text.as_ref().map(|x| x.value.clone()),
                set_in: t.set_in.map(|y| y.value),
            }),
            current: self.number(obj, "current").map(|n| dec(n, 6)),
            current_year,
            rate: self.rate(obj, "rate"),
            ratio: self.rate(obj, "ratio"),
            progress: self.rate(obj, "progress"),
            expected: self.number(obj, "expected").map(|n| dec(n, 2)),
            path_rate: self.rate(obj, "path_rate"),
            grade: self.grade(obj),
            unrated_reason: self.text(obj, "unrated_reason"),
            value_reason: self.missing_reason(obj, "current"),
            previous_grade: previous.and_then(|p| self.grade_in(p, obj)),
            previous_rate: previous.and_then(|p| self.rate_in(p, obj, "rate")),
            revisions: i
                .revisions
                .iter()
                .map(|r| RevisionCell {
                    kind: match r.kind {
                        RevisionKind::Added => "added",
                        RevisionKind::Replaced => "replaced",
                        RevisionKind::TargetRevised => "target_revised",
                    }
                    .to_string(),
                    year: r.year.map(|y| y.value),
                    from: r.from.and_then(|a| a.value.number()).map(decimal),
                    to: r.to.and_then(|a| a.value.number()).map(decimal),
                    by: r
                        .by
                        .map(|b| c.indicators[b.value as usize].id.value.clone()),
                    reason: r.reason.as_ref().map(|x| x.value.clone()),
                })
                .collect(),
        }
    }

    fn plan(&self, pi: usize, labels: &[String]) -> PlanReport {
        let c = self.corpus;
        let plan = &c.plans[pi];
        let counted: Vec<ProjectIdx> = plan
            .projects
            .iter()
            .copied()
            .filter(|&p| self.is_counted_project(p))
            .collect();
        let relisted = plan
            .projects
            .iter()
            .filter(|&&p| c.projects[p as usize].relisted_from.is_some())
            .count();
        let counts = ProjectCounts {
            listed: plan.projects.len(),
            relisted,
            completed: plan.projects.len() - relisted - counted.len(),
            counted: counted.len(),
            new: counted
                .iter()
                .filter(|&&p| c.projects[p as usize].status.value == ProjectStatus::New)
                .count(),
            uncategorised: counted
                .iter()
                .filter(|&&p| c.projects[p as usize].category.is_none())
                .count(),
            without_indicators: counted
                .iter()
                .filter(|&&p| c.projects[p as usize].indicators.is_empty())
                .count(),
        };
        let counted_indicators: Vec<IndicatorIdx> = plan
            .indicators
            .iter()
            .copied()
            .filter(|&i| self.is_counted_indicator(&c.indicators[i as usize]))
            .collect();
        let indicator_grades = distribution(
            labels,
            counted_indicators.iter().map(|&i| self.grade(self.ind(i))),
        );
        let project_grades =
            distribution(labels, counted.iter().map(|&p| self.grade(self.project(p))));
        let measures: Vec<NodeIdx> = plan
            .nodes
            .iter()
            .copied()
            .filter(|&n| c.nodes[n as usize].level == Level::Measure)
            .collect();
        let measure_grades =
            distribution(labels, measures.iter().map(|&n| self.grade(self.node(n))));

        let category_table = (!counted.is_empty()).then(|| {
            let mut categories: Vec<String> = Vec::new();
            let mut cells: Vec<(String, Option<String>)> = Vec::new();
            for &p in &counted {
                let cat = c.projects[p as usize]
                    .category
                    .as_ref()
                    .map(|x| x.value.clone());
                if let Some(cat) = &cat {
                    if !categories.contains(cat) {
                        categories.push(cat.clone());
                    }
                }
                cells.push((
                    cat.unwrap_or_else(|| UNCATEGORISED.to_string()),
                    self.grade(self.project(p)),
                ));
            }
            if counts.uncategorised > 0 {
                categories.push(UNCATEGORISED.to_string());
            }
            cross_table(labels, &categories, &cells)
        });

        let recorded: Vec<RecordedTable> = plan
            .recorded_summaries
            .iter()
            .map(|s| {
                let mut categories = Vec::new();
                let mut grades: Vec<String> = Vec::new();
                for row in &s.rows {
                    let cat = row.category.clone().unwrap_or_else(|| "計".to_string());
                    if !categories.contains(&cat) {
                        categories.push(cat);
                    }
                    if let Some(g) = &row.grade {
                        if !grades.contains(g) {
                            grades.push(g.clone());
                        }
                    }
                }
                // The scale's order where the labels agree, then the rest.
                let mut order: Vec<String> = labels
                    .iter()
                    .filter(|l| grades.contains(l))
                    .cloned()
                    .collect();
                order.extend(grades.iter().filter(|g| !labels.contains(g)).cloned());
                let mut table = cross_table(&order, &categories, &[]);
                for row in &s.rows {
                    let cat = row.category.clone().unwrap_or_else(|| "計".to_string());
                    let (Some(ri), Some(gi)) = (
                        table.rows.iter().position(|r| r.category == cat),
                        row.grade
                            .as_ref()
                            .and_then(|g| table.grades.iter().position(|x| x == g)),
                    ) else {
                        continue;
                    };
                    let n = row.count.value.max(0) as usize;
                    table.rows[ri].counts[gi] += n;
                    table.rows[ri].total += n;
                    table.column_totals[gi] += n;
                    table.total += n;
                }
                table.column_percents = table
                    .column_totals
                    .iter()
                    .map(|&c| share(c, table.total))
                    .collect();
                RecordedTable {
                    title: s.title.clone(),
                    year: s.year.map(|y| y.value),
                    note: s.note.clone(),
                    table,
                }
            })
            .collect();

        let mut remarks = Vec::new();
        let year = self.ev.year;
        if year < plan.period.from.value {
            remarks.push(format!(
                "評価年度（{year}年度）は計画期間（{}〜{}年度）の開始前です。",
                plan.period.from.value, plan.period.to.value
            ));
        } else if year > plan.period.to.value {
            remarks.push(format!(
                "評価年度（{year}年度）は計画期間（{}〜{}年度）の終了後です。",
                plan.period.from.value, plan.period.to.value
            ));
        }
        if counts.counted > 0 && counts.uncategorised == counts.counted {
            remarks.push(format!(
                "計画ファイルには事業ごとの取組内容（区分）がないため、hyokaの表では全{}事業を「{}」としています。",
                counts.counted, UNCATEGORISED
            ));
        }
        if counts.counted > 0 && counts.without_indicators == counts.counted {
            remarks.push(format!(
                "計画ファイルには事業ごとの指標（KPI）とその値がないため、hyokaの評価は全{}事業が未算出です。",
                counts.counted
            ));
        }
        for t in &recorded {
            let mut s = format!(
                "「{}」は原資料に掲載された市の公表値をそのまま転記したもので、hyokaが算出した値ではありません（{}事業）。",
                t.title, t.table.total
            );
            if t.table.total != counts.counted {
                s.push_str(&format!(
                    "hyokaは計画ファイルの{}（新規{}事業を含む）を集計しており、対象が異なります。",
                    counts.phrase(),
                    counts.new
                ));
            }
            remarks.push(s);
        }

        let mut nodes = Vec::new();
        let overall: Vec<IndicatorRow> = plan
            .indicators
            .iter()
            .filter(|&&i| c.indicators[i as usize].under == Owner::Plan)
            .map(|&i| self.indicator_row(i))
            .collect();
        if !overall.is_empty() {
            nodes.push(NodeReport {
                level: "plan".into(),
                id: String::new(),
                name: "全体指標".into(),
                path: Vec::new(),
                rate: None,
                grade: None,
                indicators: overall,
            });
        }
        for &n in &plan.nodes {
            let node = &c.nodes[n as usize];
            if node.indicators.is_empty() && node.level != Level::Measure {
                continue;
            }
            let mut path = Vec::new();
            let mut up = node.under;
            while let Owner::Node(u) = up {
                path.push(self.node_label(u));
                up = c.nodes[u as usize].under;
            }
            path.reverse();
            let obj = self.node(n);
            nodes.push(NodeReport {
                level: level_name(node.level).into(),
                id: node.id.value.clone(),
                name: node.name.value.clone(),
                path,
                rate: self.rate(obj, "rate"),
                grade: self.grade(obj),
                indicators: node
                    .indicators
                    .iter()
                    .map(|&i| self.indicator_row(i))
                    .collect(),
            });
        }

        let projects = plan
            .projects
            .iter()
            .map(|&p| {
                let pr = &c.projects[p as usize];
                let obj = self.project(p);
                ProjectReport {
                    id: pr.id.value.clone(),
                    number: pr.number.as_ref().map(|n| n.value.clone()),
                    name: pr.name.value.clone(),
                    under: match pr.under {
                        Owner::Node(n) => Some(self.node_label(n)),
                        _ => None,
                    },
                    category: pr.category.as_ref().map(|x| x.value.clone()),
                    department: pr.department.as_ref().map(|x| x.value.clone()),
                    status: status_name(pr.status.value).into(),
                    relisted_from: pr
                        .relisted_from
                        .map(|o| c.projects[o.value as usize].id.value.clone()),
                    rate: self.rate(obj, "rate"),
                    grade: self.grade(obj),
                    suggested: self.suggested(p),
                    indicators: pr
                        .indicators
                        .iter()
                        .map(|&i| self.indicator_row(i))
                        .collect(),
                }
            })
            .collect();

        PlanReport {
            id: plan.id.value.clone(),
            name: plan.name.value.clone(),
            municipality: plan.municipality.value.clone(),
            kind: plan_kind_name(plan.kind.value).into(),
            period_from: plan.period.from.value,
            period_to: plan.period.to.value,
            file: c.files[plan.file as usize].name.clone(),
            note: plan.note.clone(),
            projects_counted: counts,
            indicators: plan.indicators.len(),
            indicators_counted: counted_indicators.len(),
            indicator_grades,
            measure_grades,
            project_grades,
            category_table,
            remarks,
            recorded,
            nodes,
            projects,
        }
    }

    /// Whether finding `f` concerns project `p` (the project itself, one
    /// of its indicators, or a group it is a member of).
    fn concerns_project(&self, f: &Finding, p: ProjectIdx) -> bool {
        let about = |e: &crate::finding::EntityRef| match e.kind {
            EntityKind::Project => e.index == p,
            EntityKind::Indicator => {
                self.corpus.indicators[e.index as usize].under == Owner::Project(p)
            }
            _ => false,
        };
        if f.members.is_empty() {
            about(&f.entity)
        } else {
            f.members.iter().any(about)
        }
    }

    fn review(&self, plan_order: &[usize]) -> Review {
        let c = self.corpus;
        let suggesting: Vec<&Finding> = self
            .ev
            .findings
            .iter()
            .filter(|f| f.suggest.is_some())
            .collect();
        let mut projects = Vec::new();
        let mut relisted_left_out = 0;
        for &pi in plan_order {
            let plan = &c.plans[pi];
            for &p in &plan.projects {
                let pr = &c.projects[p as usize];
                if pr.relisted_from.is_some() {
                    relisted_left_out += 1;
                    continue;
                }
                projects.push(ReviewItem {
                    plan: plan.id.value.clone(),
                    id: pr.id.value.clone(),
                    name: pr.name.value.clone(),
                    category: pr.category.as_ref().map(|x| x.value.clone()),
                    department: pr.department.as_ref().map(|x| x.value.clone()),
                    grade: self.grade(self.project(p)),
                    suggested: self.suggested(p),
                    reasons: suggesting
                        .iter()
                        .filter(|f| self.concerns_project(f, p))
                        .map(|f| self.finding_item(f))
                        .collect(),
                });
            }
        }
        let outcomes = OUTCOMES
            .iter()
            .map(|o| OutcomeCount {
                outcome: o.to_string(),
                count: projects
                    .iter()
                    .filter(|r| r.suggested.as_deref() == Some(*o))
                    .count(),
            })
            .filter(|o| o.count > 0)
            .collect();
        // Suggestions about indicators that belong to no project (plans
        // whose unit of review is the measure).
        let mut other: Vec<FindingItem> = suggesting
            .iter()
            .filter(|f| {
                let entities: Vec<_> = if f.members.is_empty() {
                    vec![f.entity]
                } else {
                    f.members.clone()
                };
                entities.iter().all(|e| {
                    e.kind == EntityKind::Indicator
                        && !matches!(c.indicators[e.index as usize].under, Owner::Project(_))
                }) || entities.iter().all(|e| e.kind == EntityKind::Node)
            })
            .map(|f| self.finding_item(f))
            .collect();
        other.sort_by(|a, b| (&a.entity, &a.rule).cmp(&(&b.entity, &b.rule)));
        Review {
            outcomes,
            relisted_left_out,
            projects,
            other,
        }
    }

    fn location(&self, f: &Finding) -> Option<String> {
        let (span, _) = f.places.first()?;
        let file = self.corpus.files.get(span.file as usize)?;
        let (line, col) = line_col(&file.text, span.start as usize);
        Some(format!("{}:{line}:{col}", file.name))
    }

    fn finding_item(&self, f: &Finding) -> FindingItem {
        FindingItem {
            rule: f.rule.to_string(),
            severity: f.severity.as_str().to_string(),
            title: f.title.as_deref().map(String::from),
            message: f.message.clone(),
            suggest: f.suggest.as_deref().map(String::from),
            entity: f.entity_name.clone(),
            location: self.location(f),
        }
    }

    fn findings(&self, load: &[PlanDiagnostic]) -> Findings {
        let mut groups: [BTreeMap<String, RuleFindings>; 3] = Default::default();
        for d in load {
            let item = FindingItem {
                rule: d.code.clone(),
                severity: d.severity.as_str().to_string(),
                title: None,
                message: d.message.clone(),
                suggest: None,
                entity: d
                    .file
                    .as_ref()
                    .map(|f| f.name().to_string())
                    .unwrap_or_default(),
                location: d
                    .location()
                    .map(|(file, line, col)| format!("{file}:{line}:{col}")),
            };
            groups[d.severity as usize]
                .entry(d.code.clone())
                .or_insert_with(|| RuleFindings {
                    rule: d.code.clone(),
                    title: Some("計画ファイルの読み込み".into()),
                    items: Vec::new(),
                })
                .items
                .push(item);
        }
        for f in self.ev.findings.iter().filter(|f| f.suggest.is_none()) {
            groups[f.severity as usize]
                .entry(f.rule.to_string())
                .or_insert_with(|| RuleFindings {
                    rule: f.rule.to_string(),
                    title: f.title.as_deref().map(String::from),
                    items: Vec::new(),
                })
                .items
                .push(self.finding_item(f));
        }
        let [error, warning, info] = groups.map(|g| g.into_values().collect());
        Findings {
            error,
            warning,
            info,
            failures: self
                .ev
                .failures
                .iter()
                .map(|f| f.error.to_string())
                .collect(),
        }
    }

    fn changes(&self, prev: &Evaluation<'_>, plan_order: &[usize]) -> Changes {
        let c = self.corpus;
        let bands = |s: u16| {
            self.program
                .scales()
                .get(s as usize)
                .map_or(0, |sc| sc.bands.len() as u16)
        };
        let mut grades = Vec::new();
        let mut change = |plan: &str, kind: &str, obj: Obj, id: &str, name: &str| {
            let (Some(a), Some(b)) = (self.grade_raw(prev, obj), self.grade_raw(self.ev, obj))
            else {
                return;
            };
            if a == b {
                return;
            }
            let direction = if a.0 == b.0 && a.1 < bands(a.0) && b.1 < bands(b.0) {
                if b.1 < a.1 {
                    "improved"
                } else {
                    "worsened"
                }
            } else {
                "changed"
            };
            grades.push(GradeChange {
                plan: plan.to_string(),
                kind: kind.to_string(),
                id: id.to_string(),
                name: name.to_string(),
                from: self.grade_in(prev, obj).unwrap_or_default(),
                to: self.grade(obj).unwrap_or_default(),
                from_rate: self.rate_in(prev, obj, "rate"),
                to_rate: self.rate(obj, "rate"),
                direction: direction.to_string(),
            });
        };
        let mut moved_away = Vec::new();
        for &pi in plan_order {
            let plan = &c.plans[pi];
            let pid = &plan.id.value;
            for &n in &plan.nodes {
                let node = &c.nodes[n as usize];
                if node.level == Level::Measure {
                    change(
                        pid,
                        "measure",
                        self.node(n),
                        &node.id.value,
                        &node.name.value,
                    );
                }
            }
            for &p in &plan.projects {
                let pr = &c.projects[p as usize];
                if self.is_counted_project(p) {
                    change(
                        pid,
                        "project",
                        self.project(p),
                        &pr.id.value,
                        &pr.name.value,
                    );
                }
            }
            for &i in &plan.indicators {
                let ind = &c.indicators[i as usize];
                if !self.is_counted_indicator(ind) {
                    continue;
                }
                change(
                    pid,
                    "indicator",
                    self.ind(i),
                    &ind.id.value,
                    &ind.name.value,
                );
                if let Some(m) = self.moved_away(prev, i) {
                    moved_away.push(m);
                }
            }
        }
        Changes {
            compare_year: prev.year,
            grades,
            moved_away,
        }
    }

    /// Whether indicator `i`'s latest value moved away from its target
    /// between the previous evaluation and this one: an increase indicator
    /// fell while short of its target, a decrease indicator rose while
    /// above it, a maintain indicator got farther from it.
    fn moved_away(&self, prev: &Evaluation<'_>, i: IndicatorIdx) -> Option<MovedAway> {
        let ind = &self.corpus.indicators[i as usize];
        let target = ind.target.as_ref()?.value?.value.number()?;
        let target = Number::from_decimal(target.mantissa, target.scale as u32)?;
        let obj = self.ind(i);
        let from = self.number_in(prev, obj, "current")?;
        let to = self.number(obj, "current")?;
        let direction = ind.direction?.value;
        let away = match direction {
            Direction::Increase => to < from && to < target,
            Direction::Decrease => to > from && to > target,
            Direction::Maintain => {
                let d0 = from.checked_sub(target).and_then(Number::abs).ok()?;
                let d1 = to.checked_sub(target).and_then(Number::abs).ok()?;
                d1 > d0
            }
        };
        if !away {
            return None;
        }
        let year_of = |y: i32| {
            ind.actuals
                .iter()
                .filter(|a| a.year.value <= y && matches!(a.value.value, Amount::Number(_)))
                .map(|a| a.year.value)
                .max()
        };
        Some(MovedAway {
            plan: self.corpus.plans[ind.plan as usize].id.value.clone(),
            id: ind.id.value.clone(),
            name: ind.name.value.clone(),
            unit: ind.unit.as_ref().map(|u| u.value.clone()),
            direction: direction_name(direction).into(),
            target: dec(target, 6),
            from: dec(from, 6),
            from_year: year_of(prev.year).unwrap_or(prev.year),
            to: dec(to, 6),
            to_year: year_of(self.ev.year).unwrap_or(self.ev.year),
        })
    }
}

/// The label of projects without a category.
pub const UNCATEGORISED: &str = "未分類";

fn observed(o: &Observation) -> Observed {
    Observed {
        year: o.year.value,
        value: o.value.value.number().map(decimal),
        reason: match o.value.value {
            Amount::Missing(r) => Some(r.token().to_string()),
            Amount::Number(_) => None,
        },
        as_of: o.as_of.map(|y| y.value),
    }
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::Goal => "goal",
        Level::Policy => "policy",
        Level::Measure => "measure",
    }
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Increase => "increase",
        Direction::Decrease => "decrease",
        Direction::Maintain => "maintain",
    }
}

fn status_name(s: ProjectStatus) -> &'static str {
    match s {
        ProjectStatus::New => "new",
        ProjectStatus::Continuing => "continuing",
        ProjectStatus::Completed => "completed",
    }
}

fn plan_kind_name(k: PlanKind) -> &'static str {
    match k {
        PlanKind::Top => "top",
        PlanKind::Sectoral => "sectoral",
        PlanKind::Strategy => "strategy",
        PlanKind::WideArea => "wide_area",
        PlanKind::BudgetPolicy => "budget_policy",
    }
}

/// Counts of each label (every label of `labels`, then any other seen),
/// with shares of the total.
fn distribution(
    labels: &[String],
    grades: impl Iterator<Item = Option<String>>,
) -> Vec<GradeCount> {
    let mut order: Vec<String> = labels.to_vec();
    let mut counts = vec![0usize; order.len()];
    for g in grades.flatten() {
        match order.iter().position(|l| *l == g) {
            Some(i) => counts[i] += 1,
            None => {
                order.push(g);
                counts.push(1);
            }
        }
    }
    let total: usize = counts.iter().sum();
    order
        .into_iter()
        .zip(counts)
        .map(|(grade, count)| GradeCount {
            grade,
            count,
            percent: share(count, total),
        })
        .collect()
}

/// `count / total` as a percentage (0 when the total is 0).
pub(crate) fn share(count: usize, total: usize) -> Percent {
    Number::ratio(count as i64, total.max(1) as i64)
        .and_then(percent)
        .unwrap_or(Percent(0))
}

/// A cross table of `cells` (category, grade), rows in `categories` order.
fn cross_table(
    labels: &[String],
    categories: &[String],
    cells: &[(String, Option<String>)],
) -> CrossTable {
    let mut grades: Vec<String> = labels.to_vec();
    for (_, g) in cells {
        if let Some(g) = g {
            if !grades.contains(g) {
                grades.push(g.clone());
            }
        }
    }
    let mut rows: Vec<CrossRow> = categories
        .iter()
        .map(|c| CrossRow {
            category: c.clone(),
            counts: vec![0; grades.len()],
            total: 0,
        })
        .collect();
    let mut column_totals = vec![0; grades.len()];
    let mut total = 0;
    for (cat, g) in cells {
        let (Some(ri), Some(gi)) = (
            rows.iter().position(|r| r.category == *cat),
            g.as_ref().and_then(|g| grades.iter().position(|x| x == g)),
        ) else {
            continue;
        };
        rows[ri].counts[gi] += 1;
        rows[ri].total += 1;
        column_totals[gi] += 1;
        total += 1;
    }
    CrossTable {
        column_percents: column_totals.iter().map(|&c| share(c, total)).collect(),
        grades,
        rows,
        column_totals,
        total,
    }
}

fn departments(
    r: &Reader<'_, '_>,
    plans: &[PlanReport],
    labels: &[String],
) -> Vec<DepartmentReport> {
    let mut map: BTreeMap<(String, bool, String), Vec<DepartmentIndicator>> = BTreeMap::new();
    let mut grades: BTreeMap<(String, bool, String), Vec<Option<String>>> = BTreeMap::new();
    for plan in plans {
        let rows = plan
            .nodes
            .iter()
            .flat_map(|n| &n.indicators)
            .chain(plan.projects.iter().flat_map(|p| &p.indicators))
            .filter(|i| i.counted);
        for i in rows {
            // Departments sort by name, "not recorded" last.
            let key = (
                plan.municipality.clone(),
                i.department.is_none(),
                i.department.clone().unwrap_or_default(),
            );
            map.entry(key.clone())
                .or_default()
                .push(DepartmentIndicator {
                    plan: i.plan.clone(),
                    id: i.id.clone(),
                    name: i.name.clone(),
                    rate: i.rate,
                    grade: i.grade.clone(),
                    unrated_reason: i.unrated_reason.clone(),
                });
            grades.entry(key).or_default().push(i.grade.clone());
        }
    }
    let _ = r;
    map.into_iter()
        .map(|(key, indicators)| {
            let g = grades.remove(&key).unwrap_or_default();
            let (municipality, none, name) = key;
            DepartmentReport {
                municipality,
                department: (!none).then_some(name),
                grades: distribution(labels, g.into_iter()),
                indicators,
            }
        })
        .collect()
}

fn sha256(text: &str) -> String {
    let mut h = Sha256::new();
    h.update(text.as_bytes());
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn file_hash(f: &SourceFile) -> FileHash {
    FileHash {
        path: f.name.clone(),
        sha256: sha256(&f.text),
        bytes: f.text.len(),
    }
}

/// A pack's hash: SHA-256 over, for the manifest and then each rule file
/// in order, the file's base name, a NUL byte, its text and a NUL byte.
fn pack_hash(p: &PackFiles) -> String {
    let mut h = Sha256::new();
    for f in std::iter::once(&p.manifest_source).chain(&p.files) {
        let base = std::path::Path::new(&f.name)
            .file_name()
            .map_or_else(|| f.name.clone(), |n| n.to_string_lossy().into_owned());
        h.update(base.as_bytes());
        h.update([0]);
        h.update(f.text.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize())
}

fn provenance(program: &Program, corpus: &Corpus, sources: &Sources<'_>) -> Provenance {
    Provenance {
        tool: "hyoka".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        command: sources.command.clone(),
        plan_files: corpus.files.iter().map(file_hash).collect(),
        config: sources.config.map(file_hash),
        rule_packs: sources
            .packs
            .iter()
            .map(|p| PackInfo {
                name: p.manifest.name.clone(),
                version: p.manifest.version.clone(),
                description: p.manifest.description.clone(),
                source: p.dir.display().to_string(),
                sha256: pack_hash(p),
                files: std::iter::once(&p.manifest_source)
                    .chain(&p.files)
                    .map(file_hash)
                    .collect(),
            })
            .collect(),
        parameters: program
            .params()
            .iter()
            .map(|p| ParamInfo {
                name: format!("{}.{}", p.pack, p.name),
                value: show_param(&p.value),
                set_by: p.set_by.clone(),
            })
            .collect(),
        rule_count: program.rules().len(),
        hash: "sha256".into(),
    }
}

fn show_param(v: &OwnedValue) -> String {
    match v {
        OwnedValue::Num(n) => n.to_string(),
        OwnedValue::Str(s) => format!("{s:?}"),
        OwnedValue::Bool(b) => b.to_string(),
        OwnedValue::Year(y) => y.to_string(),
        OwnedValue::Missing(_) => "missing".into(),
        other => format!("{other:?}"),
    }
}
