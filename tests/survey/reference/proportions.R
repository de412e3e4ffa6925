# Golden values for pollwaves.survey.estimation.proportions (R survey::svyciprop / svymean / svyby).
# Run from the project root:  Rscript tests/survey/reference/proportions.R
# Reads tests/survey/reference/data/props.csv and props_margins.csv (tests/survey/reference/make_props_data.py)
# and writes, with 17 significant digits,
#   tests/survey/reference/expected/proportions.csv          one row per case x design x question x
#       method x domain x category: estimate (svymean), se, ci_low, ci_high (svyciprop),
#       deff (svymean(..., deff = TRUE)), n (valid answers in the domain), df (degf of the
#       domain design) and estimate_ciprop (svyciprop's own point estimate);
#   tests/survey/reference/expected/proportions_calweights.csv   R's calibrated (raking) weights of
#       the calibrated designs, fed to proportions() as `weight` (with the base weights as
#       `base_weight`).
#
# Designs: "weights" = svydesign(ids = ~1, weights = ~weight); "design" = svydesign(ids = ~psu,
# strata = ~stratum, weights = ~weight); "cal_unif" / "cal_base" / "cal_design" =
# calibrate(<ids = ~1 with base weights 1 | ids = ~1 with base ~weight | strata + PSU with base
# ~weight>, ~sex + age + educ, population = <totals>, calfun = "raking"), run to epsilon 1e-12.
#
# Missing answers are excluded as a domain: design[!is.na(y), ] (for calibrated designs this
# keeps the rows with zero weight, so the calibration residuals still use the full sample).
# Domains are svyby(~I(y == cat), ~by, design, svyciprop, method = m, vartype = c("se", "ci"))
# and svyby(~y, ~by, design, svymean, deff = TRUE); toplines the same without svyby.
#
# At p = 0 (a category absent from a domain) R returns: se = 0, deff = NaN (0/0), ci NaN for
# "xlogit" and "beta"; for "logit" svyglm does not converge (warning "glm.fit: algorithm did
# not converge") and svyciprop returns a meaningless interval of width ~1e-12 around ~3e-12
# (estimate_ciprop is that expit(intercept), not 0). These values are written as they are.
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail")

dat <- read.csv(
  "tests/survey/reference/data/props.csv",
  stringsAsFactors = FALSE, na.strings = c("NA", "")
)
marg <- read.csv("tests/survey/reference/data/props_margins.csv", stringsAsFactors = FALSE)
fmt <- function(d) {
  for (nm in names(d)) if (is.numeric(d[[nm]])) d[[nm]] <- sprintf("%.17g", d[[nm]])
  d
}

questions <- c("vote3", "party")
for (q in questions) {
  levs <- sort(unique(na.omit(dat[[q]])))
  for (k in levs) dat[[paste0(".", q, "_", k)]] <- as.numeric(!is.na(dat[[q]]) & dat[[q]] == k)
  dat[[q]] <- factor(dat[[q]], levels = levs)
}
for (v in c("sex", "age", "educ", "region", "club")) dat[[v]] <- factor(dat[[v]])
dat$one <- 1

# population totals in model.matrix(~sex + age + educ) order (treatment contrasts)
pop_total <- sum(marg$total[marg$variable == "sex"])
pop <- c(`(Intercept)` = pop_total)
for (v in c("sex", "age", "educ")) {
  for (k in levels(dat[[v]])[-1]) {
    pop[paste0(v, k)] <- marg$total[marg$variable == v & marg$category == k]
  }
}
stopifnot(all(abs(tapply(marg$total, marg$variable, sum) - pop_total) < 1e-6))
rake_to <- function(d) {
  calibrate(d, ~ sex + age + educ,
    population = pop, calfun = "raking",
    epsilon = 1e-12, maxit = 200
  )
}

designs <- list(
  weights = svydesign(ids = ~1, weights = ~weight, data = dat),
  design = svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = dat),
  cal_unif = rake_to(svydesign(ids = ~1, weights = ~one, data = dat)),
  cal_base = rake_to(svydesign(ids = ~1, weights = ~weight, data = dat)),
  cal_design = rake_to(svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = dat))
)
calweights <- do.call(rbind, lapply(c("cal_unif", "cal_base", "cal_design"), function(nm) {
  w <- weights(designs[[nm]])
  base <- if (nm == "cal_unif") dat$one else dat$weight
  # the calibrated weights meet the margins
  for (v in c("sex", "age", "educ")) {
    got <- tapply(w, dat[[v]], sum)
    want <- marg$total[marg$variable == v][match(names(got), marg$category[marg$variable == v])]
    stopifnot(max(abs(got - want) / want) < 1e-10)
  }
  data.frame(design = nm, id = dat$id, base_weight = base, weight = w)
}))

