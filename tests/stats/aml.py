"""The `aml` data of R's survival package (acute myelogenous leukaemia, maintenance
chemotherapy; Miller RG, Survival Analysis, Wiley 1981; Embury SH et al., West J Med
1977;126:267–272), 23 patients, time in weeks (used here as days: only the numbers matter).

Reference values were produced with R 4.2.2 and survival 3.5-3 (Debian r-cran-survival):
    survfit(Surv(time, status) ~ x, data = aml)                      # conf.type "log"
    survfit(Surv(time, status) ~ x, data = aml, conf.type = "log-log")
    summary(survfit(Surv(time, status) ~ 1, data = aml), times = c(12, 24))
    survdiff(Surv(time, status) ~ x, data = aml)
    coxph(Surv(time, status) ~ x, data = aml)
The medians, survdiff chi-square (3.4, p = 0.065) and coxph HR (2.498, 95% CI 0.916–6.81)
are also the outputs printed in the survival package's documentation and vignettes.
"""

import polars as pl

TIME = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
STATUS = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]
GROUP = ["Maintained"] * 11 + ["Nonmaintained"] * 12


def aml() -> pl.DataFrame:
    return pl.DataFrame({"time_days": TIME, "event": STATUS, "x": GROUP})


# summary(survfit(Surv(time, status) ~ x, data = aml)): time, survival, lower, upper ("log")
R_LOG_MAINTAINED = [
    (9, 0.90909090909, 0.75413384508, 1.0000000000),
    (13, 0.81818181818, 0.61924898740, 1.0000000000),
    (18, 0.71590909091, 0.48842628742, 1.0000000000),
    (23, 0.61363636364, 0.37686705950, 0.9991576002),
    (31, 0.49090909091, 0.25485995120, 0.9455849552),
    (34, 0.36818181818, 0.15487711790, 0.8752606781),
    (48, 0.18409090909, 0.03591789849, 0.9435257695),
]
R_LOG_NONMAINTAINED = [
    (5, 0.83333333333, 0.64703698701, 1.0000000000),
    (8, 0.66666666667, 0.44684608115, 0.9946253603),
    (12, 0.58333333333, 0.36161370521, 0.9409980122),
    (23, 0.48611111111, 0.26751824886, 0.8833192253),
    (27, 0.38888888889, 0.18539652610, 0.8157357157),
    (30, 0.29166666667, 0.11483115015, 0.7408220185),
    (33, 0.19444444444, 0.05692155257, 0.6642236599),
    (43, 0.09722222222, 0.01525652717, 0.6195486291),
]
# conf.type = "log-log", Maintained: time, lower, upper
R_LOGLOG_MAINTAINED = [
    (9, 0.508080205770, 0.9866738227),
    (13, 0.447428614682, 0.9511622286),
    (18, 0.350190385908, 0.8990239742),
    (23, 0.265752040001, 0.8352992433),
    (31, 0.167330909777, 0.7533997904),
    (34, 0.092829574937, 0.6570408324),
    (48, 0.011738480123, 0.5250148427),
]
