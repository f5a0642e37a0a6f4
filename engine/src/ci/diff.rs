//! What a change does: two evaluations compared entity by entity and
//! finding by finding.
//!
//! The two sides are two corpora (two directories, two git revisions) or
//! one corpus under two programs (`hyoka diff --set …`, the what-if mode).
//! Entities are matched by kind, plan id and id, findings by fingerprint,
//! never by index or line. For each entity the diff lists the inputs that
//! changed (target, baseline, actuals, direction … of an indicator; status,
//! costs and reviews of a project) and the derived values that changed
//! (by default `rate`, `grade` and `suggested`: the achievement rate, the
//! grade and the review outcome), with one sentence that says what the
//! change does ("this change lowers the 2025 target from 300 to 200 (below
//! its 2016 baseline 261) and turns its grade from B to A and its rate from
//! 79.3% to 119%"). Findings are listed as
//! new, resolved, or changed (same fingerprint, other severity or
//! message).
//!
//! This module renders text and JSON; reading the two sides is the
//! caller's job.

use std::collections::{BTreeMap, HashMap};

use hyoka_dsl::{DeriveId, Number, OwnedValue, Program};
use serde::Serialize;

use super::outcome::{LineIndex, Place};
use crate::eval::Evaluation;
use crate::finding::{EntityKind, EntityRef};
use crate::model::{Amount, Corpus, Direction, Indicator, Level, Project};

/// The derived values compared by default: achievement rate, grade,
/// suggested review outcome.
pub const DEFAULT_VALUES: &[&str] = &["rate", "grade", "suggested"];

/// One side of a comparison.
pub struct Side<'a> {
    pub corpus: &'a Corpus,
    pub program: &'a Program,
    pub evaluation: &'a Evaluation<'a>,
}

/// How an entity differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

/// A changed input or value: `None` where the side has none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Delta {
    /// `target`, `actual 2021`, `grade` …
    pub name: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// What the new value means (`below its 2016 baseline 261`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An entity that differs.
#[derive(Clone, Debug, Serialize)]
pub struct EntityDiff {
    /// `indicator`, `project`, `measure`, `policy`, `goal`, `plan`.
    pub kind: &'static str,
    pub plan: String,
    pub id: String,
    pub name: String,
    pub change: Change,
    /// Plan data that changed.
    pub inputs: Vec<Delta>,
    /// Derived values that changed.
    pub values: Vec<Delta>,
    /// One sentence: what the change does to this entity.
    pub summary: String,
}

/// A finding of one side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindingRef {
    pub fingerprint: String,
    pub rule: String,
    pub severity: &'static str,
    pub entity: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

/// A finding on both sides that reads differently.
#[derive(Clone, Debug, Serialize)]
pub struct FindingChange {
    pub old: FindingRef,
    pub new: FindingRef,
}

/// The differences between two sides.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Diff {
    pub entities: Vec<EntityDiff>,
    /// Findings only on the new side.
    pub new_findings: Vec<FindingRef>,
    /// Findings only on the old side.
    pub resolved_findings: Vec<FindingRef>,
    /// Findings on both sides with another severity or message.
    pub changed_findings: Vec<FindingChange>,
}

impl Diff {
    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
            && self.new_findings.is_empty()
            && self.resolved_findings.is_empty()
            && self.changed_findings.is_empty()
    }

    /// How many entities changed each derived value, by value name.
    pub fn value_counts(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for e in &self.entities {
            for v in &e.values {
                *out.entry(v.name.clone()).or_insert(0) += 1;
            }
        }
        out
    }
}

