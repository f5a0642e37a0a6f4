//! Grade scales: computing band bounds from parameter values and proving,
//! for those values, that the bands cover every number exactly once.
//!
//! The proof is a sweep over the bands sorted by lower bound. Each problem
//! is reported with a concrete number: the first value that falls through a
//! gap (`0.8` between `.. 80%` and `90% ..`), or a value two bands claim.
//! A band with no number in it is reported on its own. A scale must also
//! have exactly one `missing` state, the grade of a missing input.

use super::{Body, Checker, Frame};
use crate::ast::{self, ScaleEntryKind};
use crate::check_error::{CheckError, CheckErrorKind};
use crate::ir::{Band, Node as N};
use crate::number::Number;
use crate::span::Span;
use crate::value::OwnedValue;

/// A band as the proof sees it.
struct Interval {
    name: String,
    span: Span,
    lo: Option<Number>,
    hi: Option<(Number, bool)>,
}

/// `lo .. hi` with values, for messages.
fn range_text(lo: Option<Number>, hi: Option<(Number, bool)>) -> String {
    let lo = lo.map_or(String::new(), |l| format!("{l} "));
    match hi {
        Some((h, true)) => format!("{lo}..= {h}"),
        Some((h, false)) => format!("{lo}.. {h}"),
        None => format!("{lo}.."),
    }
}

/// Whether upper end `a` reaches further than `b` (`None` is +∞).
fn further(a: Option<(Number, bool)>, b: Option<(Number, bool)>) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some((x, xi)), Some((y, yi))) => x > y || (x == y && xi && !yi),
    }
}

/// A problem found by the proof: what, where, and another band to point at.
struct Problem {
    kind: CheckErrorKind,
    span: Span,
    note: Option<(Span, String)>,
}

/// Proves that `bands` cover every number exactly once.
fn prove(scale: &str, bands: &[Interval]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut live: Vec<&Interval> = Vec::new();
    for b in bands {
        let empty = match (b.lo, b.hi) {
            (Some(lo), Some((hi, inclusive))) => lo > hi || (lo == hi && !inclusive),
            _ => false,
        };
        if empty {
            problems.push(Problem {
                kind: CheckErrorKind::EmptyBand {
                    scale: scale.to_string(),
                    band: b.name.clone(),
                    range: range_text(b.lo, b.hi),
                },
                span: b.span,
                note: None,
            });
        } else {
            live.push(b);
        }
    }
    if live.is_empty() {
        // A scale of states only is assigned explicitly, never computed.
        return problems;
    }
    // Unbounded-below bands first, then by lower bound; stable, so source
    // order breaks ties.
    live.sort_by(|a, b| match (a.lo, b.lo) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(&y),
    });
    let gap = |value: Number, below: Option<&Interval>, above: Option<&Interval>| Problem {
        kind: CheckErrorKind::ScaleGap {
            scale: scale.to_string(),
            value: value.to_string(),
            below: below.map(|b| b.name.clone()),
            above: above.map(|b| b.name.clone()),
        },
        span: below.or(above).map_or(Span::default(), |b| b.span),
        note: match (below, above) {
            (Some(_), Some(a)) => Some((a.span, "the next band starts here".to_string())),
            _ => None,
        },
    };
    let overlap = |value: Number, first: &Interval, second: &Interval| Problem {
        kind: CheckErrorKind::ScaleOverlap {
            scale: scale.to_string(),
            value: value.to_string(),
            first: first.name.clone(),
            second: second.name.clone(),
        },
        span: second.span,
        note: Some((
            first.span,
            format!("`{}` also contains `{value}`", first.name),
        )),
    };
    let one = Number::ONE;
    let first = live[0];
    if let Some(lo) = first.lo {
        if let Ok(v) = lo.checked_sub(one) {
            problems.push(gap(v, None, Some(first)));
        }
    }
    let mut end = first.hi;
    let mut end_band = first;
    for &b in &live[1..] {
        match (end, b.lo) {
            (None, lo) => {
                // Everything above was covered already.
                let v = lo.unwrap_or(Number::ZERO);
                problems.push(overlap(v, end_band, b));
            }
            (Some((e, _)), None) => {
                // Both unbounded below: every number under both tops is in
                // both.
                let top = match b.hi {
                    Some((h, _)) => h.min(e),
                    None => e,
                };
                if let Ok(v) = top.checked_sub(one) {
                    problems.push(overlap(v, end_band, b));
                }
            }
            (Some((e, inclusive)), Some(l)) => {
                if l < e || (l == e && inclusive) {
                    problems.push(overlap(l, end_band, b));
                } else if l > e {
                    let v = if inclusive { e.midpoint(l) } else { Ok(e) };
                    if let Ok(v) = v {
                        problems.push(gap(v, Some(end_band), Some(b)));
                    }
                }
            }
        }
        if further(b.hi, end) {
            end = b.hi;
            end_band = b;
        }
    }
    if let Some((e, inclusive)) = end {
        let v = if inclusive { e.checked_add(one) } else { Ok(e) };
        if let Ok(v) = v {
            problems.push(gap(v, Some(end_band), None));
        }
    }
    problems
}

