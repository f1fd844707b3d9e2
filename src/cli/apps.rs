//! `pintu admin app …` and `pintu admin registration-token`: applications through the
//! application service, acting as the office.

use anyhow::{Context, bail};

use pintu::app::App;
use pintu::applications::{ChangedBy, ClientSpec, RawMetadata, validate_metadata};
use pintu::directory::Actor;
use pintu::domain::ApplicationId;

use super::args::{AppCommand, AppCreate};
use super::{print_json, refused_app};

pub async fn run(app: &App, cmd: AppCommand) -> anyhow::Result<()> {
    let apps = &app.state.applications;
    let actor = Actor::cli();
    match cmd {
        AppCommand::Create(args) => create_app(app, args).await,
        AppCommand::List => {
            let rows: Vec<_> = apps
                .list(&actor)
                .await
                .map_err(refused_app)?
                .into_iter()
                .map(|a| {
                    serde_json::json!({
                        "id": a.id.as_str(),
                        "name": a.name,
                        "protocol": a.protocol,
                        "token_endpoint_auth_method": a.token_endpoint_auth_method.map(|m| m.as_str()),
                        "status": if a.disabled { "disabled" } else { "active" },
                    })
                })
                .collect();
            print_json(&rows)
        }
        AppCommand::Disable { id } => {
            apps.disable(&ApplicationId::new(id), ChangedBy::Admin(&actor)).await.map_err(refused_app)?;
            println!("application disabled; its grants are revoked");
            Ok(())
        }
        AppCommand::SamlCreate { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let body: serde_json::Value =
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
            let (name, registration) = pintu::applications::saml_spec(body).map_err(refused_app)?;
            let record = apps.create_saml(&actor, &name, registration).await.map_err(refused_app)?;
            print_json(&record)
        }
        AppCommand::SamlImport(args) => super::saml::import(app, args).await,
        AppCommand::SamlShow { id } => {
            let (_, registration) =
                apps.saml_registration(&actor, &ApplicationId::new(id)).await.map_err(refused_app)?;
            print_json(&registration)
        }
        AppCommand::RotateSecret { id } => {
            let rotated =
                apps.rotate_secret(&ApplicationId::new(id), ChangedBy::Admin(&actor)).await.map_err(refused_app)?;
            println!("client_id: {}", rotated.client_id);
            println!("client_secret (shown once; the old secret no longer works): {}", rotated.client_secret);
            Ok(())
        }
    }
}

/// An initial access token for dynamic registration (RFC 7591 §3), printed once.
pub async fn registration_token(app: &App, description: &str, ttl_secs: i64) -> anyhow::Result<()> {
    let apps = &app.state.applications;
    let token = apps.issue_initial_access_token(&Actor::cli(), description, ttl_secs).await.map_err(refused_app)?;
    println!("initial access token (single use, shown once): {token}");
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
        // The command line keeps ES256 as its default (fast, compact); dynamic registration
        // defaults to RS256 as OpenID Connect Dynamic Client Registration §2 requires.
        id_token_signed_response_alg: args.id_token_alg.or_else(|| Some("ES256".to_owned())),
        scope: args.scope,
        jwks,
        ..Default::default()
    };
    let metadata = validate_metadata(raw).map_err(refused_app)?;
    let spec = ClientSpec {
        client_id: args.client_id,
        client_secret: secret.clone(),
        metadata,
        pre_approved: args.pre_approved,
        with_registration_token: false,
    };
    let created =
        app.state.applications.create(spec, ChangedBy::Admin(&Actor::cli()), None).await.map_err(refused_app)?;
    println!("client_id: {}", created.client.client_id);
    if let (Some(s), None) = (&created.client_secret, &secret) {
        println!("client_secret (shown once): {s}");
    }
    Ok(())
}
