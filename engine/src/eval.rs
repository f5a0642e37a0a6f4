//! Applies a compiled rule [`Program`] to a [`Corpus`]: derived values in
//! dependency order, per-entity rules and group rules, in parallel, into
//! sorted [`Finding`]s.
//!
//! Parallel inside, sorted outside: the same corpus and program give the
//! same findings in the same order on any number of threads. A rule that
//! fails on one entity (division by zero the author did not guard) becomes a
//! [`RuleFailure`] and never stops the other rules.
//!
//! This module reads no files and renders nothing.

use std::collections::HashMap;
use std::sync::Arc;

use hyoka_dsl::{Ctx, Key, Obj, OwnedValue, Program, RuleId, RuntimeError, Scope, Value};
use rayon::prelude::*;

use crate::data::{describe, CorpusData};
use crate::diagnostic::Severity;
use crate::finding::{EntityRef, Finding};
use crate::model::{Corpus, Span};
use crate::schema::PlanSchema;

/// Entities whose derives are evaluated (or whose rules are screened)
/// together: one batch call of the program, one unit of parallel work.
const DERIVE_CHUNK: usize = 1024;

/// A rule or derive that could not be evaluated on one entity.
#[derive(Debug, Clone)]
pub struct RuleFailure {
    pub error: RuntimeError,
}

/// Everything one evaluation produced.
pub struct Evaluation<'c> {
    pub year: i32,
    pub data: CorpusData<'c>,
    pub findings: Vec<Finding>,
    pub failures: Vec<RuleFailure>,
}

impl Evaluation<'_> {
    /// The value of derive `name` (declared `for` `kind`) on `obj`.
    pub fn derived(&self, program: &Program, obj: Obj, name: &str) -> Option<&OwnedValue> {
        let d = program.derive_named(obj.kind, name)?;
        self.data.derived_value(d, obj.index)
    }
}

/// The default evaluation year: the latest year that has an actual value
/// in the corpus (`None` when no indicator has one).
pub fn latest_actual_year(corpus: &Corpus) -> Option<i32> {
    corpus
        .indicators
        .iter()
        .filter_map(|i| i.actuals.iter().map(|a| a.year.value).max())
        .max()
}

