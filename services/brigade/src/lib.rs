//! The brigade service.
