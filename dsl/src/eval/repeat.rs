//! Repeated sub-expressions, for the batch evaluator's memo.
//!
//! Inlining copies a function's body at every call, so one rule often
//! computes the same thing several times on one entity: `rates`' `auto`
//! form asks `ratio_applies(i, current_in(i, y))`, which computes
//! `ratio_of(i, current_in(i, y))`, then computes that again for its value.
//! Here every node of the derives and rules gets a canonical id (equal ids:
//! the same computation on the same entity, whatever slots its copy binds)
//! and the sub-expressions that are computed more than once by the derives
//! of one group, or by the rules of one kind, are marked in
//! [`Program::repeats`]; the batch evaluator keeps their values per entity
//! for the batch.
//!
//! Only what depends on nothing but the entity, the evaluation year and
//! the data is marked (not what reads an aggregate's variable or a group's
//! key), and only what costs more than reading the memo back.

use std::collections::{HashMap, HashSet};

use crate::ir::{Node, NodeId, Program, Scope};
use crate::value::OwnedValue;

/// Below this many operations a sub-expression is recomputed rather than
/// memoised (a memo read costs about one operation).
const MIN_COST: u32 = 3;

/// No canonical id seen for the node yet.
const UNSEEN: u32 = u32::MAX;
/// The node was seen with two canonical ids (two contexts): never marked.
const CONFLICT: u32 = u32::MAX - 1;
/// No parent occurrence (yet).
const ROOT: usize = usize::MAX;

#[derive(Clone, Copy)]
struct Info {
    /// Depends only on the entity, the year and the data.
    pure: bool,
    /// Operations to compute it, memoised reads of `this` not counted.
    cost: u32,
}

struct Canon<'p> {
    prog: &'p Program,
    ids: HashMap<Vec<u64>, u32>,
    consts: HashMap<String, u64>,
    info: Vec<Info>,
    /// Per node: its canonical id, [`UNSEEN`] or [`CONFLICT`].
    node_canon: Vec<u32>,
    /// Per node: the body of a `let` (its value is the `let`'s; the `let`
    /// is the one marked).
    let_body: Vec<bool>,
    /// The canonical id bound to each slot (`None`: not pure).
    env: Vec<Option<u32>>,
    /// Occurrences in the current unit, children before their parent:
    /// (canonical id, index of the parent's occurrence or [`ROOT`]).
    occ: Vec<(u32, usize)>,
}

