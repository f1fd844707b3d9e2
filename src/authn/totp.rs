//! Second factors: TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of clock skew
//! either way, each step accepted once) with an enrollment QR code Pintu draws itself (SVG,
//! no external service), and single-use recovery codes stored as SHA-256 hashes.

use qrcode::QrCode;
use qrcode::render::svg;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::domain::{AuthnContext, User};

use super::{AuthnError, AuthnService};

/// What enrolling shows the person: the otpauth URL as a QR code and as text.
#[derive(Debug, Clone)]
pub struct Enrollment {
    pub secret: String,
    pub otpauth_url: String,
    pub qr_svg: String,
}

/// How many recovery codes a confirmation hands out.
pub const RECOVERY_CODES: usize = 10;
/// How long a pending (unconfirmed) secret is shown again before a new one replaces it.
const PENDING_TTL: i64 = 60 * 60;

fn totp(secret_base32: &str, account: &str, issuer: &str) -> Result<Totp, AuthnError> {
    let secret = Secret::try_from_base32(secret_base32).map_err(|_| AuthnError::Factor("malformed TOTP secret"))?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_account_name(account.replace(':', "_"))
        .with_issuer(Some(issuer.replace(':', "_")))
        .build()
        .map_err(|_| AuthnError::Factor("cannot build the TOTP generator"))
}

/// The step a code belongs to (within the skew window), if it is valid at `now`.
fn matching_step(t: &Totp, code: &str, now: i64) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.check(&code, u64::try_from(now).ok()?).and_then(|step| i64::try_from(step).ok())
}

/// SHA-256 over the account id and the code without formatting. Codes carry about 119 bits,
/// above the 112 that SP 800-63B §5.1.2.2 asks before a slow, salted hash is needed; the
/// account id still keeps equal codes of two people apart.
fn hash_code(user: &crate::domain::UserId, code: &str) -> String {
    let normalised: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
    let mut hasher = Sha256::new();
    hasher.update(user.as_str().as_bytes());
    hasher.update(b"\n");
    hasher.update(normalised.as_bytes());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Codes like `k7q2-9xw4-...` of 24 characters from a 31-letter alphabet (about 119 bits).
fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let limit = 256 - (256 % ALPHABET.len());
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut chars = String::with_capacity(29);
            while chars.chars().filter(|c| *c != '-').count() < 24 {
                let mut byte = [0u8; 1];
                rand::fill(&mut byte);
                // Rejection sampling keeps every letter equally likely.
                if usize::from(byte[0]) < limit {
                    if !chars.is_empty() && chars.chars().filter(|c| *c != '-').count() % 4 == 0 {
                        chars.push('-');
                    }
                    chars.push(char::from(ALPHABET[usize::from(byte[0]) % ALPHABET.len()]));
                }
            }
            chars
        })
        .collect()
}

impl AuthnService {
    /// Seals a TOTP seed for storage (JWE under the key-encryption key).
    fn conceal(&self, secret: &str) -> Result<String, AuthnError> {
        self.sealer.seal(secret.as_bytes()).map_err(|_| AuthnError::Factor("cannot seal the TOTP secret"))
    }

    /// The seed of a stored credential. A value without the JWE's dots is a seed stored in
    /// clear by an earlier version (base32 has no dots), read as it is.
    fn reveal(&self, stored: &str) -> Result<String, AuthnError> {
        if !stored.contains('.') {
            return Ok(stored.to_owned());
        }
        let opened = self.sealer.open(stored).map_err(|_| AuthnError::Factor("cannot open the TOTP secret"))?;
        String::from_utf8(opened).map_err(|_| AuthnError::Factor("malformed TOTP secret"))
    }

    /// Starts TOTP enrollment, or shows the pending one again (a mistyped first code must not
    /// invalidate what the person already scanned); a pending secret older than an hour is
    /// replaced. `None` when a confirmed credential exists.
    pub async fn start_totp(&self, user: &User, issuer: &str, now: i64) -> Result<Option<Enrollment>, AuthnError> {
        let existing = self.store.factors().find_totp(&user.id).await?;
        let secret = match existing {
            Some(t) if t.confirmed => return Ok(None),
            Some(t) if now - t.created_at < PENDING_TTL => self.reveal(&t.secret)?,
            _ => {
                let secret = Secret::generate().to_base32();
                if !self.store.factors().put_pending_totp(&user.id, &self.conceal(&secret)?, now).await? {
                    return Ok(None);
                }
                secret
            }
        };
        let t = totp(&secret, &user.username, issuer)?;
        let otpauth_url = t.to_url().map_err(|_| AuthnError::Factor("cannot encode the otpauth URL"))?;
        let qr = QrCode::new(otpauth_url.as_bytes()).map_err(|_| AuthnError::Factor("cannot draw the QR code"))?;
        let qr_svg = qr.render::<svg::Color>().min_dimensions(220, 220).build();
        Ok(Some(Enrollment { secret, otpauth_url, qr_svg }))
    }

