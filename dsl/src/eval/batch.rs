//! Batch evaluation: derives ([`Program::eval_derives_batch`]) and the
//! screening of rules ([`Program::screen_rules`]).
//!
//! The scalar walk ([`Program::eval_derive`]) pays for every node of every
//! entity: reading the node, dispatching on it, returning its value through
//! memory. Here a node is dispatched once for up to [`LANES`] entities, and
//! its operation runs in a loop over the *selected* lanes (the entities that
//! reach it: `if` splits the selection between its branches, `and` / `or` /
//! `??` narrow it). The operations themselves are the scalar walk's
//! ([`Program::arith`], [`Program::compare`], [`apply_builtin`],
//! [`Data::latest`] …), so values, missing reasons and failures are the
//! same; each lane sees the nodes of its own evaluation in the same order as
//! the scalar walk, and keeps its first failure.
//!
//! Rare nodes (aggregates, `in`, group keys) are evaluated per lane by the
//! scalar walk, with the lane's local slots and derived values.
//!
//! Reads of `this` that depend on nothing else (`this.a.b`, `latest(this)`)
//! are memoised per batch ([`Memo`]): the derives of a group and the rules
//! of a kind read the same few paths many times over (the functions of
//! `rates` read `i.target.value` a dozen times), and [`Data`] answers do not
//! change during an evaluation. A path is read for every lane of the batch
//! at its first read; `latest(this)` only for the lanes that reach it, once
//! each. So are the sub-expressions that the checker's inlining copies
//! (`Program::repeats`, `eval/repeat.rs`): each lane computes one at most
//! once per batch, unless it failed there.
//!
//! Operands already kept in a column (a memoised path, a local) are read
//! there rather than copied first, and nodes whose value is the same for
//! every lane (`y >= year` where `y` is `year`) are computed once.
//!
//! **Invariant:** every handler writes `out[l]` for the selected lanes `l`
//! only, so that the branches of an `if` can write into the same column.

use super::{apply_builtin, arith_fault, first_missing, Cx, Fault, NoTrace};
use crate::ir::{Arith, Builtin, Cmp, Node, NodeId, Program, Rule, RuleId, Scope, SeriesFields};
use crate::number::Number;
use crate::schema::FieldId;
use crate::value::{Data, DeriveId, Obj, Value};
use crate::{Ctx, RuntimeError};

/// Entities evaluated together.
pub(crate) const LANES: usize = 256;

/// One value per lane.
type Lanes<'a> = [Value<'a>; LANES];

/// Lane numbers `0..LANES`, for the full selection.
const ALL: [u8; LANES] = {
    let mut a = [0u8; LANES];
    let mut i = 0;
    while i < LANES {
        a[i] = i as u8;
        i += 1;
    }
    a
};

/// A lane number as an index the compiler knows is in bounds.
#[inline(always)]
fn lane(l: u8) -> usize {
    l as usize & (LANES - 1)
}

/// A selection built by filtering another one (its lanes in a pooled
/// buffer: evaluation recurses once per node, and must keep its stack
/// frames small).
struct SelBuf {
    lanes: Box<[u8; LANES]>,
    len: usize,
}

impl SelBuf {
    #[inline(always)]
    fn push(&mut self, l: u8) {
        self.lanes[self.len & (LANES - 1)] = l;
        self.len += 1;
    }

    /// Appends `l` when `keep`, without a branch: selections are split on
    /// data (`if i.direction == increase`), which a branch mispredicts.
    #[inline(always)]
    fn push_if(&mut self, l: u8, keep: bool) {
        self.lanes[self.len & (LANES - 1)] = l;
        self.len += keep as usize;
    }

    #[inline(always)]
    fn get(&self) -> &[u8] {
        &self.lanes[..self.len.min(LANES)]
    }
}

/// `x op k` on numbers, as [`Program::compare`] decides it.
#[inline(always)]
fn cmp_num(op: Cmp, x: Number, k: Number) -> bool {
    match op {
        Cmp::Eq => x == k,
        Cmp::Ne => x != k,
        Cmp::Lt => x < k,
        Cmp::Le => x <= k,
        Cmp::Gt => x > k,
        Cmp::Ge => x >= k,
    }
}

/// Buffers reused across the nodes and batches of one call. They are boxed
/// so that taking one from the pool and giving it back moves a pointer, not
/// the buffer, and so that no stack frame holds one.
#[allow(clippy::vec_box)]
struct Pool<'a> {
    cols: Vec<Box<Lanes<'a>>>,
    sels: Vec<Box<[u8; LANES]>>,
    objs: Vec<Box<[Obj; LANES]>>,
    /// Reads of `this` memoised in the current batch.
    memo: Vec<Memo<'a>>,
}

/// A read of `this` that does not depend on anything else (a field path
/// `this.a.b`, `latest(this)`), memoised for the lanes of one batch: every
/// derive of a group reads the same few paths, often several times.
/// [`Data`] is pure, so a value read once is the value of every later read.
struct Memo<'a> {
    key: u64,
    /// Lanes whose value is in `col`, one bit each.
    valid: [u64; LANES / 64],
    col: Box<Lanes<'a>>,
}

impl Memo<'_> {
    #[inline(always)]
    fn is_valid(&self, l: usize) -> bool {
        self.valid[(l / 64) & (LANES / 64 - 1)] & (1 << (l % 64)) != 0
    }

    #[inline(always)]
    fn set_valid(&mut self, l: usize) {
        self.valid[(l / 64) & (LANES / 64 - 1)] |= 1 << (l % 64);
    }

    /// Marks the lanes `0..n` valid.
    #[inline]
    fn set_valid_first(&mut self, n: usize) {
        for (w, word) in self.valid.iter_mut().enumerate() {
            let lanes = n.saturating_sub(w * 64).min(64);
            *word |= if lanes == 64 {
                u64::MAX
            } else {
                (1 << lanes) - 1
            };
        }
    }

    /// Whether no lane is valid (the first read of the batch).
    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.valid.iter().all(|w| *w == 0)
    }
}

