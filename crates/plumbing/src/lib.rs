//! What every Liandong service stands on: configuration, the store, the bus, telemetry,
//! the clock and the gRPC edges.
#![forbid(unsafe_code)]

pub mod access_log;
pub mod bus;
pub mod clock;
pub mod config;
pub mod evidence;
pub mod grpc;
pub mod identity;
pub mod metrics;
pub mod record;
pub mod registry;
pub mod runtime;
pub mod signing;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod tls;

pub use liandong_domain as domain;
