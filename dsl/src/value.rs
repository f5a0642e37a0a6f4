//! Runtime values and the [`Data`] trait through which the compiled program
//! reads the plan model.
//!
//! [`Value`] is `Copy` and borrows its strings (from the data or from the
//! program), so reading a field allocates nothing. [`OwnedValue`] is the form
//! a caller stores (derived-value columns); [`Key`] is the hashable owned
//! form of a group rule's key.
//!
//! **Invariant:** this module does not know how the data is stored. An
//! [`Obj`] is a kind and an index the caller chose; a [`ListRef`] is a handle
//! the caller made and answers for.

use crate::number::Number;
use crate::schema::{EnumId, FieldId, KindId, ScaleId};

/// An entity or record: its kind and the caller's index for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Obj {
    /// The kind.
    pub kind: KindId,
    /// The caller's index (typically the row in the caller's table of that kind).
    pub index: u32,
}

impl Obj {
    /// An object of kind `kind` at `index`.
    pub const fn new(kind: KindId, index: u32) -> Obj {
        Obj { kind, index }
    }
}

/// A list of the plan model (`indicator.actuals`), as a handle the caller
/// made when answering [`Data::field`]. The evaluator reads `len` directly
/// and asks [`Data::list_get`] for `0..len`; `store` and `start` mean what
/// the caller wants (typically: which flat table, and where the slice
/// starts in it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ListRef {
    /// Caller-defined.
    pub store: u32,
    /// Caller-defined.
    pub start: u32,
    /// Number of elements.
    pub len: u32,
}

/// The fields a series built-in (`latest`, `latest_year`, `actual`) reads:
/// `obj.list` is a list of records, each with a `year` and a `value`
/// (`indicator.actuals`, observations with `year` and `value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Series {
    /// The list field of the entity (`actuals`).
    pub list: FieldId,
    /// The year field of a record (`year`).
    pub year: FieldId,
    /// The value field of a record (`value`).
    pub value: FieldId,
}

/// The answer of [`Data::latest`]: the year and value of the latest
/// observation that has a value, or the reason there is none.
pub type Latest<'a> = Result<(i32, Value<'a>), Option<&'a str>>;

/// A derived value (`derive rate for indicator`), as numbered by the
/// compiled program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeriveId(pub u32);

