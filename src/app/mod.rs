//! The composition root: opens storage, loads keys, builds the services and the router, runs
//! the server until a signal, and shuts down cleanly.

use std::sync::Arc;

use anyhow::Context;

mod checkpoints;

pub use checkpoints::{AuditCheckpoints, CHECKPOINT_TYP, CheckpointExport, CheckpointProblem, CheckpointReport};
use secrecy::ExposeSecret;

use crate::account::{AccountParts, AccountService};
use crate::applications::ApplicationService;
use crate::audit::{AdminChange, AuditEvent, AuditRecorder};
use crate::authn::{AuthnService, PasswordHasherService};
use crate::backup::Backups;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::directory::DirectoryService;
use crate::domain::ActorId;
use crate::federation::ldap::LdapFederation;
use crate::keys::{Keyring, RotationPolicy, RotationStep, Sealer};
use crate::metrics::Metrics;
use crate::oidc::{OidcParts, OidcService};
use crate::saml::{SamlIdp, SamlParts};
use crate::sso::{Sso, SsoLifetimes};
use crate::storage::Store;
use crate::web::state::{Published, Services};
use crate::web::views::Views;
use crate::web::{self, AppState};

/// Everything a running Pintu holds.
pub struct App {
    pub state: AppState,
    /// A key-encryption key was created during this start (first start).
    pub created_kek: bool,
    /// Rotating the signing keys (the job, `pintu keys`).
    pub rotation: KeyRotation,
    /// The LDAP directories (sync, bind-through).
    pub federation: LdapFederation,
    /// Signed checkpoints of the audit chain (the job, `pintu audit`).
    pub checkpoints: AuditCheckpoints,
    /// Backups (the job, `pintu backup`).
    pub backups: Backups,
}

/// The rotation policy of a configuration: retired keys stay published as long as the longest
/// lived token they may have signed (access and ID tokens), plus five minutes of clock skew.
fn rotation_policy(config: &Config) -> RotationPolicy {
    let longest = config.oidc.access_token_ttl.max(config.oidc.id_token_ttl);
    RotationPolicy {
        rotate_after: config.key_rotation.rotate_after,
        publish_for: config.key_rotation.publish_for,
        keep_retired_for: longest + 300,
    }
}

impl App {
    /// Opens the database (migrating it), loads or creates the KEK and the signing keys.
    pub async fn build(config: &Config, clock: SharedClock) -> anyhow::Result<Self> {
        let url = config.database_url.expose_secret();
        let store = Store::open(url).await.with_context(|| format!("cannot open the database at {}", redact(url)))?;
        let (sealer, created_kek) = Sealer::load_or_create(&config.keys_dir, config.kek.as_ref())
            .context("cannot load the key-encryption key")?;
        Self::with_parts(config, clock, store, sealer, created_kek).await
    }