impl Canon<'_> {
    fn fresh(&mut self) -> u32 {
        let id = self.info.len() as u32;
        self.info.push(Info {
            pure: false,
            cost: 0,
        });
        id
    }

    fn intern(&mut self, key: Vec<u64>, info: Info) -> u32 {
        let next = self.info.len() as u32;
        let id = *self.ids.entry(key).or_insert(next);
        if id == next {
            self.info.push(info);
        }
        id
    }

    fn constant(&mut self, v: &OwnedValue) -> u64 {
        // Numbers by their stored numerator and denominator: 7/10 and
        // 70/100 are equal but not the same computation (overflow).
        let text = match v {
            OwnedValue::Num(n) => format!("N{}/{}", n.numer(), n.denom()),
            other => format!("{other:?}"),
        };
        let next = self.consts.len() as u64;
        *self.consts.entry(text).or_insert(next)
    }

    /// The canonical id of node `n` and its cost here (a `this` path or a
    /// local costs nothing: read from a memo or a slot).
    fn walk(&mut self, n: NodeId) -> (u32, u32) {
        let (id, cost) = self.walk_inner(n);
        let seen = &mut self.node_canon[n.0 as usize];
        *seen = match *seen {
            UNSEEN => id,
            s if s == id => id,
            _ => CONFLICT,
        };
        // A local is a read of its slot, not a computation of its value.
        if !self.let_body[n.0 as usize] && !matches!(self.prog.node(n), Node::Local(_)) {
            self.occ.push((id, ROOT));
        }
        (id, cost)
    }

    fn walk_inner(&mut self, n: NodeId) -> (u32, u32) {
        let prog = self.prog;
        let leaf = |c: &mut Self, tag: u64, key: &[u64]| {
            let mut k = vec![tag];
            k.extend_from_slice(key);
            (
                c.intern(
                    k,
                    Info {
                        pure: true,
                        cost: 0,
                    },
                ),
                0,
            )
        };
        // Children are walked first; their occurrences are then given
        // this node's, which comes next.
        let mark = self.occ.len();
        let mut kids = Vec::new();
        let mut pure = true;
        let mut cost = 1;
        let mut child = |c: &mut Self, k: NodeId| {
            let (id, kc) = c.walk(k);
            pure &= c.info[id as usize].pure;
            cost += kc;
            kids.push(id as u64);
        };
        let (tag, extra): (u64, Vec<u64>) = match prog.node(n) {
            Node::Const(v) => {
                let k = self.constant(v);
                return leaf(self, 0, &[k]);
            }
            Node::This => return leaf(self, 1, &[]),
            Node::Year => return leaf(self, 2, &[]),
            Node::Local(s) => {
                return match self.env.get(*s as usize).copied().flatten() {
                    Some(id) => (id, 0),
                    None => (self.fresh(), 0),
                }
            }
            Node::Key | Node::KeyPart(_) | Node::Members | Node::Agg { .. } => {
                return (self.fresh(), 1)
            }
            Node::Let(slot, v, body) => {
                let s = *slot as usize;
                if self.env.len() <= s {
                    self.env.resize(s + 1, None);
                }
                let (vid, vc) = self.walk(*v);
                let bound = self.info[vid as usize].pure.then_some(vid);
                let saved = std::mem::replace(&mut self.env[s], bound);
                self.let_body[body.0 as usize] = true;
                let (bid, bc) = self.walk(*body);
                self.env[s] = saved;
                self.reparent(mark);
                let id = bid;
                self.info[id as usize].cost = self.info[id as usize].cost.max(vc + bc);
                return (id, vc + bc);
            }
            Node::Field(o, f) => {
                child(self, *o);
                if this_path(prog, n) {
                    cost = 0;
                }
                (3, vec![f.0 as u64])
            }
            Node::Derived(o, d) => {
                child(self, *o);
                (4, vec![d.0 as u64])
            }
            Node::Neg(a) => {
                child(self, *a);
                (5, vec![])
            }
            Node::Not(a) => {
                child(self, *a);
                (6, vec![])
            }
            Node::IsMissing(a) => {
                child(self, *a);
                (7, vec![])
            }
            Node::Reason(a) => {
                child(self, *a);
                (8, vec![])
            }
            Node::Grade(s, a) => {
                child(self, *a);
                (9, vec![s.0 as u64])
            }
            Node::Arith(op, a, b) => {
                child(self, *a);
                child(self, *b);
                (10, vec![*op as u64])
            }
            Node::Cmp(op, a, b) => {
                child(self, *a);
                child(self, *b);
                (11, vec![*op as u64])
            }
            Node::And(a, b) => {
                child(self, *a);
                child(self, *b);
                (12, vec![])
            }
            Node::Or(a, b) => {
                child(self, *a);
                child(self, *b);
                (13, vec![])
            }
            Node::Coalesce(a, b) => {
                child(self, *a);
                child(self, *b);
                (14, vec![])
            }
            Node::InCollection(a, b) => {
                child(self, *a);
                child(self, *b);
                (15, vec![])
            }
            Node::If(a, b, c) => {
                child(self, *a);
                child(self, *b);
                child(self, *c);
                (16, vec![])
            }
            Node::InList(a, items) => {
                child(self, *a);
                for i in items.iter() {
                    child(self, *i);
                }
                (17, vec![])
            }
            Node::Call(f, args) => {
                for a in args.iter() {
                    child(self, *a);
                }
                let f = format!("{f:?}");
                let next = self.consts.len() as u64;
                let f = *self.consts.entry(f).or_insert(next);
                (18, vec![f])
            }
            Node::Latest { fields, obj, year } => {
                child(self, *obj);
                if matches!(prog.node(*obj), Node::This) {
                    cost = 0;
                }
                (
                    19,
                    vec![
                        fields.list.0 as u64,
                        fields.year.0 as u64,
                        fields.value.0 as u64,
                        *year as u64,
                    ],
                )
            }
        };
        let mut key = vec![tag, extra.len() as u64];
        key.extend(extra);
        key.extend(kids);
        let id = self.intern(key, Info { pure, cost });
        self.reparent(mark);
        (id, cost)
    }

    /// Gives the occurrences recorded since `mark` without a parent the
    /// occurrence recorded next (the node whose children they are).
    fn reparent(&mut self, mark: usize) {
        let next = self.occ.len();
        for o in &mut self.occ[mark..] {
            if o.1 == ROOT {
                o.1 = next;
            }
        }
    }

    /// Marks the repeated sub-expressions of the unit just walked: those
    /// computed at least twice, where a computation inside an occurrence
    /// of a marked ancestor counts only if it is not the only one there
    /// (after the ancestor's first computation its memo answers instead).
    /// Ancestors cost more, so they are decided first.
    fn select(&mut self, marked: &mut Vec<bool>) {
        let mut at: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, &(id, _)) in self.occ.iter().enumerate() {
            at.entry(id).or_default().push(i);
        }
        let count = |id: &u32| at.get(id).map_or(0, |o| o.len() as u32);
        let mut todo: Vec<u32> = at
            .iter()
            .filter(|(id, o)| {
                let info = self.info[**id as usize];
                info.pure && info.cost >= MIN_COST && o.len() >= 2
            })
            .map(|(id, _)| *id)
            .collect();
        todo.sort_by_key(|id| (std::cmp::Reverse(self.info[*id as usize].cost), *id));
        let mut on: HashSet<u32> = HashSet::new();
        for id in todo {
            // Occurrences per nearest marked ancestor (`UNSEEN`: none).
            let mut groups: HashMap<u32, u32> = HashMap::new();
            for &i in &at[&id] {
                let mut up = self.occ[i].1;
                let mut ancestor = UNSEEN;
                while up != ROOT {
                    let (a, next) = self.occ[up];
                    if on.contains(&a) {
                        ancestor = a;
                        break;
                    }
                    up = next;
                }
                *groups.entry(ancestor).or_default() += 1;
            }
            let useful = groups.len() > 1
                || groups
                    .iter()
                    .any(|(a, k)| if *a == UNSEEN { *k >= 2 } else { *k > count(a) });
            if useful {
                on.insert(id);
                if marked.len() <= id as usize {
                    marked.resize(id as usize + 1, false);
                }
                marked[id as usize] = true;
            }
        }
        self.occ.clear();
    }
}

