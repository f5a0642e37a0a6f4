//! Byte ranges into a rule file's source text, and the [`Node`] wrapper that
//! attaches one to every syntax tree node.
//!
//! A [`Span`] is a pair of byte offsets into the exact text handed to
//! [`crate::syntax::parse`]; it knows nothing about lines, columns or file
//! names (miette computes those when a diagnostic is rendered). This module
//! must not depend on pest: spans outlive the parser.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, Range};

/// A byte range `start..end` into a rule file's source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// The range `start..end`; `end` is clamped so that a span is never inverted.
    pub const fn new(start: usize, end: usize) -> Self {
        let end = if end < start { start } else { end };
        Self { start, end }
    }

    /// An empty span at `offset`, for "something is missing here" diagnostics.
    pub const fn point(offset: usize) -> Self {
        Self {
            start: offset,
            end: offset,
        }
    }

    /// Length in bytes.
    pub const fn len(self) -> usize {
        self.end - self.start
    }

    /// True for a zero-length span.
    pub const fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// True when `offset` lies inside the span (`start <= offset < end`).
    pub const fn contains(self, offset: usize) -> bool {
        self.start <= offset && offset < self.end
    }

    /// The span moved `by` bytes to the right.
    pub const fn shift(self, by: usize) -> Span {
        Span {
            start: self.start + by,
            end: self.end + by,
        }
    }

    /// The text the span covers, or `""` if it does not fit `text` (a span
    /// from another file must not panic).
    pub fn slice(self, text: &str) -> &str {
        text.get(self.start..self.end).unwrap_or("")
    }
}

impl From<Range<usize>> for Span {
    fn from(range: Range<usize>) -> Self {
        Span::new(range.start, range.end)
    }
}

impl From<Span> for Range<usize> {
    fn from(span: Span) -> Self {
        span.start..span.end
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start, span.len()).into()
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A syntax tree node of type `T` with the span of the source it came from.
///
/// Equality and hashing look at `node` only, so two trees parsed from
/// differently laid out text compare equal (the formatter's tests rely on it).
#[derive(Clone, Debug)]
pub struct Node<T> {
    /// The node itself.
    pub node: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Node<T> {
    /// Wraps `node` with `span`.
    pub const fn new(node: T, span: Span) -> Self {
        Self { node, span }
    }

    /// Replaces the node, keeping the span.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Node<U> {
        Node {
            node: f(self.node),
            span: self.span,
        }
    }

    /// A node borrowing this one's contents, with the same span.
    pub fn as_ref(&self) -> Node<&T> {
        Node {
            node: &self.node,
            span: self.span,
        }
    }
}

impl<T: PartialEq> PartialEq for Node<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

impl<T: Eq> Eq for Node<T> {}

impl<T: Hash> Hash for Node<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.node.hash(state);
    }
}

impl<T> Deref for Node<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.node
    }
}

impl<T: fmt::Display> fmt::Display for Node<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_ignores_spans() {
        assert_eq!(Node::new(1, Span::new(0, 1)), Node::new(1, Span::new(5, 9)));
        assert_ne!(Node::new(1, Span::new(0, 1)), Node::new(2, Span::new(0, 1)));
    }

    #[test]
    fn span_helpers() {
        let a = Span::new(3, 5);
        assert_eq!(a.to(Span::new(8, 10)), Span::new(3, 10));
        assert_eq!(Span::new(5, 3), Span::point(5));
        assert_eq!(a.slice("0123456"), "34");
        assert_eq!(Span::new(10, 20).slice("short"), "");
        assert_eq!(a.shift(2), Span::new(5, 7));
    }
}
