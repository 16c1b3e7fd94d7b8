# Writes the inputs of the proportion review (data/pritz-vasospasm) and metafor's results for
# the analyses its pipeline runs (tests/fixtures/reviews/pritz_vasospasm.json). Real data, as the
# R package metadat ships it (dat.pritz1997); run from the repo root:
#   Rscript tools/make_proportion_review.R
suppressMessages({library(metafor); library(metadat); library(jsonlite)})
w <- function(df, path) write.csv(df, path, row.names=FALSE, quote=TRUE, na="")
d <- dat.pritz1997
dir.create("data/pritz-vasospasm", showWarnings=FALSE)
ids <- sprintf("s%02d", d$study)
w(data.frame(study_id=ids, label=d$authors), "data/pritz-vasospasm/studies.csv")
src <- "R package metadat, dat.pritz1997 (from Zhou, Brizendine & Pritz 1999, Stat Med 18:557-566)"
od <- function(o) data.frame(study_id=ids, outcome=o, events=d$xi, n=d$ni, source=src)
w(rbind(od("improved"), od("improved_glmm")), "data/pritz-vasospasm/outcome_data.csv")
# the double arcsine, REML, back-transformed with the harmonic mean of the sizes
e <- escalc("PFT", xi=xi, ni=ni, data=d)
r <- rma(yi, vi, data=e, method="REML")
p <- predict(r, transf=transf.ipft.hm, targs=list(ni=d$ni))
pft <- list(estimate=p$pred, ci_lb=p$ci.lb, ci_ub=p$ci.ub, pi_lb=p$pi.lb, pi_ub=p$pi.ub,
  tau2=r$tau2, I2=r$I2, Q=r$QE, k=r$k, study=transf.ipft(e$yi, d$ni))
# the binomial-normal GLMM (rma.glmm, lme4's nAGQ = 7), its estimate as a proportion
g <- rma.glmm(measure="PLO", xi=xi, ni=ni, data=d, method="ML")
glmm <- list(estimate=transf.ilogit(as.numeric(g$beta)), ci_lb=transf.ilogit(g$ci.lb),
  ci_ub=transf.ilogit(g$ci.ub), tau2=g$tau2, I2=g$I2, k=g$k)
writeLines(toJSON(list(pft=pft, glmm=glmm), auto_unbox=TRUE, digits=NA), "tests/fixtures/reviews/pritz_vasospasm.json")
