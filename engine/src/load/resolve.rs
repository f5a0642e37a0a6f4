//! Turns the drafts of all files into one [`Corpus`]: assigns indices,
//! resolves every reference (parent plan, `under`, `relisted_from`,
//! `same_as`, `by`) and reports duplicates and dangling references with the
//! locations involved.
//!
//! What is invalid stays out of the corpus but is still resolved, so that
//! every problem is reported, once: the entities of a file whose `[plan]` is
//! invalid are checked against a placeholder plan that is taken out again,
//! an entity whose own table is invalid has its references checked, and
//! references to either are not reported a second time.
//!
//! Runs after every file is read, on one thread; its cost is linear in the
//! number of entities (hash maps, no pairwise comparison).

use std::collections::{HashMap, HashSet};

use super::read::{did_you_mean, BrokenDraft, EntityKind, FileDraft, LinkDraft, PlanDraft};
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
        broken_plans: HashMap::new(),
        broken_indicators: HashSet::new(),
    };

    // Plans and externals first: every other reference may point at them.
    // A file whose `[plan]` is invalid or whose plan id is taken is an
    // orphan: its entities are still checked, against a placeholder plan
    // that does not stay in the corpus.
    let mut kept: Vec<(PlanIdx, FileDraft, Option<Located<String>>)> = Vec::new();
    let mut orphans: Vec<Orphan> = Vec::new();
    for (file, mut draft) in drafts.into_iter().enumerate() {
        let file = file as FileId;
        match draft.plan.take() {
            Some(PlanDraft {
                plan: Some(plan),
                parent,
                ..
            }) => {
                if let Some(&first) = r.plan_ids.get(plan.id.value.as_str()) {
                    let first_span = corpus.plans[first as usize].id.span;
                    r.duplicate_plan(&corpus, &plan.id.value, plan.id.span, first_span);
                    orphans.push(Orphan {
                        file,
                        id: Some(plan.id),
                        parent,
                        draft,
                        duplicate: true,
                    });
                    continue;
                }
                let idx = corpus.plans.len() as PlanIdx;
                r.plan_ids.insert(plan.id.value.clone(), idx);
                corpus.plans.push(plan);
                kept.push((idx, draft, parent));
            }
            Some(PlanDraft {
                plan: None,
                id,
                parent,
                ..
            }) => orphans.push(Orphan {
                file,
                id,
                parent,
                draft,
                duplicate: false,
            }),
            None => orphans.push(Orphan {
                file,
                id: None,
                parent: None,
                draft,
                duplicate: false,
            }),
        }
    }
    // The ids of invalid plans: references to them are not reported again,
    // but two plans sharing an id are, valid or not.
    for orphan in &orphans {
        let Some(id) = &orphan.id else { continue };
        if orphan.duplicate {
            continue;
        }
        if let Some(&first) = r.plan_ids.get(id.value.as_str()) {
            let first_span = corpus.plans[first as usize].id.span;
            r.duplicate_plan(&corpus, &id.value, id.span, first_span);
        } else if let Some(&first) = r.broken_plans.get(id.value.as_str()) {
            r.duplicate_plan(&corpus, &id.value, id.span, first);
        } else {
            r.broken_plans.insert(id.value.clone(), id.span);
        }
    }
    for (plan_idx, draft, _) in &mut kept {
        for ext in std::mem::take(&mut draft.externals) {
            r.external(&mut corpus, *plan_idx, ext);
        }
    }
    for (plan_idx, _, parent) in &kept {
        if let Some(parent) = parent {
            let own = corpus.plans[*plan_idx as usize].id.value.clone();
            let resolved = r.parent(&corpus, &own, parent, &[]);
            corpus.plans[*plan_idx as usize].parent =
                resolved.map(|p| Located::new(p, parent.span));
        }
    }

    // Per-plan entities, then the references between plans, which need
    // every plan's indicators to be known.
    let mut pending = Vec::new();
    for (plan_idx, draft, _) in kept {
        r.plan_entities(&mut corpus, plan_idx, draft, &mut pending);
    }
    r.pending(&mut corpus, pending);

    for orphan in orphans {
        r.orphan(&mut corpus, orphan);
    }
    corpus
}

