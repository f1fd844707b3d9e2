//! The password policy for passwords people choose (NIST SP 800-63B §3.1.1.2): at least 12
//! characters, no composition rules, not one of the most common passwords, and not guessable
//! in fewer than 10^8 tries by the zxcvbn estimator (its score 3), which also counts the person's own
//! details and words common in Indonesian passwords as dictionary words. No control
//! character either (`domain::text`): none can be typed reliably into a password field.
//! Everything ships with Pintu: no password or hash leaves the server.

use zxcvbn::matching::patterns::MatchPattern;
use zxcvbn::{Score, zxcvbn};

use crate::domain::text::{TextKind, check_text};

use super::password::{PasswordError, check_length};

/// Words people in Indonesian government offices often build passwords from; zxcvbn's own
/// lists are English.
const REGIONAL_WORDS: &[&str] = &[
    "indonesia",
    "bismillah",
    "alhamdulillah",
    "sayang",
    "sayangku",
    "sayangkamu",
    "rahasia",
    "katasandi",
    "merdeka",
    "pancasila",
    "garuda",
    "nusantara",
    "jakarta",
    "bandung",
    "surabaya",
    "semarang",
    "yogyakarta",
    "kabupaten",
    "pemkab",
    "pemda",
    "pemerintah",
    "kominfo",
    "diskominfo",
    "pegawai",
    "kantor",
    "dinas",
    "admin",
    "administrator",
    "cintaku",
    "kucing",
    "persib",
    "persija",
    "arema",
    "anakku",
    "keluarga",
    "selamat",
    "pagi",
    "rumah",
    "ganteng",
    "cantik",
    "pintu",
    "masuk",
    "asn",
    "pns",
    "pppk",
    "bupati",
    "camat",
    "lurah",
];

/// Checks a chosen password. `context` holds the person's own details (login, name parts,
/// e-mail, NIP): a password built from them is weak.
pub fn check_policy(password: &str, context: &[&str]) -> Result<(), PasswordError> {
    check_length(password)?;
    check_text(TextKind::Line, password).map_err(|_| PasswordError::ControlCharacter)?;
    let personal: Vec<&str> =
        context.iter().flat_map(|c| c.split(|ch: char| !ch.is_alphanumeric())).filter(|w| w.len() >= 3).collect();
    // SP 800-63B §3.1.1.2: no context-specific words such as the username.
    let lowered = password.to_lowercase();
    if personal.iter().any(|w| w.len() >= 5 && lowered.contains(&w.to_lowercase())) {
        return Err(PasswordError::Weak("it contains your name, login, e-mail or NIP".into()));
    }
    let mut inputs: Vec<&str> = REGIONAL_WORDS.to_vec();
    inputs.extend(personal);
    // zxcvbn's cost grows with length; its verdict on the first 100 characters stands for
    // longer passphrases.
    let head: String = password.chars().take(100).collect();
    let estimate = zxcvbn(&head, &inputs);
    if is_common(estimate.sequence(), head.chars().count()) {
        return Err(PasswordError::Common);
    }
    if estimate.score() < Score::Three {
        let hint = estimate
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string()))
            .unwrap_or_else(|| "add another word or two; uncommon words are better".to_owned());
        return Err(PasswordError::Weak(hint));
    }
    Ok(())
}

/// The whole password is one entry of zxcvbn's list of common passwords (perhaps with
/// l33t substitutions or reversed). zxcvbn does not export the dictionary type, only its
/// `Debug` name.
fn is_common(sequence: &[zxcvbn::Match], length: usize) -> bool {
    matches!(sequence, [m] if m.i == 0 && m.j + 1 == length
        && matches!(&m.pattern, MatchPattern::Dictionary(d) if format!("{:?}", d.dictionary_name) == "Passwords"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_and_guessable_passwords_are_refused() {
        assert!(matches!(check_policy("pendek", &[]), Err(PasswordError::TooShort)));
        assert!(matches!(check_policy("123456789012", &[]), Err(PasswordError::Common | PasswordError::Weak(_))));
        assert!(matches!(check_policy("passwordpassword", &[]), Err(PasswordError::Common | PasswordError::Weak(_))));
        assert!(matches!(check_policy("bismillah2024!", &[]), Err(PasswordError::Weak(_))));
        assert!(matches!(check_policy("qwertyuiopasdf", &[]), Err(PasswordError::Weak(_))));
    }

    #[test]
    fn control_characters_are_refused_in_a_chosen_password() {
        for password in ["Jendela-biru\tmenghadap-laut", "Jendela-biru\0menghadap-laut", "Jendela-biru\nlaut-7"] {
            assert!(matches!(check_policy(password, &[]), Err(PasswordError::ControlCharacter)), "{password:?}");
        }
        assert!(check_policy("Jendela-biru menghadap-laut", &[]).is_ok());
    }

    #[test]
    fn the_persons_own_details_make_a_password_weak() {
        let password = "budisantoso1985";
        assert!(check_policy(password, &["budi.santoso@kab.go.id", "Budi Santoso", "198503302010011002"]).is_err());
    }

    #[test]
    fn long_unusual_passphrases_pass() {
        assert!(check_policy("kata-sandi-yang-cukup-panjang", &[]).is_ok());
        assert!(check_policy("jeruk nipis di atas lemari tua", &["budi"]).is_ok());
        let long = "tiga ekor kucing oranye tidur di bawah meja kayu jati sementara hujan turun pelan di luar jendela kantor camat";
        assert!(long.len() > 100 && check_policy(long, &[]).is_ok());
        assert!(check_policy(&"x7#Lq".repeat(200), &[]).is_err(), "a repeated pattern is weak however long");
    }
}
