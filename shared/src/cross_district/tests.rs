//! The cross-district matching rules: the examples of SPEC §9 and properties against a plain
//! reference model.

use super::*;
use crate::id_number::IdHasher;
use proptest::prelude::*;

const DAY: i64 = 86_400_000;

fn h(n: u8) -> CityHash {
    CityHash([n; 16])
}

fn marriage(r: &str, a: u8, b: u8, at_ms: i64) -> PersonEvent {
    PersonEvent::Marriage { record_id: r.into(), a: h(a), b: h(b), at_ms }
}

fn divorce(r: &str, a: u8, b: u8, at_ms: i64) -> PersonEvent {
    PersonEvent::Divorce { record_id: r.into(), a: h(a), b: h(b), at_ms }
}

fn pay(case: &str, p: u8, at_ms: i64) -> PersonEvent {
    PersonEvent::Payment { case_id: case.into(), person: h(p), amount_fen: 50_000, at_ms }
}

#[test]
fn a_marriage_by_a_person_married_in_another_district_is_found() {
    let mut people = BTreeMap::new();
    assert_eq!(apply(&mut people, "110112", &marriage("M1", 1, 2, 0)), None);
    let found = apply(&mut people, "110105", &marriage("M2", 3, 1, DAY)).expect("a finding");
    assert_eq!(found.kind(), CityAlertKind::CrossDistrictBigamy);
    assert_eq!(found.alert_id(), "cross_district_bigamy:110105:M2");
    let Finding::Bigamy { parties, .. } = found else { panic!() };
    assert_eq!(parties.len(), 1);
    assert_eq!(parties[0].0, Party::B);
    assert_eq!((parties[0].1.district.as_str(), parties[0].1.record_id.as_str()), ("110112", "M1"));
}

#[test]
fn a_divorce_in_between_ends_the_marriage_and_the_same_district_is_left_to_it() {
    let mut people = BTreeMap::new();
    apply(&mut people, "110112", &marriage("M1", 1, 2, 0));
    assert_eq!(apply(&mut people, "110112", &divorce("D1", 2, 1, DAY)), None);
    assert_eq!(apply(&mut people, "110105", &marriage("M2", 1, 3, 2 * DAY)), None);
    // Married again in 110105: a second marriage there is the district's own alert.
    assert_eq!(apply(&mut people, "110105", &marriage("M3", 1, 4, 3 * DAY)), None);
}

#[test]
fn a_divorce_from_someone_else_leaves_the_marriage() {
    let mut people = BTreeMap::new();
    apply(&mut people, "110112", &marriage("M1", 1, 2, 0));
    apply(&mut people, "110112", &divorce("D1", 1, 9, DAY));
    assert!(apply(&mut people, "110105", &marriage("M2", 1, 3, 2 * DAY)).is_some());
}

#[test]
fn payments_by_two_districts_within_30_days_are_found_either_way_round() {
    let mut people = BTreeMap::new();
    assert_eq!(apply(&mut people, "110112", &pay("2026-000001", 1, 10 * DAY)), None);
    assert_eq!(apply(&mut people, "110112", &pay("2026-000002", 1, 11 * DAY)), None, "same district");
    let found = apply(&mut people, "110105", &pay("2026-000007", 1, 39 * DAY)).expect("within 30 days");
    let Finding::DuplicateAid { earlier, .. } = &found else { panic!() };
    assert_eq!(earlier.case_id, "2026-000002", "the nearest payment is named");
    assert_eq!(found.alert_id(), format!("cross_district_duplicate_aid:110105:2026-000007:{}", 39 * DAY));
    // 30 days or more apart: none; a payment published late but made earlier still matches.
    assert_eq!(apply(&mut people, "110108", &pay("2026-000003", 1, 69 * DAY)), None);
    assert!(apply(&mut people, "110108", &pay("2026-000004", 1, DAY)).is_some());
    assert_eq!(apply(&mut people, "110105", &pay("2026-000009", 2, 39 * DAY)), None, "another person");
}

#[test]
fn key_files_are_32_bytes_or_64_hex_digits_and_hash_unlike_a_district_key() {
    let raw = [7u8; 32];
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let id = IdNumber::parse("11010519491231002X").unwrap();
    let a = CityHasher::from_key_file(&raw).unwrap().hash(&id);
    let b = CityHasher::from_key_file(format!("{hex}\n").as_bytes()).unwrap().hash(&id);
    assert_eq!(a, b);
    assert_ne!(a.0, IdHasher::new(raw).hash(&id).0, "not the district hash under the same key");
    assert_eq!(CityHasher::from_key_file(b"short").unwrap_err(), CityKeyError::Length(5));
    assert_eq!(CityHash::from_hex(&a.to_hex()), Some(a));
    let json = serde_json::to_string(&pay("c", 1, 0)).unwrap();
    assert_eq!(serde_json::from_str::<PersonEvent>(&json).unwrap(), pay("c", 1, 0));
    assert!(json.contains(&h(1).to_hex()) && json.contains("\"kind\":\"payment\""), "{json}");
}

/// The district's rule, written plainly: who is whose spouse, and where it was registered.
fn reference_marriages(events: &[(u8, u8, u8, bool)]) -> Vec<bool> {
    let mut spouse: BTreeMap<u8, (u8, u8)> = BTreeMap::new();
    let mut found = Vec::new();
    for &(district, a, b, is_marriage) in events {
        if is_marriage {
            let elsewhere = |p: u8| spouse.get(&p).is_some_and(|(_, d)| *d != district);
            found.push(elsewhere(a) || elsewhere(b));
            spouse.insert(a, (b, district));
            spouse.insert(b, (a, district));
        } else {
            for (x, y) in [(a, b), (b, a)] {
                if spouse.get(&x).is_some_and(|(s, _)| *s == y) {
                    spouse.remove(&x);
                }
            }
            found.push(false);
        }
    }
    found
}

proptest! {
    #[test]
    fn marriages_follow_the_district_rule(
        events in proptest::collection::vec((0u8..3, 0u8..5, 0u8..5, any::<bool>()), 0..40)
    ) {
        let events: Vec<_> = events.into_iter().filter(|(_, a, b, _)| a != b).collect();
        let mut people = BTreeMap::new();
        let got: Vec<bool> = events
            .iter()
            .enumerate()
            .map(|(i, &(d, a, b, m))| {
                let r = format!("R{i}");
                let e = if m { marriage(&r, a, b, i as i64) } else { divorce(&r, a, b, i as i64) };
                apply(&mut people, &format!("D{d}"), &e).is_some()
            })
            .collect();
        prop_assert_eq!(got, reference_marriages(&events));
    }

    #[test]
    fn a_payment_is_found_when_another_district_paid_within_the_window(
        payments in proptest::collection::vec((0u8..3, 0i64..120), 0..PAYMENTS_KEPT)
    ) {
        let mut people = BTreeMap::new();
        for (i, &(d, day)) in payments.iter().enumerate() {
            let found = apply(&mut people, &format!("D{d}"), &pay(&format!("C{i}"), 1, day * DAY)).is_some();
            let expected = payments[..i].iter().any(|&(d2, day2)| d2 != d && (day2 - day).abs() < 30);
            prop_assert_eq!(found, expected);
        }
    }
}