type Key = (&'static str, String, String);

/// One side, read into comparable text.
struct Snapshot {
    order: Vec<Key>,
    entities: HashMap<Key, EntitySnap>,
    findings: Vec<FindingRef>,
}

#[derive(Default)]
struct EntitySnap {
    name: String,
    values: BTreeMap<String, String>,
    inputs: Vec<(String, String)>,
    /// For notes: the indicator's direction and baseline.
    direction: Option<Direction>,
    baseline: Option<(Number, String)>,
    target: Option<Number>,
    target_year: Option<i32>,
}

fn kind_label(c: &Corpus, e: &EntityRef) -> &'static str {
    match e.kind {
        EntityKind::Plan => "plan",
        EntityKind::Project => "project",
        EntityKind::Indicator => "indicator",
        EntityKind::Node => match c.nodes[e.index as usize].level {
            Level::Goal => "goal",
            Level::Policy => "policy",
            Level::Measure => "measure",
        },
    }
}

fn number(a: &Amount) -> Option<Number> {
    let d = a.number()?;
    Number::from_decimal(d.mantissa, d.scale as u32)
}

fn lower<T: std::fmt::Debug>(x: T) -> String {
    format!("{x:?}").to_lowercase()
}

fn indicator_inputs(c: &Corpus, i: &Indicator, snap: &mut EntitySnap) {
    let mut inputs = Vec::new();
    if let Some(t) = &i.target {
        let what = if let Some(v) = &t.value {
            v.value.to_string()
        } else if let Some(text) = &t.text {
            format!("「{}」", text.value)
        } else if let Some(y) = &t.set_in {
            format!("to be set in {}", y.value)
        } else {
            "—".to_string()
        };
        inputs.push(("target".to_string(), format!("{what} ({})", t.year.value)));
        snap.target = t.value.as_ref().and_then(|v| number(&v.value));
        snap.target_year = Some(t.year.value);
    }
    if let Some(b) = &i.baseline {
        inputs.push((
            "baseline".to_string(),
            format!("{} ({})", b.value.value, b.year.value),
        ));
        snap.baseline = number(&b.value.value)
            .map(|n| (n, format!("{} baseline {}", b.year.value, b.value.value)));
    }
    for a in &i.actuals {
        let mut text = a.value.value.to_string();
        if let Some(y) = &a.as_of {
            text = format!("{text} (as of {})", y.value);
        }
        inputs.push((format!("actual {}", a.year.value), text));
    }
    if let Some(d) = &i.direction {
        inputs.push(("direction".to_string(), lower(d.value)));
        snap.direction = Some(d.value);
    }
    if let Some(u) = &i.unit {
        inputs.push(("unit".to_string(), u.value.clone()));
    }
    if i.monitoring {
        inputs.push(("monitoring".to_string(), "true".to_string()));
    }
    if i.cumulative {
        inputs.push(("cumulative".to_string(), "true".to_string()));
    }
    for l in &i.links {
        let other = &c.indicators[l.indicator as usize];
        inputs.push((
            "same_as".to_string(),
            format!(
                "{}/{}",
                c.plans[other.plan as usize].id.value, other.id.value
            ),
        ));
    }
    snap.inputs = inputs;
}

fn project_inputs(p: &Project, snap: &mut EntitySnap) {
    let mut inputs = vec![("status".to_string(), lower(p.status.value))];
    for cost in &p.costs {
        let unit = cost.unit.as_deref().unwrap_or("");
        inputs.push((
            format!("cost {}", cost.year.value),
            format!("{}{unit}", cost.value.value),
        ));
    }
    for r in &p.reviews {
        inputs.push((format!("review {}", r.year.value), r.outcome.value.clone()));
    }
    snap.inputs = inputs;
}

/// `n` as a percentage to one decimal, rounded half away from zero
/// (`0.79333…` → `79.3%`, `1.19` → `119%`).
fn percent(n: Number) -> String {
    let (num, den) = (i128::from(n.numer()), i128::from(n.denom()).max(1));
    let q = num * 1000;
    let tenths = (2 * q.abs() + den) / (2 * den) * q.signum();
    let sign = if tenths < 0 { "-" } else { "" };
    let (int, frac) = (tenths.abs() / 10, tenths.abs() % 10);
    if frac == 0 {
        format!("{sign}{int}%")
    } else {
        format!("{sign}{int}.{frac}%")
    }
}

