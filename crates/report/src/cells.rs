//! A stage table's cells by column name and row, as the report reads them.

use metapipe_tables::Table;

pub(crate) fn s(t: &Table, c: &str, r: usize) -> Option<String> {
    t.str_at(c, r)
}

pub(crate) fn fl(t: &Table, c: &str, r: usize) -> Option<f64> {
    t.float(c).get(r)
}

pub(crate) fn it(t: &Table, c: &str, r: usize) -> Option<i64> {
    t.int(c).get(r)
}

/// A number the review typed (a covariate: a year, a latitude, a dose) as it would write it:
/// a whole number without decimals, any other in its shortest exact form.
pub(crate) fn typed_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::typed_number;

    #[test]
    fn typed_numbers_print_as_typed() {
        assert_eq!(typed_number(1948.0), "1948");
        assert_eq!(typed_number(-44.0), "-44");
        assert_eq!(typed_number(54.3), "54.3");
        assert_eq!(typed_number(0.125), "0.125");
    }
}
