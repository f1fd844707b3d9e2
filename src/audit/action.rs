//! What an audit event records happening: one variant per kind of event. The names are
//! stored in `audit_events.action` and hashed into the chain, so a name, once released, never
//! changes (a renamed action would break `verify` for every stored event). Reports in
//! `storage/audit.rs` count `login` and `token.issued` by these names.

use std::fmt;

/// Defines an enum of actions with its stored names, and `ALL`, from one list, so no variant
/// can lack a name or be missing from `ALL`.
macro_rules! actions {
    ($(#[$meta:meta])* $name:ident { $($(#[$doc:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$doc])* $variant,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }
    };
}

/// The kind of an audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A sign-in (password, second factor, passkey), succeeded or failed.
    Login,
    /// The application's access policy turned the person away.
    AccessDenied,
    /// Tokens were issued at the token endpoint.
    TokenIssued,
    /// A client failed to authenticate.
    ClientAuthentication,
    /// RP-initiated logout.
    Logout,
    /// A person's sessions and refresh tokens were ended.
    SessionRevoked,
    /// A SAML message refused (unknown SP, bad signature, replay, malformed…): why.
    SamlRefused,
    /// A change to the directory, an application or a person's factors: `admin.<change>`.
    Admin(AdminChange),
    /// Something that happened to an electronic certificate: `certificate.<event>`.
    Certificate(CertificateEvent),
    /// A step of transaction signing: `signing.<event>`.
    Signing(SigningEvent),
}

actions!(
    /// A step of transaction signing (RFC 9396 authorization details approved at level 4).
    SigningEvent {
        /// An application asked (PAR or CIBA) for a person's approval, or was refused (why).
        Request => "signing.request",
        /// The person approved and the signing service signed: the transaction id, the level.
        Sign => "signing.sign",
        /// The person declined.
        Decline => "signing.decline",
        /// Signing failed (passphrase refused, service down, a signature that did not verify).
        Fail => "signing.fail",
    }
);

actions!(
    /// What happened to an electronic certificate (sertifikat elektronik).
    CertificateEvent {
        /// Added to an account, waiting for proof of possession (or refused: why).
        Add => "certificate.add",
        /// Possession proven: the binding counts.
        Bind => "certificate.bind",
        /// Proven at a sign-in (level 4), or the proof refused (why).
        Proof => "certificate.proof",
        /// Removed by the person or an administrator.
        Remove => "certificate.remove",
        /// Found revoked (OCSP, CRL): the binding ends and its sessions with it.
        Revoked => "certificate.revoked",
        /// Found expired by the background check.
        Expired => "certificate.expired",
        /// A revocation check that could not be done (responder down, bad answer).
        Check => "certificate.check",
    }
);

actions!(
    /// An administrative change (or a change a person made to their own account), stored as
    /// `admin.` followed by its name.
    AdminChange {
        UserCreate => "admin.user.create",
        UserUpdate => "admin.user.update",
        UserImport => "admin.user.import",
        UserPasswordSet => "admin.user.password.set",
        /// A person changed their own password on the account page.
        PasswordChange => "admin.password.change",
        ImportApply => "admin.import.apply",
        FactorReset => "admin.factor.reset",
        FactorTotpEnroll => "admin.factor.totp.enroll",
        FactorTotpRemove => "admin.factor.totp.remove",
        FactorPasskeyEnroll => "admin.factor.passkey.enroll",
        FactorPasskeyRemove => "admin.factor.passkey.remove",
        FactorPasskeyRefused => "admin.factor.passkey.refused",
        OrgUnitCreate => "admin.org_unit.create",
        OrgUnitUpdate => "admin.org_unit.update",
        RoleCreate => "admin.role.create",
        RoleGrant => "admin.role.grant",
        RoleRevoke => "admin.role.revoke",
        ApplicationCreate => "admin.application.create",
        ApplicationUpdate => "admin.application.update",
        ApplicationRegisterUpdate => "admin.application.register_update",
        ApplicationDisable => "admin.application.disable",
        ApplicationSecretRotate => "admin.application.secret_rotate",
        RegistrationTokenCreate => "admin.registration_token.create",
        /// A signing key published as next, promoted to active, or deleted after retirement.
        KeyRotate => "admin.key.rotate",
        /// An existing account taken over by an LDAP directory (`on_conflict = "link"`).
        UserLink => "admin.user.link",
        /// An LDAP sync applied (its counts), or refused or failed (why).
        LdapSync => "admin.ldap.sync",
        /// A backup written (where, rows, bytes) or failed (why).
        Backup => "admin.backup",
        /// The database restored from an archive (recorded in the restored chain).
        Restore => "admin.restore",
        /// Activation codes issued for people (how many, for whom).
        ActivationIssue => "admin.activation.issue",
        /// A person activated their account with a code and chose a password.
        Activation => "admin.activation.use",
        /// A person asked for a password-reset link by e-mail (sent to their address).
        PasswordResetRequest => "admin.password.reset_request",
    }
);

