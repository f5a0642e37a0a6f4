//! Exact numbers of the rule language.
//!
//! A [`Number`] is a fraction `num / den` of two `i64`s with `den > 0`,
//! **not kept reduced**. This is the representation that makes the hot path
//! of the grade rules both exact and cheap:
//!
//! - Plan values are decimals (`61.4` is `614 / 10`, `90%` is `90 / 100`), so
//!   every literal and every loaded value is exact.
//! - Division is exact and costs two multiplications: `a/b ÷ c/d` is
//!   `(a·d) / (b·c)`; nothing is ever rounded, so `35.0 / 50 == 70%` holds and
//!   `61.4 / 70.0 >= 90%` is decided exactly.
//! - Comparison is cross-multiplication in `i128` (`a·d` vs `c·b`), which can
//!   never overflow for `i64` operands: `rate >= 90%` needs no division and
//!   no gcd.
//! - Reduction by the gcd happens only when a result does not fit in `i64`
//!   (and for hashing), so the common path never pays for it.
//!
//! A result that does not fit even after reduction is an overflow
//! ([`ArithError::Overflow`]), reported by the evaluator as a runtime error
//! rather than silently rounded.
//!
//! This module must not know anything about the language: it is arithmetic
//! only, and must never panic.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// An exact rational number; see the module documentation.
#[derive(Clone, Copy)]
pub struct Number {
    num: i64,
    /// Always > 0.
    den: i64,
}

/// Why an arithmetic operation has no result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithError {
    /// Division by zero.
    DivisionByZero,
    /// The exact result does not fit in 64-bit numerator and denominator.
    Overflow,
}

/// Why a text is not a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseNumberError;

impl fmt::Display for ParseNumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a number")
    }
}

impl std::error::Error for ParseNumberError {}

