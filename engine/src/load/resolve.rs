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
//! Three stages, so that the work that grows with the corpus runs in
//! parallel: (1) plans, external plans and parents, on one thread (one item
//! per file); (2) each plan's own entities, in parallel, into a [`PlanPart`]
//! numbered from zero; (3) once every part's size is known, each part is
//! moved to its place and the references between plans (`same_as`,
//! `plan-id:indicator-id`) are resolved, again in parallel, against one id
//! table per plan. Cost is linear in the number of entities: hash maps, no
//! pairwise comparison, and the result does not depend on the thread count.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

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
        plan_ids: FxHashMap::default(),
        external_ids: FxHashMap::default(),
        broken_plans: FxHashMap::default(),
    };

    // Plans and externals first: every other reference may point at them.
    // A file whose `[plan]` is invalid or whose plan id is taken is an
    // orphan: its entities are still checked, against a placeholder plan
    // that does not stay in the corpus.
    let mut kept: Vec<(PlanIdx, FileDraft, Option<Located<String>>)> = Vec::new();
    let mut orphans: Vec<Orphan> = Vec::new();
    for mut draft in drafts {
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
                id,
                parent,
                draft,
                duplicate: false,
            }),
            None => orphans.push(Orphan {
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
    // An orphan's parent is checked here, while the resolver is at hand;
    // its entities go through the same stages as a kept plan's.
    let mut orphan_drafts = Vec::with_capacity(orphans.len());
    for orphan in orphans {
        if let Some(draft) = r.orphan(&corpus, orphan) {
            orphan_drafts.push(draft);
        }
    }

    // Stage 2: each plan's own entities, in parallel. `kept` is in plan
    // order, so part `i` belongs to plan `i`.
    let files = &corpus.files;
    let plans = &corpus.plans;
    let mut parts: Vec<PlanPart> = kept
        .into_par_iter()
        .map(|(plan, draft, _)| {
            PlanPart::build(files, plan, plans[plan as usize].year_basis, draft)
        })
        .collect();
    let mut orphan_parts: Vec<PlanPart> = orphan_drafts
        .into_par_iter()
        .enumerate()
        .map(|(i, draft)| {
            // Numbered after the corpus's plans, like a plan that is
            // taken out again: nothing can refer to it.
            let plan = (plans.len() + i) as PlanIdx;
            PlanPart::build(files, plan, YearBasis::Fiscal, draft)
        })
        .collect();

    // Stage 3: every part's place in the corpus, then the references
    // between plans against one id table per plan.
    let mut base = Bases::default();
    for part in &mut parts {
        part.base = base;
        base = base.after(part);
    }
    // The entities of orphans come after everything and are dropped: they
    // can never be the target of a reference.
    for part in &mut orphan_parts {
        part.base = base;
    }
    parts
        .par_iter_mut()
        .chain(orphan_parts.par_iter_mut())
        .for_each(PlanPart::move_to_base);
    let ids: Vec<IndicatorIds> = parts
        .iter_mut()
        .map(|p| std::mem::take(&mut p.indicator_ids))
        .collect();
    let cross = CrossPlan {
        files: &corpus.files,
        plan_ids: &r.plan_ids,
        broken_plans: &r.broken_plans,
        indicator_ids: &ids,
    };
    parts
        .par_iter_mut()
        .chain(orphan_parts.par_iter_mut())
        .for_each(|part| part.resolve_pending(&cross));
    drop(ids);

    let mut nodes = Vec::with_capacity(parts.len());
    let mut projects = Vec::with_capacity(parts.len());
    let mut indicators = Vec::with_capacity(parts.len());
    for mut part in parts {
        let plan = &mut corpus.plans[part.plan as usize];
        plan.nodes = std::mem::take(&mut part.plan_nodes);
        plan.projects = std::mem::take(&mut part.plan_projects);
        plan.indicators = std::mem::take(&mut part.plan_indicators);
        nodes.push(part.nodes);
        projects.push(part.projects);
        indicators.push(part.indicators);
        r.diagnostics.append(&mut part.diagnostics);
    }
    corpus.nodes = concat(nodes);
    corpus.projects = concat(projects);
    corpus.indicators = concat(indicators);
    for mut part in orphan_parts {
        r.diagnostics.append(&mut part.diagnostics);
    }
    corpus
}

/// The parts one after the other, moved in parallel: on a national corpus
/// the tables are gigabytes, and copying them on one thread would be the
/// longest sequential step of loading.
fn concat<T: Send>(parts: Vec<Vec<T>>) -> Vec<T> {
    let total = parts.iter().map(Vec::len).sum();
    let mut out: Vec<T> = Vec::with_capacity(total);
    let mut slots = Vec::with_capacity(parts.len());
    let mut rest = &mut out.spare_capacity_mut()[..total];
    for part in &parts {
        let (slot, tail) = rest.split_at_mut(part.len());
        slots.push(slot);
        rest = tail;
    }
    parts.into_par_iter().zip(slots).for_each(|(part, slot)| {
        for (place, value) in slot.iter_mut().zip(part) {
            place.write(value);
        }
    });
    // SAFETY: the slots split the first `total` places of `out` among the
    // parts, each exactly as long as its part, and every value of every
    // part was written into its place above. Should a write panic, this
    // line is never reached and the values written leak, which is safe.
    unsafe { out.set_len(total) };
    out
}

/// A file whose plan is not in the corpus.
struct Orphan {
    id: Option<Located<String>>,
    parent: Option<Located<String>>,
    draft: FileDraft,
    /// A valid plan whose id was taken (the duplicate is already reported).
    duplicate: bool,
}

/// The corpus-wide tables of stage 1.
struct Resolver<'d> {
    diagnostics: &'d mut Vec<PlanDiagnostic>,
    plan_ids: FxHashMap<String, PlanIdx>,
    external_ids: FxHashMap<String, u32>,
    /// Ids of plans whose `[plan]` is invalid, and where they are written.
    broken_plans: FxHashMap<String, Span>,
}