/// A value during evaluation. `'a` is the lifetime of the data and program.
///
/// `repr(C, u64)`: an 8-byte tag, then every payload at offset 8, and no
/// padding anywhere. With a one-byte tag, LLVM copied bytes 1 to 7 (payload
/// or padding) as overlapping 4-byte moves that stalled on store forwarding;
/// the evaluator copies values at every node, and ran several times slower.
#[derive(Clone, Copy, Debug)]
#[repr(C, u64)]
pub enum Value<'a> {
    /// No value, with the reason the plan gave for it (`集計中`, `—`), if any.
    Missing(Option<&'a str>),
    /// `true` / `false`.
    Bool(bool),
    /// An exact number.
    Num(Number),
    /// Text.
    Str(&'a str),
    /// A Gregorian year.
    Year(i32),
    /// Value number `.1` of enumeration `.0`.
    Enum(EnumId, u16),
    /// Band or state number `.1` of scale `.0` (the program's numbering).
    Grade(ScaleId, u16),
    /// An entity or record.
    Obj(Obj),
    /// A list of the data.
    List(ListRef),
    /// The members of a group (only inside group rules).
    Members(&'a [Obj]),
    /// The key of a group (only inside group rules).
    Key(&'a Key),
}

/// The plan data, as the compiled program reads it.
///
/// Every method is called on the hot path; none should allocate. A field
/// that has no value answers [`Value::Missing`] (with the plan's reason when
/// there is one); a field of the wrong type is a bug of the caller, and the
/// evaluator treats it as missing rather than panicking.
///
/// Answers must not change during an evaluation: the batch evaluator reads
/// `this.a.b` or `latest(this)` of an entity once and reuses the value for
/// every derive and rule that reads it again.
pub trait Data: Sync {
    /// The value of field `field` of `obj` (`field` belongs to `obj.kind`).
    fn field(&self, obj: Obj, field: FieldId) -> Value<'_>;

    /// Field `field` of each of `objs`, into `out` (of the same length):
    /// `out[i]` must be `self.field(objs[i], field)`. The batch evaluator
    /// ([`crate::Program::eval_derives_batch`]) reads fields this way, many
    /// entities at a time; the default asks [`Data::field`] for each. A data
    /// source may answer faster by deciding once what `field` is.
    #[inline]
    fn fields<'s>(&'s self, objs: &[Obj], field: FieldId, out: &mut [Value<'s>]) {
        for (o, v) in objs.iter().zip(out) {
            *v = self.field(*o, field);
        }
    }

    /// Element `i` (`i < list.len`) of a list returned by [`Data::field`].
    fn list_get(&self, list: ListRef, i: u32) -> Value<'_>;

    /// The stored value of derive `derive` for `obj`, computed earlier by
    /// the caller through [`crate::Program::eval_derive`] (derives are
    /// listed in dependency order by [`crate::Program::derives`]).
    fn derived(&self, derive: DeriveId, obj: Obj) -> Value<'_>;

    /// `latest(obj)` and `latest_year(obj)`: the latest record of
    /// `obj.list` whose year is in or before `year` and that has a value,
    /// as `Ok((its year, its value))`; of two records of the same year the
    /// one listed later wins. Without one, `Err` with the reason of the
    /// latest record in or before `year` (the one listed later of a year),
    /// if that record gives one.
    ///
    /// The default walks the list through [`Data::field`] and
    /// [`Data::list_get`] ([`crate::eval::walk_latest`]). A data source that
    /// keeps series in its own arrays may answer directly (grade rules call
    /// this once per entity); it must give the same answer, and may call
    /// the walk for series it does not store specially.
    #[inline]
    fn latest(&self, obj: Obj, series: Series, year: i32) -> Latest<'_> {
        crate::eval::walk_latest(self, obj, series, year)
    }

    /// `actual(obj, year)`: the value of the record of `obj.list` for
    /// `year` exactly (the one listed last), or missing (with its reason).
    /// The default walks the list ([`crate::eval::walk_actual`]); the same
    /// remarks as for [`Data::latest`] apply.
    #[inline]
    fn actual(&self, obj: Obj, series: Series, year: i32) -> Value<'_> {
        crate::eval::walk_actual(self, obj, series, year)
    }

    /// A human name for `obj` in error messages (`koriyama-kyodo-2 / M1-1`).
    /// Called only when something went wrong.
    fn describe(&self, obj: Obj) -> String {
        format!("#{}", obj.index)
    }
}

impl<'a> Value<'a> {
    /// Whether this is missing.
    #[inline]
    pub fn is_missing(&self) -> bool {
        matches!(self, Value::Missing(_))
    }

    /// The number, if this is one.
    #[inline]
    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }

    /// The object, if this is one.
    #[inline]
    pub fn as_obj(&self) -> Option<Obj> {
        match self {
            Value::Obj(o) => Some(*o),
            _ => None,
        }
    }

    /// An owned copy, for storing beyond the data's lifetime.
    pub fn to_owned_value(&self) -> OwnedValue {
        match *self {
            Value::Missing(r) => OwnedValue::Missing(r.map(Box::from)),
            Value::Bool(b) => OwnedValue::Bool(b),
            Value::Num(n) => OwnedValue::Num(n),
            Value::Str(s) => OwnedValue::Str(Box::from(s)),
            Value::Year(y) => OwnedValue::Year(y),
            Value::Enum(e, v) => OwnedValue::Enum(e, v),
            Value::Grade(s, g) => OwnedValue::Grade(s, g),
            Value::Obj(o) => OwnedValue::Obj(o),
            Value::List(l) => OwnedValue::List(l),
            Value::Members(m) => OwnedValue::Members(m.into()),
            Value::Key(k) => OwnedValue::Key(k.clone()),
        }
    }
}