    /// A QR code of `text` as SVG (Pintu draws it itself: no external service), for pages and
    /// printed letters.
    pub fn qr_svg(text: &str) -> Option<String> {
        let qr = QrCode::new(text.as_bytes()).ok()?;
        Some(qr.render::<svg::Color>().min_dimensions(160, 160).build())
    }

    /// Confirms a pending TOTP credential with a first code; returns the recovery codes, shown
    /// once.
    pub async fn confirm_totp(&self, user: &User, code: &str, now: i64) -> Result<Vec<String>, AuthnError> {
        let pending = self.store.factors().find_totp(&user.id).await?.filter(|t| !t.confirmed);
        let pending = pending.ok_or(AuthnError::Factor("no TOTP enrollment is pending"))?;
        let step = matching_step(&totp(&self.reveal(&pending.secret)?, &user.username, "pintu")?, code, now)
            .ok_or(AuthnError::InvalidCredentials)?;
        let codes = new_recovery_codes();
        let hashes: Vec<String> = codes.iter().map(|c| hash_code(&user.id, c)).collect();
        let mut tx = self.store.begin().await?;
        if !self.store.factors().confirm_totp_in(&mut tx, &user.id, &pending.secret, step, &hashes, now).await? {
            return Err(AuthnError::Factor("the enrollment changed; start again"));
        }
        tx.commit().await?;
        Ok(codes)
    }

    /// Checks a second factor: a TOTP code (each step once) or an unused recovery code.
    /// On success returns the authentication context of a level-2 login at `now`.
    pub async fn verify_second_factor(&self, user: &User, code: &str, now: i64) -> Result<AuthnContext, AuthnError> {
        let factors = self.store.factors();
        let credential = factors.find_totp(&user.id).await?.filter(|t| t.confirmed);
        let Some(credential) = credential else { return Err(AuthnError::InvalidCredentials) };
        let secret = self.reveal(&credential.secret)?;
        if let Some(step) = matching_step(&totp(&secret, &user.username, "pintu")?, code, now) {
            // RFC 6238 §5.2: a code is accepted once, even within its window.
            return if factors.use_totp_step(&user.id, step).await? {
                Ok(AuthnContext::second_factor(now, "otp"))
            } else {
                Err(AuthnError::InvalidCredentials)
            };
        }
        // A look-up secret has no RFC 8176 method of its own: `pwd` and `mfa` only.
        if code.trim().len() >= 24 && factors.use_recovery_code(&user.id, &hash_code(&user.id, code), now).await? {
            let mut authn = AuthnContext::second_factor(now, "otp");
            authn.amr.retain(|m| m != "otp");
            return Ok(authn);
        }
        Err(AuthnError::InvalidCredentials)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_with_one_step_of_skew_and_nothing_else() {
        let secret = Secret::generate().to_base32();
        let t = totp(&secret, "budi", "pintu").unwrap();
        let now = 1_800_000_000;
        let code = t.generate(now as u64).to_string();
        assert_eq!(matching_step(&t, &code, now), Some(now / 30));
        assert_eq!(matching_step(&t, &code, now + 30), Some(now / 30), "one step late is accepted");
        assert_eq!(matching_step(&t, &code, now + 90), None);
        assert_eq!(matching_step(&t, "12345", now), None, "wrong length");
        assert_eq!(matching_step(&t, "abcdef", now), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_hashed_without_formatting() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_ne!(codes[0], codes[1]);
        assert_eq!(codes[0].len(), 29);
        let (a, b) = (crate::domain::UserId::new("a"), crate::domain::UserId::new("b"));
        assert_eq!(hash_code(&a, "ABCD-EFGH"), hash_code(&a, "abcd efgh"));
        assert_ne!(hash_code(&a, "abcd"), hash_code(&b, "abcd"), "salted with the account");
    }
}
