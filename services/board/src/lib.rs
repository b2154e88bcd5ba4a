//! The board service.