/// The memo key of `this.f1.f2…` (up to three fields).
fn path_key(path: &[FieldId]) -> Option<u64> {
    if path.is_empty() || path.len() > 3 {
        return None;
    }
    let mut k = (path.len() as u64) << 48;
    for (i, f) in path.iter().enumerate() {
        k |= (f.0 as u64) << (16 * i);
    }
    Some(k)
}

/// The memo key of `latest(this)` (`year`: `latest_year(this)`).
fn latest_key(series: SeriesFields, year: bool) -> u64 {
    (0x100 | year as u64) << 48
        | (series.list.0 as u64)
        | (series.year.0 as u64) << 16
        | (series.value.0 as u64) << 32
}

/// The memo key of repeated sub-expression `r` ([`Program::repeats`]).
fn repeat_key(r: u32) -> u64 {
    0x200 << 48 | r as u64
}

/// A new buffer of `LANES` copies of `x`, built on the heap (`Box::new` of
/// an array builds it on the stack first, which would make the frame of
/// every function that inlines the pool as large as the array).
#[cold]
#[inline(never)]
fn new_buffer<T: Copy + std::fmt::Debug>(x: T) -> Box<[T; LANES]> {
    vec![x; LANES].into_boxed_slice().try_into().unwrap()
}

impl<'a> Pool<'a> {
    #[inline]
    fn take(&mut self) -> Box<Lanes<'a>> {
        self.cols
            .pop()
            .unwrap_or_else(|| new_buffer(Value::Missing(None)))
    }

    #[inline]
    fn give(&mut self, c: Box<Lanes<'a>>) {
        self.cols.push(c);
    }

    #[inline]
    fn sel(&mut self) -> SelBuf {
        SelBuf {
            lanes: self.sels.pop().unwrap_or_else(|| new_buffer(0)),
            len: 0,
        }
    }

    #[inline]
    fn give_sel(&mut self, s: SelBuf) {
        self.sels.push(s.lanes);
    }

    #[inline]
    fn objs(&mut self, kind: crate::schema::KindId) -> Box<[Obj; LANES]> {
        self.objs
            .pop()
            .unwrap_or_else(|| new_buffer(Obj::new(kind, 0)))
    }

    #[inline]
    fn give_objs(&mut self, o: Box<[Obj; LANES]>) {
        self.objs.push(o);
    }

    /// Forgets the memoised reads (a new batch of entities).
    fn clear_memo(&mut self) {
        for m in self.memo.drain(..) {
            self.cols.push(m.col);
        }
    }

    /// The memo of `key`, created empty when absent.
    fn memo(&mut self, key: u64) -> usize {
        if let Some(i) = self.memo.iter().position(|m| m.key == key) {
            return i;
        }
        let col = self.take();
        self.memo.push(Memo {
            key,
            valid: [0; LANES / 64],
            col,
        });
        self.memo.len() - 1
    }
}

/// The state of one batch.
struct Bx<'a, 'l, D> {
    data: &'a D,
    year: i32,
    objs: [Obj; LANES],
    /// Lanes in use (`objs[..n]`).
    n: usize,
    /// Local slots, one column each.
    locals: &'l mut [Box<Lanes<'a>>],
    /// One lane's slots, for the scalar walk.
    scalar_locals: &'l mut [Value<'a>],
    pool: &'l mut Pool<'a>,
    /// The group's values, lane-major: `group[l * count + k]`.
    group: &'l mut [Value<'a>],
    count: usize,
    group_first: u32,
    /// Derives of the group computed so far.
    ready: usize,
    /// The first failure of each lane in the derive being computed.
    faults: [Option<Box<Fault>>; LANES],
    /// Whether any lane failed in the derive being computed.
    failed: bool,
}

/// A column that holds a node's values already ([`Program::source`]).
#[derive(Clone, Copy)]
enum Src {
    Memo(usize),
    Local(u16),
}

impl<'a, D: Data> Bx<'a, '_, D> {
    #[inline(always)]
    fn column(&self, src: Src) -> &Lanes<'a> {
        match src {
            Src::Memo(m) => &self.pool.memo[m].col,
            Src::Local(s) => &self.locals[s as usize],
        }
    }

    #[cold]
    fn fail(&mut self, l: usize, f: Box<Fault>) -> Value<'a> {
        let slot = &mut self.faults[l & (LANES - 1)];
        if slot.is_none() {
            *slot = Some(f);
        }
        self.failed = true;
        Value::Missing(None)
    }

    #[inline(always)]
    fn derived(&self, d: DeriveId, o: Obj, l: usize) -> Value<'a> {
        let k = d.0.wrapping_sub(self.group_first) as usize;
        if k < self.ready && o == self.objs[l] {
            self.group[l * self.count + k]
        } else {
            self.data.derived(d, o)
        }
    }
}

