//! The HTTP/JSON gateway: each route calls one unary RPC of a service, with bodies and
//! responses in the proto3 JSON mapping; and the public pages, served without login.
//!
//! ```no_run
//! # async fn start() -> anyhow::Result<()> {
//! let cfg = liandong_config::Config::default();
//! let app = liandong_gateway::Application::build(cfg).await?;
//! let base = format!("http://{}", app.local_addr());
//! tokio::spawn(app.run_until_stopped(std::future::pending()));
//! # let _ = base; Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod app;
mod call;
pub mod dashboard;
mod descriptors;
pub mod error;
pub mod ex_ante;
pub mod headers;
pub mod input;
pub mod limit;
mod openapi;
pub mod public;
pub mod routes;

pub use app::{Application, evidence_body_limit, router};
pub use call::{CALL_TIMEOUT, IDENTITY_HEADERS};
