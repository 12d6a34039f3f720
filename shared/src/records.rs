//! The typed records a valid feed row becomes, and the enumerations they use.
//!
//! Records are what the daemon stores. ID numbers never appear in them: only a
//! [`ProtectedId`] (masked form plus keyed hash). Times are instants ([`jiff::Timestamp`]),
//! dates are civil dates; both are rendered in the registry's time zone for people.

use crate::id_number::ProtectedId;
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Defines an enumeration whose values are accepted by their English or Chinese word
/// (case-insensitive for English), rendered canonically in English (`as_str`) or Chinese (`zh`).
macro_rules! aliased_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $en:literal / $zh:literal $(| $alt:literal)*),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $(#[doc = concat!("`", $en, "` / ", $zh $(, " / ", $alt)*, " in a feed row or form.")] $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical English word, as written in exports.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $en),+ }
            }

            /// The Chinese word.
            pub fn zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            /// Parses the English word (any case) or the Chinese word; surrounding blanks ignored.
            pub fn parse(text: &str) -> Option<$name> {
                let t = text.trim();
                $(
                    if t.eq_ignore_ascii_case($en) || t == $zh $(|| t == $alt)* {
                        return Some($name::$variant);
                    }
                )+
                None
            }

            /// `en/中文` pairs of every accepted value, for error messages.
            pub fn accepted() -> String {
                let v: Vec<String> = Self::ALL.iter().map(|x| format!("{}/{}", x.as_str(), x.zh())).collect();
                v.join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use aliased_enum;

aliased_enum! {
    /// 事件类型: what happened at a rescue station.
    EventKind { Admit = "admit" / "入站", Discharge = "discharge" / "离站", Incident = "incident" / "异常" }
}

aliased_enum! {
    /// 性别.
    Gender { Male = "male" / "男", Female = "female" / "女", Unknown = "unknown" / "未知" }
}

aliased_enum! {
    /// 来源: how a person came to the station.
    Referral {
        Police = "police" / "公安护送" | "公安",
        Patrol = "patrol" / "街面巡查",
        SelfReferred = "self" / "主动求助",
        Agency = "agency" / "部门转介",
        Hotline = "hotline" / "12345热线" | "12345",
    }
}

aliased_enum! {
    /// 特殊情况: vulnerabilities that call for coordination.
    Flag {
        Minor = "minor" / "未成年",
        Elderly = "elderly" / "老年",
        Disabled = "disabled" / "残疾",
        Mental = "mental" / "精神障碍",
        Ill = "ill" / "疾病",
        Pregnant = "pregnant" / "怀孕",
    }
}

aliased_enum! {
    /// 离站原因.
    DischargeReason {
        Home = "home" / "返乡",
        Family = "family" / "亲属接回",
        Welfare = "welfare" / "转福利机构",
        Hospital = "hospital" / "转医疗机构",
        Left = "left" / "自行离站",
        Died = "died" / "死亡",
        Other = "other" / "其他",
    }
}

aliased_enum! {
    /// 异常类型: an incident at a station (强制报告).
    IncidentType {
        Death = "death" / "死亡",
        SevereIllness = "severe_illness" / "重病",
        Injury = "injury" / "受伤",
        Missing = "missing" / "走失",
        Conflict = "conflict" / "冲突",
        Infectious = "infectious" / "传染病",
        Other = "other" / "其他",
    }
}

aliased_enum! {
    /// 登记类型.
    MarriageKind {
        Marriage = "marriage" / "结婚",
        Divorce = "divorce" / "离婚",
        DivorceApplication = "divorce_application" / "离婚申请",
        DivorceWithdrawal = "divorce_withdrawal" / "撤回离婚申请",
        Reissue = "reissue" / "补领",
    }
}

/// One row of the admissions feed (救助站事件): an arrival, a discharge or an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationEvent {
    /// 记录编号: unique within the feed; a later row with the same id corrects the record.
    pub record_id: String,
    /// Station id as in the registry, e.g. `TZ-JZZ`.
    pub station_id: String,
    /// Admit, discharge or incident.
    pub event: EventKind,
    /// When it happened (the feed's `occurred_at`); stored as Unix milliseconds.
    #[serde(with = "crate::time::millis")]
    pub occurred_at: Timestamp,
    /// The station's number for the person (受助人编号): links admit, incidents and discharge.
    pub person_ref: String,
    /// The person's name; may be empty or 无名氏.
    pub name: Option<String>,
    /// The person's ID number, masked and keyed-hashed.
    pub id_number: Option<ProtectedId>,
    /// Sex as given in the row.
    pub gender: Option<Gender>,
    /// Given, or derived from the ID number at `occurred_at`.
    pub age: Option<u8>,
    /// 户籍地, free text.
    pub origin: Option<String>,
    /// How the person came; required on an admit.
    pub referral: Option<Referral>,
    /// Vulnerabilities given in the row (`;`-separated in the feed).
    pub flags: Vec<Flag>,
    /// The bed, as the station names it.
    pub bed: Option<String>,
    /// Why the person left; required on a discharge.
    pub discharge_reason: Option<DischargeReason>,
    /// What happened; required on an incident.
    pub incident_type: Option<IncidentType>,
    /// 备注, free text.
    pub note: Option<String>,
}