fn gcd_u128(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

/// Builds `n / d` from `i128` parts (with `d != 0`), reducing only if needed
/// to fit in `i64`.
#[inline]
fn fit(mut n: i128, mut d: i128) -> Result<Number, ArithError> {
    if d < 0 {
        n = -n;
        d = -d;
    }
    if let (Ok(num), Ok(den)) = (i64::try_from(n), i64::try_from(d)) {
        return Ok(Number { num, den });
    }
    fit_slow(n, d)
}

#[cold]
fn fit_slow(n: i128, d: i128) -> Result<Number, ArithError> {
    let g = gcd_u128(n.unsigned_abs(), d.unsigned_abs());
    // g >= 1 because d != 0; the quotients are exact.
    let g = g as i128;
    let (n, d) = (n / g, d / g);
    match (i64::try_from(n), i64::try_from(d)) {
        (Ok(num), Ok(den)) => Ok(Number { num, den }),
        _ => Err(ArithError::Overflow),
    }
}

/// `10^k` for every `k` whose power fits in `i64` (plan values are read
/// through [`Number::from_decimal`], one per value).
const POWERS_OF_TEN: [i64; 19] = {
    let mut p = [1i64; 19];
    let mut k = 1;
    while k < 19 {
        p[k] = p[k - 1] * 10;
        k += 1;
    }
    p
};

impl Number {
    /// Zero.
    pub const ZERO: Number = Number { num: 0, den: 1 };
    /// One.
    pub const ONE: Number = Number { num: 1, den: 1 };

    /// An integer.
    pub const fn from_i64(n: i64) -> Number {
        Number { num: n, den: 1 }
    }

    /// The same number, rebuilt from its two words (so that a copy reads
    /// them one at a time: see `eval/batch.rs`).
    #[inline(always)]
    pub(crate) fn by_words(self) -> Number {
        Number {
            num: self.num,
            den: self.den,
        }
    }

    /// `num / den`; `None` when `den` is zero.
    pub fn ratio(num: i64, den: i64) -> Option<Number> {
        if den == 0 {
            return None;
        }
        fit(num as i128, den as i128).ok()
    }

    /// A decimal `mantissa × 10^-scale` (`from_decimal(614, 1)` is `61.4`);
    /// `None` when `10^scale` does not fit in `i64` (scale > 18).
    #[inline]
    pub fn from_decimal(mantissa: i64, scale: u32) -> Option<Number> {
        let den = *POWERS_OF_TEN.get(scale as usize)?;
        Some(Number { num: mantissa, den })
    }

    /// Parses a decimal as written in rule files and plan files: an optional
    /// sign, digits with optional `_` separators, an optional fraction, and an
    /// optional trailing `%` (which divides by 100): `-490`, `61.4`, `1_000`,
    /// `90%`, `12.5%`.
    pub fn parse(text: &str) -> Result<Number, ParseNumberError> {
        let text = text.trim();
        let (text, percent) = match text.strip_suffix('%') {
            Some(t) => (t.trim_end(), true),
            None => (text, false),
        };
        let (negative, digits) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (int_part, frac_part) = match digits.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (digits, None),
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit() || b == b'_')
                && s.bytes().any(|b| b.is_ascii_digit())
                && !s.starts_with('_')
                && !s.ends_with('_')
        };
        if !valid(int_part) || frac_part.is_some_and(|f| !valid(f)) {
            return Err(ParseNumberError);
        }
        let mut num: i128 = 0;
        let mut den: i128 = if percent { 100 } else { 1 };
        for b in int_part.bytes().filter(|b| *b != b'_') {
            num = num
                .checked_mul(10)
                .and_then(|n| n.checked_add((b - b'0') as i128))
                .ok_or(ParseNumberError)?;
        }
        for b in frac_part.unwrap_or("").bytes().filter(|b| *b != b'_') {
            num = num
                .checked_mul(10)
                .and_then(|n| n.checked_add((b - b'0') as i128))
                .ok_or(ParseNumberError)?;
            den = den.checked_mul(10).ok_or(ParseNumberError)?;
        }
        if negative {
            num = -num;
        }
        fit(num, den).map_err(|_| ParseNumberError)
    }

    /// The numerator as stored (not necessarily reduced).
    pub fn numer(self) -> i64 {
        self.num
    }

    /// The denominator as stored (> 0, not necessarily reduced).
    pub fn denom(self) -> i64 {
        self.den
    }

    /// The same number in lowest terms.
    pub fn reduced(self) -> Number {
        let g = gcd_u128(self.num.unsigned_abs() as u128, self.den as u128);
        // g >= 1 since den >= 1; both quotients fit since |x / g| <= |x|.
        let g = g as i64;
        Number {
            num: self.num / g,
            den: self.den / g,
        }
    }

    /// Whether this is zero.
    #[inline]
    pub fn is_zero(self) -> bool {
        self.num == 0
    }

    /// Whether this is an integer.
    pub fn is_integer(self) -> bool {
        self.num % self.den == 0
    }

    /// The integer value, when this is an integer.
    pub fn to_i64(self) -> Option<i64> {
        if self.num % self.den == 0 {
            Some(self.num / self.den)
        } else {
            None
        }
    }

    /// The nearest `f64`, for reports and charts (never for decisions).
    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// `self + rhs`.
    #[inline]
    pub fn checked_add(self, rhs: Number) -> Result<Number, ArithError> {
        if self.den == rhs.den {
            if let Some(num) = self.num.checked_add(rhs.num) {
                return Ok(Number { num, den: self.den });
            }
        }
        let n = self.num as i128 * rhs.den as i128 + rhs.num as i128 * self.den as i128;
        fit(n, self.den as i128 * rhs.den as i128)
    }

    /// `self - rhs`.
    #[inline]
    pub fn checked_sub(self, rhs: Number) -> Result<Number, ArithError> {
        self.checked_add(rhs.checked_neg()?)
    }

    /// `self × rhs`.
    #[inline]
    pub fn checked_mul(self, rhs: Number) -> Result<Number, ArithError> {
        fit(
            self.num as i128 * rhs.num as i128,
            self.den as i128 * rhs.den as i128,
        )
    }

    /// `self ÷ rhs`, exact.
    #[inline]
    pub fn checked_div(self, rhs: Number) -> Result<Number, ArithError> {
        if rhs.num == 0 {
            return Err(ArithError::DivisionByZero);
        }
        fit(
            self.num as i128 * rhs.den as i128,
            self.den as i128 * rhs.num as i128,
        )
    }

    /// `-self`.
    #[inline]
    pub fn checked_neg(self) -> Result<Number, ArithError> {
        match self.num.checked_neg() {
            Some(num) => Ok(Number { num, den: self.den }),
            None => fit(-(self.num as i128), self.den as i128),
        }
    }

    /// `|self|`.
    pub fn abs(self) -> Result<Number, ArithError> {
        if self.num < 0 {
            self.checked_neg()
        } else {
            Ok(self)
        }
    }

    /// Rounds to `digits` decimal places, halves away from zero (四捨五入,
    /// the rounding Japanese plan documents use). Negative `digits` round to
    /// tens, hundreds, ….
    pub fn round(self, digits: i32) -> Result<Number, ArithError> {
        let pow = |d: u32| 10i128.checked_pow(d).ok_or(ArithError::Overflow);
        // Scale so that the rounding happens at the units place:
        // x · 10^digits, rounded to an integer, then ÷ 10^digits.
        let (scaled_num, scaled_den) = if digits >= 0 {
            let scaled = (self.num as i128).checked_mul(pow(digits as u32)?);
            (scaled.ok_or(ArithError::Overflow)?, self.den as i128)
        } else {
            let scaled = (self.den as i128).checked_mul(pow(digits.unsigned_abs())?);
            (self.num as i128, scaled.ok_or(ArithError::Overflow)?)
        };
        let q = scaled_num / scaled_den;
        let r = scaled_num % scaled_den;
        // |r| * 2 >= den means round away from zero.
        let q = if r.unsigned_abs() * 2 >= scaled_den.unsigned_abs() {
            q + scaled_num.signum()
        } else {
            q
        };
        if digits >= 0 {
            fit(q, pow(digits as u32)?)
        } else {
            let back = q.checked_mul(pow(digits.unsigned_abs())?);
            fit(back.ok_or(ArithError::Overflow)?, 1)
        }
    }

    /// The smaller of two numbers.
    pub fn min(self, rhs: Number) -> Number {
        if rhs < self {
            rhs
        } else {
            self
        }
    }

    /// The larger of two numbers.
    pub fn max(self, rhs: Number) -> Number {
        if rhs > self {
            rhs
        } else {
            self
        }
    }

    /// The midpoint of two numbers (used by the scale checker to name a value
    /// that falls between two bands).
    pub fn midpoint(self, rhs: Number) -> Result<Number, ArithError> {
        self.checked_add(rhs)?.checked_div(Number::from_i64(2))
    }
}

