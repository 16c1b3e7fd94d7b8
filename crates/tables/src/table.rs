use crate::schema::{ColType, TableSchema};
use crate::{Error, Result};

/// One column's values; `None` is a missing cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Str(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
}

impl Column {
    /// An empty column of type `ty`.
    pub fn empty(ty: ColType) -> Column {
        match ty {
            ColType::Str => Column::Str(vec![]),
            ColType::Int => Column::Int(vec![]),
            ColType::Float => Column::Float(vec![]),
            ColType::Bool => Column::Bool(vec![]),
        }
    }
    pub fn len(&self) -> usize {
        match self {
            Column::Str(v) => v.len(),
            Column::Int(v) => v.len(),
            Column::Float(v) => v.len(),
            Column::Bool(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn col_type(&self) -> ColType {
        match self {
            Column::Str(_) => ColType::Str,
            Column::Int(_) => ColType::Int,
            Column::Float(_) => ColType::Float,
            Column::Bool(_) => ColType::Bool,
        }
    }
    /// A cell as CSV text: empty when missing; floats in the shortest form that reads back
    /// exactly.
    pub fn cell_text(&self, i: usize) -> String {
        match self {
            Column::Str(v) => v[i].clone().unwrap_or_default(),
            Column::Int(v) => v[i].map(|x| x.to_string()).unwrap_or_default(),
            Column::Float(v) => v[i].map(|x| if x.is_finite() { format!("{x}") } else { String::new() }).unwrap_or_default(),
            Column::Bool(v) => v[i].map(|x| x.to_string()).unwrap_or_default(),
        }
    }
}

/// A stage table: a schema and one column per field, all of equal length.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub schema: &'static TableSchema,
    pub columns: Vec<Column>,
}

impl Table {
    /// Build a table, checking the columns against the schema.
    pub fn new(schema: &'static TableSchema, columns: Vec<Column>) -> Result<Table> {
        if columns.len() != schema.fields.len() {
            return Err(Error::data(format!("table {}: {} columns for {} fields", schema.name, columns.len(), schema.fields.len())));
        }
        let n = columns.first().map(|c| c.len()).unwrap_or(0);
        for (c, f) in columns.iter().zip(schema.fields) {
            if c.col_type() != f.ty {
                return Err(Error::data(format!("table {}: column {} is {:?}, schema says {:?}", schema.name, f.name, c.col_type(), f.ty)));
            }
            if c.len() != n {
                return Err(Error::data(format!("table {}: column {} has {} rows, expected {n}", schema.name, f.name, c.len())));
            }
            if !f.nullable {
                let missing = match c {
                    Column::Str(v) => v.iter().position(|x| x.is_none()),
                    Column::Int(v) => v.iter().position(|x| x.is_none()),
                    Column::Float(v) => v.iter().position(|x| x.is_none()),
                    Column::Bool(v) => v.iter().position(|x| x.is_none()),
                };
                if let Some(i) = missing {
                    return Err(Error::data(format!("table {}: row {}: {} must not be missing", schema.name, i + 1, f.name)));
                }
            }
        }
        Ok(Table { schema, columns })
    }
    pub fn num_rows(&self) -> usize {
        self.columns.first().map(|c| c.len()).unwrap_or(0)
    }
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.schema.index_of(name).map(|i| &self.columns[i])
    }
    pub fn str_col(&self, name: &str) -> &[Option<String>] {
        match self.column(name) {
            Some(Column::Str(v)) => v,
            _ => panic!("{}: no string column {name}", self.schema.name),
        }
    }
    pub fn int_col(&self, name: &str) -> &[Option<i64>] {
        match self.column(name) {
            Some(Column::Int(v)) => v,
            _ => panic!("{}: no int column {name}", self.schema.name),
        }
    }
    pub fn float_col(&self, name: &str) -> &[Option<f64>] {
        match self.column(name) {
            Some(Column::Float(v)) => v,
            _ => panic!("{}: no float column {name}", self.schema.name),
        }
    }
}

/// Row-wise builder for a table: push cells in schema order.
pub struct TableBuilder {
    schema: &'static TableSchema,
    columns: Vec<Column>,
}

impl TableBuilder {
    pub fn new(schema: &'static TableSchema) -> Self {
        let columns = schema.fields.iter().map(|f| Column::empty(f.ty)).collect();
        TableBuilder { schema, columns }
    }
    pub fn str(&mut self, i: usize, v: Option<impl Into<String>>) {
        if let Column::Str(c) = &mut self.columns[i] {
            c.push(v.map(Into::into))
        } else {
            panic!("{}.{} is not a string column", self.schema.name, self.schema.fields[i].name)
        }
    }
    pub fn int(&mut self, i: usize, v: Option<i64>) {
        if let Column::Int(c) = &mut self.columns[i] {
            c.push(v)
        } else {
            panic!("{}.{} is not an int column", self.schema.name, self.schema.fields[i].name)
        }
    }
    pub fn float(&mut self, i: usize, v: Option<f64>) {
        if let Column::Float(c) = &mut self.columns[i] {
            c.push(v.filter(|x| x.is_finite()))
        } else {
            panic!("{}.{} is not a float column", self.schema.name, self.schema.fields[i].name)
        }
    }
    pub fn boolean(&mut self, i: usize, v: Option<bool>) {
        if let Column::Bool(c) = &mut self.columns[i] {
            c.push(v)
        } else {
            panic!("{}.{} is not a bool column", self.schema.name, self.schema.fields[i].name)
        }
    }
    pub fn finish(self) -> Result<Table> {
        Table::new(self.schema, self.columns)
    }
}

pub use TableBuilder as Builder;

/// One cell for [`TableBuilder::row`].
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    S(Option<String>),
    I(Option<i64>),
    F(Option<f64>),
    B(Option<bool>),
}

/// A string cell (empty string stays a string; use `None` for missing).
pub fn s(v: impl Into<String>) -> Cell {
    Cell::S(Some(v.into()))
}
/// An optional string cell: `None` or an empty string is missing.
pub fn so(v: Option<impl Into<String>>) -> Cell {
    Cell::S(v.map(Into::into).filter(|x: &String| !x.is_empty()))
}
pub fn i(v: impl Into<Option<i64>>) -> Cell {
    Cell::I(v.into())
}
pub fn f(v: impl Into<Option<f64>>) -> Cell {
    Cell::F(v.into())
}
pub fn b(v: impl Into<Option<bool>>) -> Cell {
    Cell::B(v.into())
}

impl TableBuilder {
    /// Push one row, cells in schema order.
    pub fn row(&mut self, cells: Vec<Cell>) {
        assert_eq!(cells.len(), self.schema.fields.len(), "{}: row width", self.schema.name);
        for (k, c) in cells.into_iter().enumerate() {
            match c {
                Cell::S(v) => self.str(k, v),
                Cell::I(v) => self.int(k, v),
                Cell::F(v) => self.float(k, v),
                Cell::B(v) => self.boolean(k, v),
            }
        }
    }
}
