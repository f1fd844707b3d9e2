//! The `pintu` command: parse arguments, load configuration, set up logging, run.
//!
//! The administrative subcommands print their results (secrets exactly once) on stdout.
#![allow(clippy::print_stdout)]

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use pintu::app::App;
use pintu::audit::AuditEvent;
use pintu::authn::{check_policy, generate_password};
use pintu::clock::{SharedClock, SystemClock};
use pintu::config::{Config, LogFormat, RawConfig};
use pintu::directory::{Actor, DirectoryError};
use pintu::domain::user::{check_email, check_username, normalize_login};
use pintu::domain::{ClientId, User, UserId, UserStatus};
use pintu::oidc::OAuthError;
use pintu::oidc::registration::{ClientSpec, RawMetadata, validate_metadata};
use pintu::storage::NewUser;

#[derive(Parser)]
#[command(name = "pintu", version, about = "Pintu: single sign-on for regional government")]
struct Cli {
    /// Configuration file (default: ./pintu.toml when present). `PINTU_*` variables override it.
    #[arg(long, global = true, env = "PINTU_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once at startup
enum Command {
    /// Run the server.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Administer accounts, applications, the directory and registration tokens.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(cli::AuditCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    #[command(subcommand)]
    User(UserCommand),
    #[command(subcommand)]
    App(AppCommand),
    #[command(flatten)]
    Directory(cli::DirectoryCommand),
    /// Issue an initial access token for dynamic client registration (RFC 7591).
    RegistrationToken {
        #[arg(long, default_value = "issued from the command line")]
        description: String,
        #[arg(long, default_value_t = 86400)]
        ttl_secs: i64,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account.
    Create(UserCreate),
    /// List accounts.
    List,
    /// Disable an account (by id or username); its sessions and tokens end.
    Disable { user: String },
    /// Enable a disabled account.
    Enable { user: String },
}

#[derive(Args)]
struct UserCreate {
    #[arg(long)]
    username: String,
    /// Read the password from this file (use /dev/stdin to pipe it).
    #[arg(long, conflicts_with = "generate_password")]
    password_file: Option<PathBuf>,
    /// Generate a strong password and print it once.
    #[arg(long)]
    generate_password: bool,
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    given_name: Option<String>,
    #[arg(long)]
    family_name: Option<String>,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    /// Mark the account as an administrator.
    #[arg(long)]
    admin: bool,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once at startup
enum AppCommand {
    /// Register an application (OIDC relying party).
    Create(AppCreate),
    /// List applications.
    List,
    /// Disable an application and revoke its grants.
    Disable { client_id: String },
}

#[derive(Args)]
struct AppCreate {
    #[arg(long)]
    name: String,
    /// Client id (default: generated).
    #[arg(long)]
    client_id: Option<String>,
    /// Read the client secret from this file (default: generated and printed once).
    #[arg(long)]
    secret_file: Option<PathBuf>,
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    #[arg(long = "post-logout-uri")]
    post_logout_uris: Vec<String>,
    /// authorization_code, refresh_token, client_credentials (repeatable).
    #[arg(long = "grant-type")]
    grant_types: Vec<String>,
    /// client_secret_basic (default), client_secret_post, private_key_jwt, none.
    #[arg(long)]
    auth_method: Option<String>,
    /// A public client (no secret; PKCE required). Same as --auth-method none.
    #[arg(long)]
    public: bool,
    /// Skip the consent page (first-party government applications).
    #[arg(long)]
    pre_approved: bool,
    /// ES256 (default), RS256 or EdDSA.
    #[arg(long)]
    id_token_alg: Option<String>,
    /// JWK Set file with the client's public keys (private_key_jwt).
    #[arg(long)]
    jwks_file: Option<PathBuf>,
    /// Space-separated scopes the application may request (default: all).
    #[arg(long)]
    scope: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match RawConfig::load(cli.config.as_deref()).and_then(RawConfig::validate) {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("pintu: the configuration is invalid:");
            for e in errors {
                eprintln!("  - {e}");
            }
            return ExitCode::from(2);
        }
    };
    init_tracing(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pintu: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pintu: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// An operator-facing error: the protocol code and description, and for internal failures the
/// cause (the operator needs it; a client would never see it).
fn refused(e: OAuthError) -> anyhow::Error {
    match e.cause {
        Some(cause) => anyhow::anyhow!("{}: {cause}", e.description),
        None => anyhow::anyhow!("{}: {}", e.code.as_str(), e.description),
    }
}

/// A directory error as a message naming every invalid field.
pub(crate) fn refused_dir(e: DirectoryError) -> anyhow::Error {
    match e {
        DirectoryError::Invalid(errors) => {
            let lines: Vec<String> = errors
                .iter()
                .map(|f| match f.line {
                    Some(line) => format!("line {line}: {}: {}", f.field, f.reason),
                    None => format!("{}: {}", f.field, f.reason),
                })
                .collect();
            anyhow::anyhow!("invalid input:\n  {}", lines.join("\n  "))
        }
        DirectoryError::Storage(cause) => anyhow::Error::new(cause).context("storage failed"),
        other => anyhow::anyhow!("{other}"),
    }
}

fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level).unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Human => builder.init(),
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let clock: SharedClock = Arc::new(SystemClock);
    match command {
        Command::Serve => pintu::app::serve(config, clock).await,
        Command::Migrate => {
            App::build(&config, clock).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Admin(cmd) => {
            let app = App::build(&config, clock.clone()).await?;
            admin(&app, cmd, clock.now()).await
        }
        Command::Audit(cmd) => {
            let app = App::build(&config, clock.clone()).await?;
            cli::audit(&app, cmd).await
        }
    }
}

async fn admin(app: &App, cmd: AdminCommand, now: i64) -> anyhow::Result<()> {
    match cmd {
        AdminCommand::User(UserCommand::Create(args)) => create_user(app, args, now).await,
        AdminCommand::User(UserCommand::List) => {
            for u in app.state.store.users().list().await? {
                let status = if u.disabled { "disabled" } else { "active" };
                let role = if u.is_admin { "admin" } else { "user" };
                println!("{}\t{}\t{}\t{}\t{}", u.id, u.username, u.email.unwrap_or_default(), role, status);
            }
            Ok(())
        }
        AdminCommand::User(UserCommand::Disable { user }) => set_user_disabled(app, &user, true).await,
        AdminCommand::User(UserCommand::Enable { user }) => set_user_disabled(app, &user, false).await,
        AdminCommand::App(AppCommand::Create(args)) => create_app(app, args).await,
        AdminCommand::App(AppCommand::List) => {
            for c in app.state.store.clients().list().await? {
                let status = if c.disabled { "disabled" } else { "active" };
                println!(
                    "{}\t{}\t{}\t{}",
                    c.client_id,
                    c.display_name(),
                    c.metadata.token_endpoint_auth_method.as_str(),
                    status
                );
            }
            Ok(())
        }
        AdminCommand::App(AppCommand::Disable { client_id }) => {
            app.state.oidc.disable_client(&ClientId::new(client_id), "cli").await.map_err(refused)?;
            println!("application disabled; its grants are revoked");
            Ok(())
        }
        AdminCommand::Directory(cmd) => cli::run(app, cmd).await,
        AdminCommand::RegistrationToken { description, ttl_secs } => {
            if ttl_secs <= 0 {
                bail!("--ttl-secs must be positive");
            }
            let token = app.state.oidc.create_initial_access_token(&description, ttl_secs).await.map_err(refused)?;
            println!("initial access token (single use, shown once): {token}");
            Ok(())
        }
    }
}

async fn create_user(app: &App, args: UserCreate, now: i64) -> anyhow::Result<()> {
    let username = normalize_login(&args.username);
    check_username(&username).map_err(anyhow::Error::msg)?;
    let email = args.email.as_deref().map(normalize_login);
    if let Some(e) = &email {
        check_email(e).map_err(anyhow::Error::msg)?;
    }
    let (password, generated) = match (&args.password_file, args.generate_password) {
        (Some(path), false) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            (text.trim_end_matches(['\r', '\n']).to_owned(), false)
        }
        (None, true) => (generate_password(), true),
        _ => bail!("give exactly one of --password-file or --generate-password"),
    };
    let user = User {
        id: UserId::generate(),
        username: username.clone(),
        name: args.name,
        given_name: args.given_name,
        family_name: args.family_name,
        email,
        email_verified: false,
        phone_number: args.phone,
        phone_number_verified: false,
        locale: None,
        is_admin: args.admin,
        disabled: false,
        created_at: now,
        updated_at: now,
        profile: Default::default(),
    };
    check_policy(&password, &user.personal_words()).map_err(|e| anyhow::anyhow!("password refused: {e}"))?;
    let hash =
        app.state.oidc.password_hasher().hash(&password).map_err(|e| anyhow::anyhow!("password refused: {e}"))?;
    app.state.store.users().insert(&NewUser { user: user.clone(), password_hash: Some(hash) }).await.map_err(|e| {
        match e {
            pintu::storage::StorageError::Conflict { .. } => {
                anyhow::anyhow!("username or e-mail {username} is already taken")
            }
            other => anyhow::Error::new(other),
        }
    })?;
    let event =
        AuditEvent::admin("cli", "user.create", user.id.as_str(), None, serde_json::json!({ "admin": args.admin }));
    app.state.directory.audit().record_or_log(event).await;
    println!("created user {username} ({})", user.id);
    if generated {
        println!("password (shown once): {password}");
    }
    Ok(())
}

async fn set_user_disabled(app: &App, user: &str, disabled: bool) -> anyhow::Result<()> {
    let status = if disabled { UserStatus::Suspended } else { UserStatus::Active };
    app.state.directory.set_status(&Actor::cli(), user, status).await.map_err(refused_dir)?;
    println!("user {user} {}", if disabled { "disabled; sessions and tokens revoked" } else { "enabled" });
    Ok(())
}

async fn create_app(app: &App, args: AppCreate) -> anyhow::Result<()> {
    let auth_method = match (args.public, args.auth_method) {
        (true, Some(m)) if m != "none" => bail!("--public conflicts with --auth-method {m}"),
        (true, _) => Some("none".to_owned()),
        (false, m) => m,
    };
    let jwks = match &args.jwks_file {
        Some(path) => Some(
            serde_json::from_str(
                &std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
            )
            .with_context(|| format!("{} is not JSON", path.display()))?,
        ),
        None => None,
    };
    let secret = match &args.secret_file {
        Some(path) => Some(
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?.trim().to_owned(),
        ),
        None => None,
    };
    let raw = RawMetadata {
        client_name: Some(args.name),
        redirect_uris: Some(args.redirect_uris),
        post_logout_redirect_uris: Some(args.post_logout_uris),
        grant_types: (!args.grant_types.is_empty()).then_some(args.grant_types),
        token_endpoint_auth_method: auth_method,
        id_token_signed_response_alg: args.id_token_alg,
        scope: args.scope,
        jwks,
        ..Default::default()
    };
    let metadata = validate_metadata(raw).map_err(refused)?;
    let spec = ClientSpec {
        client_id: args.client_id,
        client_secret: secret.clone(),
        metadata,
        pre_approved: args.pre_approved,
        with_registration_token: false,
    };
    let created = app.state.oidc.create_client(spec).await.map_err(refused)?;
    println!("client_id: {}", created.client.client_id);
    if let (Some(s), None) = (&created.client_secret, &secret) {
        println!("client_secret (shown once): {s}");
    }
    Ok(())
}
