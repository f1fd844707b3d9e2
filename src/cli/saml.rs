//! `pintu saml`: the SAML identity provider's metadata and signing keys from the command line
//! (the metadata to hand to a service provider's administrators; a key rotation with overlap).

use clap::Subcommand;
use pintu::app::App;
use pintu::domain::ActorId;

use super::print_json;

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
