//! Rule packs: the unit the caller hands in, and [`compile`], the entry
//! point from source text to a [`Program`].
//!
//! A pack is a name, the packs it `extends` (whose declarations it reads),
//! its rule files, and settings for the packs it extends (`[params]`,
//! `[rules]` of `pack.toml`). The user's `hyoka.toml` adds [`Overrides`] on
//! top. This module orders packs so that every pack comes after the packs it
//! extends, parses their files, and hands everything to the checker; the
//! settings apply in that order, the user's last.
//!
//! **Invariant:** the caller reads `pack.toml`, `hyoka.toml` and the rule
//! files; this module gets their contents and never touches the filesystem.

use std::ops::Range;
use std::sync::Arc;

use crate::check::{self, PackUnit, SettingIn};
use crate::check_error::{suggest, CheckError, CheckErrorKind, CompileError, ErrorSource};
use crate::ir::{Program, Source};
use crate::schema::Schema;
use crate::span::Span;

/// Where a setting or a pack's manifest entry is written, so that an error
/// about it points at the line of `pack.toml` / `hyoka.toml`.
#[derive(Clone, Debug)]
pub struct Origin {
    /// The file name to show (`rules/grades/pack.toml`).
    pub source_name: String,
    /// The whole file.
    pub text: Arc<str>,
    /// The byte range of the entry (the key, or the value).
    pub span: Range<usize>,
}

/// One setting: `"grades.a_min" = "85%"` under `[params]`, or
/// `"review.merge_candidates" = "off"` under `[rules]`.
#[derive(Clone, Debug)]
pub struct Setting {
    /// `PACK.NAME` or `PACK.ID`.
    pub key: String,
    /// The value as text: a parameter value (`85%`, `true`, `increase`, `A`),
    /// or `off` / `error` / `warning` / `info` for a rule.
    pub value: String,
    /// Where it is written, if known.
    pub origin: Option<Origin>,
}

impl Setting {
    /// A setting without a known place.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Setting {
        Setting {
            key: key.into(),
            value: value.into(),
            origin: None,
        }
    }
}

/// A rule pack as read by the caller from `pack.toml` and its `.hyk` files.
#[derive(Clone, Debug, Default)]
pub struct PackSource {
    /// `name`: how other packs and settings refer to it.
    pub name: String,
    /// `version`.
    pub version: String,
    /// `description`.
    pub description: String,
    /// `extends`: packs whose declarations this one reads.
    pub extends: Vec<String>,
    /// Rule files: (name to show in diagnostics, text).
    pub files: Vec<(String, String)>,
    /// `[params]`: overrides of parameters of extended packs.
    pub params: Vec<Setting>,
    /// `[rules]`: `off` or a new severity for rules of extended packs.
    pub rules: Vec<Setting>,
    /// Where the pack's `extends` is written, for errors about it.
    pub manifest: Option<Origin>,
}

impl PackSource {
    /// A pack with files and nothing else.
    pub fn new(name: impl Into<String>, files: Vec<(String, String)>) -> PackSource {
        PackSource {
            name: name.into(),
            files,
            ..PackSource::default()
        }
    }
}

/// The user's settings from `hyoka.toml`; they apply after every pack's.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `[params]`.
    pub params: Vec<Setting>,
    /// `[rules]`.
    pub rules: Vec<Setting>,
}

fn origin_error(kind: CheckErrorKind, origin: &Option<Origin>) -> CompileError {
    CompileError::Check(match origin {
        Some(o) => CheckError::new(
            kind,
            Some(ErrorSource::new(&o.source_name, o.text.clone())),
            Some(Span::new(o.span.start, o.span.end)),
        ),
        None => CheckError::new(kind, None, None),
    })
}

