# Writes the study-level inputs of the two metadat reviews (data/bcg-tb, data/ets-lung-cancer)
# and metafor's results for the analyses their pipelines run (tests/fixtures/reviews/*.json).
# Real data, as the R package metadat ships it (Debian r-cran-metadat); run from the repo root:
#   Rscript tools/make_metadat_reviews.R
suppressMessages({library(metafor); library(metadat); library(jsonlite)})
ctl <- list(maxiter=1000, stepadj=0.5, tau2.max=1e4)
w <- function(df, path) write.csv(df, path, row.names=FALSE, quote=TRUE, na="")
fit_json <- function(r, tr=identity) list(estimate=tr(as.numeric(r$beta)), ci_lb=tr(r$ci.lb), ci_ub=tr(r$ci.ub), p=r$pval, Q=r$QE, Q_df=r$k-1, Q_p=r$QEp, I2=r$I2, tau2=r$tau2, k=r$k)

## BCG vaccine against tuberculosis (Colditz et al. 1994): binary, risk ratio
dir.create("data/bcg-tb", showWarnings=FALSE)
b <- dat.bcg
ids <- sprintf("trial%02d", b$trial)
w(data.frame(study_id=ids, label=paste(b$author, b$year), year=b$year, ablat=b$ablat, alloc=b$alloc), "data/bcg-tb/studies.csv")
# the same rows twice: outcome "tb" (Colditz et al.'s analysis) and "tb_cochrane" (the same
# trials under Cochrane's 2025 methods, tests/fixtures/cochrane)
tb <- function(o) data.frame(study_id=ids, outcome=o, events_treat=b$tpos, n_treat=b$tpos+b$tneg, events_ctrl=b$cpos, n_ctrl=b$cpos+b$cneg,
             source="R package metadat, dat.bcg (from Colditz et al. 1994, JAMA 271:698-702)")
w(rbind(tb("tb"), tb("tb_cochrane")), "data/bcg-tb/outcome_data.csv")
dat <- escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=b)
dl <- rma(yi, vi, data=dat, method="DL", control=ctl)
mh <- rma.mh(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=b)
pdl <- predict(dl, transf=exp)
bcg <- list(overall_dl=c(fit_json(dl, exp), list(pi_lb=pdl$pi.lb, pi_ub=pdl$pi.ub)), overall_mh=fit_json(mh, exp), subgroups=list())
for (a in unique(b$alloc)) {
  s <- rma(yi, vi, data=dat, subset=alloc==a, method="DL", control=ctl)
  bcg$subgroups[[a]] <- fit_json(s, exp)
  bcg$subgroups[[a]]$se <- s$se
  bcg$subgroups[[a]]$log_estimate <- as.numeric(s$beta)
}
# the test for subgroup differences as RevMan reports it: Q between the subgroups' DL estimates
sg <- bcg$subgroups
est <- sapply(sg, function(x) x$log_estimate); se <- sapply(sg, function(x) x$se)
fe <- rma(est, sei=se, method="EE")
bcg$q_between <- list(Q=fe$QE, df=fe$k-1, p=fe$QEp)
# sensitivity and small-study analyses of the DL model (the outcome's last reported model)
l1 <- leave1out(dl)
bcg$leave1out <- list(estimate=exp(l1$estimate), ci_lb=exp(l1$ci.lb), ci_ub=exp(l1$ci.ub), I2=l1$I2, tau2=l1$tau2)
cu <- cumul(dl, order=dat$year)
bcg$cumulative <- list(estimate=exp(cu$estimate), ci_lb=exp(cu$ci.lb), ci_ub=exp(cu$ci.ub), I2=cu$I2, tau2=cu$tau2)
eg <- regtest(dl, model="lm")
bcg$egger <- list(t=eg$zval, p=eg$pval, df=eg$dfs, limit=exp(eg$est))
tf <- trimfill(dl)
bcg$trimfill <- c(list(k0=tf$k0, side=tf$side), fit_json(tf, exp))
for (m in c("ablat", "year")) {
  mr <- rma(yi, vi, mods=as.formula(paste0("~", m)), data=dat, method="DL", control=ctl)
  bcg$metareg[[m]] <- list(intercept=mr$beta[1], slope=mr$beta[2], se=mr$se[2], ci_lb=mr$ci.lb[2], ci_ub=mr$ci.ub[2], p=mr$pval[2], tau2=mr$tau2, QM=mr$QM, QE=mr$QE)
}

## Environmental tobacco smoke and lung cancer (Hackshaw et al. 1997): generic log odds ratios
dir.create("data/ets-lung-cancer", showWarnings=FALSE)
h <- dat.hackshaw1998
hid <- sprintf("s%02d", h$study)
w(data.frame(study_id=hid, label=paste(h$author, h$year), year=h$year, country=h$country, design=h$design), "data/ets-lung-cancer/studies.csv")
w(data.frame(study_id=hid, outcome="lung_cancer", estimate=h$or, ci_lb=h$or.lb, ci_ub=h$or.ub,
             source="R package metadat, dat.hackshaw1998 (from Hackshaw et al. 1997, BMJ 315:980-988)"), "data/ets-lung-cancer/outcome_data.csv")
# the pipeline pools log(or) with variances from the printed 95% CIs, as dat.hackshaw1998's vi are
vi <- ((log(h$or.ub) - log(h$or.lb)) / (2 * qnorm(0.975)))^2
e_dl <- rma(log(h$or), vi, method="DL", control=ctl)
e_fe <- rma(log(h$or), vi, method="EE")
ets <- list(overall_dl=fit_json(e_dl, exp), overall_fe=fit_json(e_fe, exp), subgroups=list())
for (d in unique(h$design)) {
  s <- rma(log(h$or), vi, subset=h$design==d, method="DL", control=ctl)
  ets$subgroups[[d]] <- fit_json(s, exp)
}
dir.create("tests/fixtures/reviews", showWarnings=FALSE, recursive=TRUE)
writeLines(toJSON(list(metafor=as.character(packageVersion("metafor")), bcg_tb=bcg, ets_lung_cancer=ets), auto_unbox=TRUE, digits=NA, pretty=TRUE), "tests/fixtures/reviews/metadat_reviews.json")
