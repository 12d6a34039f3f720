//! What a viewer may see of a person: the first character of a name, the rest starred. Viewers
//! get names this way everywhere (case views, the dashboard, exports, the rejects preview);
//! ID numbers are masked by their own type ([`mz_shared::id_number`]).

/// `张三丰` → `张**`.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}
