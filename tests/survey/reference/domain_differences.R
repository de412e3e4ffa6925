# Golden values for pollwaves.survey.domains.domain_difference (R survey: svyby(..., covmat = TRUE)
# followed by svycontrast, and the delta method on svytotal; see below).
# Run from the project root:  Rscript tests/survey/reference/domain_differences.R
# Reads tests/survey/reference/data/props.csv, props_margins.csv and the calibrated weights
# written by proportions.R; writes tests/survey/reference/expected/domain_differences.csv
# (17 significant digits): per design x case the two domain shares, their SEs and covariance
# (vcov of svyby with covmat = TRUE), the difference a - b with its SE and t interval on the
# design's degf (confint(svycontrast(...), df = degf(design))), and n_a, n_b.
#
# Cases: "lab_east_west" = share of vote3 == "lab" in region east minus west (no missing
# domain values); "con_south_north" = share of vote3 == "con" in south minus north of
# region_na (region, missing where party is missing); "other_lab_lib" = share of vote3 ==
# "other" among party lab minus party lib (a domain share of exactly 1, SE 0). Missing answers
# and domain values are excluded as a domain: design[!is.na(vote3) & !is.na(<domain>), ]
# (calibrated designs keep those rows with zero weight).
# Designs: "weights" = svydesign(ids = ~1, weights = ~weight); "design" = ids = ~psu, strata =
# ~stratum; "cal_unif" / "cal_base" / "cal_design" = calibrate(<ids = ~1 with weights 1 | ids =
# ~1 with ~weight | strata + PSU with ~weight>, ~sex + age + educ, calfun = "raking").
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail")

dat <- read.csv("tests/survey/reference/data/props.csv", stringsAsFactors = FALSE, na.strings = c("NA", ""))
marg <- read.csv("tests/survey/reference/data/props_margins.csv", stringsAsFactors = FALSE)
cal <- read.csv("tests/survey/reference/expected/proportions_calweights.csv", stringsAsFactors = FALSE)
for (v in c("sex", "age", "educ", "region", "party")) dat[[v]] <- factor(dat[[v]])
dat$one <- 1
# 0/1 indicators (0 where the answer is missing, so zero-weight rows stay finite)
dat$y_lab <- as.numeric(!is.na(dat$vote3) & dat$vote3 == "lab")
dat$y_other <- as.numeric(!is.na(dat$vote3) & dat$vote3 == "other")
dat$y_con <- as.numeric(!is.na(dat$vote3) & dat$vote3 == "con")
# a domain variable with missing values: region, missing where party is missing
dat$region_na <- ifelse(is.na(dat$party), NA, as.character(dat$region))

pop <- c(`(Intercept)` = sum(marg$total[marg$variable == "sex"]))
for (v in c("sex", "age", "educ")) {
  for (k in levels(dat[[v]])[-1]) pop[paste0(v, k)] <- marg$total[marg$variable == v & marg$category == k]
}
rake_to <- function(d) {
  calibrate(d, ~ sex + age + educ, population = pop, calfun = "raking", epsilon = 1e-12, maxit = 200)
}
designs <- list(
  weights = svydesign(ids = ~1, weights = ~weight, data = dat),
  design = svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = dat),
  cal_unif = rake_to(svydesign(ids = ~1, weights = ~one, data = dat)),
  cal_base = rake_to(svydesign(ids = ~1, weights = ~weight, data = dat)),
  cal_design = rake_to(svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = dat))
)
for (nm in c("cal_unif", "cal_base", "cal_design")) {
  want <- cal$weight[cal$design == nm][match(dat$id, cal$id[cal$design == nm])]
  stopifnot(max(abs(weights(designs[[nm]]) - want) / want) < 1e-9)
}

cases <- list(
  lab_east_west = list(y = "y_lab", q = "vote3", by = "region", a = "east", b = "west"),
  con_south_north = list(y = "y_con", q = "vote3", by = "region_na", a = "south", b = "north"),
  other_lab_lib = list(y = "y_other", q = "vote3", by = "party", a = "lab", b = "lib")
)
# Two R routes to the same numbers: svyby(..., covmat = TRUE) + svycontrast (the route the
# contract names), and the delta method on the four totals (svytotal(~ya + da + yb + db) then
# svycontrast(quote(ya/da - yb/db)); d = valid answer in the domain, y = d * indicator).
# survey 4.1.1's svyby(covmat = TRUE) fails on calibrated designs ("inflmats ... not a
# multiple of replacement length"), so there the totals route is written; on the other
# designs both are computed and must agree to 1e-12.
rows <- list()
for (nm in names(designs)) {
  for (cn in names(cases)) {
    k <- cases[[cn]]
    full <- designs[[nm]]
    valid <- !is.na(dat[[k$q]]) & !is.na(dat[[k$by]])
    des <- full[valid, ]
    v <- full$variables
    da <- as.numeric(valid & v[[k$by]] %in% k$a)
    db <- as.numeric(valid & v[[k$by]] %in% k$b)
    full <- update(full, da = da, db = db, ya = da * v[[k$y]], yb = db * v[[k$y]])
    tot <- svytotal(~ ya + da + yb + db, full)
    shares <- svycontrast(tot, list(a = quote(ya / da), b = quote(yb / db)))
    cc <- svycontrast(tot, quote(ya / da - yb / db))
    vc <- vcov(shares)
    if (!startsWith(nm, "cal_")) {
      by <- svyby(as.formula(paste0("~", k$y)), as.formula(paste0("~", k$by)), des, svymean,
        covmat = TRUE
      )
      contr <- setNames(rep(0, nrow(by)), rownames(by))
      contr[k$a] <- 1
      contr[k$b] <- -1
      cb <- svycontrast(by, contr)
      vb <- vcov(by)[c(k$a, k$b), c(k$a, k$b)]
      stopifnot(
        abs(coef(cb) - coef(cc)) < 1e-12, abs(SE(cb) - SE(cc)) < 1e-12,
        max(abs(vb - unname(vc))) < 1e-14, max(abs(coef(by)[c(k$a, k$b)] - coef(shares))) < 1e-12
      )
    }
    ci <- confint(cc, df = degf(des))
    rows[[length(rows) + 1]] <- data.frame(
      design = nm, case = cn,
      estimate_a = sprintf("%.17g", coef(shares)[1]), estimate_b = sprintf("%.17g", coef(shares)[2]),
      se_a = sprintf("%.17g", sqrt(vc[1, 1])), se_b = sprintf("%.17g", sqrt(vc[2, 2])),
      cov_ab = sprintf("%.17g", vc[1, 2]),
      estimate = sprintf("%.17g", coef(cc)), se = sprintf("%.17g", SE(cc)),
      ci_low = sprintf("%.17g", ci[1]), ci_high = sprintf("%.17g", ci[2]), df = degf(des),
      n_a = sum(da), n_b = sum(db)
    )
  }
}
write.csv(do.call(rbind, rows), "tests/survey/reference/expected/domain_differences.csv", row.names = FALSE)
