//! Tables too large to hold: read in chunks of whole groups and pooled chunk by chunk into the
//! output sink.

use crate::args::*;
use crate::columns::*;
use crate::groups::*;
use metapipe_tables::io::{TableSink, UserSource};
use metapipe_tables::schema::POOL_GROUPS;
use metapipe_tables::{Error, Result};
use polars::prelude::*;

/// Parquet inputs with more rows than this stream (16.8M rows: about 0.5 GiB per four f64
/// columns held in memory otherwise); smaller ones are read whole, which is faster. With
/// `METAPIPE_STREAM_CHUNK` set (tests), anything over one chunk streams.
pub(crate) fn stream_above() -> usize {
    if std::env::var_os("METAPIPE_STREAM_CHUNK").is_some() {
        stream_chunk()
    } else {
        1 << 24
    }
}

/// Rows per chunk of the streaming path (with the open group carried over, memory stays near
/// this many rows of the columns read, whatever the file's size). `METAPIPE_STREAM_CHUNK`
/// overrides it (tests use small chunks on small files).
pub(crate) fn stream_chunk() -> usize {
    std::env::var("METAPIPE_STREAM_CHUNK")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1 << 22)
}

/// `pool --group` over a Parquet file larger than one chunk, into `--out`: chunks of
/// [`stream_chunk`] rows are read (only their row groups decoded), checked, pooled and appended
/// to the output; the group still open at a chunk's end is carried into the next. Groups must be
/// contiguous here (a group seen again later is an error that says to sort by the group
/// column). The output is renamed into place only when every chunk has been pooled.
pub(crate) fn pool_stream(
    a: &PoolArgs,
    src: &UserSource,
    layout: Layout,
    roles: &[(&'static str, String)],
    read: &[&str],
    g: &str,
) -> Result<String> {
    let out = a.out.as_ref().expect("streaming writes to --out");
    let n = src.rows.unwrap_or(0);
    let chunk = stream_chunk();
    let mut sink = TableSink::create(out, sink_format(out, a), &POOL_GROUPS)?;
    // finished groups, by a 128-bit hash of the key (a collision is ~1e-20 likely at 10^8 groups)
    let mut finished: std::collections::HashSet<u128> = std::collections::HashSet::new();
    let hash = key_hash;
    let mut carry: Option<(String, Vec<Vec<f64>>)> = None;
    let mut off = 0;
    while off < n {
        let len = chunk.min(n - off);
        let t = src.read_slice(read, off, len)?;
        let st = read_studies(&t, layout, roles)?;
        let mut bufs = st.scratch();
        let (starts, run_names) = t.keys(g)?.runs();
        off += len;
        let last_chunk = off >= n;
        // this chunk's rows, after the carried-over rows of the open group
        let (mut names, mut offsets) = (vec![], vec![0usize]);
        let mut cols: Vec<Vec<f64>> = vec![Vec::with_capacity(len); st.cols.len()];
        let mut open: Option<String> = None;
        if let Some((k, c)) = carry.take() {
            for (dst, src) in cols.iter_mut().zip(c) {
                dst.extend(src);
            }
            names.push(k.clone());
            open = Some(k);
        }
        for (i, name) in run_names.into_iter().enumerate() {
            let (lo, hi) = (starts[i], starts.get(i + 1).copied().unwrap_or(len));
            if open.as_deref() != Some(name.as_str()) {
                if let Some(prev) = open.take() {
                    finished.insert(hash(&prev));
                    offsets.push(cols[0].len());
                }
                if finished.contains(&hash(&name)) {
                    return Err(Error::data(format!("group {name:?} appears again after other groups; for files over {chunk} rows the groups must be contiguous (sort the file by {g})"))
                        .file(&a.file)
                        .line(t.row_label(lo))
                        .field(g.to_string()));
                }
                names.push(name.clone());
                open = Some(name);
            }
            for (dst, c) in cols.iter_mut().zip(st.rows(lo, hi, &mut bufs)) {
                dst.extend_from_slice(c);
            }
        }
        offsets.push(cols[0].len());
        // the open group waits for the next chunk, unless this is the last
        if !last_chunk {
            let lo = offsets[offsets.len() - 2];
            let tail: Vec<Vec<f64>> = cols.iter_mut().map(|c| c.split_off(lo)).collect();
            carry = Some((names.pop().unwrap_or_default(), tail));
            offsets.pop();
        }
        let studies = Studies {
            layout,
            cols: cols.into_iter().map(Col::Own).collect(),
        };
        let results = pool_groups(&studies, &offsets, a);
        sink.write(&groups_table(
            Column::new("group".into(), names),
            results,
            a,
        )?)?;
    }
    sink.finish()?;
    Ok(String::new())
}

/// A 128-bit hash of a group key: two FNV-1a passes with different offset bases.
fn key_hash(k: &str) -> u128 {
    let h = |basis: u64| {
        k.bytes().fold(basis, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3)
        })
    };
    ((h(0xCBF2_9CE4_8422_2325) as u128) << 64) | h(0x6C62_272E_07BB_0142) as u128
}