/// Whether `n` is `this.f…` of at most three fields (memoised as a path).
fn this_path(prog: &Program, mut n: NodeId) -> bool {
    let mut len = 0;
    while let Node::Field(o, _) = prog.node(n) {
        len += 1;
        n = *o;
    }
    len <= 3 && matches!(prog.node(n), Node::This)
}

impl Program {
    /// Fills [`Program::repeats`]: for each node, 1 + the id of its memo in
    /// the batch evaluator when it is a repeated sub-expression, else 0.
    pub(crate) fn find_repeats(&mut self) {
        let mut c = Canon {
            prog: self,
            ids: HashMap::new(),
            consts: HashMap::new(),
            info: Vec::new(),
            node_canon: vec![UNSEEN; self.nodes.len()],
            let_body: vec![false; self.nodes.len()],
            env: Vec::new(),
            occ: Vec::new(),
        };
        let mut marked = Vec::new();
        for g in &self.derive_groups {
            for d in g.derives() {
                c.walk(self.derives[d.0 as usize].body);
            }
            c.select(&mut marked);
        }
        let mut kinds: Vec<_> = self
            .rules
            .iter()
            .filter_map(|r| match r.scope {
                Scope::Each(k) => Some(k),
                Scope::Group(_) => None,
            })
            .collect();
        kinds.sort_by_key(|k| k.0);
        kinds.dedup();
        for k in kinds {
            for r in &self.rules {
                if r.scope == Scope::Each(k) {
                    for n in r.filter.iter().chain([&r.when]) {
                        c.walk(*n);
                    }
                }
            }
            c.select(&mut marked);
        }
        let repeats = c
            .node_canon
            .iter()
            .zip(&c.let_body)
            .zip(&self.nodes)
            .map(|((&id, &body), node)| match id {
                UNSEEN | CONFLICT => 0,
                _ if body || matches!(node, Node::Local(_) | Node::Const(_)) => 0,
                _ if marked.get(id as usize).copied().unwrap_or(false) => id + 1,
                _ => 0,
            })
            .collect();
        self.repeats = repeats;
    }
}
