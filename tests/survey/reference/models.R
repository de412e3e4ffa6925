# Golden values for pollwaves.survey.glm.weighted_logit (R survey::svyglm + regTermTest).
# Run from the project root:  Rscript tests/survey/reference/models.R
# Reads tests/survey/reference/data/survey.csv, writes tests/survey/reference/expected/models_*.csv with
# 17 significant digits. Coefficients are written in R's order, which is also the order of
# the statsmodels/patsy terms (Intercept, factor dummies, x).
#
# Each case is fitted twice: control = "tight" (glm.control(epsilon = 1e-12, maxit = 100),
# the golden values: IRLS run to convergence) and control = "default" (glm's epsilon = 1e-8).
# With the default R stops after 3-4 iterations; the coefficients are then within ~1e-8 of
# the optimum, but svyglm's sandwich uses the glm working weights of the *previous*
# iteration (summary.glm's cov.unscaled), so R's default SEs are off by up to ~1e-4
# (relative). pollwaves fits to convergence and so agrees with the "tight" values.
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail")

dat <- read.csv(
  "tests/survey/reference/data/survey.csv",
  stringsAsFactors = FALSE, na.strings = c("NA", "")
)
fmt <- function(d) {
  for (nm in names(d)) if (is.numeric(d[[nm]])) d[[nm]] <- sprintf("%.17g", d[[nm]])
  d
}

designs <- list(
  weights = svydesign(ids = ~1, weights = ~weight, data = dat),
  design = svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = dat),
  design_bool = svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = dat)
)
formulas <- list(
  weights = vote ~ factor(age_group) + x,
  design = vote ~ factor(age_group) + x,
  design_bool = I(opinion == "agree") ~ factor(age_group) + x
)

controls <- list(tight = glm.control(epsilon = 1e-12, maxit = 100), default = glm.control())
coefs <- list()
vcovs <- list()
walds <- list()
for (ctl in names(controls)) for (case in names(designs)) {
  fit <- svyglm(
    formulas[[case]],
    design = designs[[case]], family = quasibinomial(), control = controls[[ctl]]
  )
  key <- paste(ctl, case)
  tab <- summary(fit)$coefficients
  ci <- confint(fit, level = 0.95)
  coefs[[key]] <- data.frame(
    control = ctl, case = case, term_no = seq_len(nrow(tab)), r_term = rownames(tab),
    estimate = tab[, 1], se = tab[, 2], t = tab[, 3], p = tab[, 4],
    ci_low = ci[, 1], ci_high = ci[, 2],
    df_resid = fit$df.residual, nobs = length(fit$y)
  )
  v <- vcov(fit)
  vcovs[[key]] <- data.frame(
    control = ctl, case = case,
    i = rep(seq_len(nrow(v)), ncol(v)), j = rep(seq_len(ncol(v)), each = nrow(v)),
    value = as.vector(v)
  )
  wt <- regTermTest(fit, ~factor(age_group))
  wc <- regTermTest(fit, ~factor(age_group), df = Inf)
  walds[[key]] <- data.frame(
    control = ctl, case = case, term = "age_group",
    f = as.numeric(wt$Ftest), df = wt$df, ddf = wt$ddf, p = as.numeric(wt$p),
    chisq = as.numeric(wc$chisq), p_chisq = as.numeric(wc$p)
  )
}
out <- "tests/survey/reference/expected"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
write.csv(fmt(do.call(rbind, coefs)), file.path(out, "models_coef.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, vcovs)), file.path(out, "models_vcov.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, walds)), file.path(out, "models_wald.csv"), row.names = FALSE)
cat("wrote", file.path(out, c("models_coef.csv", "models_vcov.csv", "models_wald.csv")), "\n")
