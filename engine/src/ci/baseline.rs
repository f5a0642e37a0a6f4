//! Baselines: the findings of an earlier check, so that CI fails only on
//! new ones. A baseline is the JSON output of `hyoka check --format json`
//! (or `--write-baseline`); the SARIF output works too. Only the findings'
//! fingerprints are read, so a baseline keeps working when lines move,
//! messages are reworded or values change.

use std::collections::BTreeSet;

use crate::diagnostic::{PlanDiagnostic, Severity};
use crate::model::SourceFile;

use super::sarif::FINGERPRINT_KEY;

/// The fingerprints of the findings of an earlier check.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    pub fingerprints: BTreeSet<String>,
}

fn error(
    source: &SourceFile,
    message: String,
    at: Option<usize>,
    help: &str,
) -> Box<PlanDiagnostic> {
    let mut d = PlanDiagnostic::new("hyoka::baseline", Severity::Error, message);
    if let Some(at) = at {
        d = d.in_file(source).label(at..at, "here");
    }
    Box::new(d.help(help.to_string()))
}

/// The byte offset of a 1-based line and column.
fn offset(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

/// Reads a baseline: the JSON output of `hyoka check` (its `findings[].fingerprint`)
/// or its SARIF output (`runs[].results[].partialFingerprints`).
pub fn parse(source: &SourceFile) -> Result<Baseline, Box<PlanDiagnostic>> {
    const HELP: &str =
        "a baseline is the output of `hyoka check --format json` (or `--write-baseline FILE`)";
    let value: serde_json::Value = serde_json::from_str(&source.text).map_err(|e| {
        error(
            source,
            format!("`{}` is not JSON: {e}", source.name),
            Some(offset(&source.text, e.line(), e.column())),
            HELP,
        )
    })?;
    let mut fingerprints = BTreeSet::new();
    let not_baseline = || {
        error(
            source,
            format!(
                "`{}` is not a hyoka check result: it has no `findings`",
                source.name
            ),
            None,
            HELP,
        )
    };
    if let Some(findings) = value.get("findings") {
        let findings = findings.as_array().ok_or_else(not_baseline)?;
        for (i, f) in findings.iter().enumerate() {
            let fp = f
                .get("fingerprint")
                .and_then(|v| v.as_str())
                .ok_or_else(|| {
                    error(
                        source,
                        format!(
                            "finding {} of `{}` has no `fingerprint`",
                            i + 1,
                            source.name
                        ),
                        None,
                        HELP,
                    )
                })?;
            fingerprints.insert(fp.to_ascii_lowercase());
        }
    } else if let Some(runs) = value.get("runs").and_then(|r| r.as_array()) {
        for result in runs
            .iter()
            .filter_map(|r| r.get("results").and_then(|r| r.as_array()))
            .flatten()
        {
            if let Some(fp) = result
                .get("partialFingerprints")
                .and_then(|p| p.get(FINGERPRINT_KEY))
                .and_then(|v| v.as_str())
            {
                fingerprints.insert(fp.to_ascii_lowercase());
            }
        }
    } else {
        return Err(not_baseline());
    }
    Ok(Baseline { fingerprints })
}
