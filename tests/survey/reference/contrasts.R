# Golden values for pollwaves.survey.estimation.share_contrasts (R survey::svycontrast on svymean).
# Run from the project root:  Rscript tests/survey/reference/contrasts.R
# Reads tests/survey/reference/data/props.csv and the calibrated weights written by proportions.R,
# writes tests/survey/reference/expected/contrasts.csv (17 significant digits).
# Contrasts of the vote3 shares: lab - con (a difference of two shares of the same sample,
# whose SE needs their covariance) and lab + other (a combined share), as toplines and by
# region, on a weights-only, a strata + PSU and a calibrated (raking, base weights 1) design.
# Missing answers are excluded as a domain (design[!is.na(vote3), ], 0/1 indicators so that the
# zero-weight rows of calibrated designs stay finite); the t interval uses the
# domain design's degf.
suppressPackageStartupMessages(library(survey))
dat <- read.csv("tests/survey/reference/data/props.csv", stringsAsFactors = FALSE, na.strings = c("NA", ""))
cal <- read.csv("tests/survey/reference/expected/proportions_calweights.csv", stringsAsFactors = FALSE)
dat$calw <- cal$weight[cal$design == "cal_unif"][match(dat$id, cal$id[cal$design == "cal_unif"])]
for (k in c("con", "lab", "other")) dat[[paste0("v_", k)]] <- as.numeric(!is.na(dat$vote3) & dat$vote3 == k)
dat$vote3 <- factor(dat$vote3)
dat$one <- 1
marg <- read.csv("tests/survey/reference/data/props_margins.csv", stringsAsFactors = FALSE)
for (v in c("sex", "age", "educ", "region")) dat[[v]] <- factor(dat[[v]])
pop <- c(`(Intercept)` = sum(marg$total[marg$variable == "sex"]))
for (v in c("sex", "age", "educ")) {
  for (k in levels(dat[[v]])[-1]) pop[paste0(v, k)] <- marg$total[marg$variable == v & marg$category == k]
}
designs <- list(
  weights = svydesign(ids = ~1, weights = ~weight, data = dat),
  design = svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = dat),
  cal_unif = calibrate(svydesign(ids = ~1, weights = ~one, data = dat), ~ sex + age + educ,
    population = pop, calfun = "raking", epsilon = 1e-12, maxit = 200)
)
stopifnot(max(abs(weights(designs$cal_unif) - dat$calw) / dat$calw) < 1e-9)
contr <- list(lab_minus_con = c(v_con = -1, v_lab = 1, v_other = 0),
              lab_plus_other = c(v_con = 0, v_lab = 1, v_other = 1))
rows <- list()
for (nm in names(designs)) {
  des <- designs[[nm]]
  des <- des[!is.na(dat$vote3), ]
  doms <- c(list(all = rep(TRUE, nrow(des$variables))),
            lapply(setNames(levels(dat$region), levels(dat$region)), function(r) des$variables$region == r))
  for (dn in names(doms)) {
    dd <- subset(des, doms[[dn]])
    m <- svymean(~ v_con + v_lab + v_other, dd)
    for (cn in names(contr)) {
      cc <- svycontrast(m, contr[[cn]])
      ci <- confint(cc, df = degf(dd))
      rows[[length(rows) + 1]] <- data.frame(design = nm, domain = dn, contrast = cn,
        estimate = sprintf("%.17g", coef(cc)), se = sprintf("%.17g", SE(cc)),
        ci_low = sprintf("%.17g", ci[1]), ci_high = sprintf("%.17g", ci[2]), df = degf(dd))
    }
  }
}
write.csv(do.call(rbind, rows), "tests/survey/reference/expected/contrasts.csv", row.names = FALSE)
