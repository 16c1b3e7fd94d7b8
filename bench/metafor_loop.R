# metafor over a sample of the benchmark batches, one analysis at a time, as an R user would loop.
# usage: Rscript metafor_loop.R binary.csv generic.csv OUT.csv
suppressMessages(library(metafor))
args <- commandArgs(TRUE)
b <- read.csv(args[1]); g <- read.csv(args[2])
bs <- split(b, b$group); gs <- split(g, g$group)
time_per <- function(f, xs) { t <- system.time(for (x in xs) f(x))[["elapsed"]]; t / length(xs) }
res <- data.frame(
  method = c("MH", "DL", "REML"),
  analyses = c(length(bs), length(gs), length(gs)),
  seconds_per_analysis = c(
    time_per(function(d) try(rma.mh(measure="OR", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=d), silent=TRUE), bs),
    time_per(function(d) try(rma(yi, vi, data=d, method="DL"), silent=TRUE), gs),
    time_per(function(d) try(rma(yi, vi, data=d, method="REML"), silent=TRUE), gs)))
write.csv(res, args[3], row.names=FALSE)
print(res)