/// A derived value as text; rates (values named `…rate`) as percentages.
fn show(program: &Program, side: &Side<'_>, name: &str, v: &OwnedValue) -> String {
    if let (true, OwnedValue::Num(n)) = (name.ends_with("rate"), v) {
        return percent(*n);
    }
    program.show(v.as_value(), &side.evaluation.data)
}

fn snapshot(side: &Side<'_>, values: &[&str]) -> Snapshot {
    let c = side.corpus;
    let data = &side.evaluation.data;
    let mut snap = Snapshot {
        order: Vec::new(),
        entities: HashMap::new(),
        findings: Vec::new(),
    };
    let key = |e: &EntityRef| -> Key {
        (
            kind_label(c, e),
            e.plan_id(c).to_string(),
            e.id(c).to_string(),
        )
    };
    let add = |snap: &mut Snapshot, e: EntityRef| -> Key {
        let k = key(&e);
        if !snap.entities.contains_key(&k) {
            let mut s = EntitySnap {
                name: e.name(c).to_string(),
                ..EntitySnap::default()
            };
            match e.kind {
                EntityKind::Indicator => {
                    indicator_inputs(c, &c.indicators[e.index as usize], &mut s)
                }
                EntityKind::Project => project_inputs(&c.projects[e.index as usize], &mut s),
                _ => {}
            }
            snap.order.push(k.clone());
            snap.entities.insert(k.clone(), s);
        }
        k
    };
    // Entities in file order: plans, then each table in corpus order.
    for i in 0..c.plans.len() as u32 {
        add(
            &mut snap,
            EntityRef {
                kind: EntityKind::Plan,
                index: i,
            },
        );
    }
    for i in 0..c.nodes.len() as u32 {
        add(
            &mut snap,
            EntityRef {
                kind: EntityKind::Node,
                index: i,
            },
        );
    }
    for i in 0..c.projects.len() as u32 {
        add(
            &mut snap,
            EntityRef {
                kind: EntityKind::Project,
                index: i,
            },
        );
    }
    for i in 0..c.indicators.len() as u32 {
        add(
            &mut snap,
            EntityRef {
                kind: EntityKind::Indicator,
                index: i,
            },
        );
    }
    for (d, derive) in side.program.derives().iter().enumerate() {
        if !values.contains(&derive.name.as_str()) {
            continue;
        }
        for obj in data.entities(derive.kind) {
            let e = EntityRef::of(data, obj);
            if e.kind == EntityKind::Plan && e.index as usize >= c.plans.len() {
                continue;
            }
            let Some(v) = data.derived_value(DeriveId(d as u32), obj.index) else {
                continue;
            };
            let text = show(side.program, side, &derive.name, v);
            let k = add(&mut snap, e);
            if let Some(s) = snap.entities.get_mut(&k) {
                s.values.insert(derive.name.clone(), text);
            }
        }
    }
    let lines: Vec<LineIndex> = c.files.iter().map(|f| LineIndex::new(&f.text)).collect();
    for f in &side.evaluation.findings {
        let p: Option<Place> = f.places.first().map(|(span, label)| {
            let file = c.file_of(*span);
            lines[span.file as usize].place(&file.name, &file.text, span.range(), label)
        });
        snap.findings.push(FindingRef {
            fingerprint: f.fingerprint(c),
            rule: f.rule.to_string(),
            severity: f.severity.as_str(),
            entity: format!("{}/{}", f.entity.plan_id(c), f.entity.id(c)),
            message: f.message.clone(),
            file: p.as_ref().map(|p| p.file.clone()),
            line: p.as_ref().map(|p| p.line),
            column: p.as_ref().map(|p| p.column),
        });
    }
    snap
}

/// Deltas between two lists of `(name, text)`, in the new side's order
/// with names only on the old side after.
fn deltas(old: &[(String, String)], new: &[(String, String)]) -> Vec<Delta> {
    let old_map: BTreeMap<&str, &str> = old.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let new_map: BTreeMap<&str, &str> = new.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (k, v) in new.iter().chain(old.iter()) {
        if !seen.insert(k.as_str()) {
            continue;
        }
        let (o, n) = (
            old_map.get(k.as_str()).copied(),
            new_map.get(k.as_str()).copied(),
        );
        if o != n {
            out.push(Delta {
                name: k.clone(),
                old: o.map(str::to_string),
                new: n.map(str::to_string),
                note: None,
            });
        }
        let _ = v;
    }
    out
}

