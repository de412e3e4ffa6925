# Golden values for pollwaves.api.crosstab.crosstab_frame (R survey: svyby, svycontrast, svychisq).
# Run from the project root:  Rscript tests/api/reference/crosstab.R
# Reads tests/api/reference/data/crosstab.csv and crosstab_margins.csv (SIMULATED respondents,
# tests/api/reference/make_crosstab_data.py) and writes, with 17 significant digits, to
# tests/api/reference/expected/:
#   crosstab_calweights.csv  R's raking weights (calibrate(..., calfun = "raking") on the derived
#       column sex_age and educ, from equal base weights), fed to crosstab_frame as `weight`;
#   crosstab_shares.csv      svyby(~factor(y) as indicators, ~grp, subset(cal, !is.na(y)), svymean):
#       column shares
#       and their SEs (grp, category, estimate, se);
#   crosstab_pairs.csv       for every answer and pair of columns a < b: the difference of the two
#       column shares (estimate = p_a - p_b, se; svycontrast on svytotal, as below) and the two-sided p-value on degf(design) df,
#       then p.adjust(p, "holm") within the answer;
#   crosstab_tests.csv       svychisq(~y + grp, design, statistic = "F" | "Chisq") for the
#       calibrated design ("calibrated") and for the same weights taken as fixed
#       ("fixed_weights": svydesign(ids = ~1, weights = ~calweight)).
suppressPackageStartupMessages(library(survey))

dat <- read.csv("tests/api/reference/data/crosstab.csv", stringsAsFactors = FALSE,
                na.strings = c("NA", ""))
marg <- read.csv("tests/api/reference/data/crosstab_margins.csv", stringsAsFactors = FALSE)
fmt <- function(d) {
  for (nm in names(d)) if (is.numeric(d[[nm]])) d[[nm]] <- sprintf("%.17g", d[[nm]])
  d
}
dat$y <- factor(dat$y, levels = c("yes", "no", "dk"))
for (v in c("grp", "sex_age", "educ")) dat[[v]] <- factor(dat[[v]])
dat$one <- 1
# answer indicators (0 for a missing answer; those rows are outside the domain below)
for (k in levels(dat$y)) dat[[paste0("y", k)]] <- as.numeric(!is.na(dat$y) & dat$y == k)

pop_total <- sum(marg$total[marg$variable == "educ"])
pop <- c(`(Intercept)` = pop_total)
for (v in c("sex_age", "educ")) {
  for (k in levels(dat[[v]])[-1]) {
    pop[paste0(v, k)] <- marg$total[marg$variable == v & marg$category == k]
  }
}
cal <- calibrate(svydesign(ids = ~1, weights = ~one, data = dat), ~ sex_age + educ,
                 population = pop, calfun = "raking", epsilon = 1e-12, maxit = 200)
dat$calweight <- weights(cal)
stopifnot(max(abs(tapply(dat$calweight, dat$educ, sum) -
  marg$total[marg$variable == "educ"][match(levels(dat$educ),
  marg$category[marg$variable == "educ"])])) < 1e-4)
fixed <- svydesign(ids = ~1, weights = ~calweight, data = dat)

dom <- subset(cal, !is.na(y))
sh <- svyby(~ yyes + yno + ydk, ~grp, dom, svymean)
cats <- levels(dat$y)
grps <- levels(dat$grp)
shares <- do.call(rbind, lapply(grps, function(g) do.call(rbind, lapply(cats, function(k) {
  nm <- paste0("y", k)
  data.frame(grp = g, category = k, estimate = sh[g, nm], se = sh[g, paste0("se.", nm)])
}))))

# survey 4.1.1's svyby(covmat = TRUE) fails on calibrated designs (see
# tests/survey/reference/domain_differences.R), so the pair differences take the delta method
# on the four totals: svytotal(~ya + da + yb + db) then svycontrast(quote(ya/da - yb/db)).
dfree <- degf(dom)
valid <- !is.na(dat$y)
pairs <- do.call(rbind, lapply(cats, function(k) {
  rows <- do.call(rbind, lapply(seq_along(grps)[-length(grps)], function(i) {
    do.call(rbind, lapply((i + 1):length(grps), function(j) {
      da <- as.numeric(valid & dat$grp == grps[i])
      db <- as.numeric(valid & dat$grp == grps[j])
      yk <- dat[[paste0("y", k)]]
      full <- update(cal, da = da, db = db, ya = da * yk, yb = db * yk)
      ctr <- svycontrast(svytotal(~ ya + da + yb + db, full), quote(ya / da - yb / db))
      est <- as.numeric(coef(ctr))
      se <- as.numeric(SE(ctr))
      data.frame(category = k, a = grps[i], b = grps[j], estimate = est, se = se,
                 p_value = 2 * pt(-abs(est / se), dfree), df = dfree)
    }))
  }))
  rows$p_holm <- p.adjust(rows$p_value, "holm")
  rows
}))

tests <- do.call(rbind, lapply(list(calibrated = cal, fixed_weights = fixed), function(des) {
  f <- svychisq(~ y + grp, des, statistic = "F")
  ch <- svychisq(~ y + grp, des, statistic = "Chisq")
  data.frame(
    statistic = c("F", "Chisq"), value = c(unname(f$statistic), unname(ch$statistic)),
    df1 = c(unname(f$parameter[1]), unname(ch$parameter[1])),
    df2 = c(unname(f$parameter[2]), NA), p_value = c(f$p.value, ch$p.value)
  )
}))
tests$design <- rep(c("calibrated", "fixed_weights"), each = 2)

out <- "tests/api/reference/expected"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
write.csv(fmt(data.frame(id = dat$id, weight = dat$calweight)),
          file.path(out, "crosstab_calweights.csv"), row.names = FALSE)
write.csv(fmt(shares), file.path(out, "crosstab_shares.csv"), row.names = FALSE)
write.csv(fmt(pairs), file.path(out, "crosstab_pairs.csv"), row.names = FALSE)
write.csv(fmt(tests), file.path(out, "crosstab_tests.csv"), row.names = FALSE)
cat("wrote", file.path(out, c("crosstab_calweights.csv", "crosstab_shares.csv",
    "crosstab_pairs.csv", "crosstab_tests.csv")), "\n")
