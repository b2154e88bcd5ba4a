//! The pure domain core of Liandong: synchronous, no IO, time always passed in.
#![forbid(unsafe_code)]

pub mod acting;
pub mod agenda;
pub mod auth;
pub mod calendar;
pub mod callback;
pub mod catalogue;
pub mod certificates;
pub mod data_file;
pub mod decision;
pub mod decision_change;
pub mod disclosure;
pub mod documents;
pub mod dossier;
pub mod figures;
pub mod ids;
pub mod law_in_force;
pub mod limits;
pub mod masking;
pub mod outcome;
pub mod patrols;
pub mod penalty_period;
pub mod procedure;
pub mod record;
pub mod review;
pub mod state;
pub mod time_limits;
pub mod towns;
pub mod triage;