impl Checker<'_> {
    /// A band bound: a constant number.
    fn bound(&mut self, b: &mut Body, e: &ast::Expr) -> Option<Number> {
        let (n, t) = self.expr(b, e, None);
        match self.prog.node(n) {
            N::Const(OwnedValue::Num(v)) => Some(*v),
            // An error was reported already (unknown name, bad parameter).
            N::Const(OwnedValue::Missing(_)) if t == crate::schema::Type::MISSING => None,
            N::Const(_) => {
                let found = self.type_name(t);
                self.err_at(b, e.span, CheckErrorKind::BoundNotNumber { found });
                None
            }
            _ => {
                self.err_at(
                    b,
                    e.span,
                    CheckErrorKind::NotConstant {
                        what: "a band bound".into(),
                    },
                );
                None
            }
        }
    }

    fn err_at(&mut self, b: &Body, span: Span, kind: CheckErrorKind) {
        self.error(b.frame.file, span, kind);
    }

    pub(super) fn build_scales(&mut self) {
        for i in 0..self.scales.len() {
            let d = self.scales[i];
            let frame = Frame {
                pack: d.pack,
                file: d.file,
                ..Frame::default()
            };
            let mut b = Body::new(frame, d.name.node.clone());
            let mut seen: Vec<(&str, Span)> = Vec::new();
            let mut bands = Vec::new();
            let mut intervals = Vec::new();
            let mut states = Vec::new();
            let mut missing_state = None;
            let mut bounds_ok = true;
            for entry in &d.node.entries {
                let label = entry.label.name.as_str();
                if let Some((_, first)) = seen.iter().find(|(l, _)| *l == label) {
                    let first = *first;
                    self.duplicate(
                        d.file,
                        entry.label.span,
                        CheckErrorKind::Duplicate {
                            what: "band".into(),
                            name: label.to_string(),
                        },
                        d.file,
                        first,
                    );
                }
                seen.push((label, entry.label.span));
                match &entry.kind {
                    ScaleEntryKind::Band(band) => {
                        let lo = band.lo.as_ref().map(|e| self.bound(&mut b, e));
                        let hi = band.hi.as_ref().map(|e| self.bound(&mut b, e));
                        if lo.is_some_and(|v| v.is_none()) || hi.is_some_and(|v| v.is_none()) {
                            bounds_ok = false;
                        }
                        let lo = lo.flatten();
                        let hi = hi.flatten().map(|h| (h, band.hi_inclusive));
                        bands.push(Band {
                            name: label.to_string(),
                            lo,
                            hi,
                        });
                        intervals.push(Interval {
                            name: label.to_string(),
                            span: entry.span,
                            lo,
                            hi,
                        });
                    }
                    ScaleEntryKind::Missing => {
                        if missing_state.is_some() {
                            self.error(
                                d.file,
                                entry.span,
                                CheckErrorKind::Duplicate {
                                    what: "`missing` state of scale".into(),
                                    name: d.name.node.clone(),
                                },
                            );
                        } else {
                            missing_state = Some(states.len() as u16);
                        }
                        states.push(label.to_string());
                    }
                    ScaleEntryKind::State => states.push(label.to_string()),
                }
            }
            if missing_state.is_none() {
                self.error(
                    d.file,
                    d.name.span,
                    CheckErrorKind::NoMissingState {
                        scale: d.name.node.clone(),
                    },
                );
            }
            // A bound that failed to compute would make the proof report
            // phantom gaps.
            if bounds_ok {
                for p in prove(&d.name.node, &intervals) {
                    let src = self.srcs.get(d.file as usize).cloned();
                    let mut err = CheckError::new(p.kind, src, Some(p.span));
                    if let Some((s, t)) = p.note {
                        err = err.with_note(s, t);
                    }
                    self.errors.push(err);
                }
            }
            let scale = &mut self.prog.scales[i];
            scale.bands = bands;
            scale.states = states;
            scale.missing_state = missing_state.unwrap_or(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(name: &str, lo: Option<&str>, hi: Option<(&str, bool)>) -> Interval {
        Interval {
            name: name.into(),
            span: Span::default(),
            lo: lo.map(|l| Number::parse(l).unwrap()),
            hi: hi.map(|(h, i)| (Number::parse(h).unwrap(), i)),
        }
    }

    fn messages(bands: &[Interval]) -> Vec<String> {
        prove("abc", bands)
            .into_iter()
            .map(|p| p.kind.to_string())
            .collect()
    }

    #[test]
    fn seed_scale_is_proved() {
        let bands = [
            iv("A", Some("90%"), None),
            iv("B", Some("70%"), Some(("90%", false))),
            iv("C", None, Some(("70%", false))),
        ];
        assert!(messages(&bands).is_empty());
    }

    #[test]
    fn gap_names_the_value() {
        let bands = [
            iv("A", Some("90%"), None),
            iv("B", Some("70%"), Some(("80%", false))),
            iv("C", None, Some(("70%", false))),
        ];
        assert_eq!(messages(&bands), ["`0.8` is in no band of scale `abc`"]);
    }

    #[test]
    fn inclusive_gap_names_a_midpoint() {
        let bands = [iv("A", Some("1"), None), iv("B", None, Some(("0", true)))];
        assert_eq!(messages(&bands), ["`0.5` is in no band of scale `abc`"]);
    }

    #[test]
    fn overlap_names_the_value() {
        let bands = [
            iv("A", Some("80%"), None),
            iv("B", Some("70%"), Some(("90%", false))),
            iv("C", None, Some(("70%", true))),
        ];
        assert_eq!(
            messages(&bands),
            [
                "`0.7` is in two bands of scale `abc`: `C` and `B`",
                "`0.8` is in two bands of scale `abc`: `B` and `A`"
            ]
        );
    }

    #[test]
    fn open_ends_are_required() {
        let bands = [iv("A", Some("0"), Some(("1", true)))];
        assert_eq!(
            messages(&bands),
            [
                "`-1` is in no band of scale `abc`",
                "`2` is in no band of scale `abc`"
            ]
        );
    }

    #[test]
    fn empty_band() {
        let bands = [
            iv("A", Some("90%"), None),
            iv("B", Some("90%"), Some(("70%", false))),
            iv("C", None, Some(("90%", false))),
        ];
        assert_eq!(
            messages(&bands),
            ["band `B` of scale `abc` is empty: no number is in `0.9 .. 0.7`"]
        );
    }
}
