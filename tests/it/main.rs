//! The integration tests.

mod access_log;
mod bus;
mod callbacks;
mod certificates;
mod dashboard;
mod dashboard_page;
mod clocks;
mod decisions;
mod department_decisions;
mod disclosure;
mod evidence;
mod fault;
mod gateway;
mod identity;
mod matrix;
mod nats_auth;
mod paths;
mod public_page;
mod record;
mod requests;
mod review;
mod schema;
mod signatures;
mod store;
mod tls;
mod tracing;