/// Evaluates `program` over `corpus` for evaluation year `year`.
pub fn evaluate<'c>(
    corpus: &'c Corpus,
    schema: &'c PlanSchema,
    program: &Program,
    year: i32,
) -> Evaluation<'c> {
    let ctx = Ctx { year };
    let mut data = CorpusData::new(corpus, schema);
    let mut failures = Vec::new();
    let texts = RuleTexts::of(program);

    // Derives, a group at a time in dependency order (the derives of a
    // group read each other only on the same entity): each group in
    // parallel over its entities, in chunks evaluated together.
    for group in program.derive_groups() {
        let count = group.len as usize;
        let objs = data.entities(group.kind);
        let mut values = Vec::with_capacity(objs.len() * count);
        values.par_extend(rayon::iter::repeat_n(
            OwnedValue::Missing(None),
            objs.len() * count,
        ));
        let errors: Vec<Vec<RuntimeError>> = values
            .par_chunks_mut(DERIVE_CHUNK * count)
            .zip(objs.par_chunks(DERIVE_CHUNK))
            .map(|(values, objs)| {
                let mut out = vec![Value::Missing(None); values.len()];
                let mut errors = Vec::new();
                program.eval_derives_batch(
                    group.first,
                    count,
                    objs,
                    &data,
                    &ctx,
                    &mut out,
                    &mut errors,
                );
                for (slot, v) in values.iter_mut().zip(&out) {
                    *slot = v.to_owned_value();
                }
                errors
            })
            .collect();
        failures.extend(
            errors
                .into_iter()
                .flatten()
                .map(|error| RuleFailure { error }),
        );
        data.push_derived_group(&objs, count, values);
    }

    // Per-entity rules: one pass over each kind's entities, every rule of
    // that kind per entity.
    let mut by_kind: HashMap<hyoka_dsl::KindId, Vec<RuleId>> = HashMap::new();
    let mut group_rules = Vec::new();
    for (i, rule) in program.rules().iter().enumerate() {
        match rule.scope {
            Scope::Each(k) => by_kind.entry(k).or_default().push(RuleId(i as u32)),
            Scope::Group(_) => group_rules.push(RuleId(i as u32)),
        }
    }
    let mut kinds: Vec<_> = by_kind.into_iter().collect();
    kinds.sort_by_key(|(k, _)| *k);
    let mut findings = Vec::new();
    for (kind, rules) in kinds {
        let objs = data.entities(kind);
        // Each chunk: the rules' conditions screened on all its entities
        // together, then each rule that may fire (or fail) evaluated on its
        // entity for the firing and message (or the error).
        let results: Vec<(Vec<Finding>, Vec<RuleFailure>)> = objs
            .par_chunks(DERIVE_CHUNK)
            .map(|objs| {
                let mut candidates = vec![false; objs.len() * rules.len()];
                program.screen_rules(&rules, objs, &data, &ctx, &mut candidates);
                let mut found = Vec::new();
                let mut failed = Vec::new();
                for (&obj, candidates) in objs.iter().zip(candidates.chunks(rules.len())) {
                    for (&r, _) in rules.iter().zip(candidates).filter(|(_, c)| **c) {
                        match program.eval_rule(r, obj, &data, &ctx) {
                            Ok(Some(firing)) => found.push(finding(
                                &texts[r.0 as usize],
                                &data,
                                obj,
                                &[],
                                None,
                                firing.message,
                            )),
                            Ok(None) => {}
                            Err(error) => failed.push(RuleFailure { error }),
                        }
                    }
                }
                (found, failed)
            })
            .collect();
        for (mut f, mut e) in results {
            findings.append(&mut f);
            failures.append(&mut e);
        }
    }

    // Group rules: keys computed in parallel, groups built by hashing (no
    // pairwise comparison), then each group evaluated once.
    for r in group_rules {
        let kind = program.rules()[r.0 as usize].scope.kind();
        let objs = data.entities(kind);
        let (groups, errors) =
            group_by_key(&objs, |obj| program.eval_group_key(r, obj, &data, &ctx));
        failures.extend(errors.into_iter().map(|error| RuleFailure { error }));
        let results: Vec<Result<Option<Finding>, RuntimeError>> = groups
            .par_iter()
            .map(|(key, members)| {
                program
                    .eval_group_rule(r, key, members, &data, &ctx)
                    .map(|fired| {
                        fired.map(|firing| {
                            finding(
                                &texts[r.0 as usize],
                                &data,
                                members[0],
                                members,
                                Some(program.show(hyoka_dsl::Value::Key(key), &data)),
                                firing.message,
                            )
                        })
                    })
            })
            .collect();
        for res in results {
            match res {
                Ok(Some(f)) => findings.push(f),
                Ok(None) => {}
                Err(error) => failures.push(RuleFailure { error }),
            }
        }
    }

    findings.par_sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    failures.par_sort_by(|a, b| {
        (&a.error.subject, &a.error.entity, &a.error.detail).cmp(&(
            &b.error.subject,
            &b.error.entity,
            &b.error.detail,
        ))
    });
    Evaluation {
        year,
        data,
        findings,
        failures,
    }
}

/// The groups of a group rule: each key with its members.
type Groups = Vec<(Key, Vec<Obj>)>;

/// Chunks of entities keyed together, and shards of the key space: enough
/// shards to keep both threads busy while each shard's table stays small.
const KEY_CHUNK: usize = 4096;
const KEY_SHARDS: usize = 64;

