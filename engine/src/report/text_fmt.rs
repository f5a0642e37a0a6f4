//! Small formatting helpers shared by the builder and the renderers:
//! exact numbers to percentages and decimals, Japanese labels for the plan
//! model's enumerations, and display width of Japanese text.

use hyoka_dsl::Number;
use unicode_width::UnicodeWidthStr;

use super::data::{Dec, Percent};

/// `n` as a percentage with one decimal, rounded half away from zero
/// (238/300 → 79.3).
pub fn percent(n: Number) -> Option<Percent> {
    let num = n.numer() as i128 * 1000;
    let den = n.denom() as i128;
    if den == 0 {
        return None;
    }
    let (q, r) = (num / den, num % den);
    let q = if 2 * r.abs() >= den.abs() {
        q + num.signum() * den.signum()
    } else {
        q
    };
    i64::try_from(q).ok().map(Percent)
}

/// A percentage as short text: `90%`, `79.3%`.
pub fn percent_short(p: Percent) -> String {
    let s = p.to_string();
    format!("{}%", s.strip_suffix(".0").unwrap_or(&s))
}

/// `n` as exact decimal text when it has at most `places` decimals,
/// otherwise rounded (half away from zero) to `places`.
pub fn dec(n: Number, places: u32) -> Dec {
    let text = n.to_string();
    let decimals = text.split_once('.').map_or(0, |(_, f)| f.len());
    if decimals as u32 <= places {
        return Dec(text);
    }
    match n.round(places as i32) {
        Ok(r) => Dec(r.to_string()),
        Err(_) => Dec(text),
    }
}

/// A plan decimal as written.
pub fn decimal(d: crate::model::Decimal) -> Dec {
    Dec(d.to_string())
}

/// 増加 / 減少 / 維持.
pub fn direction_ja(d: &str) -> &'static str {
    match d {
        "increase" => "増加",
        "decrease" => "減少",
        "maintain" => "維持",
        _ => "",
    }
}

/// 新規 / 継続 / 完了.
pub fn status_ja(s: &str) -> &'static str {
    match s {
        "new" => "新規",
        "completed" => "完了",
        _ => "継続",
    }
}

/// 計画 / 基本目標 / 基本方針 / 施策 / 事業.
pub fn level_ja(s: &str) -> &'static str {
    match s {
        "plan" => "計画全体",
        "goal" => "基本目標",
        "policy" => "基本方針",
        "measure" => "施策",
        "project" => "事業",
        "indicator" => "指標",
        _ => "",
    }
}

/// 向上 / 低下 / 変化.
pub fn change_ja(s: &str) -> &'static str {
    match s {
        "improved" => "向上",
        "worsened" => "低下",
        _ => "変化",
    }
}

/// 重大 / 警告 / 情報.
pub fn severity_ja(s: &str) -> &'static str {
    match s {
        "error" => "エラー",
        "warning" => "警告",
        _ => "情報",
    }
}

/// The plan kind in Japanese.
pub fn plan_kind_ja(s: &str) -> &'static str {
    match s {
        "top" => "最上位計画",
        "sectoral" => "分野別計画",
        "strategy" => "総合戦略",
        "wide_area" => "広域計画",
        "budget_policy" => "予算編成方針",
        _ => "",
    }
}

/// Display width in a monospace terminal (full-width characters count 2).
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` padded with spaces to display width `w` (left-aligned).
pub fn pad_right(s: &str, w: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(s))));
    out
}

/// `s` padded with spaces to display width `w` (right-aligned).
pub fn pad_left(s: &str, w: usize) -> String {
    let mut out: String = std::iter::repeat_n(' ', w.saturating_sub(width(s))).collect();
    out.push_str(s);
    out
}

/// `s` cut to display width `w`, ending in `…` when cut.
pub fn truncate(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + cw + 1 > w {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(a: i64, b: i64) -> Number {
        Number::ratio(a, b).unwrap()
    }

    #[test]
    fn percent_rounds_half_away_from_zero() {
        assert_eq!(percent(n(238, 300)).unwrap().to_string(), "79.3");
        assert_eq!(percent(n(1, 8)).unwrap().to_string(), "12.5");
        assert_eq!(percent(n(1, 16)).unwrap().to_string(), "6.3");
        assert_eq!(percent(n(-1, 16)).unwrap().to_string(), "-6.3");
        assert_eq!(percent(n(1, 1)).unwrap().to_string(), "100.0");
        assert_eq!(percent(n(2, 3)).unwrap().to_string(), "66.7");
        assert_eq!(percent(n(-2, 3)).unwrap().to_string(), "-66.7");
        assert_eq!(percent_short(percent(n(9, 10)).unwrap()), "90%");
    }

    #[test]
    fn decimals_are_exact_or_rounded() {
        assert_eq!(dec(n(614, 10), 2).0, "61.4");
        assert_eq!(dec(n(2000, 3), 2).0, "666.67");
        assert_eq!(dec(n(-490, 1), 2).0, "-490");
        assert_eq!(Dec("454897".into()).grouped(), "454,897");
        assert_eq!(Dec("-1128.5".into()).grouped(), "-1,128.5");
        assert_eq!(Dec("839".into()).grouped(), "839");
    }

    #[test]
    fn japanese_text_is_two_columns_wide() {
        assert_eq!(width("未算出"), 6);
        assert_eq!(pad_right("A", 3), "A  ");
        assert_eq!(pad_left("情報", 6), "  情報");
        assert_eq!(truncate("こおりやま広域圏", 7), "こおり…");
    }
}
