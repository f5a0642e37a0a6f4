//! Findings: what a rule said about an entity, with the places in the plan
//! files it concerns. Data only; rendering them is the job of the
//! diagnostics and report code.

use std::sync::Arc;

use hyoka_dsl::Obj;

use crate::data::CorpusData;
use crate::diagnostic::{PlanDiagnostic, Severity};
use crate::model::{Corpus, Span};

/// The kind of entity a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityKind {
    Plan,
    Node,
    Project,
    Indicator,
}

/// An entity of the corpus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityRef {
    pub kind: EntityKind,
    pub index: u32,
}

impl EntityRef {
    pub fn of(data: &CorpusData<'_>, obj: Obj) -> EntityRef {
        let k = &data.schema.kinds;
        let kind = if obj.kind == k.plan {
            EntityKind::Plan
        } else if obj.kind == k.project {
            EntityKind::Project
        } else if obj.kind == k.indicator {
            EntityKind::Indicator
        } else {
            EntityKind::Node
        };
        EntityRef {
            kind,
            index: obj.index,
        }
    }

    /// Where the entity's id is written.
    pub fn span(&self, c: &Corpus) -> Span {
        let i = self.index as usize;
        match self.kind {
            EntityKind::Plan => c.plans.get(i).map_or(Span::default(), |p| p.id.span),
            EntityKind::Node => c.nodes[i].id.span,
            EntityKind::Project => c.projects[i].id.span,
            EntityKind::Indicator => c.indicators[i].id.span,
        }
    }

    /// The entity's plan id.
    pub fn plan_id<'c>(&self, c: &'c Corpus) -> &'c str {
        let i = self.index as usize;
        let p = match self.kind {
            EntityKind::Plan => return c.plans.get(i).map_or("", |p| p.id.value.as_str()),
            EntityKind::Node => c.nodes[i].plan,
            EntityKind::Project => c.projects[i].plan,
            EntityKind::Indicator => c.indicators[i].plan,
        };
        &c.plans[p as usize].id.value
    }

    /// The entity's own id (the plan id for a plan).
    pub fn id<'c>(&self, c: &'c Corpus) -> &'c str {
        let i = self.index as usize;
        match self.kind {
            EntityKind::Plan => c.plans.get(i).map_or("", |p| p.id.value.as_str()),
            EntityKind::Node => &c.nodes[i].id.value,
            EntityKind::Project => &c.projects[i].id.value,
            EntityKind::Indicator => &c.indicators[i].id.value,
        }
    }

    /// The entity's name.
    pub fn name<'c>(&self, c: &'c Corpus) -> &'c str {
        let i = self.index as usize;
        match self.kind {
            EntityKind::Plan => c.plans.get(i).map_or("", |p| p.name.value.as_str()),
            EntityKind::Node => &c.nodes[i].name.value,
            EntityKind::Project => &c.projects[i].name.value,
            EntityKind::Indicator => &c.indicators[i].name.value,
        }
    }

    /// A short label for a diagnostic: `indicator M4-1 町内会等加入率`.
    pub fn label(&self, c: &Corpus) -> String {
        let what = match self.kind {
            EntityKind::Plan => "plan",
            EntityKind::Node => match c.nodes[self.index as usize].level {
                crate::model::Level::Goal => "goal",
                crate::model::Level::Policy => "policy",
                crate::model::Level::Measure => "measure",
            },
            EntityKind::Project => "project",
            EntityKind::Indicator => "indicator",
        };
        format!("{what} {} {}", self.id(c), self.name(c))
    }
}

/// What a rule found.
#[derive(Clone, Debug)]
pub struct Finding {
    /// `PACK.ID`. The rule's texts are shared by all its findings (a
    /// national corpus has hundreds of thousands of findings of few rules).
    pub rule: Arc<str>,
    pub severity: Severity,
    pub title: Option<Arc<str>>,
    pub message: String,
    pub help: Option<Arc<str>>,
    /// A suggested review outcome (拡充 … 完了), for review rules.
    pub suggest: Option<Arc<str>>,
    /// The entity (for a group rule: its first member).
    pub entity: EntityRef,
    /// `plan-id / entity-id`.
    pub entity_name: String,
    /// The members of the group, for group rules.
    pub members: Vec<EntityRef>,
    /// The group key as text, for group rules.
    pub key: Option<String>,
    /// The places in the plan files, labelled.
    pub places: Vec<(Span, String)>,
}

impl Finding {
    /// The order findings are listed in: by rule, then by where they point.
    pub fn sort_key(&self) -> (&str, Option<(u32, u32)>, &str) {
        (
            &self.rule,
            self.places.first().map(|(s, _)| (s.file, s.start)),
            &self.message,
        )
    }

    /// A stable identity of the finding: the first 16 hex digits of the
    /// SHA-256 of the rule id and the ids of what it is about — the
    /// entity's plan id and id, or for a group rule the group key and the
    /// members' plan and entity ids (sorted). No line, column, message or
    /// value goes in, so the fingerprint survives moved lines, reformatted
    /// files and changed figures; it changes when the rule or the entity
    /// (or the group's membership) does. Baselines and waivers match on it.
    pub fn fingerprint(&self, corpus: &Corpus) -> String {
        use sha2::{Digest, Sha256};
        let id = |e: &EntityRef| format!("{}/{}", e.plan_id(corpus), e.id(corpus));
        let mut parts: Vec<String> = vec!["hyoka-finding-v1".into(), self.rule.to_string()];
        match &self.key {
            Some(key) => {
                let mut members: Vec<String> = self.members.iter().map(id).collect();
                members.sort();
                parts.push(format!("key={key}"));
                parts.extend(members);
            }
            None => parts.push(id(&self.entity)),
        }
        let digest = Sha256::digest(parts.join("\u{1f}").as_bytes());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A diagnostic pointing at every place the finding concerns (places in
    /// other files become related notes).
    pub fn to_diagnostic(&self, corpus: &Corpus) -> PlanDiagnostic {
        let mut d = PlanDiagnostic::new(&*self.rule, self.severity, self.message.clone());
        for (span, label) in &self.places {
            d = d.at(corpus, *span, label.clone());
        }
        let mut help = self.help.as_deref().map(String::from);
        if let Some(s) = &self.suggest {
            let line = format!("suggested review outcome: {s}");
            help = Some(match help {
                Some(h) => format!("{h}\n{line}"),
                None => line,
            });
        }
        d.help = help;
        d
    }
}
