//! Argument definitions for the directory commands.

use std::path::PathBuf;

use clap::{Args, Subcommand};

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
        client_id: String,
    },
    /// --set category=umum --set owner=CODE --set min_level=2 --set claims=nip,opd,roles
    /// --set access_org_units=CODE,CODE --set access_roles=ROLE_ID --set admin=office|CODE|none
    Set {
        client_id: String,
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
    /// Walk the hash chain and report any edited or deleted event (non-zero exit if broken).
    Verify,
}
