//! Waivers: findings a city has decided to accept for a while, written in
//! `hyoka-waivers.toml` as `[[waiver]]` tables with a rule, what it is
//! about (an entity or a fingerprint), a reason, an owner and an expiry
//! date.
//!
//! This module reads the waivers' text (the caller reads the file),
//! reports every malformed waiver with its place, and matches waivers to
//! findings: an active waiver waives a finding, an expired one brings it
//! back with a note, and a waiver that matches nothing is reported.
//!
//! ```toml
//! [[waiver]]
//! rule = "review.no_evaluable_indicator"
//! entity = "koriyama-kouiki-vision-2/P-1-1-1"   # plan-id/entity-id, plan-id, or plan-id/*
//! reason = "指標は2025年度の改定で設定する"
//! owner = "企画政策課"
//! expires = 2025-03-31
//! ```

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::date::Date;
use crate::diagnostic::{PlanDiagnostic, Severity};
use crate::finding::{EntityKind, EntityRef, Finding};
use crate::load::read::did_you_mean;
use crate::model::{Corpus, SourceFile};

/// The file name looked for next to `hyoka.toml`.
pub const WAIVERS_FILE: &str = "hyoka-waivers.toml";

/// The keys of a `[[waiver]]` table.
const KEYS: &[&str] = &[
    "rule",
    "entity",
    "fingerprint",
    "reason",
    "owner",
    "expires",
];

/// What a waiver is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `entity = "plan-id/entity-id"`; `id` is `None` for `"plan-id"` (the
    /// plan itself) and `Some("*")` for every entity of the plan.
    Entity { plan: String, id: Option<String> },
    /// `fingerprint = "…"`: one finding, by its fingerprint.
    Fingerprint(String),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Entity { plan, id: None } => write!(f, "{plan}"),
            Target::Entity { plan, id: Some(id) } => write!(f, "{plan}/{id}"),
            Target::Fingerprint(fp) => write!(f, "fingerprint {fp}"),
        }
    }
}

/// One well-formed `[[waiver]]`.
#[derive(Clone, Debug)]
pub struct Waiver {
    /// `PACK.ID`.
    pub rule: String,
    pub target: Target,
    pub reason: String,
    pub owner: String,
    /// The last day the waiver holds.
    pub expires: Date,
    /// The `[[waiver]]` table in the file.
    pub span: Range<usize>,
    /// The `expires` value in the file.
    pub expires_span: Range<usize>,
}

impl Waiver {
    /// Whether the waiver has expired on `today` (it holds through its
    /// expiry date).
    pub fn expired(&self, today: Date) -> bool {
        today > self.expires
    }

    /// Whether the waiver is about `finding` (whose fingerprint is
    /// `fingerprint`). For a group finding, naming any member is enough.
    pub fn matches(&self, finding: &Finding, fingerprint: &str, corpus: &Corpus) -> bool {
        if *self.rule != *finding.rule {
            return false;
        }
        match &self.target {
            Target::Fingerprint(fp) => fp.eq_ignore_ascii_case(fingerprint),
            Target::Entity { plan, id } => {
                let names = |e: &EntityRef| -> bool {
                    if e.plan_id(corpus) != plan {
                        return false;
                    }
                    match id.as_deref() {
                        Some("*") => true,
                        None => e.kind == EntityKind::Plan,
                        Some(id) => e.kind != EntityKind::Plan && e.id(corpus) == id,
                    }
                };
                if finding.members.is_empty() {
                    names(&finding.entity)
                } else {
                    finding.members.iter().any(names)
                }
            }
        }
    }
}

/// The waivers of one file, and what was wrong with the malformed ones.
#[derive(Clone, Debug, Default)]
pub struct Waivers {
    /// The file they were read from (`None` when there is none).
    pub source: Option<SourceFile>,
    pub list: Vec<Waiver>,
    /// Malformed waivers and TOML errors (severity error).
    pub errors: Vec<PlanDiagnostic>,
}

