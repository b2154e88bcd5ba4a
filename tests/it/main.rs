//! The integration tests.

mod bus;
mod paths;
mod schema;
mod store;
