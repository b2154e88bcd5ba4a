//! Event decoding as a consumer meets it: arbitrary bytes off the broker decoded as an
//! `Envelope`, its signature and subject checked, its payload decoded as the type its
//! `event_type` names (and, so every decoder is reached, as every event kind of the topology
//! and as a receipt), and the envelope's fields read as the handlers read them. Nothing may
//! panic; a decoded envelope or payload must encode and decode to itself; an envelope signed
//! here must verify. The decoders are the topology's own (`liandong_topology::AnyEvent`), so
//! every declared event is covered.
#![no_main]

use std::sync::LazyLock;

use liandong_bus::Source;
use liandong_bus::signing::{KeyRegistry, Signer, check_subject, event_digest, signed_bytes};
use liandong_grpc::event_actor_label;
use liandong_proto::events::v1 as ev;
use liandong_proto::time::from_ts;
use liandong_topology::{AnyEvent, EventKind};
use libfuzzer_sys::fuzz_target;
use prost::Message;

/// Decodes `payload` as `kind`'s payload; what decodes encodes and decodes to itself.
fn decode_as(kind: EventKind, payload: &[u8]) {
    if let Ok(event) = AnyEvent::decode(kind, payload) {
        assert_eq!(event.kind(), kind);
        let again = AnyEvent::decode(kind, &event.encode_payload()).expect("re-encoded payload decodes");
        assert_eq!(again, event);
    }
}

/// A brigade key and the registry that knows it, as a receiver holds them.
static KEYS: LazyLock<(Signer, KeyRegistry)> = LazyLock::new(|| {
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
    if let Some(kind) = EventKind::from_event_type(&env.event_type) {
        decode_as(kind, &env.payload);
    }
    for kind in EventKind::ALL {
        decode_as(kind, &env.payload);
    }
    if let Ok(r) = ev::Receipt::decode(env.payload.as_slice()) {
        assert_eq!(ev::Receipt::decode(r.encode_to_vec().as_slice()).expect("decodes"), r);
    }

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
