//! The whole command line's arguments (clap): `pintu serve|migrate|admin …|audit …`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "pintu", version, about = "Pintu: single sign-on for regional government")]
pub struct Cli {
    /// Configuration file (default: ./pintu.toml when present). `PINTU_*` variables override it.
    #[arg(long, global = true, env = "PINTU_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once at startup
pub enum Command {
    /// Run the server.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Administer accounts, applications, the directory and registration tokens.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The token-signing keys: list them, rotate them.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The LDAP directories people and passwords come from: sync, status, connection test.
    #[command(subcommand)]
    Ldap(super::ldap::LdapCommand),
    /// Electronic certificates: add, list, remove, check now, the per-OPD report.
    #[command(subcommand)]
    Certificates(super::certificates::CertificatesCommand),
    /// The SAML identity provider: its metadata, its signing keys, a key rotation.
    #[command(subcommand)]
    Saml(super::saml::SamlCommand),
    /// Signing receipts: verify one offline.
    #[command(subcommand)]
    Receipt(super::signing::ReceiptCommand),
    /// Transaction signing: the report per OPD and application.
    #[command(subcommand)]
    Signing(super::signing::SigningCommand),
    /// Write an encrypted archive of the whole installation (`--to PATH`), or check one.
    Backup(super::backup::BackupArgs),
    /// Restore an archive into an empty database (SQLite or PostgreSQL, whichever it came from).
    Restore(super::backup::RestoreArgs),
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Every signing key with its state (next, active, retired), as JSON.
    List,
    /// Start a rotation (publish a next key per algorithm, which signs once
    /// key_rotation.publish_hours have passed), or, run again after that, complete it.
    Rotate,
    /// Withdraw a key that may be compromised, at once: a new key signs from now on, and every
    /// token the withdrawn key signed stops verifying (people sign in again).
    Revoke {
        /// The key's `kid` (see `pintu keys list`).
        kid: String,
    },
    /// Re-seal every sealed value (signing keys, TOTP seeds, the refresh-token secret) under a
    /// new key-encryption key in keys/, while the server runs. Back up first.
    RotateKek {
        /// Only write keys/kek.next.key (copy it to every node's keys directory, then run
        /// rotate-kek without --prepare on one node, and on each other node to swap its files).
        #[arg(long)]
        prepare: bool,
    },
}

#[derive(Subcommand)]
pub enum AdminCommand {
    #[command(subcommand)]
    User(UserCommand),
    #[command(subcommand)]
    App(AppCommand),
    #[command(flatten)]
    Directory(DirectoryCommand),
    /// Issue activation codes (single use, expiring) for one person or everyone active in a unit
    /// and its sub-units; prints them once as JSON, and writes the printable letters with
    /// --letters.
    Activation(super::users::ActivationArgs),
    /// Issue an initial access token for dynamic client registration (RFC 7591).
    RegistrationToken {
        #[arg(long, default_value = "issued from the command line")]
        description: String,
        #[arg(long, default_value_t = 86400)]
        ttl_secs: i64,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account.
    Create(UserCreate),
    /// List accounts.
    List,
    /// Disable an account (by id or username); its sessions and tokens end.
    Disable { user: String },
    /// Enable a disabled account.
    Enable { user: String },
    /// List accounts that share a login name (one's username is another's e-mail or NIP):
    /// data from before login names formed one namespace. Non-zero exit when there are any.
    Conflicts,
}

#[derive(Args)]
pub struct UserCreate {
    #[arg(long)]
    pub username: String,
    /// Read the password from this file (use /dev/stdin to pipe it).
    #[arg(long, conflicts_with = "generate_password")]
    pub password_file: Option<PathBuf>,
    /// Generate a strong password and print it once.
    #[arg(long)]
    pub generate_password: bool,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub given_name: Option<String>,
    #[arg(long)]
    pub family_name: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub phone: Option<String>,
    /// Mark the account as an administrator.
    #[arg(long)]
    pub admin: bool,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once at startup
pub enum AppCommand {
    /// Register an application (OIDC relying party).
    Create(AppCreate),
    /// List applications.
    List,
    /// Disable an application and revoke its grants.
    Disable {
        /// The application's id (an OIDC application's is its client_id).
        id: String,
    },
    /// Give a confidential client a new secret, printed once; the old one stops working.
    RotateSecret {
        /// The application's id (an OIDC application's is its client_id).
        id: String,
    },
    /// Register a SAML service provider from a JSON file: `name`, `entity_id`, `acs`
    /// (`location`, `index`, `is_default`), and optionally `slo_url`, `certificates` (PEM),
    /// `sign_requests`, `sign_response`, `name_id_formats`, `idp_initiated`.
    SamlCreate { file: PathBuf },
    /// Register a SAML service provider from its metadata (a file, or --url).
    SamlImport(super::saml::SamlImport),
    /// Print a SAML service provider's registration as JSON.
    SamlShow { id: String },
}

#[derive(Args)]
pub struct AppCreate {
    #[arg(long)]
    pub name: String,
    /// Client id (default: generated).
    #[arg(long)]
    pub client_id: Option<String>,
    /// Read the client secret from this file (default: generated and printed once).
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    #[arg(long = "post-logout-uri")]
    pub post_logout_uris: Vec<String>,
    /// authorization_code, refresh_token, client_credentials (repeatable).
    #[arg(long = "grant-type")]
    pub grant_types: Vec<String>,
    /// client_secret_basic (default), client_secret_post, private_key_jwt, none.
    #[arg(long)]
    pub auth_method: Option<String>,
    /// A public client (no secret; PKCE required). Same as --auth-method none.
    #[arg(long)]
    pub public: bool,
    /// Skip the consent page (first-party government applications).
    #[arg(long)]
    pub pre_approved: bool,
    /// ES256 (default), RS256 or EdDSA.
    #[arg(long)]
    pub id_token_alg: Option<String>,
    /// JWK Set file with the client's public keys (private_key_jwt).
    #[arg(long)]
    pub jwks_file: Option<PathBuf>,
    /// Space-separated scopes the application may request (default: all).
    #[arg(long)]
    pub scope: Option<String>,
}

#[derive(Subcommand)]
pub enum DirectoryCommand {
    /// Org units (OPD): create, list, show, update (rename or move), history.
    #[command(subcommand)]
    Opd(OpdCommand),
    /// People in the directory (pegawai): add, show, find, update, history.
    #[command(subcommand)]
    Pegawai(PegawaiCommand),
    /// Roles and their grants.
    #[command(subcommand)]
    Role(RoleCommand),
    /// An application's directory profile: category, owner, level, access policy, claims.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Import the HR export (CSV). Without --apply, only reports what it would do.
    Import {
        file: PathBuf,
        #[arg(long)]
        apply: bool,
        /// Retire imported people who are missing from this (full) export.
        #[arg(long)]
        retire_missing: bool,
    },
    /// Usage report per OPD or per application over a period.
    Report(ReportCommand),
    /// The monthly report (per OPD, per application, the regency's totals): made once for a
    /// month that has ended, then kept. Prints it as JSON, CSV or a printable HTML page.
    PeriodicReport {
        /// YYYY-MM (default: last month).
        #[arg(long)]
        month: Option<String>,
        /// json, csv or html.
        #[arg(long, default_value = "json")]
        format: String,
        /// The page's language (html): id or en.
        #[arg(long, default_value = "id")]
        lang: String,
        /// List the stored reports instead.
        #[arg(long)]
        list: bool,
    },
}

#[derive(Subcommand)]
pub enum OpdCommand {
    Create {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// pemda, sekretariat, dinas, badan, kecamatan, kelurahan, bagian, bidang, seksi, uptd, lainnya.
        #[arg(long)]
        kind: String,
        /// Parent unit code.
        #[arg(long)]
        parent: Option<String>,
        /// Security level everyone in this unit and below must reach (1-4).
        #[arg(long)]
        min_level: Option<u8>,
    },
    List,
    Show {
        code: String,
    },
    /// Change fields: --set name=… --set parent=CODE (a move keeps history).
    Update {
        code: String,
        #[arg(long = "set", required = true)]
        set: Vec<String>,
    },
    History {
        code: String,
    },
}

#[derive(Subcommand)]
pub enum PegawaiCommand {
    /// Add a person: --set name=… --set nip=… --set org_unit=CODE --set email=… …
    Add {
        #[arg(long = "set", required = true)]
        set: Vec<String>,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    Show {
        id: String,
    },
    /// List people, filtered by unit (subtree), status and text (name, NIP, login, e-mail).
    Find {
        #[arg(long)]
        opd: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        q: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Change fields (JSON merge patch): --set jabatan=… --set org_unit=CODE; `--set x=` clears.
    Update {
        id: String,
        #[arg(long = "set")]
        set: Vec<String>,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    History {
        id: String,
    },
    /// Remove a person's second factors (lost device); their sessions end.
    ResetFactors {
        id: String,
    },
}

#[derive(Subcommand)]
pub enum RoleCommand {
    Create {
        #[arg(long)]
        name: String,
        /// The application (client_id) the role belongs to; omit for a global role.
        #[arg(long)]
        app: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// Security level holders of this role must reach (1-4).
        #[arg(long)]
        min_level: Option<u8>,
    },
    List,
    /// Grant ROLE (its id) to USER, optionally within a unit and a period (YYYY-MM-DD).
    Grant {
        user: String,
        role: String,
        #[arg(long)]
        org_unit: Option<String>,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        until: Option<String>,
    },
    Grants {
        user: String,
    },
    Revoke {
        user: String,
        grant: String,
    },
}

#[derive(Subcommand)]
pub enum ProfileCommand {
    Show {
        /// The application's id (an OIDC application's is its client_id).
        id: String,
    },
    /// --set category=umum --set owner=CODE --set min_level=2 --set claims=nip,opd,roles
    /// --set access_org_units=CODE,CODE --set access_roles=ROLE_ID --set admin=office|CODE|none
    Set {
        id: String,
        #[arg(long = "set", required = true)]
        set: Vec<String>,
    },
}

#[derive(Args)]
pub struct ReportCommand {
    /// opd or apps.
    pub by: String,
    /// Start (inclusive): YYYY-MM-DD or unix seconds.
    #[arg(long)]
    pub from: String,
    /// End (exclusive): YYYY-MM-DD or unix seconds.
    #[arg(long)]
    pub to: String,
    #[arg(long)]
    pub csv: bool,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain and report any edited or deleted event, and check the signed
    /// checkpoints against it (non-zero exit if anything is wrong).
    Verify {
        /// Checkpoints exported earlier (`pintu audit checkpoints`), checked with the keys in
        /// the file: they catch a rewrite even if the stored ones were deleted too.
        #[arg(long)]
        checkpoints: Option<PathBuf>,
    },
    /// Sign the chain's head now (otherwise every [audit] checkpoint_minutes).
    Checkpoint,
    /// The stored checkpoints and the public keys that verify them, as JSON: keep the output
    /// elsewhere (with the backups).
    Checkpoints,
}
