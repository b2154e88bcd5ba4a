//! The operator's identity commands: the hub's signing keys (`liandong keys`) and the tokens
//! callers present (`liandong token issue`).

use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use liandong_config::Config;
use liandong_domain::auth::{Actor, Role};
use liandong_domain::ids::{DepartmentCode, OfficerId, TownCode};
use liandong_grpc::identity::{self, Ensured, Issuer, KeySet};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Makes the hub's first key pair (the private key and the public keys' JWK Set), unless
    /// the public keys exist already.
    Init,
    /// Makes a new signing key; the keys in use until now are still accepted for the overlap,
    /// then refused. Keys whose overlap has ended are dropped from the set.
    Rotate {
        /// How long the replaced keys stay accepted, in seconds; defaults to
        /// `[identity] rotation_overlap_secs`.
        #[arg(long)]
        overlap_secs: Option<u64>,
    },
    /// Lists the public keys the services accept, with when each is retired.
    List,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Prints a signed token for one officer in one role; send it as `authorization: Bearer …`.
    Issue {
        #[arg(long)]
        officer: String,
        /// brigade_officer, brigade_captain, board_chair, board_member, county_dispatcher,
        /// county_investigator, judicial_reviewer, department_legal_officer or viewer.
        #[arg(long)]
        role: String,
        /// The town (9-digit division code) of a town role.
        #[arg(long)]
        town: Option<String>,
        /// The department of a county role.
        #[arg(long)]
        department: Option<String>,
        /// How long it is valid, in seconds; defaults to `[identity] token_ttl_secs`.
        #[arg(long)]
        ttl_secs: Option<u64>,
    },
}

pub fn keys(cfg: &Config, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Init => match identity::ensure_keys(cfg)? {
            Ensured::Existing => println!(
                "The public keys {} exist already; `liandong keys rotate` makes a new key.",
                cfg.jwks_file().display()
            ),
            Ensured::Generated(kid) => println!(
                "Made key {kid}: private key {}, public keys {}.",
                cfg.signing_key_file().display(),
                cfg.jwks_file().display()
            ),
        },
        KeysCommand::Rotate { overlap_secs } => {
            let overlap =
                Duration::from_secs(overlap_secs.unwrap_or(cfg.identity.rotation_overlap_secs));
            let kid = identity::rotate(cfg, overlap)?;
            println!(
                "Made key {kid}; the previous keys are accepted for {} s more. Running services \
                 read {} again by themselves.",
                overlap.as_secs(),
                cfg.jwks_file().display()
            );
        }
        KeysCommand::List => {
            let set = KeySet::load(&cfg.jwks_file())?;
            for k in set.keys {
                match k.retire_at {
                    Some(at) => println!("{}  retired at {}", k.kid, at.to_rfc3339()),
                    None => println!("{}  current", k.kid),
                }
            }
        }
    }
    Ok(())
}

pub fn token(cfg: &Config, command: TokenCommand) -> anyhow::Result<()> {
    let TokenCommand::Issue {
        officer,
        role,
        town,
        department,
        ttl_secs,
    } = command;
    let actor = Actor::new(
        OfficerId::parse(&officer).context("--officer")?,
        Role::parse(&role).context("--role")?,
        town.as_deref()
            .map(TownCode::parse)
            .transpose()
            .context("--town")?,
        department
            .as_deref()
            .map(DepartmentCode::parse)
            .transpose()
            .context("--department")?,
    )?;
    let mut issuer = Issuer::from_config(cfg)?;
    if let Some(s) = ttl_secs {
        issuer = issuer.with_ttl(Duration::from_secs(s));
    }
    println!("{}", issuer.token(&actor));
    Ok(())
}

/// Makes a development key pair on a hub's first start, saying so.
pub fn ensure_dev_keys(cfg: &Config) -> anyhow::Result<()> {
    if let Ensured::Generated(kid) = identity::ensure_keys(cfg)? {
        tracing::warn!(
            kid,
            private_key = %cfg.signing_key_file().display(),
            public_keys = %cfg.jwks_file().display(),
            "No signing keys were configured: made a development key pair. Issue tokens with \
             `liandong token issue`; for production configure [identity] and keep the private \
             key off the service hosts."
        );
    }
    Ok(())
}
