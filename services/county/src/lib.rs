//! The county service.
