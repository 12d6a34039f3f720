//! Which rescue-station events open a 救急难 case by themselves (自动立案, SPEC §5, the
//! registry's `[auto_cases]`, §4), and the terms the triggers use. Pure: the daemon's rules
//! ask [`admission_triggers`] and [`enabled`] and open (or add to) cases accordingly.
//!
//! Invariants: a *minor* is never a *vulnerable adult*; every trigger is switched by exactly
//! one `[auto_cases]` key, whose defaults are SPEC's (vulnerable adults and unidentified
//! arrivals off: they get station tasks instead).

use crate::case::{Source, Urgency};
use crate::id_number::ProtectedId;
use crate::records::Flag;
use crate::registry::AutoCases;

/// A kind of event that may open a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// 异常事件 (other than a death).
    Incident,
    /// A minor admitted: mandatory report (强制报告).
    Minor,
    /// A stay past `long_stay_days`: placement (安置).
    LongStay,
    /// A death at a station: free basic funeral service.
    Death,
    /// An adult flagged elderly, disabled, mental, ill or pregnant, or aged 60 or over.
    VulnerableAdult,
    /// No valid ID number, or an empty name, or 无名氏.
    Unidentified,
}

impl Trigger {
    /// The source recorded on the case it opens.
    pub fn source(self) -> Source {
        match self {
            Trigger::Incident => Source::StationIncident,
            Trigger::Minor | Trigger::VulnerableAdult => Source::VulnerableArrival,
            Trigger::LongStay => Source::LongStay,
            Trigger::Death => Source::StationDeath,
            Trigger::Unidentified => Source::UnidentifiedArrival,
        }
    }

    /// How urgent the case is: high for incidents, minors, deaths and unidentified arrivals.
    pub fn urgency(self) -> Urgency {
        match self {
            Trigger::LongStay | Trigger::VulnerableAdult => Urgency::Normal,
            _ => Urgency::High,
        }
    }

    /// A short name for trigger keys (`minor:<record_id>`).
    pub fn key(self) -> &'static str {
        match self {
            Trigger::Incident => "incident",
            Trigger::Minor => "minor",
            Trigger::LongStay => "long_stay",
            Trigger::Death => "death",
            Trigger::VulnerableAdult => "vulnerable",
            Trigger::Unidentified => "unidentified",
        }
    }
}

/// Whether `[auto_cases]` lets `trigger` open a case.
pub fn enabled(auto: &AutoCases, trigger: Trigger) -> bool {
    match trigger {
        Trigger::Incident => auto.incident,
        Trigger::Minor => auto.minor,
        Trigger::LongStay => auto.long_stay,
        Trigger::Death => auto.death,
        Trigger::VulnerableAdult => auto.vulnerable_adult,
        Trigger::Unidentified => auto.unidentified,
    }
}

/// Under 18 by age (given, or derived from the ID number by validation), or flagged `minor`.
pub fn is_minor(age: Option<u8>, flags: &[Flag]) -> bool {
    age.is_some_and(|a| a < 18) || flags.contains(&Flag::Minor)
}

/// 18 or over (or of unknown age, not a minor) and flagged elderly, disabled, mental, ill or
/// pregnant, or aged 60 or over.
pub fn is_vulnerable_adult(age: Option<u8>, flags: &[Flag]) -> bool {
    const FLAGS: [Flag; 5] = [Flag::Elderly, Flag::Disabled, Flag::Mental, Flag::Ill, Flag::Pregnant];
    !is_minor(age, flags) && (age.is_some_and(|a| a >= 60) || flags.iter().any(|f| FLAGS.contains(f)))
}

/// No valid ID number, or an empty name, or the name 无名氏.
pub fn is_unidentified(id: Option<&ProtectedId>, name: Option<&str>) -> bool {
    let name = name.map(str::trim).unwrap_or("");
    id.is_none() || name.is_empty() || name == "无名氏"
}

/// The triggers an admission raises, enabled or not: minor or vulnerable adult, and
/// unidentified.
pub fn admission_triggers(
    age: Option<u8>,
    flags: &[Flag],
    id: Option<&ProtectedId>,
    name: Option<&str>,
) -> Vec<Trigger> {
    let mut out = Vec::new();
    if is_minor(age, flags) {
        out.push(Trigger::Minor);
    } else if is_vulnerable_adult(age, flags) {
        out.push(Trigger::VulnerableAdult);
    }
    if is_unidentified(id, name) {
        out.push(Trigger::Unidentified);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id_number::IdHash;

    fn id() -> ProtectedId {
        ProtectedId { masked: "110105********002X".into(), hash: IdHash([1; 16]) }
    }

    #[test]
    fn minors_by_age_or_flag() {
        assert!(is_minor(Some(17), &[]));
        assert!(!is_minor(Some(18), &[]));
        assert!(is_minor(None, &[Flag::Minor]));
        assert!(!is_minor(None, &[]));
    }

    #[test]
    fn vulnerable_adults() {
        assert!(is_vulnerable_adult(Some(60), &[]));
        assert!(!is_vulnerable_adult(Some(59), &[]));
        assert!(is_vulnerable_adult(Some(30), &[Flag::Pregnant]));
        assert!(is_vulnerable_adult(None, &[Flag::Mental]));
        assert!(is_vulnerable_adult(Some(40), &[Flag::Ill]));
        // A sick child is a minor, not a vulnerable adult.
        assert!(!is_vulnerable_adult(Some(10), &[Flag::Ill]));
        assert!(!is_vulnerable_adult(Some(40), &[]));
    }

    #[test]
    fn unidentified_arrivals() {
        assert!(is_unidentified(None, Some("张三")));
        assert!(is_unidentified(Some(&id()), Some("无名氏")));
        assert!(is_unidentified(Some(&id()), Some("  ")));
        assert!(is_unidentified(Some(&id()), None));
        assert!(!is_unidentified(Some(&id()), Some("张三")));
    }

    #[test]
    fn defaults_open_incident_minor_long_stay_death_only() {
        let d = AutoCases::default();
        for t in [Trigger::Incident, Trigger::Minor, Trigger::LongStay, Trigger::Death] {
            assert!(enabled(&d, t), "{t:?}");
        }
        assert!(!enabled(&d, Trigger::VulnerableAdult));
        assert!(!enabled(&d, Trigger::Unidentified));
        let on = AutoCases { vulnerable_adult: true, ..d };
        assert!(enabled(&on, Trigger::VulnerableAdult));
    }

    #[test]
    fn admission_triggers_and_their_urgency() {
        let t = admission_triggers(Some(15), &[Flag::Minor], None, Some("无名氏"));
        assert_eq!(t, [Trigger::Minor, Trigger::Unidentified]);
        assert_eq!(Trigger::Minor.urgency(), Urgency::High);
        assert_eq!(
            admission_triggers(Some(70), &[Flag::Elderly], Some(&id()), Some("李四")),
            [Trigger::VulnerableAdult]
        );
        assert_eq!(Trigger::VulnerableAdult.urgency(), Urgency::Normal);
        assert!(admission_triggers(Some(30), &[], Some(&id()), Some("王五")).is_empty());
    }
}
