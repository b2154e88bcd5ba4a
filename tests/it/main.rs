//! The integration tests.

mod bus;
mod gateway;
mod paths;
mod schema;
mod store;
