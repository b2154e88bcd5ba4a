//! The pure domain core of Liandong: synchronous, no IO, time always passed in.
#![forbid(unsafe_code)]

pub mod auth;
pub mod calendar;
pub mod catalogue;
pub mod ids;
pub mod limits;
pub mod outcome;
pub mod state;
pub mod triage;