/// A file whose plan is not in the corpus.
struct Orphan {
    file: FileId,
    id: Option<Located<String>>,
    parent: Option<Located<String>>,
    draft: FileDraft,
    /// A valid plan whose id was taken (the duplicate is already reported).
    duplicate: bool,
}

struct Resolver<'d> {
    diagnostics: &'d mut Vec<PlanDiagnostic>,
    plan_ids: HashMap<String, PlanIdx>,
    external_ids: HashMap<String, u32>,
    /// Ids of plans whose `[plan]` is invalid, and where they are written.
    broken_plans: HashMap<String, Span>,
    /// Indicator ids of loaded plans whose `[[indicator]]` is invalid.
    broken_indicators: HashSet<(PlanIdx, String)>,
}

/// A reference that needs every plan's indicators to be known: a
/// `same_as` link, or the `by` of a replaced marker written
/// `plan-id:indicator-id`. `from` is `None` for the references of an entity
/// that is not in the corpus: they are checked, not recorded.
enum Pending {
    Link {
        from: Option<IndicatorIdx>,
        draft: LinkDraft,
    },
    By {
        /// The indicator and the index of its revision marker.
        from: Option<(IndicatorIdx, usize)>,
        by: Located<String>,
    },
}

/// What an id names inside one plan.
#[derive(Clone, Copy)]
enum Local {
    Node(NodeIdx),
    Project(ProjectIdx),
    /// A node (with its level) or a project (`None`) whose table is
    /// invalid: references to it are not reported again.
    Broken(Option<Level>),
}

/// What an indicator id names inside one plan: `None` for an indicator
/// whose table is invalid.
type IndicatorIds = HashMap<String, (Option<IndicatorIdx>, Span)>;

