# Reference values for tests/stats/test_r_reference.py, computed with R survival and cmprsk.
# Run from the repository root:  Rscript tests/stats/r/reference.R
# It writes tests/stats/r/reference_values.csv (name,value) and tests/stats/r/mgus2.csv;
# the tests read those files, so R is not needed to run the test suite.
suppressPackageStartupMessages({library(survival); library(cmprsk)})
out <- list()
put <- function(name, value) out[[name]] <<- unname(value)
here <- "tests/stats/r"

# NCCTG lung cancer data (survival::lung; lifelines ships the same 228 rows as load_lung).
# status 1 censored, 2 dead; sex 1 male, 2 female.
lung2 <- lung
lung2$female <- as.integer(lung2$sex == 2)

# Multivariable Cox (--adjust), Efron and Breslow ties.
for (ties in c("efron", "breslow")) {
  fit <- coxph(Surv(time, status) ~ age + female + ph.ecog, data = lung2, ties = ties)
  s <- summary(fit)$coefficients
  for (v in rownames(s)) {
    put(sprintf("adjust.%s.%s.coef", ties, v), s[v, "coef"])
    put(sprintf("adjust.%s.%s.se", ties, v), s[v, "se(coef)"])
    put(sprintf("adjust.%s.%s.p", ties, v), s[v, "Pr(>|z|)"])
  }
  put(sprintf("adjust.%s.n", ties), fit$n)
  put(sprintf("adjust.%s.loglik", ties), fit$loglik[2])
  # Proportional hazards on scaled Schoenfeld residuals (--ph-test), km transform (default).
  zph <- cox.zph(fit)$table
  for (v in rownames(zph)) {
    put(sprintf("zph.%s.%s.chisq", ties, v), zph[v, "chisq"])
    put(sprintf("zph.%s.%s.p", ties, v), zph[v, "p"])
  }
}

# A categorical term (ECOG as a factor, 3 df) and a stratified model.
lung3 <- subset(lung2, !is.na(ph.ecog) & ph.ecog < 3)
fit <- coxph(Surv(time, status) ~ age + female + factor(ph.ecog), data = lung3)
zph <- cox.zph(fit)$table
for (v in rownames(zph)) {
  put(sprintf("zph.factor.%s.chisq", v), zph[v, "chisq"])
  put(sprintf("zph.factor.%s.df", v), zph[v, "df"])
}
s <- summary(fit)$coefficients
for (v in rownames(s)) put(sprintf("factor.%s.coef", v), s[v, "coef"])
fit <- coxph(Surv(time, status) ~ age + female + strata(ph.ecog), data = lung3)
s <- summary(fit)$coefficients
for (v in rownames(s)) {
  put(sprintf("strata.%s.coef", v), s[v, "coef"])
  put(sprintf("strata.%s.se", v), s[v, "se(coef)"])
}
zph <- cox.zph(fit)$table
for (v in rownames(zph)) put(sprintf("zph.strata.%s.chisq", v), zph[v, "chisq"])

# Stratified log-rank.
sd <- survdiff(Surv(time, status) ~ female + strata(ph.ecog), data = lung3)
put("logrank.strata.chisq", sd$chisq)

# RMST at 365 days per sex (--rmst-months 12 is 365.25 days; R takes the horizon as given).
for (tau in c(365.25, 730.5)) {
  fit <- survfit(Surv(time, status) ~ female, data = lung2)
  tab <- summary(fit, rmean = tau)$table
  for (g in 1:2) {
    put(sprintf("rmst.%g.%d.rmean", tau, g - 1), tab[g, "rmean"])
    put(sprintf("rmst.%g.%d.se", tau, g - 1), tab[g, "se(rmean)"])
  }
}