impl Program {
    /// Computes the derives `first`, `first + 1`, … (`count` of them) for
    /// every entity of `objs`, into `out` entity by entity:
    /// `out[i * count + k]` is derive `first + k` of `objs[i]`. The result
    /// is the one of [`Program::eval_derives`] on each entity (and so of
    /// [`Program::eval_derive`] on each derive, a failed derive being
    /// missing); only faster, nodes being dispatched once for many
    /// entities. Errors are pushed to `errors` (for each derive, in the
    /// order of `objs`).
    ///
    /// The derives must lie in one of [`Program::derive_groups`] and the
    /// entities be of its kind. Pass a few hundred entities or more at a
    /// time: each call allocates its working columns.
    ///
    /// # Panics
    ///
    /// When the derives are not all in one group, or `out` does not hold
    /// `objs.len() * count` values.
    #[allow(clippy::too_many_arguments)]
    pub fn eval_derives_batch<'a, D: Data>(
        &'a self,
        first: DeriveId,
        count: usize,
        objs: &[Obj],
        data: &'a D,
        ctx: &Ctx,
        out: &mut [Value<'a>],
        errors: &mut Vec<RuntimeError>,
    ) {
        assert_eq!(
            out.len(),
            objs.len() * count,
            "eval_derives_batch: `out` must hold `objs.len() * count` values"
        );
        let start = first.0 as usize;
        let defs = &self.derives[start..start + count];
        let (Some(head), Some(last)) = (defs.first(), defs.last()) else {
            return;
        };
        assert!(
            head.group == last.group,
            "eval_derives_batch: derives {start}..{} are not in one group",
            start + count
        );
        let slots = defs.iter().map(|d| d.slots as usize).max().unwrap_or(0);
        let mut pool = Pool {
            cols: Vec::new(),
            sels: Vec::new(),
            objs: Vec::new(),
            memo: Vec::new(),
        };
        let mut locals: Vec<Box<Lanes<'a>>> = (0..slots).map(|_| pool.take()).collect();
        let mut scalar_locals = vec![Value::Missing(None); slots];
        // One state for every batch of the call: it holds buffers of
        // `LANES` entries, not worth building and dropping per batch.
        let mut bx = Bx {
            data,
            year: ctx.year,
            objs: [Obj::new(head.kind, 0); LANES],
            n: 0,
            locals: &mut locals,
            scalar_locals: &mut scalar_locals,
            pool: &mut pool,
            group: &mut [],
            count,
            group_first: first.0,
            ready: 0,
            faults: [const { None }; LANES],
            failed: false,
        };
        for (objs, out) in objs.chunks(LANES).zip(out.chunks_mut(LANES * count)) {
            let n = objs.len();
            bx.pool.clear_memo();
            bx.objs[..n].copy_from_slice(objs);
            bx.n = n;
            bx.group = out;
            bx.ready = 0;
            let sel = &ALL[..n];
            for (k, def) in defs.iter().enumerate() {
                let mut col = bx.pool.take();
                self.bev(def.body, sel, &mut col, &mut bx);
                for (l, v) in col[..n].iter().enumerate() {
                    bx.group[l * count + k] = *v;
                }
                if std::mem::take(&mut bx.failed) {
                    for (l, fault) in bx.faults[..n].iter_mut().enumerate() {
                        if let Some(f) = fault.take() {
                            let d = DeriveId(first.0 + k as u32);
                            errors.push(self.fault_to_error(
                                *f,
                                self.derive_subject(d),
                                data.describe(objs[l]),
                            ));
                            bx.group[l * count + k] = Value::Missing(None);
                        }
                    }
                }
                bx.ready = k + 1;
                bx.pool.give(col);
            }
        }
    }