/// Parses, checks and compiles `packs` against `schema`, with the user's
/// `overrides`. Every error is returned, syntax errors first; when a file
/// does not parse, semantic checking is skipped (its declarations would be
/// missing and every use of them reported).
pub fn compile(
    packs: &[PackSource],
    schema: &Schema,
    overrides: &Overrides,
) -> Result<Program, Vec<CompileError>> {
    let mut errors = Vec::new();
    let n = packs.len();

    // Duplicate names: the later one is ignored.
    let mut index: Vec<Option<usize>> = vec![None; n];
    for (i, p) in packs.iter().enumerate() {
        if packs[..i].iter().any(|q| q.name == p.name) {
            errors.push(origin_error(
                CheckErrorKind::DuplicatePack {
                    name: p.name.clone(),
                },
                &p.manifest,
            ));
        } else {
            index[i] = Some(i);
        }
    }
    let find = |name: &str| {
        packs
            .iter()
            .enumerate()
            .find(|(i, p)| index[*i].is_some() && p.name == name)
            .map(|(i, _)| i)
    };

    // Edges: pack → packs it extends.
    let mut extends: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, p) in packs.iter().enumerate() {
        if index[i].is_none() {
            continue;
        }
        for e in &p.extends {
            match find(e) {
                Some(j) => extends[i].push(j),
                None => {
                    let suggestion = suggest(e, packs.iter().map(|p| p.name.as_str()));
                    errors.push(origin_error(
                        CheckErrorKind::UnknownPack {
                            name: e.clone(),
                            suggestion,
                        },
                        &p.manifest,
                    ));
                }
            }
        }
    }

    // Extended packs first; a cycle is reported and broken.
    let mut state = vec![0u8; n];
    let mut order = Vec::with_capacity(n);
    let mut stack = Vec::new();
    for i in (0..n).filter(|i| index[*i].is_some()) {
        order_packs(
            i,
            &extends,
            &mut state,
            &mut stack,
            &mut order,
            &mut |cycle| {
                let mut names: Vec<String> = cycle.iter().map(|c| packs[*c].name.clone()).collect();
                names.push(names[0].clone());
                errors.push(origin_error(
                    CheckErrorKind::PackCycle { cycle: names },
                    &packs[cycle[0]].manifest,
                ));
            },
        );
    }
    // Position of each input pack in `order`.
    let mut pos = vec![usize::MAX; n];
    for (k, &i) in order.iter().enumerate() {
        pos[i] = k;
    }

    // Parse.
    let mut sources = Vec::new();
    let mut units = Vec::with_capacity(order.len());
    let mut syntax_failed = false;
    for &i in &order {
        let p = &packs[i];
        let mut visible = vec![pos[i]];
        let mut todo: Vec<usize> = extends[i].clone();
        while let Some(j) = todo.first().copied() {
            todo.remove(0);
            if !visible.contains(&pos[j]) {
                visible.push(pos[j]);
                todo.extend(extends[j].iter().copied());
            }
        }
        let mut files = Vec::new();
        for (name, text) in &p.files {
            let file = sources.len() as u32;
            sources.push(Source {
                name: name.clone(),
                text: Arc::from(text.as_str()),
            });
            match crate::syntax::parse(name, text) {
                Ok(tree) => files.push((file, tree)),
                Err(errs) => {
                    syntax_failed = true;
                    errors.extend(errs.into_iter().map(CompileError::Syntax));
                }
            }
        }
        units.push(PackUnit {
            name: p.name.clone(),
            visible,
            files,
        });
    }
    // A syntax error leaves declarations out, and a broken `extends` leaves
    // them out of sight: checking further would report every use of them.
    if syntax_failed || !errors.is_empty() {
        return Err(errors);
    }

    let setting = |from_pack: Option<usize>, s: &Setting| SettingIn {
        from_pack,
        key: s.key.clone(),
        value: s.value.clone(),
        origin: s.origin.clone(),
    };
    let mut params = Vec::new();
    let mut rules = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        params.extend(packs[i].params.iter().map(|s| setting(Some(k), s)));
        rules.extend(packs[i].rules.iter().map(|s| setting(Some(k), s)));
    }
    params.extend(overrides.params.iter().map(|s| setting(None, s)));
    rules.extend(overrides.rules.iter().map(|s| setting(None, s)));

    let (program, check_errors) = check::check(&units, schema, sources, &params, &rules);
    errors.extend(check_errors.into_iter().map(CompileError::Check));
    if errors.is_empty() {
        Ok(program)
    } else {
        Err(errors)
    }
}

fn order_packs(
    i: usize,
    extends: &[Vec<usize>],
    state: &mut [u8],
    stack: &mut Vec<usize>,
    order: &mut Vec<usize>,
    on_cycle: &mut dyn FnMut(&[usize]),
) {
    if state[i] != 0 {
        return;
    }
    state[i] = 1;
    stack.push(i);
    for &j in &extends[i] {
        match state[j] {
            0 => order_packs(j, extends, state, stack, order, on_cycle),
            1 => {
                let at = stack.iter().position(|x| *x == j).unwrap_or(0);
                on_cycle(&stack[at..]);
            }
            _ => {}
        }
    }
    stack.pop();
    state[i] = 2;
    order.push(i);
}