# case -> designs, question, domain variables ("" = topline), CI methods
cases <- list(
  weights_only = list(designs = "weights", q = "vote3", by = c("", "sex", "region"), m = "logit"),
  strata_psu = list(designs = "design", q = "vote3", by = c("", "sex", "region"), m = "logit"),
  calibrated = list(
    designs = c("cal_unif", "cal_base", "cal_design"), q = "vote3", by = c("", "region"),
    m = "logit"
  ),
  small_domain = list(designs = c("weights", "design"), q = "vote3", by = "club", m = "logit"),
  ci_methods = list(
    designs = c("weights", "design"), q = "party", by = c("", "region", "sex"),
    m = c("logit", "beta", "xlogit")
  )
)

one_domain <- function(des, q, m) {
  # des: the (domain) design with the missing answers already excluded
  levs <- levels(dat[[q]])
  mn <- svymean(as.formula(paste0("~", q)), des, deff = TRUE, na.rm = TRUE)
  do.call(rbind, lapply(levs, function(k) {
    ind <- paste0(".", q, "_", k)
    cp <- withCallingHandlers(
      svyciprop(as.formula(paste0("~", ind)), des, method = m),
      warning = function(w) {
        # p = 0: svyglm cannot converge; calibrated designs: zero-weight rows (out of domain)
        if (grepl("did not converge|zero weight", conditionMessage(w))) {
          invokeRestart("muffleWarning")
        }
      }
    )
    nm <- paste0(q, k)
    data.frame(
      category = k, estimate = unname(coef(mn)[nm]), se = unname(SE(mn)[nm]),
      ci_low = attr(cp, "ci")[[1]], ci_high = attr(cp, "ci")[[2]],
      deff = unname(deff(mn)[nm]), n = sum(weights(des) != 0), df = degf(des),
      estimate_ciprop = as.numeric(cp), se_ciprop = sqrt(as.numeric(attr(cp, "var")))
    )
  }))
}

# svyby cross-check of one domain table (as the brief defines the domains)
by_check <- function(des, q, byvar, m, res) {
  byf <- as.formula(paste0("~", byvar))
  mn <- svyby(as.formula(paste0("~", q)), byf, des, svymean, deff = TRUE, na.rm = TRUE)
  for (k in levels(dat[[q]])) {
    ind <- paste0(".", q, "_", k)
    cp <- suppressWarnings(
      svyby(as.formula(paste0("~", ind)), byf, des, svyciprop, method = m, vartype = c("se", "ci"))
    )
    sel <- res[res$category == k, ]
    sel <- sel[match(as.character(cp[[byvar]]), sel$domain), ]
    stopifnot(
      isTRUE(all.equal(cp[[2]], sel$estimate_ciprop, tolerance = 1e-13)),
      isTRUE(all.equal(cp[[3]], sel$se, tolerance = 1e-13)),
      isTRUE(all.equal(cp[[4]], sel$ci_low, tolerance = 1e-13)),
      isTRUE(all.equal(cp[[5]], sel$ci_high, tolerance = 1e-13)),
      isTRUE(all.equal(mn[[paste0(q, k)]], sel$estimate, tolerance = 1e-13)),
      isTRUE(all.equal(mn[[paste0("DEff.", q, k)]], sel$deff, tolerance = 1e-13))
    )
  }
}

rows <- list()
for (case in names(cases)) {
  cs <- cases[[case]]
  for (dn in cs$designs) for (m in cs$m) for (byvar in cs$by) {
    des <- designs[[dn]]
    des <- des[!is.na(dat[[cs$q]]), ]
    if (byvar == "") {
      res <- cbind(by = "", domain = "", one_domain(des, cs$q, m))
    } else {
      res <- do.call(rbind, lapply(levels(dat[[byvar]]), function(lev) {
        dom <- des[des$variables[[byvar]] == lev, ]
        cbind(by = byvar, domain = lev, one_domain(dom, cs$q, m))
      }))
      by_check(des, cs$q, byvar, m, res)
    }
    rows[[length(rows) + 1]] <- cbind(case = case, design = dn, question = cs$q, method = m, res)
  }
}
out_rows <- do.call(rbind, rows)
# logit and xlogit intervals agree where svyglm converges (p strictly between 0 and 1); svyglm
# stops at glm's default epsilon = 1e-8, which leaves the logit limits within ~1e-7 (relative)
# of the converged values that xlogit gives exactly, well inside the tests' rtol = 1e-6
lx <- merge(
  out_rows[out_rows$method == "logit", ], out_rows[out_rows$method == "xlogit", ],
  by = c("case", "design", "question", "by", "domain", "category")
)
lx <- lx[lx$estimate.x > 0, ]
stopifnot(
  nrow(lx) > 0, max(abs(lx$ci_low.x / lx$ci_low.y - 1)) < 2e-7,
  max(abs(lx$ci_high.x / lx$ci_high.y - 1)) < 2e-7
)

out <- "tests/survey/reference/expected"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
write.csv(fmt(out_rows), file.path(out, "proportions.csv"), row.names = FALSE)
write.csv(fmt(calweights), file.path(out, "proportions_calweights.csv"), row.names = FALSE)
cat("wrote", file.path(out, c("proportions.csv", "proportions_calweights.csv")), "\n")
