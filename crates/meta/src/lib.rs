//! # metapipe-meta
//!
//! The numerical core of metapipe: effect sizes, fixed- and random-effects pooling, and the
//! tests and diagnostics around them, agreeing with R's metafor 3.8 to 1e-6 on the oracle
//! fixtures. This crate does no IO and depends on no dataframe library; it builds and tests in
//! seconds.
//!
//! Every formula's source is cited in the doc comment of the module that implements it.

pub mod absolute;
pub mod analysis;
pub mod batch;
pub mod consistency;
pub mod conversions;
pub mod dist;
pub mod effect;
pub mod extras;
pub mod glmm;
pub mod label;
pub mod measures;
pub mod metareg;
pub mod mh;
pub mod model;
pub mod peto;
pub mod revman;
pub mod rma;
pub mod tau2;
pub mod types;
pub mod zeroin;

pub use effect::{escalc_binary, escalc_continuous, Binary, Continuous, Effect, Measure, ZeroCell};
pub use label::{Convention, ModelId};
pub use model::{
    mantel_haenszel, peto, revman_dl, revman_mh, rma_uni, Control, Fit, MetaError, Method, Options,
    Pi, Test,
};
