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