    /// Builds from an open store and a sealer (tests use an ephemeral sealer).
    pub async fn with_parts(
        config: &Config,
        clock: SharedClock,
        store: Store,
        sealer: Sealer,
        created_kek: bool,
    ) -> anyhow::Result<Self> {
        let sealer = Arc::new(sealer);
        let backup_sealer = sealer.clone();
        let saml_sealer = sealer.clone();
        if config.backup.directory.is_some() {
            crate::backup::configured_protection(&config.backup).context("invalid [backup] configuration")?;
        }
        let keyring = Keyring::load_or_generate(&store, sealer.clone(), clock.now())
            .await
            .context("cannot load the signing keys (is this the key-encryption key they were sealed with?)")?;
        let hasher = PasswordHasherService::new(config.password);
        let metrics = Metrics::new();
        let authn = AuthnService::with_metrics(store.clone(), hasher, sealer, metrics.clone())
            .context("invalid password hashing parameters")?
            .with_passkeys(&config.webauthn);
        let audit = AuditRecorder::with_metrics(store.clone(), clock.clone(), metrics.clone());
        let backups = Backups::new(
            store.clone(),
            audit.clone(),
            backup_sealer,
            config.oidc.issuer.to_string(),
            &config.without_secrets,
        );
        let directory = DirectoryService::new(store.clone(), clock.clone(), audit, authn.clone());
        let federation = LdapFederation::new(
            &config.ldap,
            directory.clone(),
            store.clone(),
            clock.clone(),
            directory.audit().clone(),
        )
        .context("cannot set up the LDAP directories")?;
        // Directory accounts' passwords are checked by bind; the directory service above keeps
        // the plain service, which it uses only to hash the passwords administrators set.
        let authn = match config.ldap.is_empty() {
            true => authn,
            false => authn.with_verifier(|local| Arc::new(federation.passwords(local))),
        };
        let jwks_uri = config.oidc.jwks_uri.clone();
        let applications = ApplicationService::new(store.clone(), clock.clone(), directory.clone(), jwks_uri);
        let lifetimes = SsoLifetimes { session: config.oidc.session_ttl, interaction: config.oidc.interaction_ttl };
        let certificates = crate::certificates::Certificates::new(
            store.clone(),
            directory.audit().clone(),
            clock.clone(),
            config.certificates.clone(),
        )
        .map_err(anyhow::Error::msg)
        .context("cannot load the trust anchors ([certificates] trust_anchors)")?;
        let sso = Sso::new(&store, &clock, authn.clone(), certificates, directory.audit().clone(), lifetimes);
        let (audit, sessions) = (directory.audit().clone(), sso.sessions.clone());
        let parts = SamlParts { store: store.clone(), sealer: saml_sealer, clock: clock.clone(), audit, sessions };
        let saml = SamlIdp::new(parts, applications.clone(), directory.clone(), config.oidc.issuer.as_str());
        let account = AccountService::new(AccountParts {
            store: store.clone(),
            applications: applications.clone(),
            authn: authn.clone(),
            sso: sso.clone(),
            audit: directory.audit().clone(),
            clock: clock.clone(),
            issuer: config.oidc.issuer.clone(),
        });
        let oidc = OidcService::new(OidcParts {
            store: store.clone(),
            keyring: Arc::new(keyring),
            config: config.oidc.clone(),
            clock: clock.clone(),
            authn,
            directory: directory.clone(),
            sso: sso.clone(),
            applications: applications.clone(),
        });
        let views = Views::load(&config.web.themes_dir, &config.web.theme)
            .map_err(anyhow::Error::msg)
            .context("cannot load the theme")?;
        let published = Published::from_service(&oidc);
        let web = Arc::new(config.web.clone());
        let mailer = crate::mail::Mailer::new(store.clone(), clock.clone(), &config.mail)
            .map_err(anyhow::Error::msg)
            .context("invalid [mail] configuration")?;
        let state = AppState::new(Services {
            mailer,
            saml,
            oidc,
            applications,
            sso,
            account,
            directory,
            federation: federation.clone(),
            metrics,
            serve_metrics: config.metrics.listen.is_some(),
            reports: config.reports,
            views: Arc::new(views),
            web,
            store,
            published,
        });
        let rotation = KeyRotation {
            keyring: state.oidc.keyring().clone(),
            policy: rotation_policy(config),
            audit: state.directory.audit().clone(),
        };
        let checkpoints = AuditCheckpoints {
            keyring: state.oidc.keyring().clone(),
            store: state.store.clone(),
            issuer: config.oidc.issuer.clone(),
        };
        Ok(Self { state, created_kek, rotation, federation, checkpoints, backups })
    }

    pub fn router(&self) -> axum::Router {
        web::router(self.state.clone())
    }
}

/// Rotating the signing keys, for the job and `pintu keys`: the keys and the audit log sit side by
/// side in the layers, so the composition root joins them. What a rotation pass needs: the keys, when they move, and where their changes are audited.
#[derive(Clone)]
pub struct KeyRotation {
    pub keyring: Arc<Keyring>,
    pub policy: RotationPolicy,
    pub audit: AuditRecorder,
}

