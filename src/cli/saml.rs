//! `pintu saml`: the SAML identity provider's metadata and signing keys from the command line
//! (the metadata to hand to a service provider's administrators; a key rotation with overlap).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use pintu::app::App;
use pintu::directory::Actor;
use pintu::domain::ActorId;
use pintu::saml::{ImportChoices, MetadataSource};

use super::{print_json, refused_app};

#[derive(Subcommand)]
pub enum SamlCommand {
    /// Print the identity provider's metadata (XML), as /saml/metadata serves it.
    Metadata,
    /// Every SAML signing key with its state (next, current, retired) and SHA-256
    /// fingerprint, as JSON.
    Keys,
    /// Rotate the signing key in two steps: the first run publishes a next key in the
    /// metadata beside the current one; once every service provider has the new certificate,
    /// run it again: the next key signs from then on and the old one is retired.
    Rotate,
}

pub async fn run(app: &App, cmd: SamlCommand) -> anyhow::Result<()> {
    let saml = &app.state.saml;
    match cmd {
        SamlCommand::Metadata => {
            print!("{}", saml.metadata().await?);
            Ok(())
        }
        SamlCommand::Keys => print_json(&saml.list_keys().await?),
        SamlCommand::Rotate => {
            let rotation = saml.rotate(&ActorId::cli()).await?;
            match rotation.step {
                "published" => eprintln!(
                    "a next key is published in the metadata; run `pintu saml rotate` again once every \
                     service provider has its certificate ({})",
                    rotation.sha256_fingerprint
                ),
                _ => eprintln!("the next key signs from now on; the previous one is retired"),
            }
            print_json(&rotation)
        }
    }
}

/// `pintu admin app saml-import`: a service provider registered from its metadata.
#[derive(Args)]
pub struct SamlImport {
    /// The SP's metadata (XML); or give --url.
    #[arg(required_unless_present = "url", conflicts_with = "url")]
    pub file: Option<PathBuf>,
    /// Where the SP publishes its metadata (https; fetched as a jwks_uri is).
    #[arg(long)]
    pub url: Option<String>,
    /// The application's name as people see it.
    #[arg(long)]
    pub name: String,
    /// Sign the Response as well as the assertion.
    #[arg(long)]
    pub sign_response: bool,
    /// Let Pintu start sign-ins to it (IdP-initiated; the portal links to it).
    #[arg(long)]
    pub idp_initiated: bool,
}

pub async fn import(app: &App, args: SamlImport) -> anyhow::Result<()> {
    let source = match (args.file, args.url) {
        (Some(file), _) => MetadataSource::Document(
            std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?,
        ),
        (None, Some(url)) => MetadataSource::Url(url),
        (None, None) => anyhow::bail!("give the metadata file or --url"),
    };
    let name = pintu::applications::saml_name(&args.name).map_err(refused_app)?;
    let choices = ImportChoices { sign_response: args.sign_response, idp_initiated: args.idp_initiated };
    let registration = app.state.saml.import_metadata(source, choices).await.map_err(|e| refused_app(e.into()))?;
    let apps = &app.state.applications;
    let record = apps.create_saml(&Actor::cli(), &name, registration).await.map_err(refused_app)?;
    print_json(&record)
}