/// Reads the waivers in `source`, checking rule ids against `rules` (the
/// qualified ids of the rules in use).
pub fn parse(source: SourceFile, rules: &[&str]) -> Waivers {
    let mut w = Waivers {
        source: Some(source.clone()),
        ..Waivers::default()
    };
    let (doc, syntax_errors) = DeTable::parse_recoverable(&source.text);
    if !syntax_errors.is_empty() {
        for e in syntax_errors {
            let range = e.span().unwrap_or(0..0);
            w.errors.push(
                error(&source, "toml", format!("malformed TOML: {}", e.message().trim_end()), range, "here")
                    .help("waivers are `[[waiver]]` tables of `key = value` lines; strings in double quotes, dates as 2025-03-31"),
            );
        }
        return w;
    }
    for (key, value) in doc.get_ref().iter() {
        let name = key.get_ref().as_ref();
        if name != "waiver" {
            let help = match did_you_mean(name, &["waiver"]) {
                Some(s) => format!("did you mean `{s}`? a waiver is written `[[waiver]]`"),
                None => "a waivers file holds only `[[waiver]]` tables".to_string(),
            };
            w.errors.push(
                error(
                    &source,
                    "unknown_key",
                    format!("unknown key `{name}` in the waivers file"),
                    key.span(),
                    "unknown key",
                )
                .help(help),
            );
            continue;
        }
        let Some(tables) = value.get_ref().as_array() else {
            w.errors.push(
                error(
                    &source,
                    "wrong_type",
                    "`waiver` must be a list of tables, written `[[waiver]]`".into(),
                    value.span(),
                    "expected `[[waiver]]`",
                )
                .help("write each waiver as a `[[waiver]]` table"),
            );
            continue;
        };
        for table in tables.iter() {
            if let Some(waiver) = read_waiver(&source, table, rules, &mut w.errors) {
                w.list.push(waiver);
            }
        }
    }
    w.errors
        .sort_by_key(|d| d.labels.first().map_or(0, |(r, _)| r.start));
    w
}

fn error(
    source: &SourceFile,
    code: &str,
    message: String,
    range: Range<usize>,
    label: &str,
) -> PlanDiagnostic {
    PlanDiagnostic::new(format!("hyoka::waiver::{code}"), Severity::Error, message)
        .in_file(source)
        .label(range, label)
}

/// A string value, or an error naming `key`.
fn string<'a>(
    source: &SourceFile,
    key: &str,
    value: &'a Spanned<DeValue<'_>>,
    errors: &mut Vec<PlanDiagnostic>,
) -> Option<&'a str> {
    match value.get_ref().as_str() {
        Some(s) if !s.trim().is_empty() => Some(s),
        Some(_) => {
            errors.push(
                error(
                    source,
                    "empty",
                    format!("`{key}` of a waiver is empty"),
                    value.span(),
                    "empty",
                )
                .help(format!("give the waiver's `{key}`")),
            );
            None
        }
        None => {
            errors.push(
                error(
                    source,
                    "wrong_type",
                    format!(
                        "`{key}` of a waiver must be a string, found {}",
                        value.get_ref().type_str()
                    ),
                    value.span(),
                    "expected a string",
                )
                .help(format!("write `{key} = \"…\"`")),
            );
            None
        }
    }
}