/// A reference that needs every plan's indicators to be known: a
/// `same_as` link, or the `by` of a replaced marker written
/// `plan-id:indicator-id`. `from` is `None` for the references of an entity
/// that is not in the corpus: they are checked, not recorded; otherwise it
/// is the index of the indicator in its [`PlanPart`].
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

type LocalIds = FxHashMap<String, (Local, Span)>;

/// What an indicator id names inside one plan: `None` for an indicator
/// whose table is invalid.
type IndicatorIds = FxHashMap<String, (Option<IndicatorIdx>, Span)>;

/// Reports a value written twice; the labels follow the order of the
/// files and of the text, whatever the order they were met in.
fn duplicate(
    files: &[SourceFile],
    message: String,
    (a, b): (Span, Span),
    (first, second): (&str, &str),
    help: &str,
) -> PlanDiagnostic {
    let (one, two) = if a <= b { (a, b) } else { (b, a) };
    PlanDiagnostic::new("hyoka::plan::duplicate_id", Severity::Error, message)
        .at_file(files, two, second)
        .at_file(files, one, first)
        .help(help)
}

impl Resolver<'_> {
    fn duplicate_plan(&mut self, corpus: &Corpus, id: &str, a: Span, b: Span) {
        self.diagnostics.push(duplicate(
            &corpus.files,
            format!("plan id `{id}` is used twice"),
            (a, b),
            ("first plan with this id", "second plan with this id"),
            "plan ids must be unique across every plan file; rename one of them",
        ));
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

    /// Checks the parent of a file whose plan is not in the corpus, and
    /// hands back its draft when it has entities to check (against a plan
    /// that is taken out again).
    fn orphan(&mut self, corpus: &Corpus, orphan: Orphan) -> Option<FileDraft> {
        let Orphan {
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
        (!empty).then_some(draft)
    }
}

/// Where a part's entities start in the corpus's tables.
#[derive(Clone, Copy, Default)]
struct Bases {
    node: NodeIdx,
    project: ProjectIdx,
    indicator: IndicatorIdx,
}

impl Bases {
    fn after(self, part: &PlanPart) -> Bases {
        Bases {
            node: self.node + part.nodes.len() as NodeIdx,
            project: self.project + part.projects.len() as ProjectIdx,
            indicator: self.indicator + part.indicators.len() as IndicatorIdx,
        }
    }
}

/// One plan's goals, policies, measures, projects and indicators with
/// their references inside the plan resolved: numbered from zero in stage
/// 2, moved to [`PlanPart::base`] in stage 3.
struct PlanPart<'f> {
    files: &'f [SourceFile],
    plan: PlanIdx,
    base: Bases,
    nodes: Vec<Node>,
    projects: Vec<Project>,
    indicators: Vec<Indicator>,
    /// The plan's own lists ([`Plan::nodes`] …).
    plan_nodes: Vec<NodeIdx>,
    plan_projects: Vec<ProjectIdx>,
    plan_indicators: Vec<IndicatorIdx>,
    indicator_ids: IndicatorIds,
    pending: Vec<Pending>,
    diagnostics: Vec<PlanDiagnostic>,
}