impl StationEvent {
    /// True when the person's identity is not known (no ID number and no real name).
    pub fn unidentified(&self) -> bool {
        self.id_number.is_none() && self.name.as_deref().is_none_or(|n| n.trim().is_empty() || n.trim() == "无名氏")
    }
}

/// One row of the burials feed (殡葬点位统计): a site's counts on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BurialReport {
    /// 记录编号: unique within the feed; a later row with the same id corrects the record.
    pub record_id: String,
    /// Site id as in the registry, e.g. `C-SZ`.
    pub site_id: String,
    /// 统计日期: the date the counts are for.
    pub reported_on: Date,
    /// 总穴位: graves in all.
    pub capacity_total: u32,
    /// 已用穴位: graves taken, at most `capacity_total`.
    pub occupied: u32,
    /// 本期安葬: interments since the previous report.
    pub new_interments: Option<u32>,
    /// 节地生态安葬: the eco burials among `new_interments`.
    pub eco_interments: Option<u32>,
    /// 免费基本殡葬服务: free basic funeral services given.
    pub free_basic_services: Option<u32>,
    /// 备注, free text.
    pub note: Option<String>,
}

/// One row of the marriages feed (婚姻登记).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarriageRegistration {
    /// 记录编号: unique within the feed; a later row with the same id corrects the record.
    pub record_id: String,
    /// Office id as in the registry, e.g. `M-TZ`.
    pub office_id: String,
    /// When it was registered (the feed's `registered_at`); stored as Unix milliseconds.
    #[serde(with = "crate::time::millis")]
    pub registered_at: Timestamp,
    /// Marriage, divorce, divorce application, withdrawal or reissue.
    pub kind: MarriageKind,
    /// Party A's ID number, masked and keyed-hashed; required but on a reissue.
    pub party_a_id: Option<ProtectedId>,
    /// Party B's ID number, masked and keyed-hashed; required but on a reissue.
    pub party_b_id: Option<ProtectedId>,
    /// 6-digit administrative division code.
    pub party_a_hukou: Option<String>,
    /// 6-digit administrative division code.
    pub party_b_hukou: Option<String>,
    /// 婚姻辅导: whether the couple had counselling.
    pub counselling: Option<bool>,
}

/// A stored record of any feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    /// A row of the admissions feed.
    Station(StationEvent),
    /// A row of the burials feed.
    Burial(BurialReport),
    /// A row of the marriages feed.
    Marriage(MarriageRegistration),
}

impl Record {
    /// The record's `record_id`, whatever its feed.
    pub fn record_id(&self) -> &str {
        match self {
            Record::Station(r) => &r.record_id,
            Record::Burial(r) => &r.record_id,
            Record::Marriage(r) => &r.record_id,
        }
    }

    /// The feed it belongs to.
    pub fn feed(&self) -> crate::feed::Feed {
        use crate::feed::Feed;
        match self {
            Record::Station(_) => Feed::Admissions,
            Record::Burial(_) => Feed::Burials,
            Record::Marriage(_) => Feed::Marriages,
        }
    }
}
