//! The catalogue loader (`Catalogue::from_toml_str`) on arbitrary text: it must answer every
//! input with a catalogue or an error naming the file, never panic; and what it accepts must
//! hold together (every matter's department listed, codes unique) and survive a round trip.
#![no_main]

use std::collections::BTreeSet;

use liandong_domain::catalogue::Catalogue;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    match Catalogue::from_toml_str(src, "fuzz.toml") {
        Ok(c) => {
            assert!(!c.version.trim().is_empty());
            let departments: BTreeSet<_> = c.departments.iter().map(|d| &d.code).collect();
            assert_eq!(
                departments.len(),
                c.departments.len(),
                "duplicate department"
            );
            let matters: BTreeSet<_> = c.matters.iter().map(|m| &m.code).collect();
            assert_eq!(matters.len(), c.matters.len(), "duplicate matter");
            for m in &c.matters {
                assert!(
                    departments.contains(&m.department),
                    "{} has no department",
                    m.code
                );
                assert!(c.matter(&m.code).is_some());
                for town in m.town_powers.keys() {
                    let _ = m.power_in(town);
                }
                // The versions of its law follow one another with neither overlap nor gap.
                assert!(!m.versions.is_empty(), "{} has no version", m.code);
                for w in m.versions.windows(2) {
                    let until = w[0].in_force_until.expect("an earlier version ends");
                    assert_eq!(w[1].in_force_from, until.succ_opt(), "{}", m.code);
                }
            }
            let json = serde_json::to_string(&c).expect("a catalogue serialises");
            let back: Catalogue = serde_json::from_str(&json).expect("and reads back");
            assert_eq!(back, c);
        }
        Err(e) => {
            assert_eq!(e.file, "fuzz.toml");
            assert!(e.to_string().starts_with("fuzz.toml: "));
        }
    }
});