/// What stage 3 reads of the whole corpus.
struct CrossPlan<'a> {
    files: &'a [SourceFile],
    plan_ids: &'a FxHashMap<String, PlanIdx>,
    broken_plans: &'a FxHashMap<String, Span>,
    /// Per plan, in plan order, with corpus indices.
    indicator_ids: &'a [IndicatorIds],
}

impl<'f> PlanPart<'f> {
    fn build(
        files: &'f [SourceFile],
        plan: PlanIdx,
        plan_basis: YearBasis,
        draft: FileDraft,
    ) -> PlanPart<'f> {
        let mut part = PlanPart {
            files,
            plan,
            base: Bases::default(),
            nodes: Vec::with_capacity(draft.nodes.len()),
            projects: Vec::with_capacity(draft.projects.len()),
            indicators: Vec::with_capacity(draft.indicators.len()),
            plan_nodes: Vec::new(),
            plan_projects: Vec::new(),
            plan_indicators: Vec::with_capacity(draft.indicators.len()),
            indicator_ids: IndicatorIds::default(),
            pending: Vec::new(),
            diagnostics: Vec::new(),
        };
        part.entities(plan_basis, draft);
        part
    }

    fn entities(&mut self, plan_basis: YearBasis, draft: FileDraft) {
        let plan = self.plan;
        let mut local = LocalIds::default();
        local.reserve(draft.nodes.len() + draft.projects.len());

        // Ids first, so `under` may point forward in the file.
        let mut unders = Vec::with_capacity(draft.nodes.len());
        for nd in draft.nodes {
            let idx = self.nodes.len() as NodeIdx;
            if self.claim(&mut local, &nd.node.id, Local::Node(idx)) {
                let mut node = nd.node;
                node.plan = plan;
                self.nodes.push(node);
                unders.push(nd.under);
            }
        }
        let mut project_refs = Vec::with_capacity(draft.projects.len());
        for pd in draft.projects {
            let idx = self.projects.len() as ProjectIdx;
            if self.claim(&mut local, &pd.project.id, Local::Project(idx)) {
                let mut project = pd.project;
                project.plan = plan;
                self.projects.push(project);
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
                self.claim(&mut local, id, what);
            }
        }

        for (idx, under) in unders.into_iter().enumerate() {
            let level = self.nodes[idx].level;
            let owner = match under {
                None => Owner::Plan,
                Some(u) => self.node_owner(&local, level, &u),
            };
            self.nodes[idx].under = owner;
            if let Owner::Node(p) = owner {
                self.nodes[p as usize].children.push(idx as NodeIdx);
            }
        }
        // Every node is a node of the plan, also those hanging from other
        // nodes; in file order.
        self.plan_nodes = (0..self.nodes.len() as NodeIdx).collect();

        for (idx, (under, relisted)) in project_refs.into_iter().enumerate() {
            let owner = match under {
                None => Owner::Plan,
                Some(u) => self.project_owner(&local, &u),
            };
            self.projects[idx].under = owner;
            if let Owner::Node(n) = owner {
                self.nodes[n as usize].projects.push(idx as ProjectIdx);
            }
            self.plan_projects.push(idx as ProjectIdx);
            if let Some(rel) = relisted {
                let own = self.projects[idx].id.value.clone();
                if let Some(orig) = self.relisted(&local, Some(&own), &rel) {
                    self.projects[idx].relisted_from = Some(Located::new(orig, rel.span));
                }
            }
        }

        let mut ids = IndicatorIds::default();
        ids.reserve(draft.indicators.len());
        let mut replaced = Vec::new();
        for idr in draft.indicators {
            let idx = self.indicators.len() as IndicatorIdx;
            if let Some(&(_, first)) = ids.get(idr.indicator.id.value.as_str()) {
                self.duplicate_indicator(&idr.indicator.id, first);
                continue;
            }
            ids.insert(
                idr.indicator.id.value.clone(),
                (Some(idx), idr.indicator.id.span),
            );
            let mut ind = idr.indicator;
            ind.plan = plan;
            ind.year_basis = idr.year_basis.unwrap_or(plan_basis);
            ind.under = match idr.under {
                None => Owner::Plan,
                Some(u) => self.indicator_owner(&local, &u),
            };
            match ind.under {
                Owner::Node(n) => self.nodes[n as usize].indicators.push(idx),
                Owner::Project(p) => self.projects[p as usize].indicators.push(idx),
                Owner::Plan => {}
            }
            self.plan_indicators.push(idx);
            self.indicators.push(ind);
            for link in idr.links {
                self.pending.push(Pending::Link {
                    from: Some(idx),
                    draft: link,
                });
            }
            if idr.replaced_by.iter().any(Option::is_some) {
                replaced.push((idx, idr.replaced_by));
            }
        }
        for b in &draft.broken {
            if b.kind != EntityKind::Indicator {
                continue;
            }
            let Some(id) = &b.id else { continue };
            if let Some(&(_, first)) = ids.get(id.value.as_str()) {
                self.duplicate_indicator(id, first);
                continue;
            }
            ids.insert(id.value.clone(), (None, id.span));
        }

        for (idx, bys) in replaced {
            for (ri, by) in bys.into_iter().enumerate() {
                let Some(by) = by else { continue };
                self.replaced_by(&ids, Some((idx, ri)), by);
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
                        self.node_owner(&local, level, u);
                    }
                    EntityKind::Project => {
                        self.project_owner(&local, u);
                    }
                    EntityKind::Indicator => {
                        self.indicator_owner(&local, u);
                    }
                }
            }
            if let Some(rel) = &relisted_from {
                let own = id.as_ref().map(|i| i.value.as_str());
                self.relisted(&local, own, rel);
            }
            for link in links {
                self.pending.push(Pending::Link {
                    from: None,
                    draft: link,
                });
            }
            for by in replaced_by {
                self.replaced_by(&ids, None, by);
            }
        }
        self.indicator_ids = ids;
    }

    /// Renumbers the part from zero to [`PlanPart::base`]: every index it
    /// holds points inside the part (references between plans come later).
    fn move_to_base(&mut self) {
        let Bases {
            node: nb,
            project: pb,
            indicator: ib,
        } = self.base;
        if nb == 0 && pb == 0 && ib == 0 {
            return;
        }
        let owner = |o: &mut Owner| match o {
            Owner::Plan => {}
            Owner::Node(n) => *n += nb,
            Owner::Project(p) => *p += pb,
        };
        let add = |list: &mut Vec<u32>, base: u32| list.iter_mut().for_each(|i| *i += base);
        for node in &mut self.nodes {
            owner(&mut node.under);
            add(&mut node.children, nb);
            add(&mut node.projects, pb);
            add(&mut node.indicators, ib);
        }
        for project in &mut self.projects {
            owner(&mut project.under);
            if let Some(r) = &mut project.relisted_from {
                r.value += pb;
            }
            add(&mut project.indicators, ib);
        }
        for indicator in &mut self.indicators {
            owner(&mut indicator.under);
            for revision in &mut indicator.revisions {
                if let Some(by) = &mut revision.by {
                    by.value += ib;
                }
            }
        }
        add(&mut self.plan_nodes, nb);
        add(&mut self.plan_projects, pb);
        add(&mut self.plan_indicators, ib);
        for (idx, _) in self.indicator_ids.values_mut() {
            if let Some(i) = idx {
                *i += ib;
            }
        }
    }

    fn duplicate_indicator(&mut self, id: &Located<String>, first: Span) {
        self.diagnostics.push(duplicate(
            self.files,
            format!("indicator id `{}` is used twice in this plan", id.value),
            (id.span, first),
            (
                "first indicator with this id",
                "second indicator with this id",
            ),
            "indicator ids must be unique within a plan",
        ));
    }

    /// What a goal, policy or measure of `level` hangs from.
    fn node_owner(&mut self, local: &LocalIds, level: Level, u: &Located<String>) -> Owner {
        let parent_level = match self.local(local, u, "under", "goal, policy or measure") {
            None => return Owner::Plan,
            Some(Local::Node(parent)) => {
                let parent_level = self.nodes[parent as usize].level;
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
                    .at_file(self.files, u.span, "this is a project")
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
            .at_file(
                self.files,
                u.span,
                format!("a {}, not a higher level", level_name(parent_level)),
            )
            .help(help),
        );
        Owner::Plan
    }

    /// What a project hangs from.
    fn project_owner(&mut self, local: &LocalIds, u: &Located<String>) -> Owner {
        match self.local(local, u, "under", "goal, policy or measure") {
            Some(Local::Node(n)) => Owner::Node(n),
            Some(Local::Project(_) | Local::Broken(None)) => {
                self.diagnostics.push(
                    PlanDiagnostic::new(
                        "hyoka::plan::bad_under",
                        Severity::Error,
                        format!("a project cannot hang from another project (`{}`)", u.value),
                    )
                    .at_file(self.files, u.span, "this is a project")
                    .help("`under` of a project names a goal, policy or measure; a re-listed project uses `relisted_from`"),
                );
                Owner::Plan
            }
            Some(Local::Broken(Some(_))) | None => Owner::Plan,
        }
    }

    /// What an indicator hangs from.
    fn indicator_owner(&mut self, local: &LocalIds, u: &Located<String>) -> Owner {
        match self.local(local, u, "under", "goal, policy, measure or project") {
            Some(Local::Node(n)) => Owner::Node(n),
            Some(Local::Project(p)) => Owner::Project(p),
            Some(Local::Broken(_)) | None => Owner::Plan,
        }
    }

    /// The original of a re-listed project; `own` is the re-listing's id.
    fn relisted(
        &mut self,
        local: &LocalIds,
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
                .at_file(self.files, rel.span, "its own id")
                .help("`relisted_from` names the original project of a re-listed (再掲) one; on the original, leave it out"),
            );
            return None;
        }
        match self.local(local, rel, "relisted_from", "project") {
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
                    .at_file(self.files, rel.span, "a goal, policy or measure")
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
        ids: &IndicatorIds,
        from: Option<(IndicatorIdx, usize)>,
        by: Located<String>,
    ) {
        if by.value.contains(':') {
            self.pending.push(Pending::By { from, by });
            return;
        }
        match ids.get(by.value.as_str()) {
            Some(&(Some(t), _)) => self.set_by(from, t, by, 0),
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
                    .at_file(self.files, by.span, "unknown indicator")
                    .help(help),
                );
            }
        }
    }

    /// Records that marker `from` is replaced by indicator `to`; `to` is
    /// numbered like `from` when `base` is 0, a corpus index otherwise
    /// (`base` is then the part's own).
    fn set_by(
        &mut self,
        from: Option<(IndicatorIdx, usize)>,
        to: IndicatorIdx,
        by: Located<String>,
        base: IndicatorIdx,
    ) {
        let Some((idx, ri)) = from else { return };
        if idx + base == to {
            self.diagnostics.push(
                PlanDiagnostic::new(
                    "hyoka::plan::self_replaced",
                    Severity::Error,
                    format!("indicator `{}` is replaced by itself", by.value),
                )
                .at_file(self.files, by.span, "its own id")
                .help("`by` names the indicator that replaces this one"),
            );
            return;
        }
        self.indicators[idx as usize].revisions[ri].by = Some(Located::new(to, by.span));
    }

    /// Records a node or project id, reporting a duplicate.
    fn claim(&mut self, local: &mut LocalIds, id: &Located<String>, what: Local) -> bool {
        if let Some(&(_, first)) = local.get(id.value.as_str()) {
            self.diagnostics.push(duplicate(
                self.files,
                format!("id `{}` is used twice in this plan", id.value),
                (id.span, first),
                ("first use", "second use"),
                "goals, policies, measures and projects of one plan share one set of ids; rename one",
            ));
            return false;
        }
        local.insert(id.value.clone(), (what, id.span));
        true
    }

    /// Looks up the id written in `key`, which names a `what` of this plan.
    fn local(
        &mut self,
        local: &LocalIds,
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
            .at_file(self.files, reference.span, "unknown id")
            .help(help),
        );
        None
    }

    /// Resolves the references of this part that name other plans, once
    /// the part is at its base and every plan's indicator ids are known.
    fn resolve_pending(&mut self, cross: &CrossPlan<'_>) {
        let base = self.base.indicator;
        for p in std::mem::take(&mut self.pending) {
            match p {
                Pending::Link { from, draft } => self.link(cross, from, draft),
                Pending::By { from, by } => {
                    let (plan, id) = by.value.split_once(':').unwrap_or(("", &by.value));
                    // Both parts point into the quoted string, when it is
                    // written without escapes.
                    let written = self.files[by.span.file as usize].text.get(by.span.range());
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
                    match cross.indicator_in_plan(&plan, &id, "`by`") {
                        Ok(Some(t)) => self.set_by(from, t, by, base),
                        Ok(None) => {}
                        Err(d) => self.diagnostics.push(*d),
                    }
                }
            }
        }
    }

    fn link(&mut self, cross: &CrossPlan<'_>, from: Option<IndicatorIdx>, draft: LinkDraft) {
        match cross.indicator_in_plan(&draft.plan, &draft.indicator, "`same_as`") {
            Ok(None) => {}
            Err(d) => self.diagnostics.push(*d),
            Ok(Some(to)) => {
                let Some(from) = from else { return };
                if to == from + self.base.indicator {
                    self.diagnostics.push(
                        PlanDiagnostic::new(
                            "hyoka::plan::self_link",
                            Severity::Error,
                            "indicator is linked to itself".to_string(),
                        )
                        .at_file(
                            self.files,
                            draft.span,
                            "`same_as` names this very indicator",
                        )
                        .help("`same_as` names the same indicator in another plan"),
                    );
                } else {
                    self.indicators[from as usize].links.push(Link {
                        indicator: to,
                        target_differs: draft.target_differs,
                        span: draft.span,
                    });
                }
            }
        }
    }
}