/// The groups of `objs` by `key`, each with its members in the order of
/// `objs`, and the errors of the entities whose key failed (in that order
/// too). Entities without a key (`Ok(None)`) are in no group.
///
/// A parallel group-by: keys are computed and sent to a shard by their hash
/// in fixed chunks, then each shard builds its own table. The groups come
/// out shard by shard, by first member within a shard: the same on any
/// number of threads (findings are sorted afterwards anyway).
fn group_by_key<F>(objs: &[Obj], key: F) -> (Groups, Vec<RuntimeError>)
where
    F: Fn(Obj) -> Result<Option<Key>, RuntimeError> + Sync,
{
    use std::hash::BuildHasher;
    let hasher = rustc_hash::FxBuildHasher;
    // Per chunk: its keyed entities by shard, and its errors.
    type Sharded = (Vec<Vec<(Key, Obj)>>, Vec<RuntimeError>);
    let chunks: Vec<Sharded> = objs
        .par_chunks(KEY_CHUNK)
        .map(|objs| {
            let mut shards: Vec<Vec<(Key, Obj)>> = vec![Vec::new(); KEY_SHARDS];
            let mut errors = Vec::new();
            for &obj in objs {
                match key(obj) {
                    Ok(Some(k)) => {
                        let shard = hasher.hash_one(&k) as usize % KEY_SHARDS;
                        shards[shard].push((k, obj));
                    }
                    Ok(None) => {}
                    Err(e) => errors.push(e),
                }
            }
            (shards, errors)
        })
        .collect();
    let groups: Groups = (0..KEY_SHARDS)
        .into_par_iter()
        .flat_map_iter(|shard| {
            let mut index: rustc_hash::FxHashMap<&Key, usize> = Default::default();
            let mut groups: Vec<(&Key, Vec<Obj>)> = Vec::new();
            for (shards, _) in &chunks {
                for (k, obj) in &shards[shard] {
                    let at = *index.entry(k).or_insert_with(|| {
                        groups.push((k, Vec::new()));
                        groups.len() - 1
                    });
                    groups[at].1.push(*obj);
                }
            }
            groups.into_iter().map(|(k, members)| (k.clone(), members))
        })
        .collect();
    let errors = chunks.into_iter().flat_map(|(_, e)| e).collect();
    (groups, errors)
}

/// What a rule's findings say of the rule, made once and shared by them.
struct RuleTexts {
    id: Arc<str>,
    severity: Severity,
    title: Option<Arc<str>>,
    help: Option<Arc<str>>,
    suggest: Option<Arc<str>>,
}

impl RuleTexts {
    fn of(program: &Program) -> Vec<RuleTexts> {
        program
            .rules()
            .iter()
            .map(|rule| RuleTexts {
                id: rule.qualified_id().into(),
                severity: rule.severity.into(),
                title: rule.title.as_deref().map(Arc::from),
                help: rule.help.as_deref().map(Arc::from),
                suggest: rule.suggest.as_deref().map(Arc::from),
            })
            .collect()
    }
}

fn finding(
    texts: &RuleTexts,
    data: &CorpusData<'_>,
    obj: Obj,
    members: &[Obj],
    key: Option<String>,
    message: String,
) -> Finding {
    let entity = EntityRef::of(data, obj);
    let mut places: Vec<(Span, String)> = Vec::new();
    if members.is_empty() {
        places.push((entity.span(data.corpus), entity.label(data.corpus)));
    } else {
        for &m in members {
            let e = EntityRef::of(data, m);
            places.push((e.span(data.corpus), e.label(data.corpus)));
        }
    }
    Finding {
        rule: texts.id.clone(),
        severity: texts.severity,
        title: texts.title.clone(),
        message,
        help: texts.help.clone(),
        suggest: texts.suggest.clone(),
        entity,
        entity_name: describe(data.corpus, data.schema, obj),
        members: members.iter().map(|&m| EntityRef::of(data, m)).collect(),
        key,
        places,
    }
}
