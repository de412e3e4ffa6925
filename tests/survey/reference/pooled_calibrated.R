# Golden values for the per-wave calibrated pooled design (calibrated_on= / calibration_by=
# of pollwaves.survey.glm.weighted_logit, pollwaves.survey.mnlogit.weighted_mnlogit and
# pollwaves.survey.raoscott.rao_scott; issue 12 item 3).
# Run from the project root:  Rscript tests/survey/reference/pooled_calibrated.R
# Reads tests/survey/reference/data/pooled.csv (SIMULATED; tests/survey/reference/make_pooled_data.py)
# and writes, with 17 significant digits, tests/survey/reference/expected/pooled_*.csv:
#   pooled_calweights.csv  R's calibrated weights (the pipeline's raked weights must agree);
#   pooled_glm.csv         svyglm(quasibinomial) coefficients, SEs, residual df, regTermTest;
#   pooled_chisq.csv       svychisq(statistic = "F" and "Chisq"), pooled and per wave;
#   pooled_shares.csv      svyby(svymean) shares by wave (alliance) and by stance per wave
#                          (good attitude to Poland);
#   pooled_mnlogit.csv     multinomial-logit coefficients and their design SEs.
#
# The pooled design is the pipeline's: svydesign(ids = ~1, strata = ~wave, weights = ~one)
# (equal base weights; waves are strata, respondents PSUs), calibrated per wave with
# calibrate(design, ~wave + wave:sex_age + wave:education + wave:settlement, population =
# <the totals of the model matrix under the raked weights>, calfun = "raking"): the raked
# weights of each wave are the raking solution, so calibrate() returns them (to ~1e-13) and
# svyrecvar() then residualises every influence function on the calibration model (per wave,
# since the model matrix is block-diagonal by wave). "plain" is the design that takes the
# raked weights as given: svydesign(ids = ~1, strata = ~wave, weights = ~weight).
# Single waves ("wave <id>") are svydesign(ids = ~1, weights = ~one) on the wave's rows,
# calibrated on ~sex_age + education + settlement, as the toplines and attitudes by stance.
#
# Rows with a missing answer stay in every calibrated design with zero weight (R subsets a
# calibrated design by zeroing weights), so they still enter the calibration residuals.
# The multinomial logit has no svyglm analogue in survey: its coefficients solve the
# weighted score equations (nnet::multinom with the calibrated weights, run to reltol 1e-16),
# and the design covariance is A^-1 V A^-1 with V = vcov(svytotal(U A^-1, calibrated design)):
# svytotal on a calibrated design applies the same calibration residuals (svyrecvar with the
# design's postStrata), the construction of svyVGAM::svy_vglm on a calibrated design.
suppressPackageStartupMessages({
  library(survey)
  library(nnet)
})
options(survey.lonely.psu = "fail")

dat <- read.csv(
  "tests/survey/reference/data/pooled.csv",
  stringsAsFactors = FALSE, na.strings = c("NA", "")
)
fmt <- function(d) {
  for (nm in names(d)) if (is.numeric(d[[nm]])) d[[nm]] <- sprintf("%.17g", d[[nm]])
  d
}
for (v in c("wave", "sex_age", "education", "settlement", "media_diet")) {
  dat[[v]] <- factor(dat[[v]])
}
dat$one <- 1
dat$y_oppose <- ifelse(is.na(dat$war_support), NA, as.numeric(dat$war_support == "oppose"))
dat$y_support <- ifelse(is.na(dat$war_support), NA, as.numeric(dat$war_support == "support"))
dat$good <- as.numeric(dat$attitude_poland %in% "good")
alliance_cats <- sort(unique(na.omit(dat$alliance)))
for (k in alliance_cats) dat[[paste0("is_", k)]] <- as.numeric(dat$alliance %in% k)

fcal <- ~ wave + wave:sex_age + wave:education + wave:settlement
mm <- model.matrix(fcal, model.frame(fcal, dat))
stopifnot(qr(mm)$rank == ncol(mm))
pop <- colSums(mm * dat$weight)
base <- svydesign(ids = ~1, strata = ~wave, weights = ~one, data = dat)
cal <- calibrate(base, fcal, population = pop, calfun = "raking", epsilon = 1e-14, maxit = 500)
plain <- svydesign(ids = ~1, strata = ~wave, weights = ~weight, data = dat)
designs <- list(plain = plain, cal = cal)
dat$cal_weight <- weights(cal)

wave_designs <- list()
for (wv in levels(dat$wave)) {
  d <- dat[dat$wave == wv, ]
  f1 <- ~ sex_age + education + settlement
  m1 <- model.matrix(f1, model.frame(f1, d))
  b1 <- svydesign(ids = ~1, weights = ~one, data = d)
  wave_designs[[paste("wave", wv)]] <- calibrate(
    b1, f1, population = colSums(m1 * d$weight), calfun = "raking", epsilon = 1e-14,
    maxit = 500
  )
}