impl CrossPlan<'_> {
    /// The indicator `id` of the plan `plan`: `Ok(None)` when it is known
    /// but not in the corpus (its plan or its table is invalid, already
    /// reported), `Err` with the diagnostic when it does not exist.
    fn indicator_in_plan(
        &self,
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
                .at_file(self.files, plan.span, "no plan with this id")
                .help(help),
            ));
        };
        let ids = &self.indicator_ids[p as usize];
        if let Some(&(found, _)) = ids.get(id.value.as_str()) {
            return Ok(found);
        }
        let known: Vec<&str> = ids
            .iter()
            .filter(|(_, (idx, _))| idx.is_some())
            .map(|(k, _)| k.as_str())
            .collect();
        let help = match did_you_mean(&id.value, &known) {
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
            .at_file(self.files, id.span, "unknown indicator")
            .help(help),
        ))
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Goal => "goal",
        Level::Policy => "policy",
        Level::Measure => "measure",
    }
}

#[cfg(test)]
mod tests {
    use super::concat;

    #[test]
    fn concat_keeps_every_value_in_order() {
        let parts = vec![
            vec![],
            vec!["a".to_string()],
            vec![],
            vec!["b".to_string(), "c".to_string()],
            (0..1000).map(|i| i.to_string()).collect(),
        ];
        let expected: Vec<String> = parts.iter().flatten().cloned().collect();
        assert_eq!(concat(parts), expected);
        assert!(concat(Vec::<Vec<u8>>::new()).is_empty());
    }
}