fn read_waiver(
    source: &SourceFile,
    table: &Spanned<DeValue<'_>>,
    rules: &[&str],
    errors: &mut Vec<PlanDiagnostic>,
) -> Option<Waiver> {
    let span = table.span();
    let Some(entries) = table.get_ref().as_table() else {
        errors.push(
            error(
                source,
                "wrong_type",
                "a waiver must be a table".into(),
                span,
                "expected a table",
            )
            .help("write each waiver as a `[[waiver]]` table"),
        );
        return None;
    };
    let before = errors.len();
    for (key, _) in entries.iter() {
        let name = key.get_ref().as_ref();
        if !KEYS.contains(&name) {
            let help = match did_you_mean(name, KEYS) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the keys of a waiver are: {}", KEYS.join(", ")),
            };
            errors.push(
                error(
                    source,
                    "unknown_key",
                    format!("unknown key `{name}` in a waiver"),
                    key.span(),
                    "unknown key",
                )
                .help(help),
            );
        }
    }
    let at_start = span.start..span.start;
    let mut missing = |key: &str, help: &str| {
        errors.push(
            error(
                source,
                "missing_key",
                format!("waiver has no `{key}`"),
                at_start.clone(),
                &format!("`{key}` is required here"),
            )
            .help(help.to_string()),
        );
    };
    let (rule_v, reason_v, owner_v, expires_v) = (
        entries.get("rule"),
        entries.get("reason"),
        entries.get("owner"),
        entries.get("expires"),
    );
    if rule_v.is_none() {
        missing(
            "rule",
            "name the rule whose finding is waived: `rule = \"PACK.ID\"` (see `hyoka rules`)",
        );
    }
    if reason_v.is_none() {
        missing(
            "reason",
            "say why the finding is accepted: `reason = \"…\"`",
        );
    }
    if owner_v.is_none() {
        missing(
            "owner",
            "say who answers for the waiver: `owner = \"…\"` (a person or a department)",
        );
    }
    if expires_v.is_none() {
        missing(
            "expires",
            "every waiver ends: `expires = 2025-03-31` (the last day it holds)",
        );
    }
    let target_v = match (entries.get("entity"), entries.get("fingerprint")) {
        (None, None) => {
            missing(
                "entity",
                "say what the waiver is about: `entity = \"plan-id/entity-id\"` or `fingerprint = \"…\"` (from `hyoka check --format json`)",
            );
            None
        }
        (Some(_), Some(fp)) => {
            errors.push(
                error(
                    source,
                    "both_targets",
                    "waiver has both `entity` and `fingerprint`".into(),
                    fp.span(),
                    "second target",
                )
                .help(
                    "a waiver names its finding either by `entity` or by `fingerprint`; remove one",
                ),
            );
            None
        }
        (Some(e), None) => Some(("entity", e)),
        (None, Some(f)) => Some(("fingerprint", f)),
    };

    let rule = rule_v.and_then(|v| string(source, "rule", v, errors).map(|s| (s, v.span())));
    let rule = rule.and_then(|(r, range)| {
        if rules.contains(&r) {
            return Some(r.to_string());
        }
        let help = match did_you_mean(r, rules) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "the rule ids in use are listed by `hyoka rules`; a rule turned `off` cannot be waived".to_string(),
        };
        errors.push(
            error(source, "unknown_rule", format!("no rule `{r}` in the rule packs in use"), range, "unknown rule").help(help),
        );
        None
    });
    let target = target_v.and_then(|(key, v)| {
        let text = string(source, key, v, errors)?.trim();
        if key == "fingerprint" {
            if text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Some(Target::Fingerprint(text.to_ascii_lowercase()));
            }
            errors.push(
                error(source, "bad_fingerprint", format!("`{text}` is not a finding fingerprint"), v.span(), "not a fingerprint")
                    .help("a fingerprint is the 16 hex digits of a finding's `fingerprint` in `hyoka check --format json`"),
            );
            return None;
        }
        let (plan, id) = match text.split_once('/') {
            Some((p, i)) => (p.trim(), Some(i.trim())),
            None => (text, None),
        };
        if plan.is_empty() || id.is_some_and(str::is_empty) {
            errors.push(
                error(source, "bad_entity", format!("`{text}` is not `plan-id/entity-id`"), v.span(), "not an entity")
                    .help("write `plan-id/entity-id` (`koriyama-kyodo-2/M1-1`), `plan-id` for the plan itself, or `plan-id/*` for every entity of the plan"),
            );
            return None;
        }
        Some(Target::Entity {
            plan: plan.to_string(),
            id: id.map(str::to_string),
        })
    });
    let reason = reason_v.and_then(|v| string(source, "reason", v, errors));
    let owner = owner_v.and_then(|v| string(source, "owner", v, errors));
    let expires = expires_v.and_then(|v| {
        let date = match v.get_ref() {
            DeValue::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt
                .date
                .and_then(|d| Date::new(i32::from(d.year), d.month, d.day)),
            DeValue::String(s) => Date::parse(s.trim()),
            _ => None,
        };
        if date.is_none() {
            errors.push(
                error(
                    source,
                    "bad_date",
                    "`expires` must be a date `YYYY-MM-DD`".into(),
                    v.span(),
                    "not a date",
                )
                .help("write the last day the waiver holds: `expires = 2025-03-31`"),
            );
        }
        date.map(|d| (d, v.span()))
    });
    if errors.len() > before {
        return None;
    }
    let (expires, expires_span) = expires?;
    Some(Waiver {
        rule: rule?,
        target: target?,
        reason: reason?.to_string(),
        owner: owner?.to_string(),
        expires,
        span,
        expires_span,
    })
}

/// Whether an entity named by a waiver exists in the corpus, and if not a
/// close id to suggest.
pub fn entity_hint(target: &Target, corpus: &Corpus) -> Option<String> {
    let Target::Entity { plan, id } = target else {
        return None;
    };
    let plans: Vec<&str> = corpus.plans.iter().map(|p| p.id.value.as_str()).collect();
    let Some(p) = corpus.plan_by_id(plan) else {
        return Some(match did_you_mean(plan, &plans) {
            Some(s) => format!("there is no plan `{plan}`; did you mean `{s}`?"),
            None => format!("there is no plan `{plan}`"),
        });
    };
    let id = id.as_deref().filter(|i| *i != "*")?;
    let c = corpus;
    let ids: Vec<&str> = c
        .nodes
        .iter()
        .filter(|n| n.plan == p)
        .map(|n| n.id.value.as_str())
        .chain(
            c.projects
                .iter()
                .filter(|x| x.plan == p)
                .map(|x| x.id.value.as_str()),
        )
        .chain(
            c.indicators
                .iter()
                .filter(|x| x.plan == p)
                .map(|x| x.id.value.as_str()),
        )
        .collect();
    if ids.contains(&id) {
        return None;
    }
    Some(match did_you_mean(id, &ids) {
        Some(s) => format!("plan `{plan}` has no entity `{id}`; did you mean `{s}`?"),
        None => format!("plan `{plan}` has no entity `{id}`"),
    })
}
