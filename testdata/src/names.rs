//! Chinese personal names (姓名): a common surname and a given name chosen by sex, so a
//! generated name never contradicts the person's sex.

use crate::{Rng, Sex};

/// Common surnames, most frequent first.
pub const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗",
];

/// Given names usual for men.
pub const MALE_GIVEN: &[&str] = &[
    "建国", "志强", "伟", "磊", "军", "德福", "小龙", "强", "洋", "勇", "杰", "涛", "明", "国庆", "建华", "海涛",
    "永刚", "宏伟", "振华", "文斌",
];

/// Given names usual for women.
pub const FEMALE_GIVEN: &[&str] = &[
    "秀英", "桂兰", "海燕", "芳", "丽娟", "春梅", "玉珍", "娜", "敏", "静", "艳", "淑芬", "秀兰", "丽华", "红梅",
    "晓燕", "凤英", "雪梅", "慧", "玉兰",
];

/// The name recorded for someone who cannot or will not give one.
pub const UNKNOWN: &str = "无名氏";

/// A surname and a given name that fits `sex`.
pub fn name(rng: &mut Rng, sex: Sex) -> String {
    let given = match sex {
        Sex::Male => MALE_GIVEN,
        Sex::Female => FEMALE_GIVEN,
    };
    format!("{}{}", rng.pick(SURNAMES), rng.pick(given))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_names_do_not_overlap_between_sexes() {
        assert!(MALE_GIVEN.iter().all(|m| !FEMALE_GIVEN.contains(m)));
        let mut rng = Rng::new(3);
        for _ in 0..100 {
            let n = name(&mut rng, Sex::Female);
            assert!(FEMALE_GIVEN.iter().any(|g| n.ends_with(g)), "{n}");
        }
    }
}