# --- svyglm --------------------------------------------------------------------------------
formulas <- list(
  linear = y_oppose ~ time,
  wave_fe = y_oppose ~ wave,
  subgroup = y_support ~ wave + education + media_diet
)
tests <- list(linear = ~time, wave_fe = ~wave, subgroup = ~media_diet)
glm_rows <- list()
for (case in names(designs)) for (model in names(formulas)) {
  fit <- svyglm(
    formulas[[model]],
    design = designs[[case]], family = quasibinomial(),
    control = glm.control(epsilon = 1e-15, maxit = 200)
  )
  tab <- summary(fit)$coefficients
  wt <- regTermTest(fit, tests[[model]])
  glm_rows[[paste(case, model)]] <- data.frame(
    case = case, model = model, term_no = seq_len(nrow(tab)), r_term = rownames(tab),
    estimate = tab[, 1], se = tab[, 2], p = tab[, 4], df_resid = fit$df.residual,
    test_f = as.numeric(wt$Ftest), test_df = wt$df, test_ddf = wt$ddf,
    test_p = as.numeric(wt$p)
  )
}

# --- svychisq ------------------------------------------------------------------------------
chisq_rows <- list()
for (case in c(names(designs), names(wave_designs))) {
  des <- if (case %in% names(designs)) designs[[case]] else wave_designs[[case]]
  f <- svychisq(~war_support + attitude_poland, des, statistic = "F")
  ch <- svychisq(~war_support + attitude_poland, des, statistic = "Chisq")
  k <- as.numeric(ch$parameter["df"])
  chisq_rows[[case]] <- data.frame(
    case = case, statistic = c("F", "Chisq"),
    value = c(as.numeric(f$statistic), as.numeric(f$statistic) * k),
    df1 = c(as.numeric(f$parameter["ndf"]), k),
    df2 = c(as.numeric(f$parameter["ddf"]), NA),
    p_value = c(f$p.value, ch$p.value),
    chisq_pearson = as.numeric(ch$statistic)
  )
}

# --- svyby shares --------------------------------------------------------------------------
share_rows <- list()
for (case in names(designs)) {
  sub <- subset(designs[[case]], !is.na(alliance))
  for (k in alliance_cats) {
    s <- svyby(as.formula(paste0("~is_", k)), ~wave, sub, svymean)
    share_rows[[paste(case, k)]] <- data.frame(
      case = case, table = "alliance", wave = as.character(s$wave), group = "all",
      category = k, estimate = s[[2]], se = SE(s)
    )
  }
}
for (case in names(wave_designs)) {
  sub <- subset(wave_designs[[case]], !is.na(attitude_poland))
  s <- svyby(~good, ~war_support, sub, svymean)
  share_rows[[case]] <- data.frame(
    case = "cal", table = "attitude_poland", wave = sub("wave ", "", case),
    group = as.character(s$war_support), category = "good", estimate = s$good, se = SE(s)
  )
}

# --- multinomial logit ---------------------------------------------------------------------
fm <- alliance ~ wave + education + media_diet
d <- dat
d$alliance <- factor(d$alliance, levels = alliance_cats)
rows <- which(!is.na(d$alliance))
fit <- multinom(
  fm,
  data = d[rows, ], weights = cal_weight, Hess = TRUE, trace = FALSE,
  maxit = 10000, reltol = 1e-16, abstol = 0
)
X <- model.matrix(fm, model.frame(fm, d[rows, ]))
P <- fitted(fit)
others <- alliance_cats[-1]
Y <- outer(as.character(d$alliance[rows]), others, "==") * 1
nm <- as.vector(outer(colnames(X), others, function(t, k) paste(k, t, sep = ":")))
U <- do.call(cbind, lapply(seq_along(others), function(j) (Y[, j] - P[, others[j]]) * X))
H <- fit$Hessian[nm, nm]
mn_rows <- list()
for (case in names(designs)) {
  infl <- matrix(0, nrow(d), length(nm))
  infl[rows, ] <- U %*% solve(H)
  v <- vcov(svytotal(infl, designs[[case]]))
  mn_rows[[case]] <- data.frame(
    case = case, coef_no = seq_along(nm), category = rep(others, each = ncol(X)),
    r_term = rep(colnames(X), length(others)), estimate = as.vector(t(coef(fit))),
    se = sqrt(diag(v))
  )
}

out <- "tests/survey/reference/expected"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
write.csv(fmt(data.frame(row = seq_len(nrow(dat)), cal_weight = dat$cal_weight)),
  file.path(out, "pooled_calweights.csv"), row.names = FALSE
)
write.csv(fmt(do.call(rbind, glm_rows)), file.path(out, "pooled_glm.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, chisq_rows)), file.path(out, "pooled_chisq.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, share_rows)), file.path(out, "pooled_shares.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, mn_rows)), file.path(out, "pooled_mnlogit.csv"), row.names = FALSE)
cat("wrote", file.path(out, paste0("pooled_", c("calweights", "glm", "chisq", "shares",
  "mnlogit"), ".csv")), "\n")
cat("max |cal weight / raked weight - 1| =", max(abs(dat$cal_weight / dat$weight - 1)), "\n")
