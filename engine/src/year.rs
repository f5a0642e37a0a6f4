//! Years as plan files write them: Gregorian (`2025`, `"2025年度"`) or
//! Japanese era (`"R6"`, `"H30"`, `"R元"`, `"令和6年度"`), normalised to a
//! Gregorian year.
//!
//! This module only interprets text; it does not know where the text came
//! from or report diagnostics (the loader does).

/// A Japanese era: its Latin initial, its name and the Gregorian year of its
/// first year (元年), plus its last year, so out-of-era years are refused.
struct Era {
    initials: &'static [&'static str],
    first: i32,
    last_year_number: i32,
}

const ERAS: &[Era] = &[
    Era {
        initials: &["R", "令和"],
        first: 2019,
        last_year_number: 99,
    },
    Era {
        initials: &["H", "平成"],
        first: 1989,
        last_year_number: 31,
    },
    Era {
        initials: &["S", "昭和"],
        first: 1926,
        last_year_number: 64,
    },
];

/// Why a year text could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YearError {
    /// Not a year in any accepted form.
    Unreadable,
    /// An era year outside the era (`H32`, `R0`).
    OutsideEra { era: &'static str, max: i32 },
    /// A Gregorian year outside the plausible range.
    OutOfRange,
}

/// The range of Gregorian years accepted; plans outside it are typos.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// Parses a year written as text.
pub fn parse_year(text: &str) -> Result<i32, YearError> {
    // Full-width era letters (`Ｒ６`), as documents typed in Japanese print them.
    let halfwidth: String = text
        .chars()
        .map(|c| match c {
            'Ａ'..='Ｚ' => char::from(b'A' + (c as u32 - 'Ａ' as u32) as u8),
            'ａ'..='ｚ' => char::from(b'a' + (c as u32 - 'ａ' as u32) as u8),
            _ => c,
        })
        .collect();
    let mut t = halfwidth.trim();
    for suffix in ["年度末値", "年度末", "年度", "年"] {
        if let Some(rest) = t.strip_suffix(suffix) {
            t = rest.trim_end();
            break;
        }
    }
    for era in ERAS {
        for initial in era.initials {
            if let Some(rest) = t.strip_prefix(initial) {
                let rest = rest.trim();
                let n = if rest == "元" {
                    1
                } else {
                    parse_digits(rest).ok_or(YearError::Unreadable)?
                };
                if n < 1 || n > era.last_year_number {
                    return Err(YearError::OutsideEra {
                        era: era.initials[1],
                        max: era.last_year_number,
                    });
                }
                return Ok(era.first + n - 1);
            }
        }
    }
    let n = parse_digits(t).ok_or(YearError::Unreadable)?;
    check_range(n)
}

/// Checks a Gregorian year given as a number.
pub fn check_range(year: i32) -> Result<i32, YearError> {
    if YEARS.contains(&year) {
        Ok(year)
    } else {
        Err(YearError::OutOfRange)
    }
}

/// ASCII or full-width digits (plans copied from documents carry both).
fn parse_digits(s: &str) -> Option<i32> {
    if s.is_empty() || s.chars().count() > 4 {
        return None;
    }
    let mut n: i32 = 0;
    for c in s.chars() {
        let d = match c {
            '0'..='9' => c as u32 - '0' as u32,
            '０'..='９' => c as u32 - '０' as u32,
            _ => return None,
        };
        n = n * 10 + d as i32;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eras_and_gregorian() {
        assert_eq!(parse_year("R6"), Ok(2024));
        assert_eq!(parse_year("R元"), Ok(2019));
        assert_eq!(parse_year("R1"), Ok(2019));
        assert_eq!(parse_year("H30"), Ok(2018));
        assert_eq!(parse_year("H31"), Ok(2019));
        assert_eq!(parse_year("令和6年度"), Ok(2024));
        assert_eq!(parse_year("R６年度末値"), Ok(2024));
        assert_eq!(parse_year("2025年度"), Ok(2025));
        assert_eq!(parse_year("S64"), Ok(1989));
        assert_eq!(parse_year("Ｒ６"), Ok(2024));
        assert_eq!(parse_year("Ｈ３０年度"), Ok(2018));
        assert_eq!(parse_year("令和元年"), Ok(2019));
    }

    #[test]
    fn refuses_impossible_years() {
        assert_eq!(
            parse_year("H32"),
            Err(YearError::OutsideEra {
                era: "平成",
                max: 31
            })
        );
        assert!(matches!(
            parse_year("R0"),
            Err(YearError::OutsideEra { .. })
        ));
        assert_eq!(parse_year("X5"), Err(YearError::Unreadable));
        assert_eq!(parse_year("20255"), Err(YearError::Unreadable));
        assert_eq!(parse_year("1200"), Err(YearError::OutOfRange));
        assert_eq!(parse_year(""), Err(YearError::Unreadable));
    }
}
