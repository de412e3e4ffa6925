# Golden values for pollwaves.survey.mnlogit.weighted_mnlogit (R nnet::multinom + survey).
# Run from the project root:  Rscript tests/survey/reference/mnlogit.R
# Reads tests/survey/reference/data/mnlogit.csv (tests/survey/reference/make_mnlogit_data.py), writes
# tests/survey/reference/expected/mnlogit_{coef,vcov,shares}.csv with 17 significant digits.
#
# Point estimates: nnet::multinom(..., weights = weight) run to convergence (BFGS with
# reltol = 1e-16, abstol = 0, maxit = 10000; the defaults reltol = 1e-8, maxit = 100 stop
# early). multinom's weights are case weights, but the maximiser of sum_i w_i log p_iy is the
# same as for sampling weights. se_model = sqrt(diag(solve(Hessian))), the case-weight
# (model-based) SE: it checks the weighted information, not the design SEs.
# Design covariance: A^-1 V A^-1 with A = multinom's Hessian of the weighted log-likelihood
# and V from survey::svytotal of the per-row scores (y_ik - p_ik) x_i times A^-1, i.e.
# the construction of svyVGAM::svy_vglm(f, design, multinomial(refLevel = ref)) (svyVGAM
# itself is not needed, nor installed here).
# Rows with a missing model variable get zero influence values (they stay in the design).
# Predicted shares by wave: with wave in the model the weighted mean of the predicted
# probabilities over the fitted rows equals the weighted observed share, and its influence
# function equals that of the observed share, so R svyciprop on the complete-case design is
# the golden value (method = "xlogit": expit(logit(p) -+ t(degf) se / (p (1 - p))); "logit"
# differs from it only by svyglm's IRLS tolerance).
suppressPackageStartupMessages({
  library(survey)
  library(nnet)
})
options(survey.lonely.psu = "fail")

dat <- read.csv(
  "tests/survey/reference/data/mnlogit.csv",
  stringsAsFactors = FALSE, na.strings = c("NA", "")
)
fmt <- function(d) {
  for (nm in names(d)) if (is.numeric(d[[nm]])) d[[nm]] <- sprintf("%.17g", d[[nm]])
  d
}
f <- alliance ~ factor(wave) + factor(sex) + x
complete <- complete.cases(dat[, c("alliance", "wave", "sex", "x")])
cats <- sort(unique(dat$alliance))
for (k in cats) dat[[paste0("is_", k)]] <- as.numeric(dat$alliance %in% k)
dat$is_both_outside <- as.numeric(dat$alliance %in% c("both", "outside"))
cases <- list(
  weights = list(ref = "both", ids = ~1, strata = NULL),
  design = list(ref = "russia", ids = ~psu, strata = ~stratum)
)
coefs <- list()
vcovs <- list()
shares <- list()
for (case in names(cases)) {
  cs <- cases[[case]]
  d <- dat
  d$alliance <- relevel(factor(d$alliance), ref = cs$ref)
  des <- svydesign(ids = cs$ids, strata = cs$strata, weights = ~weight, data = d)
  fit <- multinom(
    f,
    data = d, weights = weight, Hess = TRUE, trace = FALSE,
    maxit = 10000, reltol = 1e-16, abstol = 0
  )
  mf <- model.frame(f, d)
  rows <- as.integer(rownames(mf))
  stopifnot(identical(rows, which(complete)))
  X <- model.matrix(f, mf)
  P <- fitted(fit)
  lev <- levels(d$alliance)
  others <- lev[-1]
  Y <- outer(as.character(mf$alliance), others, "==") * 1
  nm <- as.vector(outer(colnames(X), others, function(t, k) paste(k, t, sep = ":")))
  U <- do.call(cbind, lapply(seq_along(others), function(j) (Y[, j] - P[, others[j]]) * X))
  H <- fit$Hessian[nm, nm]
  infl <- matrix(0, nrow(d), length(nm))
  infl[rows, ] <- U %*% solve(H)
  v <- vcov(svytotal(infl, des))
  b <- as.vector(t(coef(fit)))
  des_sub <- subset(des, complete)
  dfs <- degf(des_sub)
  coefs[[case]] <- data.frame(
    case = case, reference = cs$ref, coef_no = seq_along(b),
    category = rep(others, each = ncol(X)), r_term = rep(colnames(X), length(others)),
    estimate = b, se = sqrt(diag(v)), se_model = sqrt(diag(solve(H))),
    df_resid = dfs + 1 - length(b), design_df = dfs, nobs = nrow(X), loglik = -fit$value
  )
  vcovs[[case]] <- data.frame(
    case = case, i = rep(seq_along(b), length(b)), j = rep(seq_along(b), each = length(b)),
    value = as.vector(v)
  )
  for (k in c(cats, "both_outside")) for (wv in c(sort(unique(d$wave)), "all")) {
    sd <- if (wv == "all") des_sub else subset(des_sub, wave == wv)
    ci <- svyciprop(
      as.formula(paste0("~is_", k)), sd, method = "xlogit", df = dfs, level = 0.95
    )
    shares[[paste(case, k, wv)]] <- data.frame(
      case = case, wave = wv,
      category = if (k == "both_outside") "both + outside" else k,
      estimate = as.numeric(ci), se = sqrt(as.numeric(attr(ci, "var"))),
      ci_low = attr(ci, "ci")[1], ci_high = attr(ci, "ci")[2]
    )
  }
}
out <- "tests/survey/reference/expected"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
files <- file.path(out, paste0("mnlogit_", c("coef", "vcov", "shares"), ".csv"))
write.csv(fmt(do.call(rbind, coefs)), files[1], row.names = FALSE)
write.csv(fmt(do.call(rbind, vcovs)), files[2], row.names = FALSE)
write.csv(fmt(do.call(rbind, shares)), files[3], row.names = FALSE)
cat("wrote", files, "\n")
