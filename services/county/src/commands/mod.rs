//! The county's commands, one file each. Every command on a referral goes through
//! `crate::referral` (open, transition, store, emit, keep, commit), every command on a
//! joint-case task through `crate::task`; each command here only checks its request and says
//! what its step changes and tells others.

mod accept;
mod assign;
mod change_decision;
mod change_entrusted_decision;
mod complete_task;
mod conclude;
mod record_entrusted_decision;
mod request_extension;
mod return_referral;
mod sign_for;