/// `below its 2016 baseline 261` when a target is on the wrong side of
/// its baseline for its direction.
fn target_note(s: &EntitySnap) -> Option<String> {
    let (t, (b, text)) = (s.target?, s.baseline.as_ref()?);
    match s.direction? {
        Direction::Increase if t < *b => Some(format!("below its {text}")),
        Direction::Decrease if t > *b => Some(format!("above its {text}")),
        _ => None,
    }
}

/// The order effects are told in: grade, review outcome, rate, others.
fn effect_rank(name: &str) -> usize {
    match name {
        "grade" => 0,
        "suggested" => 1,
        "rate" => 2,
        _ => 3,
    }
}

fn value_name(name: &str) -> &str {
    match name {
        "suggested" => "suggested review outcome",
        other => other,
    }
}

/// `turns its grade from B to A and its rate from 79.3% to 119%`.
fn effects_sentence(values: &[Delta]) -> String {
    let mut sorted: Vec<&Delta> = values.iter().collect();
    sorted.sort_by_key(|v| effect_rank(&v.name));
    let parts: Vec<String> = sorted
        .iter()
        .map(|v| {
            format!(
                "its {} from {} to {}",
                value_name(&v.name),
                v.old.as_deref().unwrap_or("—"),
                v.new.as_deref().unwrap_or("—")
            )
        })
        .collect();
    let verb = if sorted.first().is_some_and(|v| v.name == "grade") {
        "turns"
    } else {
        "changes"
    };
    format!("{verb} {}", join(&parts))
}

fn input_phrase(d: &Delta, old: &EntitySnap, new: &EntitySnap) -> String {
    let (o, n) = (d.old.as_deref(), d.new.as_deref());
    if d.name == "target" {
        if let (Some(a), Some(b)) = (old.target, new.target) {
            let verb = if b < a {
                "lowers"
            } else if b > a {
                "raises"
            } else {
                "changes"
            };
            let year = match (old.target_year, new.target_year) {
                (Some(x), Some(y)) if x == y => format!("the {y} target"),
                _ => "the target".to_string(),
            };
            let mut s = format!("{verb} {year} from {a} to {b}");
            if let Some(note) = &d.note {
                s = format!("{s} ({note})");
            }
            return s;
        }
    }
    match (o, n) {
        (None, Some(n)) => format!("adds the {} {n}", d.name),
        (Some(_), None) => format!("removes the {}", d.name),
        (o, n) => format!(
            "changes the {} from {} to {}",
            d.name,
            o.unwrap_or("—"),
            n.unwrap_or("—")
        ),
    }
}