impl KeyRotation {
    /// Withdraws a possibly compromised key at once (`Keyring::revoke`), audited as `actor`'s.
    pub async fn revoke(&self, actor: &ActorId, kid: &str, now: i64) -> anyhow::Result<RotationStep> {
        let step = self.keyring.revoke(kid, now).await.map_err(|e| match e {
            crate::keys::KeyError::NoActiveKey("that kid") => {
                anyhow::anyhow!("no signing key has kid {kid} (see pintu keys list)")
            }
            other => anyhow::Error::new(other),
        })?;
        let detail = serde_json::to_value(&step).unwrap_or_default();
        self.audit.record(AuditEvent::admin(actor, AdminChange::KeyRotate, kid, None, detail)).await?;
        Ok(step)
    }

    /// Re-seals everything under a new key-encryption key (`keys::rotate_kek`), audited as
    /// `admin.key.rotate` with the two KEKs' ids.
    pub async fn rotate_kek(&self, actor: &ActorId, prepare_only: bool) -> anyhow::Result<crate::keys::KekRotation> {
        let rotation = crate::keys::rotate_kek(&self.keyring, prepare_only).await?;
        let detail = serde_json::json!({ "kek_rotation": &rotation });
        self.audit.record(AuditEvent::admin(actor, AdminChange::KeyRotate, "kek", None, detail)).await?;
        Ok(rotation)
    }

    /// One rotation pass (`start`: publish next keys now), each change audited as `actor`'s.
    /// A change whose audit event cannot be written is an error: the command line says so.
    pub async fn run(&self, actor: &ActorId, now: i64, start: bool) -> anyhow::Result<Vec<RotationStep>> {
        let steps = self.keyring.rotate(&self.policy, now, start).await?;
        for step in steps.iter().filter(|s| !matches!(s, RotationStep::Waiting { .. })) {
            let target = match step {
                RotationStep::Published { kid, .. } | RotationStep::Promoted { kid, .. } => kid.as_str(),
                _ => "signing_keys",
            };
            let detail = serde_json::to_value(step).unwrap_or_default();
            let event = AuditEvent::admin(actor, AdminChange::KeyRotate, target, None, detail);
            self.audit.record(event).await?;
        }
        Ok(steps)
    }
}

/// Hides the password of a database URL for messages.
pub fn redact(url: &str) -> String {
    crate::config::redact_url(url)
}

