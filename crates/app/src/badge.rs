//! The streak badge, `streak | 1,459 days`: one SVG for the server's `/badge.svg` and the
//! published `badge.svg`. It lives here, as a pure function of the streak answer, so that the CLI
//! can write it without depending on the server.
//!
//! It is written by hand rather than with the server's template engine (the app layer has none):
//! every interpolated value goes through [`xml_escape`].

use myrunstreak_domain::StreakStatus;

use crate::queries::StreakResponse;

/// The SVG namespace, on the badge's root element.
pub const SVG_NAMESPACE: &str = "http://www.w3.org/2000/svg";

/// Escapes text for XML content and double-quoted attribute values.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An embeddable badge: `streak | 1,459 days`, green when today is done, amber while it is at
/// risk, grey without a streak.
pub fn svg(s: &StreakResponse) -> String {
    let n = s.current.days;
    let value = xml_escape(&format!("{n} day{}", if n == 1 { "" } else { "s" }));
    let colour = match s.current.status {
        StreakStatus::Done => "#2ea043",
        StreakStatus::AtRisk => "#e3a008",
        StreakStatus::None => "#8b949e",
    };
    let left = 52;
    let right = 12 + value.len() * 7;
    let width = left + right;
    format!(
        concat!(
            r#"<svg xmlns="{ns}" width="{width}" height="20" role="img" aria-label="running streak: {value}">"#,
            r#"<title>running streak: {value}</title>"#,
            r##"<rect width="{left}" height="20" fill="#555"></rect>"##,
            r#"<rect x="{left}" width="{right}" height="20" fill="{colour}"></rect>"#,
            r##"<g fill="#fff" font-family="Verdana,sans-serif" font-size="11">"##,
            r#"<text x="6" y="14">streak</text>"#,
            r#"<text x="{x}" y="14">{value}</text>"#,
            "</g></svg>"
        ),
        ns = SVG_NAMESPACE,
        width = width,
        value = value,
        left = left,
        right = right,
        colour = colour,
        x = left + 6,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            xml_escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
