//! The fill bar: `[######....] 45/50`, ASCII only so it aligns in every terminal (block
//! characters are ambiguous-width in CJK locales).

/// A bar of `width` columns (brackets included) for `value / total`.
pub fn fill_bar(value: u32, total: u32, width: usize) -> String {
    let inner = width.saturating_sub(2);
    let filled = if total == 0 {
        0
    } else {
        ((u64::from(value) * inner as u64 + u64::from(total) / 2) / u64::from(total)).min(inner as u64) as usize
    };
    let filled = if value > 0 && filled == 0 && inner > 0 { 1 } else { filled };
    format!("[{}{}]", "#".repeat(filled), ".".repeat(inner - filled))
}

/// Occupancy share, `None` when there is no capacity.
pub fn share(value: u32, total: u32) -> Option<f64> {
    (total > 0).then(|| f64::from(value) / f64::from(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars() {
        assert_eq!(fill_bar(5, 10, 12), "[#####.....]");
        assert_eq!(fill_bar(0, 10, 6), "[....]");
        assert_eq!(fill_bar(1, 100, 6), "[#...]");
        assert_eq!(fill_bar(12, 10, 6), "[####]");
        assert_eq!(fill_bar(0, 0, 4), "[..]");
    }
}
