//! User-facing text: Bahasa Indonesia by default, English too. Strings live in the theme's
//! `i18n/<lang>.toml`; the binary embeds the default theme's copies.

use std::collections::BTreeMap;
use std::path::Path;

/// The languages Pintu speaks, the default first.
pub const LANGUAGES: [&str; 2] = ["id", "en"];

const EMBEDDED: [(&str, &str); 2] = [
    ("id", include_str!("../../themes/default/i18n/id.toml")),
    ("en", include_str!("../../themes/default/i18n/en.toml")),
];

/// Message catalogues per language.
#[derive(Debug, Clone, Default)]
pub struct Translations {
    catalogues: BTreeMap<&'static str, BTreeMap<String, String>>,
}

impl Translations {
    /// Loads the embedded catalogues, overridden key by key by `theme_dir/i18n/<lang>.toml`.
    pub fn load(theme_dir: Option<&Path>) -> Result<Self, String> {
        let mut catalogues = BTreeMap::new();
        for (lang, text) in EMBEDDED {
            let mut catalogue = parse(text).map_err(|e| format!("embedded {lang}.toml: {e}"))?;
            if let Some(dir) = theme_dir {
                let path = dir.join("i18n").join(format!("{lang}.toml"));
                if let Ok(text) = std::fs::read_to_string(&path) {
                    catalogue.extend(parse(&text).map_err(|e| format!("{}: {e}", path.display()))?);
                }
            }
            catalogues.insert(lang, catalogue);
        }
        Ok(Self { catalogues })
    }

    /// The messages of `lang`, falling back to Bahasa Indonesia.
    pub fn catalogue(&self, lang: &str) -> Option<&BTreeMap<String, String>> {
        self.catalogues.get(lang).or_else(|| self.catalogues.get("id"))
    }
}

fn parse(text: &str) -> Result<BTreeMap<String, String>, toml::de::Error> {
    toml::from_str(text)
}

/// Picks the language: `ui_locales` (OIDC Core §3.1.2.1), then the cookie, then
/// `Accept-Language`, then the configured default.
pub fn negotiate(
    ui_locales: Option<&str>,
    cookie: Option<&str>,
    accept_language: Option<&str>,
    default: &str,
) -> &'static str {
    let candidates = ui_locales
        .into_iter()
        .flat_map(|v| v.split(' '))
        .chain(cookie)
        .chain(accept_language.into_iter().flat_map(|v| v.split(',')).map(|v| v.split(';').next().unwrap_or("")));
    for candidate in candidates {
        let primary = candidate.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        if let Some(lang) = LANGUAGES.iter().find(|l| **l == primary) {
            return lang;
        }
    }
    LANGUAGES.iter().find(|l| **l == default).copied().unwrap_or("id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_locales_wins_over_accept_language() {
        assert_eq!(negotiate(Some("en-US id"), None, Some("id"), "id"), "en");
        assert_eq!(negotiate(None, None, Some("fr, en;q=0.8"), "id"), "en");
        assert_eq!(negotiate(None, None, None, "id"), "id");
    }

    #[test]
    fn both_languages_have_the_same_keys() {
        let t = Translations::load(None).unwrap();
        let id: Vec<&String> = t.catalogue("id").unwrap().keys().collect();
        let en: Vec<&String> = t.catalogue("en").unwrap().keys().collect();
        assert_eq!(id, en);
    }
}