fn join(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn summary(e: &EntityDiff, old: Option<&EntitySnap>, new: Option<&EntitySnap>) -> String {
    let label = format!("{} {}/{} {}", e.kind, e.plan, e.id, e.name);
    match e.change {
        Change::Added => {
            let vals: Vec<String> = e
                .values
                .iter()
                .map(|v| {
                    format!(
                        "{} {}",
                        value_name(&v.name),
                        v.new.as_deref().unwrap_or("—")
                    )
                })
                .collect();
            if vals.is_empty() {
                format!("{label}: added")
            } else {
                format!("{label}: added ({})", vals.join(", "))
            }
        }
        Change::Removed => format!("{label}: removed"),
        Change::Changed => {
            let (Some(old), Some(new)) = (old, new) else {
                return label;
            };
            let inputs: Vec<String> = e.inputs.iter().map(|d| input_phrase(d, old, new)).collect();
            match (inputs.is_empty(), e.values.is_empty()) {
                (true, _) => format!("{label}: {}", effects_sentence(&e.values)),
                (false, true) => format!(
                    "{label}: this change {}; no rate, grade or review outcome changes",
                    join(&inputs)
                ),
                (false, false) => format!(
                    "{label}: this change {} and {}",
                    join(&inputs),
                    effects_sentence(&e.values)
                ),
            }
        }
    }
}

/// Compares `old` and `new`, on the derived values named in `values`.
pub fn compare(old: &Side<'_>, new: &Side<'_>, values: &[&str]) -> Diff {
    let a = snapshot(old, values);
    let b = snapshot(new, values);
    let mut diff = Diff::default();
    let mut keys: Vec<&Key> = b.order.iter().collect();
    keys.extend(a.order.iter().filter(|k| !b.entities.contains_key(*k)));
    for k in keys {
        let (o, n) = (a.entities.get(k), b.entities.get(k));
        let change = match (o, n) {
            (None, Some(_)) => Change::Added,
            (Some(_), None) => Change::Removed,
            _ => Change::Changed,
        };
        let empty = EntitySnap::default();
        let (os, ns) = (o.unwrap_or(&empty), n.unwrap_or(&empty));
        let mut inputs = if change == Change::Changed {
            deltas(&os.inputs, &ns.inputs)
        } else {
            Vec::new()
        };
        for d in &mut inputs {
            if d.name == "target" {
                d.note = target_note(ns);
            }
        }
        let to_list = |m: &BTreeMap<String, String>| -> Vec<(String, String)> {
            values
                .iter()
                .filter_map(|v| m.get(*v).map(|x| (v.to_string(), x.clone())))
                .collect()
        };
        let mut vals = deltas(&to_list(&os.values), &to_list(&ns.values));
        vals.sort_by_key(|v| effect_rank(&v.name));
        if change == Change::Changed && inputs.is_empty() && vals.is_empty() {
            continue;
        }
        let mut e = EntityDiff {
            kind: k.0,
            plan: k.1.clone(),
            id: k.2.clone(),
            name: n.or(o).map(|s| s.name.clone()).unwrap_or_default(),
            change,
            inputs,
            values: vals,
            summary: String::new(),
        };
        e.summary = summary(&e, o, n);
        diff.entities.push(e);
    }
    let old_by: HashMap<&str, &FindingRef> = a
        .findings
        .iter()
        .map(|f| (f.fingerprint.as_str(), f))
        .collect();
    let new_by: HashMap<&str, &FindingRef> = b
        .findings
        .iter()
        .map(|f| (f.fingerprint.as_str(), f))
        .collect();
    for f in &b.findings {
        match old_by.get(f.fingerprint.as_str()) {
            None => diff.new_findings.push(f.clone()),
            Some(o) if o.severity != f.severity || o.message != f.message => {
                diff.changed_findings.push(FindingChange {
                    old: (*o).clone(),
                    new: f.clone(),
                })
            }
            Some(_) => {}
        }
    }
    for f in &a.findings {
        if !new_by.contains_key(f.fingerprint.as_str()) {
            diff.resolved_findings.push(f.clone());
        }
    }
    diff
}

/// How the two sides are named in the output.
#[derive(Clone, Debug, Serialize)]
pub struct Labels {
    /// `directories`, `git` or `what-if`.
    pub mode: &'static str,
    pub old: String,
    pub new: String,
    pub year: i32,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The one-line summary: `2 grades, 2 rates, 0 review outcomes and 1 finding differ`.
pub fn summary_line(d: &Diff) -> String {
    if d.is_empty() {
        return "nothing differs: no grade, rate, review outcome or finding changes".to_string();
    }
    let counts = d.value_counts();
    let count = |k: &str| counts.get(k).copied().unwrap_or(0);
    let mut parts = vec![
        plural(count("grade"), "grade", "grades"),
        plural(count("rate"), "rate", "rates"),
        plural(count("suggested"), "review outcome", "review outcomes"),
    ];
    for (k, n) in &counts {
        if !DEFAULT_VALUES.contains(&k.as_str()) {
            parts.push(format!("{n} {k}"));
        }
    }
    let findings = d.new_findings.len() + d.resolved_findings.len() + d.changed_findings.len();
    parts.push(plural(findings, "finding", "findings"));
    let mut line = format!("{} differ", join(&parts));
    if findings > 0 {
        line.push_str(&format!(
            " ({} new, {} resolved, {} changed)",
            d.new_findings.len(),
            d.resolved_findings.len(),
            d.changed_findings.len()
        ));
    }
    let entities = d
        .entities
        .iter()
        .filter(|e| !e.inputs.is_empty() || e.change != Change::Changed)
        .count();
    if entities > 0 {
        line.push_str(&format!(
            "; plan data changed for {}",
            plural(entities, "entity", "entities")
        ));
    }
    line
}

fn finding_text(out: &mut String, sign: &str, f: &FindingRef) {
    let at = match (&f.file, f.line, f.column) {
        (Some(file), Some(l), Some(c)) => format!(" ({file}:{l}:{c})"),
        _ => String::new(),
    };
    out.push_str(&format!(
        "  {sign} {} {} {}{at}\n",
        f.severity, f.rule, f.entity
    ));
    for line in f.message.lines() {
        out.push_str(&format!("      {line}\n"));
    }
}

/// The diff as text for people (and for a pull-request comment).
pub fn render_text(d: &Diff, labels: &Labels) -> String {
    let mut out = format!(
        "hyoka diff ({}): {} → {}, evaluated for {}\n",
        labels.mode, labels.old, labels.new, labels.year
    );
    if !d.entities.is_empty() {
        out.push_str("\nWhat changes\n");
        for e in &d.entities {
            out.push_str(&format!("  {}\n", e.summary));
            for delta in e.inputs.iter().chain(&e.values) {
                let (o, n) = (
                    delta.old.as_deref().unwrap_or("—"),
                    delta.new.as_deref().unwrap_or("—"),
                );
                if e.change == Change::Changed {
                    out.push_str(&format!("      {}: {o} → {n}\n", delta.name));
                }
            }
        }
    }
    if !d.new_findings.is_empty()
        || !d.resolved_findings.is_empty()
        || !d.changed_findings.is_empty()
    {
        out.push_str("\nFindings (+ new, - resolved, ~ changed)\n");
        for f in &d.new_findings {
            finding_text(&mut out, "+", f);
        }
        for f in &d.resolved_findings {
            finding_text(&mut out, "-", f);
        }
        for c in &d.changed_findings {
            finding_text(&mut out, "~", &c.new);
            if c.old.severity != c.new.severity {
                out.push_str(&format!("      severity was {}\n", c.old.severity));
            }
            if c.old.message != c.new.message {
                for (i, line) in c.old.message.lines().enumerate() {
                    let lead = if i == 0 { "was: " } else { "     " };
                    out.push_str(&format!("      {lead}{line}\n"));
                }
            }
        }
    }
    out.push_str(&format!("\n{}\n", summary_line(d)));
    out
}

#[derive(Serialize)]
struct JsonDiff<'a> {
    tool: &'static str,
    version: &'static str,
    #[serde(flatten)]
    labels: &'a Labels,
    summary: JsonSummary,
    #[serde(flatten)]
    diff: &'a Diff,
}

#[derive(Serialize)]
struct JsonSummary {
    text: String,
    values: BTreeMap<String, usize>,
    new_findings: usize,
    resolved_findings: usize,
    changed_findings: usize,
}

/// The diff as pretty-printed JSON, ending with a newline.
pub fn render_json(d: &Diff, labels: &Labels) -> String {
    let out = JsonDiff {
        tool: "hyoka",
        version: env!("CARGO_PKG_VERSION"),
        labels,
        summary: JsonSummary {
            text: summary_line(d),
            values: d.value_counts(),
            new_findings: d.new_findings.len(),
            resolved_findings: d.resolved_findings.len(),
            changed_findings: d.changed_findings.len(),
        },
        diff: d,
    };
    let mut text = serde_json::to_string_pretty(&out).unwrap_or_default();
    text.push('\n');
    text
}
