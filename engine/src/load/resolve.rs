//! Turns the drafts of all files into one [`Corpus`]: assigns indices,
//! resolves every reference (parent plan, `under`, `relisted_from`,
//! `same_as`, `by`) and reports duplicates and dangling references with the
//! locations involved.
//!
//! Runs after every file is read, on one thread; its cost is linear in the
//! number of entities (hash maps, no pairwise comparison).

use std::collections::HashMap;

use super::read::{did_you_mean, FileDraft};
use crate::diagnostic::{PlanDiagnostic, Severity};
use crate::model::*;

/// Builds the corpus. `files` and `drafts` are in the same order.
pub fn resolve(
    files: Vec<SourceFile>,
    drafts: Vec<FileDraft>,
    diagnostics: &mut Vec<PlanDiagnostic>,
) -> Corpus {
    let mut corpus = Corpus {
        files,
        ..Corpus::default()
    };
    let mut r = Resolver {
        diagnostics,
        plan_ids: HashMap::new(),
        external_ids: HashMap::new(),
    };

    // Plans and externals first: every other reference may point at them.
    let mut kept: Vec<(PlanIdx, FileDraft, Option<Located<String>>)> = Vec::new();
    for mut draft in drafts {
        let Some(plan) = draft.plan.take() else {
            continue;
        };
        if let Some(&first) = r.plan_ids.get(plan.plan.id.value.as_str()) {
            let first_span = corpus.plans[first as usize].id.span;
            let d = PlanDiagnostic::new(
                "hyoka::plan::duplicate_id",
                Severity::Error,
                format!("plan id `{}` is used twice", plan.plan.id.value),
            )
            .at(&corpus, plan.plan.id.span, "second plan with this id")
            .at(&corpus, first_span, "first plan with this id")
            .help("plan ids must be unique across every plan file; rename one of them");
            r.diagnostics.push(d);
            continue;
        }
        let idx = corpus.plans.len() as PlanIdx;
        r.plan_ids.insert(plan.plan.id.value.clone(), idx);
        corpus.plans.push(plan.plan);
        kept.push((idx, draft, plan.parent));
    }
    for (plan_idx, draft, _) in &mut kept {
        for ext in std::mem::take(&mut draft.externals) {
            r.external(&mut corpus, *plan_idx, ext);
        }
    }
    for (plan_idx, _, parent) in &kept {
        if let Some(parent) = parent {
            let resolved = if let Some(&p) = r.plan_ids.get(parent.value.as_str()) {
                if p == *plan_idx {
                    r.diagnostics.push(
                        PlanDiagnostic::new(
                            "hyoka::plan::self_parent",
                            Severity::Error,
                            format!("plan `{}` names itself as its parent", parent.value),
                        )
                        .at(&corpus, parent.span, "its own id")
                        .help("`parent` is the plan this one implements (上位計画)"),
                    );
                    None
                } else {
                    Some(ParentPlan::Plan(p))
                }
            } else if let Some(&e) = r.external_ids.get(parent.value.as_str()) {
                Some(ParentPlan::External(e))
            } else {
                let known: Vec<&str> = r
                    .plan_ids
                    .keys()
                    .chain(r.external_ids.keys())
                    .map(|s| s.as_str())
                    .collect();
                let help = match did_you_mean(&parent.value, &known) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "add the parent's plan file, or declare it with `[[external_plan]]` and `id = \"{}\"`",
                        parent.value
                    ),
                };
                r.diagnostics.push(
                    PlanDiagnostic::new(
                        "hyoka::plan::unresolved_parent",
                        Severity::Error,
                        format!("parent plan `{}` is not in the corpus", parent.value),
                    )
                    .at(&corpus, parent.span, "no plan with this id")
                    .help(help),
                );
                None
            };
            corpus.plans[*plan_idx as usize].parent =
                resolved.map(|p| Located::new(p, parent.span));
        }
    }

    // Per-plan entities, then the references between plans, which need
    // every plan's indicators to be known.
    let mut pending_links = Vec::new();
    for (plan_idx, draft, _) in kept {
        r.plan_entities(&mut corpus, plan_idx, draft, &mut pending_links);
    }
    r.links(&mut corpus, pending_links);
    corpus
}