    /// Screens per-entity rules on many entities at once: `out[i * n + k]`
    /// (`n = rules.len()`) is set to whether [`Program::eval_rule`] of
    /// `rules[k]` on `objs[i]` may fire or fail: `false` only where it
    /// returns `Ok(None)` (the rule's filter or `when` is not true, without
    /// a failure). The caller then calls [`Program::eval_rule`] where it is
    /// `true`, for the firing and its message, or the error. The filters
    /// and conditions are evaluated as [`Program::eval_derives_batch`]
    /// evaluates derives. A group rule is always `true`.
    ///
    /// # Panics
    ///
    /// When `out` does not hold `objs.len() * rules.len()` values.
    pub fn screen_rules<'a, D: Data>(
        &'a self,
        rules: &[RuleId],
        objs: &[Obj],
        data: &'a D,
        ctx: &Ctx,
        out: &mut [bool],
    ) {
        let r = rules.len();
        assert_eq!(
            out.len(),
            objs.len() * r,
            "screen_rules: `out` must hold `objs.len() * rules.len()` values"
        );
        let Some(first) = objs.first() else {
            return;
        };
        let defs: Vec<Option<&Rule>> = rules
            .iter()
            .map(|id| {
                self.rules
                    .get(id.0 as usize)
                    .filter(|rule| matches!(rule.scope, Scope::Each(_)))
            })
            .collect();
        let slots = defs
            .iter()
            .flatten()
            .map(|d| d.slots as usize)
            .max()
            .unwrap_or(0);
        let mut pool = Pool {
            cols: Vec::new(),
            sels: Vec::new(),
            objs: Vec::new(),
            memo: Vec::new(),
        };
        let mut locals: Vec<Box<Lanes<'a>>> = (0..slots).map(|_| pool.take()).collect();
        let mut scalar_locals = vec![Value::Missing(None); slots];
        for (objs, out) in objs.chunks(LANES).zip(out.chunks_mut(LANES * r)) {
            let n = objs.len();
            pool.clear_memo();
            let mut lanes = [*first; LANES];
            lanes[..n].copy_from_slice(objs);
            let mut bx = Bx {
                data,
                year: ctx.year,
                objs: lanes,
                n,
                locals: &mut locals,
                scalar_locals: &mut scalar_locals,
                pool: &mut pool,
                group: &mut [],
                count: 0,
                group_first: u32::MAX,
                ready: 0,
                faults: [const { None }; LANES],
                failed: false,
            };
            for (k, rule) in defs.iter().enumerate() {
                let Some(rule) = rule else {
                    for l in 0..n {
                        out[l * r + k] = true;
                    }
                    continue;
                };
                let mut col = bx.pool.take();
                let mut sel = bx.pool.sel();
                for l in 0..n {
                    sel.push(l as u8);
                }
                for (i, &node) in rule.filter.iter().chain([&rule.when]).enumerate() {
                    let last = i > 0 || rule.filter.is_none();
                    self.bev(node, sel.get(), &mut col, &mut bx);
                    let mut pass = bx.pool.sel();
                    for &l in sel.get() {
                        let li = lane(l);
                        let failed = bx.faults[li].take().is_some();
                        let true_ = matches!(col[li], Value::Bool(true));
                        // A failure is decided by `eval_rule` (its error).
                        out[li * r + k] = failed || (last && true_);
                        pass.push_if(l, !failed && true_);
                    }
                    bx.failed = false;
                    bx.pool.give_sel(std::mem::replace(&mut sel, pass));
                }
                bx.pool.give_sel(sel);
                bx.pool.give(col);
            }
        }
    }

    /// Evaluates node `n` for the lanes `sel` into `out` (those lanes only).
    #[inline(always)]
    fn bev<'a, D: Data>(
        &'a self,
        n: NodeId,
        sel: &[u8],
        out: &mut Lanes<'a>,
        bx: &mut Bx<'a, '_, D>,
    ) {
        match self.repeats.get(n.0 as usize) {
            Some(&r) if r != 0 => self.bev_repeat(n, r, sel, out, bx),
            _ => self.bev_node(n, sel, out, bx),
        }
    }

    /// A sub-expression computed more than once per entity: from the
    /// batch's memo for the lanes that computed it already, else computed
    /// and kept (for the lanes where it did not fail: a failure is
    /// reported where it happens, so it is computed again).
    #[inline(never)]
    fn bev_repeat<'a, D: Data>(
        &'a self,
        n: NodeId,
        r: u32,
        sel: &[u8],
        out: &mut Lanes<'a>,
        bx: &mut Bx<'a, '_, D>,
    ) {
        let m = bx.pool.memo(repeat_key(r));
        let mut need = bx.pool.sel();
        let memo = &bx.pool.memo[m];
        for &l in sel {
            let li = lane(l);
            need.push_if(l, !memo.is_valid(li));
            // Lanes not valid yet are written again below.
            out[li] = memo.col[li];
        }
        if need.len > 0 {
            self.bev_node(n, need.get(), out, bx);
            let memo = &mut bx.pool.memo[m];
            if bx.failed {
                for &l in need.get() {
                    let li = lane(l);
                    if bx.faults[li].is_none() {
                        memo.col[li] = out[li];
                        memo.set_valid(li);
                    }
                }
            } else {
                // No lane failed: every one is kept, its bit set in a
                // register word by word (the lanes are in order).
                let (mut word, mut bits) = (usize::MAX, 0u64);
                for &l in need.get() {
                    let li = lane(l);
                    memo.col[li] = out[li];
                    if li / 64 != word {
                        if word != usize::MAX {
                            memo.valid[word & (LANES / 64 - 1)] |= bits;
                        }
                        (word, bits) = (li / 64, 0);
                    }
                    bits |= 1 << (li % 64);
                }
                if word != usize::MAX {
                    memo.valid[word & (LANES / 64 - 1)] |= bits;
                }
            }
        }
        bx.pool.give_sel(need);
    }

    /// Evaluates node `n` for the lanes `sel` into `out` (those lanes only),
    /// without looking at the memo of repeated sub-expressions.
    ///
    /// This recurses once per node: the handlers that need scratch space
    /// are out of line and take it from the pool, so that this frame stays
    /// small.
    fn bev_node<'a, D: Data>(
        &'a self,
        n: NodeId,
        sel: &[u8],
        out: &mut Lanes<'a>,
        bx: &mut Bx<'a, '_, D>,
    ) {
        match self.node(n) {
            Node::Const(c) => {
                let v = c.as_value();
                for &l in sel {
                    out[lane(l)] = v;
                }
            }
            Node::This => {
                for &l in sel {
                    out[lane(l)] = Value::Obj(bx.objs[lane(l)]);
                }
            }
            Node::Year => {
                for &l in sel {
                    out[lane(l)] = Value::Year(bx.year);
                }
            }
            Node::Local(s) => {
                let col = &bx.locals[*s as usize];
                for &l in sel {
                    out[lane(l)] = col[lane(l)];
                }
            }
            Node::Field(o, f) => self.bev_field(*o, *f, sel, out, bx),
            Node::Derived(o, d) => {
                if matches!(self.node(*o), Node::This) {
                    for &l in sel {
                        let l = lane(l);
                        out[l] = bx.derived(*d, bx.objs[l], l);
                    }
                } else {
                    self.bev(*o, sel, out, bx);
                    for &l in sel {
                        let l = lane(l);
                        out[l] = match out[l] {
                            Value::Obj(x) => bx.derived(*d, x, l),
                            m @ Value::Missing(_) => m,
                            _ => Value::Missing(None),
                        };
                    }
                }
            }
            Node::Neg(a) => {
                self.bev(*a, sel, out, bx);
                for &l in sel {
                    let l = lane(l);
                    out[l] = match out[l] {
                        Value::Num(x) => match x.checked_neg() {
                            Ok(v) => Value::Num(v),
                            Err(e) => bx.fail(l, arith_fault(e, n, format!("-{x}"))),
                        },
                        m @ Value::Missing(_) => m,
                        _ => Value::Missing(None),
                    };
                }
            }
            Node::Arith(op, a, b) => self.bev_arith(n, *op, *a, *b, sel, out, bx),
            Node::Cmp(op, a, b) => self.bev_cmp(*op, *a, *b, sel, out, bx),
            Node::And(a, b) => self.bev_logic(false, *a, *b, sel, out, bx),
            Node::Or(a, b) => self.bev_logic(true, *a, *b, sel, out, bx),
            Node::Not(a) => {
                if let Node::IsMissing(b) = self.node(*a) {
                    if self.repeats.get(a.0 as usize).is_none_or(|r| *r == 0) {
                        // `x is not missing`, in one pass.
                        self.bev(*b, sel, out, bx);
                        for &l in sel {
                            let l = lane(l);
                            out[l] = Value::Bool(!out[l].is_missing());
                        }
                        return;
                    }
                }
                self.bev(*a, sel, out, bx);
                for &l in sel {
                    let l = lane(l);
                    out[l] = match out[l] {
                        Value::Bool(b) => Value::Bool(!b),
                        m @ Value::Missing(_) => m,
                        _ => Value::Missing(None),
                    };
                }
            }
            Node::If(c, t, e) => self.bev_if(*c, *t, *e, sel, out, bx),
            Node::IsMissing(a) => {
                self.bev(*a, sel, out, bx);
                for &l in sel {
                    let l = lane(l);
                    out[l] = Value::Bool(out[l].is_missing());
                }
            }
            Node::Coalesce(a, d) => self.bev_coalesce(*a, *d, sel, out, bx),
            Node::Reason(a) => {
                self.bev(*a, sel, out, bx);
                for &l in sel {
                    let l = lane(l);
                    out[l] = match out[l] {
                        Value::Missing(Some(r)) => Value::Str(r),
                        _ => Value::Missing(None),
                    };
                }
            }
            Node::Let(slot, v, body) => {
                let mut x = bx.pool.take();
                self.bev(*v, sel, &mut x, bx);
                // The column becomes the slot's: the lanes outside `sel`
                // hold nothing there, and none reads it before binding it
                // (a slot is read only in the body of the `let` that binds
                // it, and the checker never binds it again inside).
                let old = std::mem::replace(&mut bx.locals[*slot as usize], x);
                bx.pool.give(old);
                self.bev(*body, sel, out, bx);
            }
            Node::Call(f, args) => self.bev_call(n, *f, args, sel, out, bx),
            Node::Latest { fields, obj, year } => {
                self.bev_latest(*fields, *obj, *year, sel, out, bx)
            }
            Node::Grade(s, x) => {
                self.bev(*x, sel, out, bx);
                let Some(scale) = self.scales.get(s.0 as usize) else {
                    for &l in sel {
                        out[lane(l)] = Value::Missing(None);
                    }
                    return;
                };
                let missing = scale.missing_grade();
                for &l in sel {
                    let l = lane(l);
                    out[l] = match out[l] {
                        Value::Num(x) => Value::Grade(*s, scale.band_of(x).unwrap_or(missing)),
                        v => self.grade(*s, v),
                    };
                }
            }
            Node::Key
            | Node::KeyPart(_)
            | Node::Members
            | Node::InList(..)
            | Node::InCollection(..)
            | Node::Agg { .. } => self.bev_scalar(n, sel, out, bx),
        }
    }

    /// `obj.f`: the lanes that have an object are read in one
    /// [`Data::fields`] call.
    #[inline(never)]
    fn bev_field<'a, D: Data>(
        &'a self,
        o: NodeId,
        f: FieldId,
        sel: &[u8],
        out: &mut Lanes<'a>,
        bx: &mut Bx<'a, '_, D>,
    ) {
        // `this.a.b`: from the batch's memo.
        if let Some((path, len)) = self.this_path(o, f) {
            if self.memo_path(&path[..len], sel, Some(out), bx).is_some() {
                return;
            }
        }
        self.read_field(o, f, sel, out, bx);
    }

    /// Where the values of `n` are kept already for every lane, when they
    /// are (a field of `this` in the batch's memo, a local in its slot):
    /// an operation reads them there rather than from a copy.
    #[inline]
    fn source<'a, D: Data>(&'a self, n: NodeId, bx: &mut Bx<'a, '_, D>) -> Option<Src> {
        match self.node(n) {
            Node::Local(s) => Some(Src::Local(*s)),
            Node::Field(o, f) => {
                let (path, len) = self.this_path(*o, *f)?;
                self.memo_path(&path[..len], &[], None, bx).map(Src::Memo)
            }
            _ => None,
        }
    }

    /// The fields of `o.f` when `o` is `this` or `this.a…` (at most three
    /// fields in all), outermost first.
    #[inline]
    fn this_path(&self, o: NodeId, f: FieldId) -> Option<([FieldId; 3], usize)> {
        let mut path = [f; 3];
        let mut len = 1;
        let mut at = o;
        while let Node::Field(inner, g) = self.node(at) {
            if len == path.len() {
                return None;
            }
            path[len] = *g;
            len += 1;
            at = *inner;
        }
        if !matches!(self.node(at), Node::This) {
            return None;
        }
        path[..len].reverse();
        Some((path, len))
    }

    /// The value of `n` when it is the same for every entity: a constant,
    /// the year, a comparison of those (`y >= year` in a function called
    /// with `year`).
    fn uniform<'a>(&'a self, n: NodeId, year: i32) -> Option<Value<'a>> {
        match self.node(n) {
            Node::Const(c) => Some(c.as_value()),
            Node::Year => Some(Value::Year(year)),
            Node::Cmp(op, a, b) => {
                let x = self.uniform(*a, year)?;
                let y = self.uniform(*b, year)?;
                Some(self.compare(*op, x, y))
            }
            _ => None,
        }
    }

    /// The memo of `this.path[0].path[1]…`, read for every lane of the
    /// batch at the first read, and copied to `out` for the lanes of `sel`
    /// when given; `None` when the path is too long to memoise.
    fn memo_path<'a, D: Data>(
        &'a self,
        path: &[FieldId],
        sel: &[u8],
        out: Option<&mut Lanes<'a>>,
        bx: &mut Bx<'a, '_, D>,
    ) -> Option<usize> {
        let key = path_key(path)?;
        let m = bx.pool.memo(key);
        if bx.pool.memo[m].is_empty() {
            self.fill_path(m, path, bx);
        }
        if let Some(out) = out {
            let col = &bx.pool.memo[m].col;
            for &l in sel {
                out[lane(l)] = col[lane(l)];
            }
        }
        Some(m)
    }

    /// Reads `this.path…` for every lane of the batch into memo `m`. Lanes
    /// that never reach the read are read too: a field read cannot fail,
    /// and one [`Data::fields`] call over the whole batch costs less than
    /// tracking which lanes are read already at every later read.
    fn fill_path<'a, D: Data>(&'a self, m: usize, path: &[FieldId], bx: &mut Bx<'a, '_, D>) {
        let Some((&f, prefix)) = path.split_last() else {
            return;
        };
        let n = bx.n;
        // The column is taken out while the prefix is read (which may add
        // memos), and put back.
        let spare = bx.pool.take();
        let mut col = std::mem::replace(&mut bx.pool.memo[m].col, spare);
        match prefix.is_empty() {
            true => bx.data.fields(&bx.objs[..n], f, &mut col[..n]),
            false => {
                let p = self.memo_path(prefix, &ALL[..n], None, bx);
                let mut objs = bx.pool.objs(bx.objs[0].kind);
                let mut at = bx.pool.sel();
                for (l, &source) in ALL[..n].iter().zip(&bx.pool.memo[p.unwrap_or(0)].col[..n]) {
                    match source {
                        Value::Obj(x) => {
                            objs[at.len & (LANES - 1)] = x;
                            at.push(*l);
                        }
                        m @ Value::Missing(_) => col[lane(*l)] = m,
                        _ => col[lane(*l)] = Value::Missing(None),
                    }
                }
                let k = at.get().len();
                if k == n {
                    bx.data.fields(&objs[..n], f, &mut col[..n]);
                } else {
                    let mut vals = bx.pool.take();
                    bx.data.fields(&objs[..k], f, &mut vals[..k]);
                    for (&l, v) in at.get().iter().zip(vals.iter()) {
                        col[lane(l)] = *v;
                    }
                    bx.pool.give(vals);
                }
                bx.pool.give_sel(at);
                bx.pool.give_objs(objs);
            }
        }
        let memo = &mut bx.pool.memo[m];
        let spare = std::mem::replace(&mut memo.col, col);
        memo.set_valid_first(n);
        bx.pool.give(spare);
    }

    /// `obj.f` read for the lanes `sel`: the lanes that have an object are
    /// read in one [`Data::fields`] call.
    fn read_field<'a, D: Data>(
        &'a self,
        o: NodeId,
        f: FieldId,
        sel: &[u8],
        out: &mut Lanes<'a>,
        bx: &mut Bx<'a, '_, D>,
    ) {
        let this = matches!(self.node(o), Node::This);
        if this && sel.len() == bx.n {
            // Every lane, in order: straight into `out`.
            let n = bx.n;
            bx.data.fields(&bx.objs[..n], f, &mut out[..n]);
            return;
        }
        if !this {
            self.bev(o, sel, out, bx);
        }
        let mut objs = bx.pool.objs(bx.objs[0].kind);
        let mut at = bx.pool.sel();
        for &l in sel {
            let li = lane(l);
            match if this {
                Value::Obj(bx.objs[li])
            } else {
                out[li]
            } {
                Value::Obj(x) => {
                    objs[at.len & (LANES - 1)] = x;
                    at.push(l);
                }
                m @ Value::Missing(_) => out[li] = m,
                _ => out[li] = Value::Missing(None),
            }
        }
        let k = at.get().len();
        if k == bx.n {
            // Every lane has an object (so `sel` is every lane, in order).
            bx.data.fields(&objs[..k], f, &mut out[..k]);
        } else {
            let mut vals = bx.pool.take();
            bx.data.fields(&objs[..k], f, &mut vals[..k]);
            for (&l, v) in at.get().iter().zip(vals.iter()) {
                out[lane(l)] = *v;
            }
            bx.pool.give(vals);
        }
        bx.pool.give_sel(at);
        bx.pool.give_objs(objs);
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn bev_arith<'a, D: Data>(
        &'a self,
        n: NodeId,
        op: Arith,
        a: NodeId,
        b: NodeId,
        sel: &[u8],
        out: &mut Lanes<'a>,
        bx: &mut Bx<'a, '_, D>,
    ) {
        self.bev(a, sel, out, bx);
        let mut y = bx.pool.take();
        self.bev(b, sel, &mut y, bx);
        // Two numbers whose result fits: in place; anything else (years,
        // missing values, failures) as the scalar walk.
        macro_rules! each {
            ($f:ident) => {
                for &l in sel {
                    let l = lane(l);
                    out[l] = match (out[l], y[l]) {
                        (Value::Num(p), Value::Num(q)) => match p.$f(q) {
                            Ok(r) => Value::Num(r),
                            Err(_) => self.arith_lane(op, out[l], y[l], n, l, bx),
                        },
                        (p, q) => self.arith_lane(op, p, q, n, l, bx),
                    };
                }
            };
        }
        match op {
            Arith::Add => each!(checked_add),
            Arith::Sub => each!(checked_sub),
            Arith::Mul => each!(checked_mul),
            Arith::Div => each!(checked_div),
        }
        bx.pool.give(y);
    }

    #[inline(never)]
    fn bev_cmp<'a, D: Data>(
        &'a self,
        op: Cmp,
        a: NodeId,
        b: NodeId,
        sel: &[u8],
        out: &mut Lanes<'a>,
        bx: &mut Bx<'a, '_, D>,
    ) {
        if let Some(y) = self.uniform(b, bx.year) {
            if let Some(x) = self.uniform(a, bx.year) {
                let v = self.compare(op, x, y);
                for &l in sel {
                    out[lane(l)] = v;
                }
                return;
            }
            // Against a constant (`x >= 90%`, `d == increase`): its type is
            // known once; the general comparison only for lanes of another
            // type (missing ones).
            let src = self.source(a, bx);
            if src.is_none() {
                self.bev(a, sel, out, bx);
            }
            macro_rules! each {
                (|$x:ident| $e:expr) => {
                    match src {
                        Some(src) => {
                            let col = bx.column(src);
                            for &l in sel {
                                let l = lane(l);
                                let $x = col[l];
                                out[l] = $e;
                            }
                        }
                        None => {
                            for &l in sel {
                                let l = lane(l);
                                let $x = out[l];
                                out[l] = $e;
                            }
                        }
                    }
                };
            }
            match y {
                Value::Num(k) => each!(|x| match x {
                    Value::Num(x) => Value::Bool(cmp_num(op, x, k)),
                    x => self.compare(op, x, y),
                }),
                Value::Enum(e, k) if matches!(op, Cmp::Eq | Cmp::Ne) => {
                    let eq = op == Cmp::Eq;
                    each!(|x| match x {
                        Value::Enum(f, x) => Value::Bool((f == e && x == k) == eq),
                        x => self.compare(op, x, y),
                    })
                }
                _ => each!(|x| self.compare(op, x, y)),
            }
        } else {
            self.bev(a, sel, out, bx);
            let mut y = bx.pool.take();
            self.bev(b, sel, &mut y, bx);
            for &l in sel {
                let l = lane(l);
                out[l] = self.compare(op, out[l], y[l]);
            }
            bx.pool.give(y);
        }
    }

    /// `a and b` (`decides` false) or `a or b` (`decides` true): `b` is
    /// evaluated only where `a` did not decide.
    #[inline(never)]
    fn bev_logic<'a, D: Data>(
        &'a self,
        decides: bool,
        a: NodeId,
        b: NodeId,
        sel: &[u8],
        out: &mut Lanes<'a>,
        bx: &mut Bx<'a, '_, D>,
    ) {
        let mut rest = bx.pool.sel();
        match self.source(a, bx) {
            Some(src) => {
                let col = bx.column(src);
                for &l in sel {
                    let li = lane(l);
                    out[li] = col[li];
                    rest.push_if(l, !matches!(&col[li], Value::Bool(x) if *x == decides));
                }
            }
            None => {
                self.bev(a, sel, out, bx);
                for &l in sel {
                    rest.push_if(l, !matches!(out[lane(l)], Value::Bool(x) if x == decides));
                }
            }
        }
        if rest.len > 0 {
            macro_rules! combine {
                ($y:expr) => {
                    for &l in rest.get() {
                        let l = lane(l);
                        out[l] = match (out[l], $y[l]) {
                            (_, Value::Bool(y)) if y == decides => Value::Bool(decides),
                            (Value::Bool(x), Value::Bool(y)) if x == y => Value::Bool(x),
                            (x, y) => first_missing(x, y),
                        };
                    }
                };
            }
            match self.source(b, bx) {
                Some(src) => combine!(bx.column(src)),
                None => {
                    let mut y = bx.pool.take();
                    self.bev(b, rest.get(), &mut y, bx);
                    combine!(y);
                    bx.pool.give(y);
                }
            }
        }
        bx.pool.give_sel(rest);
    }

    #[inline(never)]
    fn bev_if<'a, D: Data>(
        &'a self,
        c: NodeId,
        t: NodeId,
        e: NodeId,
        sel: &[u8],
        out: &mut Lanes<'a>,
        bx: &mut Bx<'a, '_, D>,
    ) {
        if let Some(v) = self.uniform(c, bx.year) {
            // Every lane takes the same branch.
            let v = match v {
                Value::Bool(true) => return self.bev(t, sel, out, bx),
                Value::Bool(false) => return self.bev(e, sel, out, bx),
                m @ Value::Missing(_) => m,
                _ => Value::Missing(None),
            };
            for &l in sel {
                out[lane(l)] = v;
            }
            return;
        }
        self.bev(c, sel, out, bx);
        let (mut then, mut other) = (bx.pool.sel(), bx.pool.sel());
        for &l in sel {
            let c = &mut out[lane(l)];
            then.push_if(l, matches!(c, Value::Bool(true)));
            other.push_if(l, matches!(c, Value::Bool(false)));
            // A missing condition is the value; anything else (a data
            // source of the wrong type) is missing.
            if !matches!(c, Value::Bool(_) | Value::Missing(_)) {
                *c = Value::Missing(None);
            }
        }
        if then.len > 0 {
            self.bev(t, then.get(), out, bx);
        }
        if other.len > 0 {
            self.bev(e, other.get(), out, bx);
        }
        bx.pool.give_sel(then);
        bx.pool.give_sel(other);
    }

    #[inline(never)]
    fn bev_coalesce<'a, D: Data>(
        &'a self,
        a: NodeId,
        d: NodeId,
        sel: &[u8],
        out: &mut Lanes<'a>,
        bx: &mut Bx<'a, '_, D>,
    ) {
        self.bev(a, sel, out, bx);
        let mut rest = bx.pool.sel();
        for &l in sel {
            rest.push_if(l, out[lane(l)].is_missing());
        }
        if rest.len > 0 {
            self.bev(d, rest.get(), out, bx);
        }
        bx.pool.give_sel(rest);
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn bev_call<'a, D: Data>(
        &'a self,
        n: NodeId,
        f: Builtin,
        args: &[NodeId],
        sel: &[u8],
        out: &mut Lanes<'a>,
        bx: &mut Bx<'a, '_, D>,
    ) {
        // Every argument is evaluated, as the scalar walk does; built-ins
        // read the first two.
        let mut b = bx.pool.take();
        let mut c = bx.pool.take();
        for (i, a) in args.iter().enumerate() {
            match i {
                0 => self.bev(*a, sel, out, bx),
                1 => self.bev(*a, sel, &mut b, bx),
                _ => self.bev(*a, sel, &mut c, bx),
            }
        }
        // `abs`, `min` and `max` of numbers (the maintain band) without the
        // general call; other values and failures as the scalar walk.
        match (f, args.len()) {
            (Builtin::Abs, 1) => {
                for &l in sel {
                    let l = lane(l);
                    let x = out[l];
                    out[l] = match x {
                        Value::Num(v) => match v.abs() {
                            Ok(v) => Value::Num(v),
                            Err(_) => self.call_lane(f, x, Value::Missing(None), n, l, bx),
                        },
                        x => self.call_lane(f, x, Value::Missing(None), n, l, bx),
                    };
                }
                bx.pool.give(c);
                bx.pool.give(b);
                return;
            }
            (Builtin::Min | Builtin::Max, 2) => {
                let min = f == Builtin::Min;
                for &l in sel {
                    let l = lane(l);
                    out[l] = match (out[l], b[l]) {
                        (Value::Num(x), Value::Num(y)) => {
                            Value::Num(if min { x.min(y) } else { x.max(y) })
                        }
                        (x, y) => self.call_lane(f, x, y, n, l, bx),
                    };
                }
                bx.pool.give(c);
                bx.pool.give(b);
                return;
            }
            _ => {}
        }
        for &l in sel {
            let l = lane(l);
            let x = if args.is_empty() {
                Value::Missing(None)
            } else {
                out[l]
            };
            let y = if args.len() > 1 {
                b[l]
            } else {
                Value::Missing(None)
            };
            out[l] = match apply_builtin(f, x, y, n, bx.data, bx.year) {
                Ok(v) => v,
                Err(fault) => bx.fail(l, fault),
            };
        }
        bx.pool.give(c);
        bx.pool.give(b);
    }

    #[inline(never)]
    fn bev_latest<'a, D: Data>(
        &'a self,
        fields: SeriesFields,
        obj: NodeId,
        year: bool,
        sel: &[u8],
        out: &mut Lanes<'a>,
        bx: &mut Bx<'a, '_, D>,
    ) {
        let this = matches!(self.node(obj), Node::This);
        if this {
            // `latest(this)`: from the batch's memo.
            let m = bx.pool.memo(latest_key(fields, year));
            let memo = &mut bx.pool.memo[m];
            for &l in sel {
                let l = lane(l);
                if memo.is_valid(l) {
                    out[l] = memo.col[l];
                    continue;
                }
                // Both columns are written from the value in registers:
                // reading back the slot just written, or the answer as one
                // 16-byte load, stalls on store forwarding.
                let v = match bx.data.latest(bx.objs[l], fields, bx.year) {
                    Ok((y, _)) if year => Value::Year(y),
                    Ok((_, Value::Num(x))) => Value::Num(x.by_words()),
                    Ok((_, v)) => v,
                    Err(reason) => Value::Missing(reason),
                };
                memo.col[l] = v;
                out[l] = v;
                memo.set_valid(l);
            }
            return;
        }
        self.bev(obj, sel, out, bx);
        for &l in sel {
            let l = lane(l);
            let o = out[l];
            out[l] = match o {
                Value::Obj(o) => match bx.data.latest(o, fields, bx.year) {
                    Ok((y, _)) if year => Value::Year(y),
                    Ok((_, v)) => v,
                    Err(reason) => Value::Missing(reason),
                },
                m @ Value::Missing(_) => m,
                _ => Value::Missing(None),
            };
        }
    }

    /// Built-in `f` on one lane as the scalar walk computes it.
    #[inline(never)]
    fn call_lane<'a, D: Data>(
        &'a self,
        f: Builtin,
        x: Value<'a>,
        y: Value<'a>,
        n: NodeId,
        l: usize,
        bx: &mut Bx<'a, '_, D>,
    ) -> Value<'a> {
        match apply_builtin(f, x, y, n, bx.data, bx.year) {
            Ok(v) => v,
            Err(fault) => bx.fail(l, fault),
        }
    }

    /// `x op y` on one lane as the scalar walk computes it.
    #[inline(never)]
    fn arith_lane<'a, D: Data>(
        &'a self,
        op: Arith,
        x: Value<'a>,
        y: Value<'a>,
        n: NodeId,
        l: usize,
        bx: &mut Bx<'a, '_, D>,
    ) -> Value<'a> {
        match self.arith(op, x, y, n) {
            Ok(v) => v,
            Err(f) => bx.fail(l, f),
        }
    }

    /// Evaluates node `n` lane by lane with the scalar walk.
    #[inline(never)]
    fn bev_scalar<'a, D: Data>(
        &'a self,
        n: NodeId,
        sel: &[u8],
        out: &mut Lanes<'a>,
        bx: &mut Bx<'a, '_, D>,
    ) {
        for &l in sel {
            let l = lane(l);
            for (slot, col) in bx.scalar_locals.iter_mut().zip(bx.locals.iter()) {
                *slot = col[l];
            }
            let count = bx.count;
            let mut cx = Cx {
                data: bx.data,
                this: bx.objs[l],
                year: bx.year,
                key: None,
                members: &[],
                locals: &mut *bx.scalar_locals,
                trace: &mut NoTrace,
                group: &mut bx.group[l * count..(l + 1) * count],
                group_first: bx.group_first,
                ready: bx.ready,
                fault: None,
            };
            let v = self.ev(n, &mut cx);
            let fault = cx.fault.take();
            out[l] = match fault {
                None => v,
                Some(f) => bx.fail(l, f),
            };
        }
    }
}