impl Resolver<'_> {
    /// Reports a value written twice; the labels follow the order of the
    /// files and of the text, whatever the order they were met in.
    #[allow(clippy::too_many_arguments)]
    fn duplicate(
        &mut self,
        corpus: &Corpus,
        message: String,
        a: Span,
        b: Span,
        first: &str,
        second: &str,
        help: &str,
    ) {
        let (one, two) = if a <= b { (a, b) } else { (b, a) };
        self.diagnostics.push(
            PlanDiagnostic::new("hyoka::plan::duplicate_id", Severity::Error, message)
                .at(corpus, two, second)
                .at(corpus, one, first)
                .help(help),
        );
    }

    fn duplicate_plan(&mut self, corpus: &Corpus, id: &str, a: Span, b: Span) {
        self.duplicate(
            corpus,
            format!("plan id `{id}` is used twice"),
            a,
            b,
            "first plan with this id",
            "second plan with this id",
            "plan ids must be unique across every plan file; rename one of them",
        );
    }

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

    /// Resolves the `parent` of plan `own`. `own_externals` are external
    /// plans declared by a file whose plan is not in the corpus (and so not
    /// registered).
    fn parent(
        &mut self,
        corpus: &Corpus,
        own: &str,
        parent: &Located<String>,
        own_externals: &[&str],
    ) -> Option<ParentPlan> {
        if parent.value == own {
            self.diagnostics.push(
                PlanDiagnostic::new(
                    "hyoka::plan::self_parent",
                    Severity::Error,
                    format!("plan `{}` names itself as its parent", parent.value),
                )
                .at(corpus, parent.span, "its own id")
                .help("`parent` is the plan this one implements (上位計画)"),
            );
            return None;
        }
        if let Some(&p) = self.plan_ids.get(parent.value.as_str()) {
            return Some(ParentPlan::Plan(p));
        }
        if let Some(&e) = self.external_ids.get(parent.value.as_str()) {
            return Some(ParentPlan::External(e));
        }
        if self.broken_plans.contains_key(parent.value.as_str())
            || own_externals.contains(&parent.value.as_str())
        {
            return None;
        }
        let known: Vec<&str> = self
            .plan_ids
            .keys()
            .chain(self.external_ids.keys())
            .map(|s| s.as_str())
            .chain(own_externals.iter().copied())
            .collect();
        let help = match did_you_mean(&parent.value, &known) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "add the parent's plan file, or declare it with `[[external_plan]]` and `id = \"{}\"`",
                parent.value
            ),
        };
        self.diagnostics.push(
            PlanDiagnostic::new(
                "hyoka::plan::unresolved_parent",
                Severity::Error,
                format!("parent plan `{}` is not in the corpus", parent.value),
            )
            .at(corpus, parent.span, "no plan with this id")
            .help(help),
        );
        None
    }

    /// Checks the entities of a file whose plan is not in the corpus: they
    /// are resolved against a placeholder plan, then taken out again.
    fn orphan(&mut self, corpus: &mut Corpus, orphan: Orphan) {
        let Orphan {
            file,
            id,
            parent,
            mut draft,
            ..
        } = orphan;
        let own_externals: Vec<String> =
            draft.externals.iter().map(|e| e.id.value.clone()).collect();
        if let Some(parent) = &parent {
            let own = id.as_ref().map_or("", |i| i.value.as_str());
            let externals: Vec<&str> = own_externals.iter().map(String::as_str).collect();
            self.parent(corpus, own, parent, &externals);
        }
        draft.externals.clear();
        let empty = draft.nodes.is_empty()
            && draft.projects.is_empty()
            && draft.indicators.is_empty()
            && draft.broken.is_empty();
        if empty {
            return;
        }
        let lengths = (
            corpus.plans.len(),
            corpus.nodes.len(),
            corpus.projects.len(),
            corpus.indicators.len(),
        );
        let placeholder = placeholder_plan(file, id);
        corpus.plans.push(placeholder);
        let mut pending = Vec::new();
        self.plan_entities(corpus, lengths.0 as PlanIdx, draft, &mut pending);
        self.pending(corpus, pending);
        corpus.plans.truncate(lengths.0);
        corpus.nodes.truncate(lengths.1);
        corpus.projects.truncate(lengths.2);
        corpus.indicators.truncate(lengths.3);
    }

    fn plan_entities(
        &mut self,
        corpus: &mut Corpus,
        plan: PlanIdx,
        draft: FileDraft,
        pending: &mut Vec<Pending>,
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
        for b in &draft.broken {
            let what = match b.kind {
                EntityKind::Node(level) => Local::Broken(Some(level)),
                EntityKind::Project => Local::Broken(None),
                EntityKind::Indicator => continue,
            };
            if let Some(id) = &b.id {
                self.claim(corpus, &mut local, id, what);
            }
        }

        for (offset, under) in unders.into_iter().enumerate() {
            let idx = node_base + offset as NodeIdx;
            let level = corpus.nodes[idx as usize].level;
            let owner = match under {
                None => Owner::Plan,
                Some(u) => self.node_owner(corpus, &local, level, &u),
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
                Some(u) => self.project_owner(corpus, &local, &u),
            };
            corpus.projects[idx as usize].under = owner;
            if let Owner::Node(n) = owner {
                corpus.nodes[n as usize].projects.push(idx);
            }
            corpus.plans[plan as usize].projects.push(idx);
            if let Some(rel) = relisted {
                let own = corpus.projects[idx as usize].id.value.clone();
                if let Some(orig) = self.relisted(corpus, &local, Some(&own), &rel) {
                    corpus.projects[idx as usize].relisted_from =
                        Some(Located::new(orig, rel.span));
                }
            }
        }

        let mut indicator_ids: IndicatorIds = HashMap::new();
        let mut replaced = Vec::new();
        let plan_basis = corpus.plans[plan as usize].year_basis;
        for idr in draft.indicators {
            let idx = corpus.indicators.len() as IndicatorIdx;
            if let Some(&(_, first)) = indicator_ids.get(idr.indicator.id.value.as_str()) {
                self.duplicate_indicator(corpus, &idr.indicator.id, first);
                continue;
            }
            indicator_ids.insert(
                idr.indicator.id.value.clone(),
                (Some(idx), idr.indicator.id.span),
            );
            let mut ind = idr.indicator;
            ind.plan = plan;
            ind.year_basis = idr.year_basis.unwrap_or(plan_basis);
            ind.under = match idr.under {
                None => Owner::Plan,
                Some(u) => self.indicator_owner(corpus, &local, &u),
            };
            match ind.under {
                Owner::Node(n) => corpus.nodes[n as usize].indicators.push(idx),
                Owner::Project(p) => corpus.projects[p as usize].indicators.push(idx),
                Owner::Plan => {}
            }
            corpus.plans[plan as usize].indicators.push(idx);
            corpus.indicators.push(ind);
            for link in idr.links {
                pending.push(Pending::Link {
                    from: Some(idx),
                    draft: link,
                });
            }
            replaced.push((idx, idr.replaced_by));
        }
        for b in &draft.broken {
            if b.kind != EntityKind::Indicator {
                continue;
            }
            let Some(id) = &b.id else { continue };
            if let Some(&(_, first)) = indicator_ids.get(id.value.as_str()) {
                self.duplicate_indicator(corpus, id, first);
                continue;
            }
            indicator_ids.insert(id.value.clone(), (None, id.span));
            self.broken_indicators.insert((plan, id.value.clone()));
        }

        for (idx, bys) in replaced {
            for (ri, by) in bys.into_iter().enumerate() {
                let Some(by) = by else { continue };
                self.replaced_by(corpus, &indicator_ids, Some((idx, ri)), by, pending);
            }
        }

        // The references of entities left out of the corpus are checked
        // all the same.
        for b in draft.broken {
            let BrokenDraft {
                kind,
                id,
                under,
                relisted_from,
                links,
                replaced_by,
            } = b;
            if let Some(u) = &under {
                match kind {
                    EntityKind::Node(level) => {
                        self.node_owner(corpus, &local, level, u);
                    }
                    EntityKind::Project => {
                        self.project_owner(corpus, &local, u);
                    }
                    EntityKind::Indicator => {
                        self.indicator_owner(corpus, &local, u);
                    }
                }
            }
            if let Some(rel) = &relisted_from {
                let own = id.as_ref().map(|i| i.value.as_str());
                self.relisted(corpus, &local, own, rel);
            }
            for link in links {
                pending.push(Pending::Link {
                    from: None,
                    draft: link,
                });
            }
            for by in replaced_by {
                self.replaced_by(corpus, &indicator_ids, None, by, pending);
            }
        }
    }

    fn duplicate_indicator(&mut self, corpus: &Corpus, id: &Located<String>, first: Span) {
        self.duplicate(
            corpus,
            format!("indicator id `{}` is used twice in this plan", id.value),
            id.span,
            first,
            "first indicator with this id",
            "second indicator with this id",
            "indicator ids must be unique within a plan",
        );
    }

    /// What a goal, policy or measure of `level` hangs from.
    fn node_owner(
        &mut self,
        corpus: &Corpus,
        local: &HashMap<String, (Local, Span)>,
        level: Level,
        u: &Located<String>,
    ) -> Owner {
        let parent_level = match self.local(corpus, local, u, "under", "goal, policy or measure") {
            None => return Owner::Plan,
            Some(Local::Node(parent)) => {
                let parent_level = corpus.nodes[parent as usize].level;
                if parent_level < level {
                    return Owner::Node(parent);
                }
                parent_level
            }
            Some(Local::Broken(Some(parent_level))) => {
                if parent_level < level {
                    return Owner::Plan;
                }
                parent_level
            }
            Some(Local::Project(_) | Local::Broken(None)) => {
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
                return Owner::Plan;
            }
        };
        let help = match level {
            Level::Goal => "a goal is the top of the tree: leave `under` out".to_string(),
            _ => format!(
                "`under` of a {} names a {}: goal → policy → measure",
                level_name(level),
                if level == Level::Measure {
                    "goal or a policy"
                } else {
                    "goal"
                }
            ),
        };
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
            .at(
                corpus,
                u.span,
                format!("a {}, not a higher level", level_name(parent_level)),
            )
            .help(help),
        );
        Owner::Plan
    }

    /// What a project hangs from.
    fn project_owner(
        &mut self,
        corpus: &Corpus,
        local: &HashMap<String, (Local, Span)>,
        u: &Located<String>,
    ) -> Owner {
        match self.local(corpus, local, u, "under", "goal, policy or measure") {
            Some(Local::Node(n)) => Owner::Node(n),
            Some(Local::Project(_) | Local::Broken(None)) => {
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
            Some(Local::Broken(Some(_))) | None => Owner::Plan,
        }
    }

    /// What an indicator hangs from.
    fn indicator_owner(
        &mut self,
        corpus: &Corpus,
        local: &HashMap<String, (Local, Span)>,
        u: &Located<String>,
    ) -> Owner {
        match self.local(
            corpus,
            local,
            u,
            "under",
            "goal, policy, measure or project",
        ) {
            Some(Local::Node(n)) => Owner::Node(n),
            Some(Local::Project(p)) => Owner::Project(p),
            Some(Local::Broken(_)) | None => Owner::Plan,
        }
    }

    /// The original of a re-listed project; `own` is the re-listing's id.
    fn relisted(
        &mut self,
        corpus: &Corpus,
        local: &HashMap<String, (Local, Span)>,
        own: Option<&str>,
        rel: &Located<String>,
    ) -> Option<ProjectIdx> {
        if own == Some(rel.value.as_str()) {
            self.diagnostics.push(
                PlanDiagnostic::new(
                    "hyoka::plan::self_relisted",
                    Severity::Error,
                    format!("project `{}` is re-listed from itself", rel.value),
                )
                .at(corpus, rel.span, "its own id")
                .help("`relisted_from` names the original project of a re-listed (再掲) one; on the original, leave it out"),
            );
            return None;
        }
        match self.local(corpus, local, rel, "relisted_from", "project") {
            Some(Local::Project(orig)) => Some(orig),
            Some(Local::Node(_) | Local::Broken(Some(_))) => {
                self.diagnostics.push(
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
                );
                None
            }
            Some(Local::Broken(None)) | None => None,
        }
    }

    /// `by` of a replaced marker: an indicator of this plan, or
    /// `plan-id:indicator-id`, resolved with the cross-plan links.
    fn replaced_by(
        &mut self,
        corpus: &mut Corpus,
        ids: &IndicatorIds,
        from: Option<(IndicatorIdx, usize)>,
        by: Located<String>,
        pending: &mut Vec<Pending>,
    ) {
        if by.value.contains(':') {
            pending.push(Pending::By { from, by });
            return;
        }
        match ids.get(by.value.as_str()) {
            Some(&(Some(t), _)) => self.set_by(corpus, from, t, by),
            Some(&(None, _)) => {}
            None => {
                let known: Vec<&str> = ids.keys().map(|s| s.as_str()).collect();
                let help = match did_you_mean(&by.value, &known) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "`by` names the replacing indicator: an indicator id of this plan, or `plan-id:indicator-id`"
                        .into(),
                };
                self.diagnostics.push(
                    PlanDiagnostic::new(
                        "hyoka::plan::unresolved_reference",
                        Severity::Error,
                        format!(
                            "`by` names `{}`, which is not an indicator of this plan",
                            by.value
                        ),
                    )
                    .at(corpus, by.span, "unknown indicator")
                    .help(help),
                );
            }
        }
    }

    fn set_by(
        &mut self,
        corpus: &mut Corpus,
        from: Option<(IndicatorIdx, usize)>,
        to: IndicatorIdx,
        by: Located<String>,
    ) {
        let Some((idx, ri)) = from else { return };
        if idx == to {
            self.diagnostics.push(
                PlanDiagnostic::new(
                    "hyoka::plan::self_replaced",
                    Severity::Error,
                    format!("indicator `{}` is replaced by itself", by.value),
                )
                .at(corpus, by.span, "its own id")
                .help("`by` names the indicator that replaces this one"),
            );
            return;
        }
        corpus.indicators[idx as usize].revisions[ri].by = Some(Located::new(to, by.span));
    }

    /// Records a node or project id, reporting a duplicate.
    fn claim(
        &mut self,
        corpus: &Corpus,
        local: &mut HashMap<String, (Local, Span)>,
        id: &Located<String>,
        what: Local,
    ) -> bool {
        if let Some(&(_, first)) = local.get(id.value.as_str()) {
            self.duplicate(
                corpus,
                format!("id `{}` is used twice in this plan", id.value),
                id.span,
                first,
                "first use",
                "second use",
                "goals, policies, measures and projects of one plan share one set of ids; rename one",
            );
            return false;
        }
        local.insert(id.value.clone(), (what, id.span));
        true
    }

    /// Looks up the id written in `key`, which names a `what` of this plan.
    fn local(
        &mut self,
        corpus: &Corpus,
        local: &HashMap<String, (Local, Span)>,
        reference: &Located<String>,
        key: &str,
        what: &str,
    ) -> Option<Local> {
        if let Some((l, _)) = local.get(reference.value.as_str()) {
            return Some(*l);
        }
        // Suggest only ids of the kind asked for.
        let fits = |l: &Local| match what {
            "project" => matches!(l, Local::Project(_) | Local::Broken(None)),
            "goal, policy, measure or project" => true,
            _ => matches!(l, Local::Node(_) | Local::Broken(Some(_))),
        };
        let mut known: Vec<&str> = local
            .iter()
            .filter(|(_, (l, _))| fits(l))
            .map(|(k, _)| k.as_str())
            .collect();
        known.sort_unstable();
        let plural = match what {
            "project" => "projects",
            "goal, policy, measure or project" => "goals, policies, measures and projects",
            _ => "goals, policies and measures",
        };
        let help = match did_you_mean(&reference.value, &known) {
            Some(s) => format!("did you mean `{s}`?"),
            None if known.is_empty() => {
                format!("this plan has no {}", plural.replace(" and ", " or "))
            }
            None if known.len() <= 12 => format!(
                "the ids of this plan's {plural} are: {}",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => format!("check the id against the ids of this plan's {plural}"),
        };
        self.diagnostics.push(
            PlanDiagnostic::new(
                "hyoka::plan::unresolved_reference",
                Severity::Error,
                format!(
                    "`{key}` names `{}`, which is not a {what} of this plan",
                    reference.value
                ),
            )
            .at(corpus, reference.span, "unknown id")
            .help(help),
        );
        None
    }

    /// The indicator `id` of the plan `plan`: `Ok(None)` when it is known
    /// but not in the corpus (its plan or its table is invalid, already
    /// reported), `Err` with the diagnostic when it does not exist.
    fn indicator_in_plan(
        &self,
        corpus: &Corpus,
        plan: &Located<String>,
        id: &Located<String>,
        what: &str,
    ) -> Result<Option<IndicatorIdx>, Box<PlanDiagnostic>> {
        let Some(&p) = self.plan_ids.get(plan.value.as_str()) else {
            if self.broken_plans.contains_key(plan.value.as_str()) {
                return Ok(None);
            }
            let known: Vec<&str> = self.plan_ids.keys().map(|s| s.as_str()).collect();
            let help = match did_you_mean(&plan.value, &known) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("{what} names an indicator of a loaded plan"),
            };
            return Err(Box::new(
                PlanDiagnostic::new(
                    "hyoka::plan::unresolved_reference",
                    Severity::Error,
                    format!("plan `{}` named in {what} is not in the corpus", plan.value),
                )
                .at(corpus, plan.span, "no plan with this id")
                .help(help),
            ));
        };
        let found = corpus.plans[p as usize]
            .indicators
            .iter()
            .copied()
            .find(|&i| corpus.indicators[i as usize].id.value == id.value);
        if found.is_some() || self.broken_indicators.contains(&(p, id.value.clone())) {
            return Ok(found);
        }
        let ids: Vec<&str> = corpus.plans[p as usize]
            .indicators
            .iter()
            .map(|&i| corpus.indicators[i as usize].id.value.as_str())
            .collect();
        let help = match did_you_mean(&id.value, &ids) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("plan `{}` has no indicator with this id", plan.value),
        };
        Err(Box::new(
            PlanDiagnostic::new(
                "hyoka::plan::unresolved_reference",
                Severity::Error,
                format!(
                    "indicator `{}` named in {what} is not in plan `{}`",
                    id.value, plan.value
                ),
            )
            .at(corpus, id.span, "unknown indicator")
            .help(help),
        ))
    }

    fn pending(&mut self, corpus: &mut Corpus, pending: Vec<Pending>) {
        for p in pending {
            match p {
                Pending::Link { from, draft } => self.link(corpus, from, draft),
                Pending::By { from, by } => {
                    let (plan, id) = by.value.split_once(':').unwrap_or(("", &by.value));
                    // Both parts point into the quoted string, when it is
                    // written without escapes.
                    let written = corpus.file_of(by.span).text.get(by.span.range());
                    let plain = written == Some(format!("\"{}\"", by.value).as_str());
                    let part = |start: usize, text: &str| {
                        let span = if plain {
                            let s = by.span.start as usize + 1 + start;
                            Span::new(by.span.file, s..s + text.len())
                        } else {
                            by.span
                        };
                        Located::new(text.to_string(), span)
                    };
                    let plan = part(0, plan);
                    let id = part(plan.value.len() + 1, id);
                    match self.indicator_in_plan(corpus, &plan, &id, "`by`") {
                        Ok(Some(t)) => self.set_by(corpus, from, t, by),
                        Ok(None) => {}
                        Err(d) => self.diagnostics.push(*d),
                    }
                }
            }
        }
    }

    fn link(&mut self, corpus: &mut Corpus, from: Option<IndicatorIdx>, draft: LinkDraft) {
        match self.indicator_in_plan(corpus, &draft.plan, &draft.indicator, "`same_as`") {
            Ok(None) => {}
            Err(d) => self.diagnostics.push(*d),
            Ok(Some(to)) => {
                let Some(from) = from else { return };
                if to == from {
                    self.diagnostics.push(
                        PlanDiagnostic::new(
                            "hyoka::plan::self_link",
                            Severity::Error,
                            "indicator is linked to itself".to_string(),
                        )
                        .at(corpus, draft.span, "`same_as` names this very indicator")
                        .help("`same_as` names the same indicator in another plan"),
                    );
                } else {
                    corpus.indicators[from as usize].links.push(Link {
                        indicator: to,
                        target_differs: draft.target_differs,
                        span: draft.span,
                    });
                }
            }
        }
    }
}

/// A plan standing in for an invalid `[plan]` while the file's entities are
/// checked; never part of the corpus.
fn placeholder_plan(file: FileId, id: Option<Located<String>>) -> Plan {
    let span = Span::new(file, 0..0);
    let year = Located::new(0, span);
    Plan {
        file,
        id: id.unwrap_or_else(|| Located::new(String::new(), span)),
        name: Located::new(String::new(), span),
        municipality: Located::new(String::new(), span),
        kind: Located::new(PlanKind::Sectoral, span),
        period: Period {
            from: year,
            to: year,
            span,
        },
        year_basis: YearBasis::Fiscal,
        parent: None,
        departments: Vec::new(),
        grade_scale: None,
        revisions: Vec::new(),
        source: None,
        note: None,
        externals: Vec::new(),
        recorded_summaries: Vec::new(),
        nodes: Vec::new(),
        projects: Vec::new(),
        indicators: Vec::new(),
        span,
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Goal => "goal",
        Level::Policy => "policy",
        Level::Measure => "measure",
    }
}
