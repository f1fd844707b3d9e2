//! Which control characters text from outside may carry: the one rule every input surface
//! applies before the text reaches a check, a log line, a CSV file or the database. The
//! surfaces each apply it in one place, by the name of the field: OAuth/OIDC parameters and
//! the pages' forms (`oidc/params.rs`, through the web extractors), admin API JSON bodies,
//! query strings and paths (`web/admin_api/mod.rs`), RFC 7591/7592 registration JSON
//! (`web/registration.rs`), HR import cells (`directory/import/parse.rs`), and command-line
//! arguments (`cli/`).
//!
//! - **NUL is refused everywhere.** No value Pintu accepts gives it a meaning, PostgreSQL
//!   cannot store it in `text` (SQLite can), and C code reads it as the end of a string.
//!   Refusing it at the edge makes both backends answer alike, with the surface's own error.
//! - **`Line`**, the default (identifiers, names, codes, URIs, tokens, e-mail addresses,
//!   titles): no C0 control (U+0000 to U+001F) and no DEL (U+007F). A TAB or a line break in
//!   such a value can only be a mistake or an attempt to forge a log line or a CSV row.
//! - **`Multiline`** (free text such as a role's description, and JSON documents sent as one
//!   value: the OIDC `claims` parameter, a passkey's answer): TAB, LF and CR are allowed (they
//!   are line breaks and JSON whitespace); every other C0 control and DEL are not.
//! - **`Secret`** (passwords, client secrets): only NUL is refused. A secret is hashed and
//!   compared, never shown or interpreted, and refusing more at sign-in could lock out someone
//!   whose password was set before this rule. The password policy refuses every control
//!   character in a password chosen from now on.
//!
//! C1 controls (U+0080 to U+009F) and the rest of Unicode are left to each field's own checks.

use std::fmt;

use serde_json::Value;

/// How much of the C0 range a value may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    Line,
    Multiline,
    Secret,
}

/// A control character the field's rule refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlCharacter(pub char);

impl fmt::Display for ControlCharacter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "contains the control character U+{:04X}", u32::from(self.0))
    }
}

impl std::error::Error for ControlCharacter {}

impl TextKind {
    fn refuses(self, c: char) -> bool {
        match self {
            TextKind::Line => c.is_ascii_control(),
            TextKind::Multiline => c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r'),
            TextKind::Secret => c == '\0',
        }
    }
}

/// `Err` with the first character of `text` that `kind` refuses.
pub fn check_text(kind: TextKind, text: &str) -> Result<(), ControlCharacter> {
    match text.chars().find(|&c| kind.refuses(c)) {
        Some(c) => Err(ControlCharacter(c)),
        None => Ok(()),
    }
}

/// Checks every member name (as `Line`) and every string of a JSON document; a string gets
/// the kind `kind_of` gives for the name of the member it is in (array items inherit it; the
/// document itself is `kind_of("")`). `Err` names the path of the first refused value, like
/// `redirect_uris[0]` or `jwks.keys[1].kid`.
pub fn check_json(value: &Value, kind_of: &dyn Fn(&str) -> TextKind) -> Result<(), (String, ControlCharacter)> {
    walk(value, "", "", kind_of)
}

fn walk(
    value: &Value,
    path: &str,
    member: &str,
    kind_of: &dyn Fn(&str) -> TextKind,
) -> Result<(), (String, ControlCharacter)> {
    match value {
        Value::String(s) => check_text(kind_of(member), s).map_err(|e| (path.to_owned(), e)),
        Value::Array(items) => {
            items.iter().enumerate().try_for_each(|(i, item)| walk(item, &format!("{path}[{i}]"), member, kind_of))
        }
        Value::Object(members) => members.iter().try_for_each(|(name, item)| {
            let inner = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
            // A refused name is shown escaped, so the error never carries the character.
            check_text(TextKind::Line, name).map_err(|e| (inner.escape_debug().to_string(), e))?;
            walk(item, &inner, name, kind_of)
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

/// Characters that make a spreadsheet read a cell as a formula (OWASP "CSV Injection": `=`,
/// `+`, `-`, `@`, and TAB and CR, after which some spreadsheets still see the formula).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Quotes a field when needed (RFC 4180). A field starting with a formula character is
/// prefixed with `'` first, so that spreadsheets show it as text and never run it. The lone
/// `-` that stands for "no unit or application" is Pintu's own and no formula.
pub fn csv_field(field: &str) -> String {
    let field = if field.starts_with(FORMULA_STARTS) && field != "-" { format!("'{field}") } else { field.to_owned() };
    if field.contains([',', '"', '\n', '\r']) { format!("\"{}\"", field.replace('"', "\"\"")) } else { field }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nul_is_refused_by_every_kind() {
        for kind in [TextKind::Line, TextKind::Multiline, TextKind::Secret] {
            assert_eq!(check_text(kind, "a\0b"), Err(ControlCharacter('\0')), "{kind:?}");
        }
    }

    #[test]
    fn line_breaks_and_tabs_are_allowed_only_in_multiline_text() {
        for text in ["a\tb", "a\nb", "a\r\nb"] {
            assert!(check_text(TextKind::Line, text).is_err(), "{text:?}");
            assert!(check_text(TextKind::Multiline, text).is_ok(), "{text:?}");
            assert!(check_text(TextKind::Secret, text).is_ok(), "{text:?}");
        }
        for text in ["a\u{1}b", "a\u{1b}[31mb", "a\u{7f}b"] {
            assert!(check_text(TextKind::Multiline, text).is_err(), "{text:?}");
            assert!(check_text(TextKind::Secret, text).is_ok(), "{text:?}");
        }
        assert!(check_text(TextKind::Line, "Dinas Komunikasi – Informatika ✓").is_ok());
    }

    #[test]
    fn json_errors_name_the_path_and_use_the_member_rule() {
        let kind = |name: &str| match name {
            "password" => TextKind::Secret,
            "description" => TextKind::Multiline,
            _ => TextKind::Line,
        };
        let ok = json!({ "password": "a\tb", "description": "one\ntwo", "n": 1, "list": ["x", null] });
        assert_eq!(check_json(&ok, &kind), Ok(()));
        let bad = json!({ "jwks": { "keys": [{ "kid": "k" }, { "kid": "k\u{0}" }] } });
        assert_eq!(check_json(&bad, &kind), Err(("jwks.keys[1].kid".to_owned(), ControlCharacter('\0'))));
        let bad = json!({ "redirect_uris": ["https://a.example/cb", "https://a.example/\ncb"] });
        assert_eq!(check_json(&bad, &kind).map_err(|e| e.0), Err("redirect_uris[1]".to_owned()));
        let bad_name = json!({ "na\u{0}me": "x" });
        assert_eq!(check_json(&bad_name, &kind).map_err(|e| e.0), Err("na\\0me".to_owned()));
        assert_eq!(check_json(&json!("top\u{0}"), &kind).map_err(|e| e.0), Err(String::new()));
    }
}