impl AuditAction {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Login => "login",
            AuditAction::AccessDenied => "access.denied",
            AuditAction::TokenIssued => "token.issued",
            AuditAction::ClientAuthentication => "client.authentication",
            AuditAction::Logout => "logout",
            AuditAction::SessionRevoked => "session.revoked",
            AuditAction::SamlRefused => "saml.refused",
            AuditAction::Admin(change) => change.as_str(),
            AuditAction::Certificate(event) => event.as_str(),
            AuditAction::Signing(event) => event.as_str(),
        }
    }

    /// The action a stored name stands for; `None` for a name no build wrote.
    pub fn parse(name: &str) -> Option<Self> {
        Self::all().find(|a| a.as_str() == name)
    }

    /// Every action.
    pub fn all() -> impl Iterator<Item = AuditAction> {
        const OTHERS: [AuditAction; 7] = [
            AuditAction::Login,
            AuditAction::AccessDenied,
            AuditAction::TokenIssued,
            AuditAction::ClientAuthentication,
            AuditAction::Logout,
            AuditAction::SessionRevoked,
            AuditAction::SamlRefused,
        ];
        OTHERS
            .into_iter()
            .chain(AdminChange::ALL.iter().map(|c| AuditAction::Admin(*c)))
            .chain(CertificateEvent::ALL.iter().map(|c| AuditAction::Certificate(*c)))
            .chain(SigningEvent::ALL.iter().map(|c| AuditAction::Signing(*c)))
    }
}

impl From<AdminChange> for AuditAction {
    fn from(change: AdminChange) -> Self {
        AuditAction::Admin(change)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_action_round_trips_through_its_stored_name() {
        for action in AuditAction::all() {
            assert_eq!(AuditAction::parse(action.as_str()), Some(action), "{action:?}");
        }
        assert_eq!(AuditAction::parse("admin.thing.change"), None);
    }

    #[test]
    fn stored_names_are_unique() {
        let names: Vec<_> = AuditAction::all().map(AuditAction::as_str).collect();
        let unique: HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }

    /// The names earlier builds stored: the chain hashes them and the reports count them.
    #[test]
    fn stored_names_are_those_of_earlier_builds() {
        let names: Vec<_> = AuditAction::all().map(AuditAction::as_str).collect();
        let released = [
            "login",
            "access.denied",
            "token.issued",
            "client.authentication",
            "logout",
            "session.revoked",
            "saml.refused",
            "admin.user.create",
            "admin.user.update",
            "admin.user.import",
            "admin.user.password.set",
            "admin.password.change",
            "admin.import.apply",
            "admin.factor.reset",
            "admin.factor.totp.enroll",
            "admin.factor.totp.remove",
            "admin.factor.passkey.enroll",
            "admin.factor.passkey.remove",
            "admin.factor.passkey.refused",
            "admin.org_unit.create",
            "admin.org_unit.update",
            "admin.role.create",
            "admin.role.grant",
            "admin.role.revoke",
            "admin.application.create",
            "admin.application.update",
            "admin.application.register_update",
            "admin.application.disable",
            "admin.application.secret_rotate",
            "admin.registration_token.create",
            "admin.key.rotate",
            "admin.user.link",
            "admin.ldap.sync",
            "admin.backup",
            "admin.restore",
            "admin.activation.issue",
            "admin.activation.use",
            "admin.password.reset_request",
            "certificate.add",
            "certificate.bind",
            "certificate.proof",
            "certificate.remove",
            "certificate.revoked",
            "certificate.expired",
            "certificate.check",
            "signing.request",
            "signing.sign",
            "signing.decline",
            "signing.fail",
        ];
        assert_eq!(names, released);
        for change in AdminChange::ALL {
            assert!(change.as_str().starts_with("admin."), "{change:?}");
        }
    }
}
