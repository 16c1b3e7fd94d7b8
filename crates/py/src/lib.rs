//! # metapipe-py
//!
//! The native half of the `metapipe` Python package (`crates/py/python/metapipe/` is the other):
//! tables cross the boundary through the Arrow C stream interface (PyCapsules named
//! `arrow_array_stream`, as pyarrow and polars export them; pandas through pyarrow), so the study
//! columns enter Rust without a copy (the pooling path then reads the columns it needs into f64
//! once, as the CLI does), and the results go back the same way. The work is the library
//! crates': [`metapipe_pool::pool_frame`] is `metapipe pool`'s engine, and `run` is
//! [`metapipe_run::run::run`], `metapipe run`'s. The GIL is released while Rust works.

use metapipe_meta::model::Control;
use metapipe_meta::Measure;
use metapipe_pool::{escalc_frame, pool_frame, PoolArgs, UserOptions};
use polars::prelude::*;
use polars_arrow::array::{Array, StructArray};
use polars_arrow::datatypes::{ArrowDataType, Field as ArrowField};
use polars_arrow::ffi::{export_iterator, ArrowArrayStream, ArrowArrayStreamReader};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use std::ffi::CString;
use std::path::Path;

pyo3::create_exception!(
    _native,
    MetapipeError,
    pyo3::exceptions::PyValueError,
    "Bad input or usage: the message names the row (0-based, as DataFrame positions) and the column, or the file, line and field."
);

/// The name errors give an in-memory table (rows are then 0-based positions).
const LABEL: &str = "<table>";
const STREAM: &std::ffi::CStr = c"arrow_array_stream";

/// A metapipe error as a Python `MetapipeError` with `file`, `row` (0-based, in-memory tables),
/// `line` (1-based, files) and `column` attributes; a bad option (usage, no file) names it in
/// `option` instead of `column`.
fn to_py(py: Python<'_>, e: metapipe_tables::Error) -> PyErr {
    let in_memory = e.file.as_deref() == Some(Path::new(LABEL));
    let row = if in_memory {
        e.line.map(|l| l.saturating_sub(1))
    } else {
        None
    };
    let msg = if in_memory {
        let mut m = String::new();
        if let Some(r) = row {
            m.push_str(&format!("row {r}, "));
        }
        if let Some(f) = &e.field {
            m.push_str(&format!("column {f:?}: "));
        }
        m + &e.message
    } else {
        e.to_string()
    };
    let err = MetapipeError::new_err(msg);
    let v = err.value(py);
    let file = if in_memory {
        None
    } else {
        e.file.as_ref().map(|p| p.display().to_string())
    };
    let line = if in_memory { None } else { e.line };
    let option = e.kind == metapipe_tables::ErrorKind::Usage && e.file.is_none();
    let _ = v.setattr("file", file);
    let _ = v.setattr("option", if option { e.field.clone() } else { None });
    let _ = v.setattr("column", if option { None } else { e.field.clone() });
    let _ = v.setattr("row", row);
    let _ = v.setattr("line", line);
    err
}

fn polars_err(e: PolarsError) -> PyErr {
    PyTypeError::new_err(format!("not a table metapipe can read: {e}"))
}

/// Take the stream out of an `arrow_array_stream` capsule (leaving it released) and read every
/// batch into one DataFrame; primitive buffers are shared, not copied.
fn import(capsule: &Bound<'_, PyCapsule>) -> PyResult<DataFrame> {
    let ptr = capsule
        .pointer_checked(Some(STREAM))
        .map_err(|_| {
            PyTypeError::new_err(
                "expected a PyCapsule named 'arrow_array_stream' (from __arrow_c_stream__)",
            )
        })?
        .as_ptr() as *mut ArrowArrayStream;
    let mut stream = Box::new(ArrowArrayStream::empty());
    // SAFETY: the capsule holds an ArrowArrayStream (its name says so); swapping moves it out
    // and leaves a released stream behind, as the C stream interface prescribes for a consumer.
    unsafe { std::ptr::swap(ptr, &mut *stream) };
    // SAFETY: a stream from a producer of the C stream interface
    let mut reader = unsafe { ArrowArrayStreamReader::try_new(stream) }.map_err(polars_err)?;
    let mut out: Option<DataFrame> = None;
    // SAFETY: as above
    while let Some(arr) = unsafe { reader.next() } {
        let arr = arr.map_err(polars_err)?;
        let sa = arr
            .as_any()
            .downcast_ref::<StructArray>()
            .ok_or_else(|| {
                PyTypeError::new_err("the stream's batches are not record batches (struct arrays)")
            })?
            .clone();
        let df = DataFrame::try_from(sa).map_err(polars_err)?;
        match out.as_mut() {
            None => out = Some(df),
            Some(o) => {
                o.vstack_mut(&df).map_err(polars_err)?;
            }
        }
    }
    match out {
        Some(df) => Ok(df),
        None => DataFrame::try_from(StructArray::new_empty(reader.field().dtype.clone()))
            .map_err(polars_err),
    }
}