impl PartialEq for Number {
    #[inline]
    fn eq(&self, other: &Number) -> bool {
        self.num as i128 * other.den as i128 == other.num as i128 * self.den as i128
    }
}

impl Eq for Number {}

impl PartialOrd for Number {
    #[inline]
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Number {
    #[inline]
    fn cmp(&self, other: &Number) -> Ordering {
        // Both denominators are positive, so cross-multiplication keeps the
        // order; i64 × i64 always fits in i128.
        (self.num as i128 * other.den as i128).cmp(&(other.num as i128 * self.den as i128))
    }
}

impl Hash for Number {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Equal numbers may be stored differently (7/10 and 70/100): hash the
        // lowest terms so that Hash agrees with Eq.
        let r = self.reduced();
        r.num.hash(state);
        r.den.hash(state);
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// Decimal places shown for a number whose decimal expansion does not end
/// (`238 / 300`); a rule that needs another precision uses `round(x, n)`.
const DISPLAY_PLACES: u32 = 6;

impl fmt::Display for Number {
    /// Exact decimal when the expansion ends within 18 places (`61.4`,
    /// `0.7`, `-490`), otherwise rounded to six places (`0.793333`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.reduced();
        // Count the decimal places needed: den must be 2^a 5^b.
        let mut d = r.den;
        let (mut twos, mut fives) = (0u32, 0u32);
        while d % 2 == 0 {
            d /= 2;
            twos += 1;
        }
        while d % 5 == 0 {
            d /= 5;
            fives += 1;
        }
        let places = twos.max(fives);
        let (value, places) = if d == 1 && places <= 18 {
            (r, places)
        } else {
            match r.round(DISPLAY_PLACES as i32) {
                Ok(v) => (v, DISPLAY_PLACES),
                Err(_) => return write!(f, "{}", r.to_f64()),
            }
        };
        // value × 10^places is an integer now.
        let scaled = value.num as i128 * 10i128.pow(places) / value.den as i128;
        let negative = scaled < 0;
        let digits = scaled.unsigned_abs().to_string();
        let places = places as usize;
        let (int_part, frac_part) = if digits.len() > places {
            let (i, fr) = digits.split_at(digits.len() - places);
            (i.to_string(), fr.to_string())
        } else {
            ("0".to_string(), format!("{digits:0>places$}"))
        };
        let frac_part = frac_part.trim_end_matches('0');
        if negative {
            f.write_str("-")?;
        }
        f.write_str(&int_part)?;
        if !frac_part.is_empty() {
            write!(f, ".{frac_part}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn parse_forms() {
        assert_eq!(n("61.4"), Number::ratio(614, 10).unwrap());
        assert_eq!(n("90%"), Number::ratio(9, 10).unwrap());
        assert_eq!(n("1_000"), Number::from_i64(1000));
        assert_eq!(n("-490"), Number::from_i64(-490));
        assert_eq!(n("12.5%"), Number::ratio(1, 8).unwrap());
        for bad in [
            "",
            "-",
            "1.",
            ".5",
            "1_",
            "a",
            "1e3",
            "1..2",
            "%",
            "99999999999999999999",
        ] {
            assert!(Number::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn decimals_of_every_scale() {
        for scale in 0..=18u32 {
            let n = Number::from_decimal(7, scale).unwrap();
            assert_eq!(n.denom(), 10i64.pow(scale));
            assert_eq!(n.numer(), 7);
        }
        assert!(Number::from_decimal(7, 19).is_none());
        assert!(Number::from_decimal(7, u32::MAX).is_none());
    }

    #[test]
    fn exact_division() {
        assert_eq!(n("35.0").checked_div(n("50")).unwrap(), n("70%"));
        assert!(n("61.4").checked_div(n("70.0")).unwrap() < n("90%"));
        assert!(n("63").checked_div(n("70")).unwrap() >= n("90%"));
        assert_eq!(
            n("1")
                .checked_div(n("3"))
                .unwrap()
                .checked_mul(n("3"))
                .unwrap(),
            Number::ONE
        );
        assert_eq!(n("1").checked_div(n("0")), Err(ArithError::DivisionByZero));
    }

    #[test]
    fn display() {
        assert_eq!(n("61.4").to_string(), "61.4");
        assert_eq!(n("35.0").checked_div(n("50")).unwrap().to_string(), "0.7");
        assert_eq!(
            n("238").checked_div(n("300")).unwrap().to_string(),
            "0.793333"
        );
        assert_eq!(n("-490").to_string(), "-490");
        assert_eq!(n("-0.05").to_string(), "-0.05");
        assert_eq!(
            n("2")
                .checked_div(n("3"))
                .unwrap()
                .checked_neg()
                .unwrap()
                .to_string(),
            "-0.666667"
        );
    }

    #[test]
    fn rounding() {
        assert_eq!(n("0.79333").round(1).unwrap(), n("0.8"));
        assert_eq!(n("2.5").round(0).unwrap(), n("3"));
        assert_eq!(n("-2.5").round(0).unwrap(), n("-3"));
        assert_eq!(n("1234").round(-2).unwrap(), n("1200"));
        assert_eq!(n("1250").round(-2).unwrap(), n("1300"));
    }

    #[test]
    fn overflow_is_reported_not_wrapped() {
        let big = Number::from_i64(i64::MAX);
        assert_eq!(big.checked_add(big), Err(ArithError::Overflow));
        assert_eq!(
            Number::from_i64(i64::MIN).checked_neg(),
            Err(ArithError::Overflow)
        );
        // Lazy reduction: 10 additions of tenths and hundredths stay exact.
        let mut sum = Number::ZERO;
        for _ in 0..1000 {
            sum = sum
                .checked_add(n("0.1"))
                .unwrap()
                .checked_add(n("0.01"))
                .unwrap();
        }
        assert_eq!(sum, n("110"));
    }

    #[test]
    fn hash_agrees_with_eq() {
        use std::collections::hash_map::DefaultHasher;
        let h = |x: Number| {
            let mut s = DefaultHasher::new();
            x.hash(&mut s);
            s.finish()
        };
        assert_eq!(h(n("0.70")), h(n("70%")));
    }
}
