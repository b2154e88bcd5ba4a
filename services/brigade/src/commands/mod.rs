//! The brigade's commands on a case after triage, one file each; every one goes through
//! `crate::case` (open the case in a change, authorise, the certificate of an enforcement act,
//! commit and answer with the case as stored), and each says only what its step checks,
//! changes and tells others.

mod assign;
mod change_decision;
mod conclude;
mod discuss;
mod execute_joint;
mod record_action;
mod record_period;