/// An owned [`Value`]: what a caller stores in a derived-value column.
#[derive(Clone, Debug, PartialEq)]
pub enum OwnedValue {
    /// See [`Value::Missing`].
    Missing(Option<Box<str>>),
    /// See [`Value::Bool`].
    Bool(bool),
    /// See [`Value::Num`].
    Num(Number),
    /// See [`Value::Str`].
    Str(Box<str>),
    /// See [`Value::Year`].
    Year(i32),
    /// See [`Value::Enum`].
    Enum(EnumId, u16),
    /// See [`Value::Grade`].
    Grade(ScaleId, u16),
    /// See [`Value::Obj`].
    Obj(Obj),
    /// See [`Value::List`].
    List(ListRef),
    /// See [`Value::Members`].
    Members(Box<[Obj]>),
    /// See [`Value::Key`].
    Key(Key),
}

impl OwnedValue {
    /// Borrows this as a [`Value`].
    pub fn as_value(&self) -> Value<'_> {
        match self {
            OwnedValue::Missing(r) => Value::Missing(r.as_deref()),
            OwnedValue::Bool(b) => Value::Bool(*b),
            OwnedValue::Num(n) => Value::Num(*n),
            OwnedValue::Str(s) => Value::Str(s),
            OwnedValue::Year(y) => Value::Year(*y),
            OwnedValue::Enum(e, v) => Value::Enum(*e, *v),
            OwnedValue::Grade(s, g) => Value::Grade(*s, *g),
            OwnedValue::Obj(o) => Value::Obj(*o),
            OwnedValue::List(l) => Value::List(*l),
            OwnedValue::Members(m) => Value::Members(m),
            OwnedValue::Key(k) => Value::Key(k),
        }
    }
}

/// One component of a group key. Numbers compare by value (`0.70` and `70%`
/// are the same key).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyPart {
    /// A boolean.
    Bool(bool),
    /// A number.
    Num(Number),
    /// A string.
    Str(Box<str>),
    /// A year.
    Year(i32),
    /// An enumeration value.
    Enum(EnumId, u16),
    /// A grade.
    Grade(ScaleId, u16),
    /// An object.
    Obj(Obj),
}

/// The key of a group rule: one part per component of `by (a, b, …)`.
/// A group rule runs once per distinct key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key(pub Box<[KeyPart]>);

impl KeyPart {
    /// The part of a key for `v`; `None` for missing values and lists, which
    /// cannot be keys.
    pub fn from_value(v: Value<'_>) -> Option<KeyPart> {
        Some(match v {
            Value::Bool(b) => KeyPart::Bool(b),
            Value::Num(n) => KeyPart::Num(n.reduced()),
            Value::Str(s) => KeyPart::Str(s.into()),
            Value::Year(y) => KeyPart::Year(y),
            Value::Enum(e, i) => KeyPart::Enum(e, i),
            Value::Grade(s, g) => KeyPart::Grade(s, g),
            Value::Obj(o) => KeyPart::Obj(o),
            Value::Missing(_) | Value::List(_) | Value::Members(_) | Value::Key(_) => return None,
        })
    }

    /// Borrows this part as a [`Value`].
    pub fn as_value(&self) -> Value<'_> {
        match self {
            KeyPart::Bool(b) => Value::Bool(*b),
            KeyPart::Num(n) => Value::Num(*n),
            KeyPart::Str(s) => Value::Str(s),
            KeyPart::Year(y) => Value::Year(*y),
            KeyPart::Enum(e, i) => Value::Enum(*e, *i),
            KeyPart::Grade(s, g) => Value::Grade(*s, *g),
            KeyPart::Obj(o) => Value::Obj(*o),
        }
    }
}