# Propensity score (logistic) for being female given age, ECOG, Karnofsky; stabilised
# inverse-probability weights (ATE) and ATT weights; weighted Cox with robust variance.
lung4 <- subset(lung2, !is.na(ph.ecog) & !is.na(ph.karno))
ps <- fitted(glm(female ~ age + ph.ecog + ph.karno, family = binomial, data = lung4))
p1 <- mean(lung4$female)
lung4$w_ate <- ifelse(lung4$female == 1, p1 / ps, (1 - p1) / (1 - ps))
lung4$w_att <- ifelse(lung4$female == 1, 1, ps / (1 - ps))
put("ps.n", nrow(lung4))
put("ps.sum", sum(ps))
put("ps.first", ps[1])
put("ps.w_ate.sum", sum(lung4$w_ate))
for (w in c("w_ate", "w_att")) {
  fit <- coxph(Surv(time, status) ~ female, data = lung4, weights = lung4[[w]], robust = TRUE)
  put(sprintf("weighted.%s.coef", w), coef(fit))
  put(sprintf("weighted.%s.robust_se", w), sqrt(fit$var[1, 1]))
  put(sprintf("weighted.%s.naive_se", w), sqrt(fit$naive.var[1, 1]))
}
# Weighted Kaplan-Meier median (ATE weights).
fit <- survfit(Surv(time, status) ~ female, data = lung4, weights = w_ate)
tab <- summary(fit)$table
for (g in 1:2) put(sprintf("weighted_km.%d.median", g - 1), tab[g, "median"])

# Cumulative incidence with competing risks: survival::mgus2, progression (1) with death
# before progression competing (2); grouped by sex. cmprsk::cuminc estimates, variances and
# Gray's test.
m <- mgus2
m$etime <- ifelse(m$pstat == 1, m$ptime, m$futime)
m$status <- ifelse(m$pstat == 1, 1L, 2L * m$death)
m$agegroup <- cut(m$age, c(0, 65, 75, 200), labels = c("a<65", "b65-75", "c>75"))
m <- m[, c("id", "sex", "agegroup", "etime", "status")]
write.csv(m, file.path(here, "mgus2.csv"), row.names = FALSE)
ci <- cuminc(m$etime, m$status, group = m$sex, cencode = 0)
tp <- timepoints(ci, c(60, 120, 240))
for (nm in rownames(tp$est)) {
  key <- gsub(" ", "_", nm)
  for (j in 1:3) {
    put(sprintf("cuminc.%s.%d.est", key, c(60, 120, 240)[j]), tp$est[nm, j])
    put(sprintf("cuminc.%s.%d.var", key, c(60, 120, 240)[j]), tp$var[nm, j])
  }
}
for (k in rownames(ci$Tests)) {
  put(sprintf("gray.%s.stat", k), ci$Tests[k, "stat"])
  put(sprintf("gray.%s.p", k), ci$Tests[k, "pv"])
}

# A level without events (the first 8 censored men relabelled "none"): R's fit drives its
# coefficient towards -Inf; the other hazard ratio tends to the fit without those rows.
zero <- lung2
zero$grp <- ifelse(zero$female == 1, "female", "male")
zero$grp[which(zero$status == 1 & zero$female == 0)[1:8]] <- "none"
zero$grp <- factor(zero$grp, levels = c("male", "female", "none"))
fit <- suppressWarnings(coxph(Surv(time, status) ~ grp, data = zero))
put("zero_level.female.hr", exp(coef(fit))["grpfemale"])
put("zero_level.female.se", sqrt(diag(fit$var))[1])

# Events on day 0 stay in the curve and in the median's CI.
day0 <- data.frame(time = c(0, 0, 0, 5, 8, 12, 20, 30, 40, 50),
                   status = c(1, 1, 1, 1, 1, 0, 1, 0, 1, 0))
for (ct in c("log", "log-log")) {
  tab <- summary(survfit(Surv(time, status) ~ 1, data = day0, conf.type = ct))$table
  put(sprintf("day0.%s.median", ct), tab["median"])
  put(sprintf("day0.%s.lower", ct), tab["0.95LCL"])
  put(sprintf("day0.%s.upper", ct), tab["0.95UCL"])
}

# Gray's test with three groups, and stratified by sex.
ci3 <- cuminc(m$etime, m$status, group = m$agegroup, cencode = 0)
for (k in rownames(ci3$Tests)) put(sprintf("gray3.%s.stat", k), ci3$Tests[k, "stat"])
ci3s <- cuminc(m$etime, m$status, group = m$agegroup, strata = m$sex, cencode = 0)
for (k in rownames(ci3s$Tests)) put(sprintf("gray3strata.%s.stat", k), ci3s$Tests[k, "stat"])

values <- data.frame(name = names(out), value = sprintf("%.12g", unlist(out)))
write.csv(values, file.path(here, "reference_values.csv"), row.names = FALSE, quote = FALSE)
cat("R", R.version$major, R.version$minor, "survival", format(packageVersion("survival")),
    "cmprsk", format(packageVersion("cmprsk")), "\n")
