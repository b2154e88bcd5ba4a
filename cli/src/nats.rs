//! `liandong nats`: the hub's NATS users and their permissions, and the streams and consumers
//! an operator provisions, all from the topology (`crates/topology/topology.toml`).

use std::collections::BTreeMap;

use clap::Subcommand;
use liandong_config::Config;
use liandong_topology::Service;

#[derive(Subcommand)]
pub enum NatsCommand {
    /// Prints nats-server's `authorization` block for this hub: a user per service, which may
    /// publish only its own events, receipts and dead letters and read only through its own
    /// durable consumers, and `admin`. Each password (or a bcrypt hash from `nats server
    /// passwd`) comes from LIANDONG_NATS_<USER>_PASSWORD.
    Users {
        /// The hub's subject root; the configured one by default.
        #[arg(long)]
        root: Option<String>,
        /// The hub's stream prefix; the configured one by default.
        #[arg(long)]
        prefix: Option<String>,
    },
    /// Makes every stream and every durable consumer of the hub, with the configured settings,
    /// connected as NATS's `admin` user (`[nats_auth.admin]` or LIANDONG_NATS_* credentials).
    /// Run it before the services start with `provisioned = true`, and after an upgrade.
    Provision,
}

pub fn users(cfg: &Config, root: Option<String>, prefix: Option<String>) -> anyhow::Result<()> {
    let root = root.unwrap_or_else(|| cfg.subject_root.clone());
    let prefix = prefix.unwrap_or_else(|| cfg.stream_prefix.clone());
    let mut passwords = BTreeMap::new();
    for user in Service::ALL
        .iter()
        .map(|s| s.as_str())
        .chain(std::iter::once("admin"))
    {
        let var = format!("LIANDONG_NATS_{}_PASSWORD", user.to_ascii_uppercase());
        let password = std::env::var(&var).map_err(|_| anyhow::anyhow!("{var} is not set"))?;
        passwords.insert(user.to_owned(), password);
    }
    print!(
        "{}",
        liandong_topology::users::authorization(&root, &prefix, &passwords)?
    );
    Ok(())
}

pub async fn provision(cfg: &Config) -> anyhow::Result<()> {
    let bus = liandong_bus::Bus::connect(
        &Config {
            bus: liandong_config::BusConfig {
                // The provisioner makes what the services will bind to.
                provisioned: false,
                ..cfg.bus.clone()
            },
            ..cfg.clone()
        },
        "admin",
    )
    .await?;
    for made in liandong_runtime::provision(&bus).await? {
        println!("{made}");
    }
    Ok(())
}
