//! Spreadsheet formula injection: a cell that starts with `=`, `+`, `-`, `@`, a tab or a
//! carriage return is run as a formula by Excel. Exported cells are prefixed with `'`.

/// Returns the cell, prefixed with a single quote when a spreadsheet would treat it as a formula.
pub fn escape_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangerous_cells_are_prefixed() {
        for bad in ["=1+1", "+81", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(escape_formula(bad), format!("'{bad}"));
        }
        assert_eq!(escape_formula("山田"), "山田");
        assert_eq!(escape_formula(""), "");
    }
}
