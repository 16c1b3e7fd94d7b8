# metafor over a sample of the benchmark batches, one analysis at a time, as an R user would loop:
# escalc + rma for binary data with a tau^2 estimator, rma.mh / rma.peto for MH / Peto, rma on
# (yi, vi) for generic data. Control as in the oracle fixtures.
# usage: Rscript metafor_cases.R binary.csv generic.csv cases.csv OUT.csv
#   cases.csv: kind,measure,method (kind binary|generic; method MH, PETO, FE, DL, REML, ...)
suppressMessages(library(metafor))
args <- commandArgs(TRUE)
b <- read.csv(args[1]); g <- read.csv(args[2]); cases <- read.csv(args[3], stringsAsFactors = FALSE)
bs <- split(b, b$group); gs <- split(g, g$group)
ctrl <- list(maxiter = 1000, stepadj = 0.5, tau2.max = 1e4)
time_per <- function(f, xs) { t <- system.time(for (x in xs) f(x))[["elapsed"]]; t / length(xs) }
one <- function(kind, measure, method) {
  m <- if (method == "FE") "EE" else method
  if (kind == "binary") {
    if (method == "MH") return(time_per(function(d) try(rma.mh(measure = measure, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d), silent = TRUE), bs))
    if (method == "PETO") return(time_per(function(d) try(rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d), silent = TRUE), bs))
    return(time_per(function(d) { e <- escalc(measure = measure, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d); try(rma(yi, vi, data = e, method = m, control = ctrl), silent = TRUE) }, bs))
  }
  time_per(function(d) try(rma(yi, vi, data = d, method = m, control = ctrl), silent = TRUE), gs)
}
res <- cases
res$analyses <- ifelse(cases$kind == "binary", length(bs), length(gs))
res$seconds_per_analysis <- mapply(one, cases$kind, cases$measure, cases$method)
write.csv(res, args[4], row.names = FALSE)
print(res)
