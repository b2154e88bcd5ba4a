//! Event decoding as a consumer meets it: arbitrary bytes off the broker decoded as an
//! `Envelope`, its signature and subject checked, its payload decoded as the type its
//! `event_type` names (and, so every decoder is reached, as every payload type), and the
//! envelope's fields read as the handlers read them. Nothing may panic; a decoded envelope
//! must encode and decode to itself; an envelope signed here must verify.
#![no_main]

use std::sync::LazyLock;

use liandong_bus::routes::ROUTES;
use liandong_bus::{Source, decode_payload};
use liandong_grpc::event_actor_label;
use liandong_bus::signing::{KeyRegistry, Signer, check_subject, event_digest, signed_bytes};
use liandong_proto::time::from_ts;
use liandong_proto::events::v1 as ev;
use libfuzzer_sys::fuzz_target;
use prost::Message;

/// Decodes `env`'s payload as the message `name` says; `None` for a name no consumer knows.
macro_rules! payloads {
    ($($name:literal => $ty:ty),* $(,)?) => {
        const NAMES: &[&str] = &[$($name),*];

        fn decode_named(name: &str, env: &ev::Envelope) -> Option<bool> {
            match name {
                $($name => Some(decode_payload::<$ty>(env).is_ok()),)*
                _ => None,
            }
        }

        fn decode_every(env: &ev::Envelope) {
            $(if let Ok(m) = decode_payload::<$ty>(env) {
                let again = <$ty>::decode(m.encode_to_vec().as_slice()).expect("re-encoded payload decodes");
                assert_eq!(again, m);
            })*
        }
    };
}

// What the services' handlers decode for each event (`decode_payload::<…>` in services/*).
payloads! {
    "referral_dispatched" => ev::ReferralDispatched,
    "referral_withdrawn" => ev::ReferralWithdrawn,
    "referral_signed_for" => ev::ReferralSignedFor,
    "referral_accepted" => ev::ReferralAccepted,
    "referral_returned" => ev::ReferralReturned,
    "referral_assigned" => ev::ReferralAssigned,
    "referral_concluded" => ev::ReferralConcluded,
    "joint_submitted" => ev::JointSubmitted,
    "joint_executed" => ev::JointExecuted,
    "joint_approved" => ev::JointApproved,
    "joint_reclassified" => ev::JointReclassified,
    "joint_sent_back" => ev::JointSentBack,
    "dispute_settled" => ev::DisputeSettled,
    "task_assigned" => ev::TaskAssigned,
    "task_completed" => ev::TaskCompleted,
    "entrusted_decision_recorded" => ev::EntrustedDecisionRecorded,
    "case_concluded" => ev::CaseConcluded,
    "decision_changed" => ev::DecisionChanged,
    "entrusted_decision_changed" => ev::DecisionChanged,
    "case_handed_over" => ev::CaseHandedOver,
    "case_handover_received" => ev::CaseHandoverReceived,
    "case_handover_refused" => ev::CaseHandoverRefused,
    "review_requested" => ev::ReviewRequested,
    "review_approved" => ev::ReviewDecided,
    "review_returned" => ev::ReviewDecided,
    "crime_transfer_found" => ev::ReviewDecided,
    "officer_certificate_changed" => ev::OfficerCertificateChanged,
    "obligation_overdue" => ev::ObligationOverdue,
    "extension_requested" => ev::ExtensionRequested,
    "extension_granted" => ev::ExtensionDecided,
    "extension_refused" => ev::ExtensionDecided,
    "patrol_recorded" => ev::PatrolRecorded,
    "persuasion_recorded" => ev::PersuasionRecorded,
    "obligation_met" => ev::ObligationMet,
    "callback_recorded" => ev::CallbackRecorded,
    "case_reported" => ev::CaseReported,
    "disclosure_status_changed" => ev::DisclosureStatusChanged,
    "receipt" => ev::Receipt,
}

/// A brigade key and the registry that knows it, as a receiver holds them.
static KEYS: LazyLock<(Signer, KeyRegistry)> = LazyLock::new(|| {
    // Every routed event must have its decoder above, or this target would miss it.
    for r in ROUTES {
        assert!(NAMES.contains(&r.event), "no decoder for {}", r.event);
    }
    let signer = Signer::generate("brigade").expect("a key is generated");
    let registry = KeyRegistry::of(&[signer.registry_entry()]).expect("a registry of one key");
    (signer, registry)
});

fuzz_target!(|data: &[u8]| {
    let (signer, registry) = &*KEYS;
    let Ok(mut env) = ev::Envelope::decode(data) else {
        return;
    };
    let again =
        ev::Envelope::decode(env.encode_to_vec().as_slice()).expect("re-encoded envelope decodes");
    assert_eq!(again, env);

    // What the consumer checks and reads before a handler runs.
    let subject = format!("liandong.v1.{}.{}", env.event_type, env.town);
    let _ = check_subject("liandong", &subject, &env);
    let _ = registry.verify(&env);
    let _ = event_digest(&env);
    let _ = from_ts(env.occurred_at.as_ref());
    let _ = event_actor_label(env.actor.as_ref());
    let _ = Source::parse(&env.source);
    for r in &env.receivers {
        let _ = Source::parse(r);
    }
    let name = env
        .event_type
        .split_once('.')
        .map_or(env.event_type.as_str(), |(_, n)| n);
    let _ = decode_named(name, &env);
    decode_every(&env);

    // Signed here, it verifies; the signed bytes do not depend on the signature slot.
    env.source = "brigade".into();
    signer.sign(&mut env);
    registry
        .verify(&env)
        .expect("an envelope signed by a registered key verifies");
    let mut resigned = env.clone();
    resigned.signature = b"other".to_vec();
    assert_eq!(signed_bytes(&resigned), signed_bytes(&env));
});