/// `pintu serve`: runs until SIGINT/SIGTERM.
pub async fn serve(config: Config, clock: SharedClock) -> anyhow::Result<()> {
    let app = App::build(&config, clock.clone()).await?;
    if app.created_kek {
        tracing::warn!(dir = %config.keys_dir.display(), "created a new key-encryption key; back up the keys directory");
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {} (is another server using that port?)", config.listen))?;
    // Metrics on their own listener (loopback by default), never on the public one; bound
    // before announcing, so a port in use stops the start with its own message.
    let metrics = match config.metrics.listen {
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address).await.with_context(|| {
                format!(
                    "cannot listen for metrics on {address} (set [metrics] listen to another address, or \"\" for none)"
                )
            })?;
            tracing::info!(listen = %address, "metrics at /metrics");
            let router = web::metrics_router(app.state.clone());
            Some(tokio::spawn(async move { axum::serve(listener, router).await }))
        }
        None => None,
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let tls = match &config.certificates.tls {
        Some(tls) => Some(tls_listener(&app, tls, stop_rx.clone()).await?),
        None => None,
    };
    reload_anchors_on_hangup(&app);
    announce(&app, &config).await;
    let cleanup = crate::jobs::cleanup::spawn(app.state.store.clone(), clock.clone(), stop_rx.clone());
    let changes = crate::jobs::changes::spawn(
        app.state.store.clone(),
        app.state.applications.clone(),
        app.state.oidc.keyring().clone(),
        stop_rx.clone(),
    );
    let keys = crate::jobs::keys::spawn(app.rotation.clone(), clock.clone(), stop_rx.clone());
    let ldap = crate::jobs::ldap_sync::spawn(app.federation.clone(), clock.clone(), stop_rx.clone());
    let checkpoints = config.audit.checkpoint_every.map(|every| {
        crate::jobs::audit_checkpoints::spawn(app.checkpoints.clone(), every, clock.clone(), stop_rx.clone())
    });
    let backups = config.backup.directory.is_some().then(|| {
        crate::jobs::backup::spawn(app.backups.clone(), config.backup.clone(), clock.clone(), stop_rx.clone())
    });
    let certificates = match (app.state.sso.certificates.enabled(), config.certificates.check_every) {
        (true, Some(every)) => Some(crate::jobs::certificates::spawn(
            app.state.sso.certificates.clone(),
            app.state.store.clone(),
            every,
            clock.clone(),
            stop_rx.clone(),
        )),
        _ => None,
    };
    let mail = app.state.mailer.enabled().then(|| crate::jobs::mail::spawn(app.state.mailer.clone(), stop_rx.clone()));
    let ended = app.state.sso.sessions.ended_signal();
    let logouts =
        Some(crate::jobs::logout::spawn((app.state.oidc.clone(), app.state.saml.clone()), ended, stop_rx.clone()));
    let reports = config.reports.monthly.then(|| {
        crate::jobs::periodic_reports::spawn(
            app.state.store.clone(),
            app.state.directory.clone(),
            config.reports.utc_offset_hours,
            clock,
            stop_rx,
        )
    });
    axum::serve(listener, app.router().into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server error")?;
    let _ = stop_tx.send(true);
    let _ = cleanup.await;
    let _ = changes.await;
    let _ = keys.await;
    let _ = ldap.await;
    for job in [checkpoints, reports, backups, certificates, mail, logouts].into_iter().flatten() {
        let _ = job.await;
    }
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    if let Some(tls) = tls {
        let _ = tls.await;
    }
    app.state.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Pintu's own HTTPS listener, which asks browsers for their certificate (level 4).
pub async fn tls_listener(
    app: &App,
    tls: &crate::config::TlsListenerConfig,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let subjects = app.state.sso.certificates.anchor_subjects();
    let server = web::tls::server_config(&tls.certificate, &tls.key, subjects).map_err(anyhow::Error::msg)?;
    let listener = tokio::net::TcpListener::bind(tls.listen)
        .await
        .with_context(|| format!("cannot listen for TLS on {} ([certificates.tls] listen)", tls.listen))?;
    tracing::info!(listen = %tls.listen, url = %tls.url, "TLS listener asking for client certificates");
    Ok(tokio::spawn(web::tls::serve(listener, Arc::new(server), app.router(), stop)))
}

async fn announce(app: &App, config: &Config) {
    tracing::info!(issuer = %config.oidc.issuer, listen = %config.listen, backend = app.state.store.backend(), "Pintu is running");
    if let Ok(0) = app.state.store.users().count().await {
        tracing::warn!(
            "no accounts yet: create the first administrator with \
             `pintu admin user create --username admin --generate-password --admin`"
        );
    }
}

/// SIGHUP reads the trusted CAs' files again (`[certificates] trust_anchors`), as
/// `POST /api/v1/certificates/reload` does; a file that cannot be read keeps the old anchors.
fn reload_anchors_on_hangup(app: &App) {
    #[cfg(unix)]
    if app.state.sso.certificates.enabled() {
        let certificates = app.state.sso.certificates.clone();
        if let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            tokio::spawn(async move {
                while hangups.recv().await.is_some() {
                    match certificates.reload() {
                        Ok(anchors) => tracing::info!(anchors, "trust anchors reloaded (SIGHUP)"),
                        Err(why) => tracing::warn!(%why, "trust anchors not reloaded; the old ones stay"),
                    }
                }
            });
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