/// A DataFrame as an `arrow_array_stream` capsule (plain `large_string` text, readable by any
/// Arrow consumer).
fn export<'py>(py: Python<'py>, mut df: DataFrame) -> PyResult<Bound<'py, PyCapsule>> {
    df.rechunk_mut_par();
    let level = CompatLevel::oldest();
    let fields: Vec<ArrowField> = df
        .columns()
        .iter()
        .map(|c| c.field().to_arrow(level))
        .collect();
    let dtype = ArrowDataType::Struct(fields);
    let batches: Vec<PolarsResult<Box<dyn Array>>> = df
        .iter_chunks(level, false)
        .map(|b| {
            let h = b.height();
            Ok(StructArray::new(dtype.clone(), h, b.into_arrays(), None).boxed())
        })
        .collect();
    let stream = export_iterator(
        Box::new(batches.into_iter()),
        ArrowField::new("".into(), dtype, false),
    );
    PyCapsule::new(py, stream, Some(CString::from(STREAM)))
}

/// `metapipe pool` on an Arrow stream; see `metapipe.pool` for the arguments.
#[pyfunction]
#[pyo3(signature = (stream, measure, method, test, convention, prediction, level, engine, group, tau2_max, maxiter, stepadj, threshold))]
fn pool<'py>(
    py: Python<'py>,
    stream: &Bound<'py, PyCapsule>,
    measure: &str,
    method: &str,
    test: Option<&str>,
    convention: &str,
    prediction: Option<&str>,
    level: f64,
    engine: &str,
    group: Option<String>,
    tau2_max: Option<f64>,
    maxiter: usize,
    stepadj: f64,
    threshold: f64,
) -> PyResult<Bound<'py, PyCapsule>> {
    let df = import(stream)?;
    let control = Control {
        tau2_max,
        maxiter,
        stepadj,
        threshold,
        ..Control::default()
    };
    let o = UserOptions {
        measure,
        method,
        test,
        convention,
        prediction,
        level,
        engine,
        control,
    };
    let a = PoolArgs {
        group,
        ..PoolArgs::new(&o).map_err(|e| to_py(py, e))?
    };
    let out = py
        .detach(|| pool_frame(&df, LABEL, &a))
        .map_err(|e| to_py(py, e))?;
    export(py, out)
}

/// metafor's `escalc` on an Arrow stream: the table with `yi` and `vi` appended.
#[pyfunction]
fn escalc<'py>(
    py: Python<'py>,
    stream: &Bound<'py, PyCapsule>,
    measure: &str,
) -> PyResult<Bound<'py, PyCapsule>> {
    let df = import(stream)?;
    let m = Measure::parse(measure).ok_or_else(|| {
        to_py(
            py,
            metapipe_tables::Error::usage(format!(
                "measure {measure:?}: expected OR, RR, RD, MD, SMD, ROM or GEN"
            )),
        )
    })?;
    let out = py
        .detach(|| escalc_frame(&df, LABEL, m))
        .map_err(|e| to_py(py, e))?;
    export(py, out)
}

/// `metapipe run CONFIG --out OUT`; returns the review's output directory.
#[pyfunction]
fn run(py: Python<'_>, config: std::path::PathBuf, out: std::path::PathBuf) -> PyResult<String> {
    let dir = py
        .detach(|| {
            let cfg = metapipe_run::config::Config::load(&config)?;
            metapipe_run::run::run(&cfg, &out, None)
        })
        .map_err(|e| to_py(py, e))?;
    Ok(dir.display().to_string())
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(pool, m)?)?;
    m.add_function(wrap_pyfunction!(escalc, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add("MetapipeError", m.py().get_type::<MetapipeError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
