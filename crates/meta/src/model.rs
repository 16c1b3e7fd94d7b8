//! Pooling models: Mantel-Haenszel, Peto, inverse-variance fixed effect, and the random-effects
//! model with every τ² estimator metafor's `rma.uni()` offers here.
//!
//! Sources (formulas as metafor 3.8 implements them, checked number by number in the tests):
//! - Mantel & Haenszel (1959) pooled OR; its variance: Robins, Breslow & Greenland (1986).
//! - MH risk ratio and its variance: Greenland & Robins (1985).
//! - MH risk difference and its variance: Sato, Greenland & Robins (1989).
//! - Peto's one-step OR: Yusuf et al. (1985).
//! - DerSimonian & Laird (1986); Hedges (1983) "HE"; Sidik & Jonkman (2005) "SJ";
//!   Paule & Mandel (1982) "PM"; Morris (1983) empirical Bayes "EB"; ML and REML by Fisher
//!   scoring (Viechtbauer 2005, J Educ Behav Stat 30:261).
//! - Knapp & Hartung (2003) / Sidik & Jonkman (2002) adjustment (metafor `test = "knha"`).
//! - Prediction interval as metafor's `predict()`: `μ̂ ± crit · √(SE² + τ²)`.
//! - Q-profile confidence interval for τ² (Viechtbauer 2007, Stat Med 26:37); I² and H² from
//!   the "typical" within-study variance (Higgins & Thompson 2002).
//!
//! This module is the public surface, as metafor names things; each model lives in its own
//! module: [`crate::types`], [`crate::tau2`], [`crate::rma`], [`crate::mh`], [`crate::peto`],
//! [`crate::revman`].

pub use crate::mh::{mantel_haenszel, mh_or_terms, mh_or_var};
pub use crate::peto::peto;
pub use crate::revman::{revman_correct, revman_dl, revman_mh, revman_tables};
pub use crate::rma::{cochran_q, fit_with_tau2, i2_from_q, rma_uni, tau2_qprofile};
pub use crate::tau2::{estimate as tau2_estimate, mad, q_gen};
pub use crate::types::{Control, Fit, MetaError, Method, Options, Pi, Test};