struct Resolver<'d> {
    diagnostics: &'d mut Vec<PlanDiagnostic>,
    plan_ids: HashMap<String, PlanIdx>,
    external_ids: HashMap<String, u32>,
}

/// A cross-plan link waiting for every plan to be indexed.
struct PendingLink {
    from: IndicatorIdx,
    draft: super::read::LinkDraft,
}

/// What an id names inside one plan.
#[derive(Clone, Copy)]
enum Local {
    Node(NodeIdx),
    Project(ProjectIdx),
}

impl Resolver<'_> {
    fn external(&mut self, corpus: &mut Corpus, plan: PlanIdx, ext: ExternalPlan) {
        if let Some(&p) = self.plan_ids.get(ext.id.value.as_str()) {
            let d = PlanDiagnostic::new(
                "hyoka::plan::external_is_loaded",
                Severity::Warning,
                format!(
                    "`{}` is declared external but its plan file is loaded",
                    ext.id.value
                ),
            )
            .at(corpus, ext.id.span, "declared external here")
            .at(corpus, corpus.plans[p as usize].id.span, "the loaded plan")
            .help("remove the `[[external_plan]]` entry; the loaded plan is used");
            self.diagnostics.push(d);
            return;
        }
        if let Some(&e) = self.external_ids.get(ext.id.value.as_str()) {
            // The same external parent declared by two plan files is normal;
            // it must say the same thing in both.
            let first = &corpus.externals[e as usize];
            let differs = (ext.name.is_some() && first.name.is_some() && ext.name != first.name)
                || match (&ext.period, &first.period) {
                    (Some(a), Some(b)) => a.from.value != b.from.value || a.to.value != b.to.value,
                    _ => false,
                };
            if differs {
                let first_span = first.id.span;
                let d = PlanDiagnostic::new(
                    "hyoka::plan::external_conflict",
                    Severity::Error,
                    format!(
                        "external plan `{}` is declared twice with different names or periods",
                        ext.id.value
                    ),
                )
                .at(corpus, ext.id.span, "this declaration")
                .at(corpus, first_span, "differs from this one")
                .help("make both declarations agree, or keep one");
                self.diagnostics.push(d);
            } else {
                let merged = &mut corpus.externals[e as usize];
                if merged.name.is_none() {
                    merged.name = ext.name;
                }
                if merged.period.is_none() {
                    merged.period = ext.period;
                }
            }
            corpus.plans[plan as usize].externals.push(e);
            return;
        }
        let idx = corpus.externals.len() as u32;
        self.external_ids.insert(ext.id.value.clone(), idx);
        corpus.externals.push(ext);
        corpus.plans[plan as usize].externals.push(idx);
    }

    fn plan_entities(
        &mut self,
        corpus: &mut Corpus,
        plan: PlanIdx,
        draft: FileDraft,
        pending_links: &mut Vec<PendingLink>,
    ) {
        let mut local: HashMap<String, (Local, Span)> = HashMap::new();
        let node_base = corpus.nodes.len() as NodeIdx;

        // Ids first, so `under` may point forward in the file.
        let mut unders = Vec::with_capacity(draft.nodes.len());
        for nd in draft.nodes {
            let idx = corpus.nodes.len() as NodeIdx;
            if self.claim(corpus, &mut local, &nd.node.id, Local::Node(idx)) {
                let mut node = nd.node;
                node.plan = plan;
                corpus.nodes.push(node);
                unders.push(nd.under);
            }
        }
        let project_base = corpus.projects.len() as ProjectIdx;
        let mut project_refs = Vec::with_capacity(draft.projects.len());
        for pd in draft.projects {
            let idx = corpus.projects.len() as ProjectIdx;
            if self.claim(corpus, &mut local, &pd.project.id, Local::Project(idx)) {
                let mut project = pd.project;
                project.plan = plan;
                corpus.projects.push(project);
                project_refs.push((pd.under, pd.relisted_from));
            }
        }

        for (offset, under) in unders.into_iter().enumerate() {
            let idx = node_base + offset as NodeIdx;
            let level = corpus.nodes[idx as usize].level;
            let owner = match under {
                None => Owner::Plan,
                Some(u) => {
                    match self.local(corpus, &local, &u, "node") {
                        Some(Local::Node(parent))
                            if corpus.nodes[parent as usize].level < level =>
                        {
                            Owner::Node(parent)
                        }
                        Some(Local::Node(parent)) => {
                            let parent_level = corpus.nodes[parent as usize].level;
                            self.diagnostics.push(
                            PlanDiagnostic::new(
                                "hyoka::plan::bad_under",
                                Severity::Error,
                                format!(
                                    "a {} cannot hang from a {} (`{}`)",
                                    level_name(level),
                                    level_name(parent_level),
                                    u.value
                                ),
                            )
                            .at(corpus, u.span, "a node of the same or a lower level")
                            .help("`under` names a node of a higher level: goal → policy → measure"),
                        );
                            Owner::Plan
                        }
                        Some(Local::Project(_)) => {
                            self.diagnostics.push(
                            PlanDiagnostic::new(
                                "hyoka::plan::bad_under",
                                Severity::Error,
                                format!(
                                    "a {} cannot hang from a project (`{}`)",
                                    level_name(level),
                                    u.value
                                ),
                            )
                            .at(corpus, u.span, "this is a project")
                            .help("projects sit below goals, policies and measures, not above them"),
                        );
                            Owner::Plan
                        }
                        None => Owner::Plan,
                    }
                }
            };
            corpus.nodes[idx as usize].under = owner;
            match owner {
                Owner::Node(p) => corpus.nodes[p as usize].children.push(idx),
                _ => corpus.plans[plan as usize].nodes.push(idx),
            }
        }
        // Nodes hanging from other nodes are still nodes of the plan.
        for idx in node_base..corpus.nodes.len() as NodeIdx {
            if corpus.nodes[idx as usize].under != Owner::Plan {
                corpus.plans[plan as usize].nodes.push(idx);
            }
        }
        corpus.plans[plan as usize].nodes.sort_unstable();

        for (offset, (under, relisted)) in project_refs.into_iter().enumerate() {
            let idx = project_base + offset as ProjectIdx;
            let owner = match under {
                None => Owner::Plan,
                Some(u) => match self.local(corpus, &local, &u, "node") {
                    Some(Local::Node(n)) => Owner::Node(n),
                    Some(Local::Project(_)) => {
                        self.diagnostics.push(
                            PlanDiagnostic::new(
                                "hyoka::plan::bad_under",
                                Severity::Error,
                                format!("a project cannot hang from another project (`{}`)", u.value),
                            )
                            .at(corpus, u.span, "this is a project")
                            .help("`under` of a project names a goal, policy or measure; a re-listed project uses `relisted_from`"),
                        );
                        Owner::Plan
                    }
                    None => Owner::Plan,
                },
            };
            corpus.projects[idx as usize].under = owner;
            if let Owner::Node(n) = owner {
                corpus.nodes[n as usize].projects.push(idx);
            }
            corpus.plans[plan as usize].projects.push(idx);
            if let Some(rel) = relisted {
                match self.local(corpus, &local, &rel, "project") {
                    Some(Local::Project(orig)) if orig == idx => {
                        self.diagnostics.push(
                            PlanDiagnostic::new(
                                "hyoka::plan::self_relisted",
                                Severity::Error,
                                format!("project `{}` is re-listed from itself", rel.value),
                            )
                            .at(corpus, rel.span, "its own id")
                            .help("`relisted_from` names the original project of a re-listed (再掲) one; on the original, leave it out"),
                        );
                    }
                    Some(Local::Project(orig)) => {
                        corpus.projects[idx as usize].relisted_from =
                            Some(Located::new(orig, rel.span));
                    }
                    Some(Local::Node(_)) => self.diagnostics.push(
                        PlanDiagnostic::new(
                            "hyoka::plan::bad_reference",
                            Severity::Error,
                            format!(
                                "`relisted_from` names `{}`, which is not a project",
                                rel.value
                            ),
                        )
                        .at(corpus, rel.span, "a goal, policy or measure")
                        .help("`relisted_from` names the id of the original project"),
                    ),
                    None => {}
                }
            }
        }

        let mut indicator_ids: HashMap<String, IndicatorIdx> = HashMap::new();
        let mut replaced = Vec::new();
        let plan_basis = corpus.plans[plan as usize].year_basis;
        for idr in draft.indicators {
            let idx = corpus.indicators.len() as IndicatorIdx;
            if let Some(&first) = indicator_ids.get(idr.indicator.id.value.as_str()) {
                let first_span = corpus.indicators[first as usize].id.span;
                self.diagnostics.push(
                    PlanDiagnostic::new(
                        "hyoka::plan::duplicate_id",
                        Severity::Error,
                        format!(
                            "indicator id `{}` is used twice in this plan",
                            idr.indicator.id.value
                        ),
                    )
                    .at(
                        corpus,
                        idr.indicator.id.span,
                        "second indicator with this id",
                    )
                    .at(corpus, first_span, "first indicator with this id")
                    .help("indicator ids must be unique within a plan"),
                );
                continue;
            }
            indicator_ids.insert(idr.indicator.id.value.clone(), idx);
            let mut ind = idr.indicator;
            ind.plan = plan;
            ind.year_basis = idr.year_basis.unwrap_or(plan_basis);
            ind.under = match idr.under {
                None => Owner::Plan,
                Some(u) => match self.local(corpus, &local, &u, "node or project") {
                    Some(Local::Node(n)) => Owner::Node(n),
                    Some(Local::Project(p)) => Owner::Project(p),
                    None => Owner::Plan,
                },
            };
            match ind.under {
                Owner::Node(n) => corpus.nodes[n as usize].indicators.push(idx),
                Owner::Project(p) => corpus.projects[p as usize].indicators.push(idx),
                Owner::Plan => {}
            }
            corpus.plans[plan as usize].indicators.push(idx);
            corpus.indicators.push(ind);
            for link in idr.links {
                pending_links.push(PendingLink {
                    from: idx,
                    draft: link,
                });
            }
            replaced.push((idx, idr.replaced_by));
        }

        // `by` of a replaced marker: an indicator of this plan, or
        // `plan-id:indicator-id` (resolved with the cross-plan links).
        for (idx, bys) in replaced {
            for (ri, by) in bys.into_iter().enumerate() {
                let Some(by) = by else { continue };
                let target = if let Some((p, i)) = by.value.split_once(':') {
                    self.indicator_in_plan(corpus, p, i)
                } else {
                    indicator_ids.get(by.value.as_str()).copied()
                };
                match target {
                    Some(t) => {
                        corpus.indicators[idx as usize].revisions[ri].by =
                            Some(Located::new(t, by.span))
                    }
                    None => {
                        let known: Vec<&str> = indicator_ids.keys().map(|s| s.as_str()).collect();
                        let help = match did_you_mean(&by.value, &known) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => {
                                "`by` names an indicator id of this plan, or `plan-id:indicator-id`"
                                    .into()
                            }
                        };
                        self.diagnostics.push(
                            PlanDiagnostic::new(
                                "hyoka::plan::unresolved_reference",
                                Severity::Error,
                                format!("replacing indicator `{}` does not exist", by.value),
                            )
                            .at(corpus, by.span, "no indicator with this id")
                            .help(help),
                        );
                    }
                }
            }
        }
    }

    /// Records a node or project id, reporting a duplicate.
    fn claim(
        &mut self,
        corpus: &Corpus,
        local: &mut HashMap<String, (Local, Span)>,
        id: &Located<String>,
        what: Local,
    ) -> bool {
        if let Some((_, first)) = local.get(id.value.as_str()) {
            self.diagnostics.push(
                PlanDiagnostic::new(
                    "hyoka::plan::duplicate_id",
                    Severity::Error,
                    format!("id `{}` is used twice in this plan", id.value),
                )
                .at(corpus, id.span, "second use")
                .at(corpus, *first, "first use")
                .help("goals, policies, measures and projects of one plan share one set of ids; rename one"),
            );
            return false;
        }
        local.insert(id.value.clone(), (what, id.span));
        true
    }

    fn local(
        &mut self,
        corpus: &Corpus,
        local: &HashMap<String, (Local, Span)>,
        reference: &Located<String>,
        what: &str,
    ) -> Option<Local> {
        if let Some((l, _)) = local.get(reference.value.as_str()) {
            return Some(*l);
        }
        let known: Vec<&str> = local.keys().map(|s| s.as_str()).collect();
        let help = match did_you_mean(&reference.value, &known) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("no {what} of this plan has the id `{}`", reference.value),
        };
        self.diagnostics.push(
            PlanDiagnostic::new(
                "hyoka::plan::unresolved_reference",
                Severity::Error,
                format!("`{}` does not name a {what} of this plan", reference.value),
            )
            .at(corpus, reference.span, "unknown id")
            .help(help),
        );
        None
    }

    fn indicator_in_plan(&self, corpus: &Corpus, plan: &str, id: &str) -> Option<IndicatorIdx> {
        let p = *self.plan_ids.get(plan)?;
        corpus.plans[p as usize]
            .indicators
            .iter()
            .copied()
            .find(|&i| corpus.indicators[i as usize].id.value == id)
    }

    fn links(&mut self, corpus: &mut Corpus, pending: Vec<PendingLink>) {
        for PendingLink { from, draft } in pending {
            let Some(&p) = self.plan_ids.get(draft.plan.value.as_str()) else {
                let known: Vec<&str> = self.plan_ids.keys().map(|s| s.as_str()).collect();
                let help = match did_you_mean(&draft.plan.value, &known) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "`same_as` links to an indicator of another loaded plan".into(),
                };
                self.diagnostics.push(
                    PlanDiagnostic::new(
                        "hyoka::plan::unresolved_reference",
                        Severity::Error,
                        format!("linked plan `{}` is not in the corpus", draft.plan.value),
                    )
                    .at(corpus, draft.plan.span, "no plan with this id")
                    .help(help),
                );
                continue;
            };
            match self.indicator_in_plan(corpus, &draft.plan.value, &draft.indicator.value) {
                Some(to) if to == from => self.diagnostics.push(
                    PlanDiagnostic::new(
                        "hyoka::plan::self_link",
                        Severity::Error,
                        "indicator is linked to itself".to_string(),
                    )
                    .at(corpus, draft.span, "`same_as` names this very indicator")
                    .help("`same_as` names the same indicator in another plan"),
                ),
                Some(to) => corpus.indicators[from as usize].links.push(Link {
                    indicator: to,
                    target_differs: draft.target_differs,
                    span: draft.span,
                }),
                None => {
                    let ids: Vec<&str> = corpus.plans[p as usize]
                        .indicators
                        .iter()
                        .map(|&i| corpus.indicators[i as usize].id.value.as_str())
                        .collect();
                    let help = match did_you_mean(&draft.indicator.value, &ids) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => {
                            format!("plan `{}` has no indicator with this id", draft.plan.value)
                        }
                    };
                    self.diagnostics.push(
                        PlanDiagnostic::new(
                            "hyoka::plan::unresolved_reference",
                            Severity::Error,
                            format!(
                                "linked indicator `{}` is not in plan `{}`",
                                draft.indicator.value, draft.plan.value
                            ),
                        )
                        .at(corpus, draft.indicator.span, "unknown indicator")
                        .help(help),
                    );
                }
            }
        }
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Goal => "goal",
        Level::Policy => "policy",
        Level::Measure => "measure",
    }
}
