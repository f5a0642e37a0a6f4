//! The baseline of the loading benchmarks: plain `#[derive(Deserialize)]`
//! structs mirroring the plan file format (docs/plan-format.md), filled by
//! `toml::from_str` — what a program that only needs the data would do.
//!
//! No spans, no validation, no "did you mean", no year or decimal
//! interpretation: numbers and years stay as TOML gave them. This module
//! must stay that naive, or the ratio "hyoka loader vs toml + serde" stops
//! meaning anything. Unknown keys are ignored (serde's default).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// One plan file.
#[derive(Debug, Deserialize)]
pub struct PlainFile {
    pub plan: PlainPlan,
    #[serde(default)]
    pub external_plan: Vec<PlainExternal>,
    #[serde(default)]
    pub goal: Vec<PlainNode>,
    #[serde(default)]
    pub policy: Vec<PlainNode>,
    #[serde(default)]
    pub measure: Vec<PlainNode>,
    #[serde(default)]
    pub project: Vec<PlainProject>,
    #[serde(default)]
    pub indicator: Vec<PlainIndicator>,
    #[serde(default)]
    pub recorded_summary: Vec<PlainSummary>,
}

/// A number or a string where the format allows either (years, values).
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Int(i64),
    Float(f64),
    Str(String),
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Int(v as i64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Str(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
pub struct PlainPlan {
    pub id: String,
    pub name: String,
    pub municipality: String,
    pub kind: String,
    pub period: PlainPeriod,
    pub year_basis: Option<String>,
    pub parent: Option<String>,
    #[serde(default)]
    pub departments: Vec<String>,
    pub grade_scale: Option<String>,
    #[serde(default)]
    pub revisions: Vec<PlainPlanRevision>,
    pub source: Option<PlainSource>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PlainPeriod {
    pub from: Scalar,
    pub to: Scalar,
}

#[derive(Debug, Deserialize)]
pub struct PlainPlanRevision {
    pub year: Scalar,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PlainSource {
    pub document: String,
    pub section: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PlainExternal {
    pub id: String,
    pub name: Option<String>,
    pub period: Option<PlainPeriod>,
}

/// A goal, policy or measure.
#[derive(Debug, Deserialize)]
pub struct PlainNode {
    pub id: String,
    pub name: String,
    pub under: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PlainProject {
    pub id: String,
    pub under: Option<String>,
    pub number: Option<String>,
    pub name: String,
    pub category: Option<String>,
    pub status: Option<String>,
    pub relisted_from: Option<String>,
    #[serde(default)]
    pub sdgs: Vec<i64>,
    pub department: Option<String>,
    #[serde(default)]
    pub costs: Vec<PlainCost>,
    #[serde(default)]
    pub reviews: Vec<PlainReview>,
    pub completed_in: Option<Scalar>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PlainCost {
    pub year: Scalar,
    pub value: Scalar,
    pub unit: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PlainReview {
    pub year: Scalar,
    pub outcome: String,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PlainIndicator {
    pub id: String,
    pub under: Option<String>,
    pub name: String,
    pub unit: Option<String>,
    pub direction: Option<String>,
    pub kind: Option<String>,
    pub department: Option<String>,
    pub description: Option<String>,
    pub baseline: Option<PlainObservation>,
    #[serde(default)]
    pub actuals: Vec<PlainObservation>,
    pub target: Option<PlainTarget>,
    #[serde(default)]
    pub cumulative: bool,
    pub cumulative_from: Option<Scalar>,
    #[serde(default)]
    pub monitoring: bool,
    pub year_basis: Option<String>,
    #[serde(default)]
    pub same_as: Vec<PlainLink>,
    pub part: Option<PlainPart>,
    #[serde(default)]
    pub revisions: Vec<PlainRevision>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PlainObservation {
    pub year: Scalar,
    pub value: Scalar,
    pub as_of: Option<Scalar>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PlainTarget {
    pub year: Scalar,
    pub value: Option<Scalar>,
    pub text: Option<String>,
    pub set_in: Option<Scalar>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PlainLink {
    pub plan: String,
    pub indicator: String,
    pub target_differs: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PlainPart {
    pub group: String,
    pub label: String,
}

#[derive(Debug, Deserialize)]
pub struct PlainRevision {
    pub kind: String,
    pub year: Option<Scalar>,
    pub reason: Option<String>,
    pub from: Option<Scalar>,
    pub to: Option<Scalar>,
    pub by: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PlainSummary {
    pub year: Option<Scalar>,
    pub title: String,
    #[serde(default)]
    pub rows: Vec<PlainSummaryRow>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PlainSummaryRow {
    pub category: Option<String>,
    pub grade: Option<String>,
    pub count: i64,
}

/// Parses one plan file the plain way.
pub fn parse(text: &str) -> Result<PlainFile, toml::de::Error> {
    toml::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_bundled_plans() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../plans");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(&path).unwrap();
                let f = parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert!(!f.plan.id.is_empty());
                n += 1;
            }
        }
        assert!(n > 0);
    }
}
