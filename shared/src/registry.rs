//! The registry (`registry.toml`): the places the feeds refer to, who may do what, and the limits.
//!
//! Ops engineers write it by hand, so its keys are part of the external contract (SPEC §4) and
//! every error names the entry and key at fault.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Money in integer fen (分). The registry writes yuan with at most two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Fen(pub i64);

/// 救助管理站 (`station`) or 临时救助点 (`point`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StationKind {
    Station,
    Point,
}

/// 公益性墓园 public | 经营性公墓 commercial | 村级埋葬点 village | 骨灰堂 columbarium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SiteKind {
    Public,
    Commercial,
    Village,
    Columbarium,
}

/// What a connected user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Officer,
    Station,
    Supervisor,
    Admin,
}

/// A rescue station or temporary rescue point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Station {
    pub id: String,
    pub name: String,
    pub street: String,
    pub kind: StationKind,
    pub beds: u32,
}

/// A burial site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub id: String,
    pub name: String,
    pub town: String,
    pub kind: SiteKind,
}

/// A marriage registration office (婚姻登记机关).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Office {
    pub id: String,
    pub name: String,
    /// Optional 6-digit division code of the office's district; a party whose hukou code differs
    /// is cross-district. Defaults to the registry's `district_code`.
    pub division: Option<String>,
}

/// A street or town (街道/乡镇), holder of an emergency reserve fund (临时救助备用金).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Street {
    pub id: String,
    pub name: String,
    pub reserve_fund: Fen,
    pub case_cap: Fen,
}

/// A department cases can be dispatched to (分办).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub id: String,
    pub name: String,
}

/// Case time limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub accept_within: Duration,
    pub close_within: Duration,
    pub paperwork_within: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            accept_within: Duration::from_secs(30 * 60),
            close_within: Duration::from_secs(72 * 3600),
            paperwork_within: Duration::from_secs(5 * 86400),
        }
    }
}

/// The whole registry, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registry {
    /// IANA zone name; default `Asia/Shanghai`.
    pub timezone: String,
    /// Stays longer than this many days are long stays (长期滞留); default 10.
    pub long_stay_days: u32,
    /// Optional 6-digit division code of the district (default for offices).
    pub district_code: Option<String>,
    pub stations: Vec<Station>,
    pub sites: Vec<Site>,
    pub offices: Vec<Office>,
    pub streets: Vec<Street>,
    pub departments: Vec<Department>,
    pub limits: Limits,
    /// OS user name -> role.
    pub roles: BTreeMap<String, Role>,
}

/// Why a registry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Not valid TOML, or a key of the wrong type: line and column are 1-based.
    #[error("registry is not valid TOML at line {line}, column {column}: {message}")]
    Syntax { line: usize, column: usize, message: String },
    /// Valid TOML whose content is wrong: `at` names the entry and key, e.g. `[[station]] id = "S1": beds`.
    #[error("registry entry {at}: {message}")]
    Invalid { at: String, message: String },
}

impl Registry {
    /// Parses and validates a registry file's text.
    pub fn parse(text: &str) -> Result<Registry, RegistryError> {
        let _ = text;
        todo!("helper: implement")
    }

    /// The demo registry of SPEC §4 (a district like Tongzhou).
    pub fn demo() -> Registry {
        Registry::parse(DEMO_REGISTRY).expect("the demo registry is valid")
    }

    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.timezone).expect("validated at parse")
    }

    pub fn station(&self, id: &str) -> Option<&Station> {
        self.stations.iter().find(|s| s.id == id)
    }

    pub fn site(&self, id: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.id == id)
    }

    pub fn office(&self, id: &str) -> Option<&Office> {
        self.offices.iter().find(|s| s.id == id)
    }

    pub fn street(&self, id: &str) -> Option<&Street> {
        self.streets.iter().find(|s| s.id == id)
    }

    pub fn department(&self, id: &str) -> Option<&Department> {
        self.departments.iter().find(|s| s.id == id)
    }

    /// The role of an OS user; unknown users are viewers.
    pub fn role_of(&self, user: &str) -> Role {
        self.roles.get(user).copied().unwrap_or(Role::Viewer)
    }
}

/// Text of the demo registry.
pub const DEMO_REGISTRY: &str = include_str!("demo_registry.toml");
