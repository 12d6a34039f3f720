//! Places and codes of the demo district (通州区): region codes with their names, stations,
//! origins, referral sources, discharge reasons. Station ids match the demo registry.

/// Region codes (the first six digits of an ID number) with the place they name.
pub const REGIONS: &[(&str, &str)] = &[
    ("110112", "北京市通州区"),
    ("110105", "北京市朝阳区"),
    ("130281", "河北省遵化市"),
    ("130682", "河北省定州市"),
    ("410523", "河南省汤阴县"),
    ("341221", "安徽省临泉县"),
    ("510722", "四川省三台县"),
    ("230204", "黑龙江省齐齐哈尔市"),
];

/// The demo registry's stations: the district station (救助管理站) first, then its temporary
/// points.
pub const STATIONS: &[&str] = &["TZ-JZZ", "TZ-P01", "TZ-P02", "TZ-P03", "TZ-P04", "TZ-P05"];

/// Places of origin as written on a registration form.
pub const ORIGINS: &[&str] =
    &["河北省保定市", "河南省周口市", "山东省菏泽市", "安徽省阜阳市", "四川省南充市", "北京市通州区"];

/// The `referral` codes of an admission.
pub const REFERRALS: &[&str] = &["police", "patrol", "self", "agency", "hotline"];

/// The `discharge_reason` codes of a discharge.
pub const DISCHARGE_REASONS: &[&str] = &["home", "family", "welfare", "hospital", "left", "other"];

/// The place named by the region code at the start of `id`, if it is one of [`REGIONS`].
pub fn region_name(id: &str) -> Option<&'static str> {
    REGIONS.iter().find(|(code, _)| id.starts_with(code)).map(|(_, name)| *name)
}
